"""Voices area: the library of cloned voices (widgets only; see VoicesController)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QWidget,
)

from metavoice_app.gui.pages.base import AreaPage
from metavoice_app.gui.widgets.voicemap import VoiceMapWidget

COLUMNS = ("Name", "Created", "Takes", "Similarity", "Base model")


class VoicesPage(AreaPage):
    title = "Voices"
    summary = "Your cloned voices. Pick one to speak with, share it, or clone a new one."

    clone_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Voice profiles")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.empty_label = self.empty_state(
            "No voices yet. Clone your voice by reading five short sentences."
        )
        self.voice_map = VoiceMapWidget()
        self.voice_map.setMinimumHeight(180)
        self.map_caption = QLabel()
        self.map_caption.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.setToolTip("Restore the voice deleted last (Ctrl+Z)")
        self.undo_button.setVisible(False)
        self.delete_shortcut = QShortcut(QKeySequence.StandardKey.Delete, self.table)
        self.delete_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.undo_shortcut = QShortcut(QKeySequence.StandardKey.Undo, self)
        self.undo_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.recordings_button = QPushButton()
        self.recordings_button.setToolTip(
            "Recordings from earlier clones that never became a voice"
        )
        self.recordings_button.setVisible(False)
        self.clone_button = QPushButton("Clone a voice…")
        self.clone_button.setAccessibleName("Clone a new voice")
        self.clone_button.clicked.connect(self.clone_requested)
        self.play_button = QPushButton("Play preview")
        self.speak_button = QPushButton("Speak with it")
        self.rename_button = QPushButton("Rename…")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Move the voice to the library's trash (Delete)")
        self.export_button = QPushButton("Export…")
        self.import_button = QPushButton("Import…")
        self.selection_buttons = (
            self.play_button,
            self.speak_button,
            self.rename_button,
            self.duplicate_button,
            self.delete_button,
            self.export_button,
        )
        for button in self.selection_buttons:
            button.setEnabled(False)
        actions = QHBoxLayout()
        for button in (*self.selection_buttons, self.import_button):
            actions.addWidget(button)
        actions.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.clone_button)
        bottom.addWidget(self.status, stretch=1)
        bottom.addWidget(self.recordings_button)
        bottom.addWidget(self.undo_button)
        self.content.addWidget(self.empty_label)
        self.content.addWidget(self.table, stretch=1)
        self.content.addLayout(actions)
        self.content.addWidget(self.map_caption)
        self.content.addWidget(self.voice_map, stretch=1)
        self.content.addLayout(bottom)
