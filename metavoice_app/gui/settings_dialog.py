"""The Settings dialog: devices, compute, export defaults, wizard length and theme."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from metavoice_app.core.audio.devices import AudioDevice
from metavoice_app.core.audio.export import EXPORT_FORMATS, SAMPLE_RATES
from metavoice_app.core.settings import (
    THEMES,
    Settings,
)

SYSTEM_DEFAULT = "System default"


def _combo(items: list[tuple[str, object]], current: object, name: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    for text, data in items:
        combo.addItem(text, data)
    index = combo.findData(current)
    combo.setCurrentIndex(max(index, 0))
    return combo


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        inputs: list[AudioDevice],
        outputs: list[AudioDevice],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.original = settings
        self.theme = _combo([(t.capitalize(), t) for t in THEMES], settings.theme, "Theme")
        self.compute = _combo(
            [("Automatic (CUDA when available)", "auto"), ("CPU", "cpu"), ("CUDA GPU", "cuda")],
            settings.compute_device,
            "Compute device",
        )
        self.input = _combo(
            [(SYSTEM_DEFAULT, None)] + [(d.name, d.name) for d in inputs],
            settings.input_device,
            "Microphone",
        )
        self.output = _combo(
            [(SYSTEM_DEFAULT, None)] + [(d.name, d.name) for d in outputs],
            settings.output_device,
            "Speakers",
        )
        self.export_format = _combo(
            [(f.upper(), f) for f in EXPORT_FORMATS], settings.export_format, "Export format"
        )
        self.export_rate = _combo(
            [(f"{r / 1000:g} kHz", r) for r in SAMPLE_RATES],
            settings.export_sample_rate,
            "Export sample rate",
        )
        self.prompts = QSpinBox()
        self.prompts.setRange(1, 20)
        self.prompts.setValue(settings.prompts_per_voice)
        self.prompts.setAccessibleName("Sentences to read when cloning")
        form = QFormLayout()
        form.addRow("&Theme:", self.theme)
        form.addRow("&Compute device:", self.compute)
        form.addRow("&Microphone:", self.input)
        form.addRow("&Speakers:", self.output)
        form.addRow("Export &format:", self.export_format)
        form.addRow("Export &rate:", self.export_rate)
        form.addRow("Sentences to &read:", self.prompts)
        note = QLabel("A new compute device is used from the next start.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def chosen(self) -> Settings:
        # replace(): settings the dialog does not show (the last voice) are kept as they are
        return dataclasses.replace(
            self.original,
            theme=self.theme.currentData(),
            compute_device=self.compute.currentData(),
            input_device=self.input.currentData(),
            output_device=self.output.currentData(),
            export_format=self.export_format.currentData(),
            export_sample_rate=int(self.export_rate.currentData()),
            prompts_per_voice=self.prompts.value(),
        )
