"""Speak area: type text and hear it in a chosen voice (widgets only; see SpeakController)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from metavoice_app.core.audio.export import SAMPLE_RATES
from metavoice_app.gui.pages.base import AreaPage
from metavoice_app.gui.widgets.spectrogram import SpectrogramView
from metavoice_app.gui.widgets.voicepicker import VoicePicker


def _slider(low: int, high: int, value: int, name: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setAccessibleName(name)
    return slider


class SpeakPage(AreaPage):
    title = "Speak"
    summary = "Type text and hear it in any of your voices, then export the audio."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voice_combo = VoicePicker()
        self.voice_combo.search.setPlaceholderText("Loading voices…")
        self.voice_combo.setMinimumWidth(220)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setAccessibleName("Text to speak")
        self.text_edit.setTabChangesFocus(True)  # keyboard users must be able to move on
        self.text_edit.setPlaceholderText("Type what the voice should say, then press Ctrl+Enter…")
        self.speak_button = QPushButton("Speak")
        self.speak_button.setToolTip("Speak the text (Ctrl+Enter)")
        self.speak_button.setEnabled(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.speak_shortcuts = [
            QShortcut(QKeySequence(key), self) for key in ("Ctrl+Return", "Ctrl+Enter")
        ]

        self.speed = _slider(50, 200, 100, "Speed")
        self.pitch = _slider(-12, 12, 0, "Pitch in semitones")
        self.energy = _slider(-20, 20, 0, "Energy")
        self.speed_label, self.pitch_label, self.energy_label = QLabel(), QLabel(), QLabel()
        for slider in (self.speed, self.pitch, self.energy):
            slider.valueChanged.connect(self._update_labels)
        self._update_labels()

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.status = QLabel("Loading the speech model…")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Speak status")

        self.view = SpectrogramView()
        self.history = QListWidget()
        self.history.setAccessibleName("Generated clips")
        self.play_button = QPushButton("Play")
        self.export_button = QPushButton("Export…")
        self.export_rate = QComboBox()
        self.export_rate.setAccessibleName("Export sample rate")
        for rate in SAMPLE_RATES:
            self.export_rate.addItem(f"{rate / 1000:g} kHz", rate)
        for button in (self.play_button, self.export_button):
            button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(QLabel("&Voice:"))
        top.itemAt(0).widget().setBuddy(self.voice_combo)  # type: ignore[union-attr]
        top.addWidget(self.voice_combo)
        top.addStretch(1)
        top.addWidget(self.speak_button)
        top.addWidget(self.stop_button)
        controls = QFormLayout()
        for text, slider, label in (
            ("Spee&d", self.speed, self.speed_label),
            ("&Pitch", self.pitch, self.pitch_label),
            ("&Energy", self.energy, self.energy_label),
        ):
            row = QHBoxLayout()
            row.addWidget(slider, stretch=1)
            label.setMinimumWidth(70)
            row.addWidget(label)
            caption = QLabel(text + ":")
            caption.setBuddy(slider)  # Alt+letter moves focus to the slider
            controls.addRow(caption, row)
        clips = QWidget()
        clips_layout = QVBoxLayout(clips)
        clips_layout.setContentsMargins(0, 0, 0, 0)
        clips_layout.addWidget(QLabel("History"))
        clips_layout.addWidget(self.history, stretch=1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.export_rate)
        clips_layout.addLayout(buttons)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.view)
        lower.addWidget(clips)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)
        self.content.addLayout(top)
        self.content.addWidget(self.text_edit, stretch=1)
        self.content.addLayout(controls)
        self.content.addWidget(self.progress)
        self.content.addWidget(self.status)
        self.content.addWidget(lower, stretch=3)

    def _update_labels(self) -> None:
        self.speed_label.setText(f"{self.speed.value() / 100:.2f}x")
        self.pitch_label.setText(f"{self.pitch.value():+d} st")
        self.energy_label.setText(f"{self.energy.value() / 10:+.1f}")

    def speed_value(self) -> float:
        return self.speed.value() / 100

    def pitch_value(self) -> float:
        return float(self.pitch.value())

    def energy_value(self) -> float:
        return self.energy.value() / 10

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #d04040;" if error else "")
