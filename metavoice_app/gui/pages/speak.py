"""Speak area: type text and hear it in a chosen voice."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QPlainTextEdit, QWidget

from metavoice_app.gui.pages.base import AreaPage


class SpeakPage(AreaPage):
    title = "Speak"
    summary = "Type text and hear it in any of your voices, then export the audio."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voice_combo = QComboBox()
        self.voice_combo.setAccessibleName("Voice")
        self.voice_combo.setPlaceholderText("No voices yet")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setAccessibleName("Text to speak")
        self.text_edit.setPlaceholderText("Type what the voice should say…")
        form = QFormLayout()
        form.addRow("&Voice:", self.voice_combo)
        self.content.addLayout(form)
        self.content.addWidget(self.text_edit, stretch=1)
