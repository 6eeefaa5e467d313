"""Dub area: subtitles and scripts rendered to timed audio."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget, QWidget

from metavoice_app.gui.pages.base import AreaPage


class DubPage(AreaPage):
    title = "Dub"
    summary = "Turn SRT or WebVTT subtitles and scripts into timed audio in your voices."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cue_table = QTableWidget(0, 4)
        self.cue_table.setHorizontalHeaderLabels(["Start", "End", "Voice", "Text"])
        self.cue_table.horizontalHeader().setStretchLastSection(True)
        self.cue_table.setAccessibleName("Cues")
        self.content.addWidget(self.empty_state("No subtitle file or script is loaded."))
        self.content.addWidget(self.cue_table, stretch=1)
