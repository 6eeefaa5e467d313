"""Clone area: the record-and-clone wizard."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from metavoice_app.core.audio.devices import AudioDevice
from metavoice_app.gui.pages.base import AreaPage

STEPS = (
    "1. Choose your microphone and check the level.",
    "2. Read the consent sentence.",
    "3. Read the prompts one by one (five by default).",
    "4. Wait while your voice is learned, then listen to it.",
)


class ClonePage(AreaPage):
    title = "Clone"
    summary = "Read a few sentences aloud and MetaVoice learns your voice."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps_label = QLabel("\n".join(STEPS))
        self.microphone_label = QLabel("Microphone: looking for input devices…")
        self.microphone_label.setWordWrap(True)
        self.microphone_label.setAccessibleName("Microphone status")
        self.content.addWidget(self.steps_label)
        self.content.addSpacing(12)
        self.content.addWidget(self.microphone_label)
        self.content.addStretch(1)

    def show_input_devices(self, devices: list[AudioDevice]) -> None:
        if devices:
            names = ", ".join(d.name for d in devices[:3])
            more = f" and {len(devices) - 3} more" if len(devices) > 3 else ""
            self.microphone_label.setText(f"Microphones found: {names}{more}.")
        else:
            self.microphone_label.setText(
                "No microphone was found. You can still clone a voice from audio files."
            )

    def show_audio_problem(self, message: str) -> None:
        self.microphone_label.setText(f"No microphone available: {message}")
