"""Dub area: subtitles and scripts rendered to timed audio (widgets only; see DubController)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QWidget,
)

from metavoice_app.gui.pages.base import AreaPage

COLUMNS = ("#", "Start", "End", "Voice", "Text", "Fit")
FIT_COLUMN = 5


class DubPage(AreaPage):
    title = "Dub"
    summary = "Turn SRT or WebVTT subtitles and scripts into timed audio in your voices."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_button = QPushButton("Open subtitles or script…")
        self.file_label = QLabel("No file loaded.")
        self.empty_label = self.empty_state(
            "Open an .srt or .vtt subtitle file, or a .txt script with one line per clip. "
            "Start a line with [Name] to give it its own voice."
        )
        self.cue_table = QTableWidget(0, len(COLUMNS))
        self.cue_table.setHorizontalHeaderLabels(COLUMNS)
        self.cue_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.cue_table.verticalHeader().setVisible(False)
        self.cue_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.cue_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.cue_table.setAccessibleName("Cues")
        self.cue_table.setVisible(False)
        self.voice_form = QFormLayout()
        self.preview_button = QPushButton("Preview cue")
        self.render_button = QPushButton("Render…")
        self.play_mix_button = QPushButton("Play mix")
        self.play_mix_button.setToolTip("Play the rendered track, every cue at its time")
        self.cancel_button = QPushButton("Cancel")
        self.open_folder_button = QPushButton("Open output folder")
        self.buttons = (
            self.preview_button,
            self.render_button,
            self.cancel_button,
            self.play_mix_button,
            self.open_folder_button,
        )
        for button in self.buttons:
            button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Render progress")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Dub status")
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, stretch=1)
        buttons = QHBoxLayout()
        for button in self.buttons:
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.content.addLayout(top)
        self.content.addWidget(self.empty_label)
        self.content.addWidget(self.cue_table, stretch=1)
        self.content.addLayout(self.voice_form)
        self.content.addLayout(buttons)
        self.content.addWidget(self.progress)
        self.content.addWidget(self.status)
