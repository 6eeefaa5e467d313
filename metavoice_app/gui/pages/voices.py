"""Voices area: the library of cloned voice profiles."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QPushButton, QWidget

from metavoice_app.gui.pages.base import AreaPage


class VoicesPage(AreaPage):
    title = "Voices"
    summary = "Your cloned voices. Pick one to speak with, share it, or clone a new one."

    clone_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voice_list = QListWidget()
        self.voice_list.setAccessibleName("Voice profiles")
        self.empty_label = self.empty_state(
            "No voices yet. Clone your voice by reading five short sentences."
        )
        self.clone_button = QPushButton("Clone a voice…")
        self.clone_button.setAccessibleName("Clone a new voice")
        self.clone_button.clicked.connect(self.clone_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clone_button)
        buttons.addStretch(1)
        self.voice_list.setVisible(False)
        self.content.addWidget(self.empty_label)
        self.content.addWidget(self.voice_list, stretch=1)
        self.content.addStretch(1)
        self.content.addLayout(buttons)
