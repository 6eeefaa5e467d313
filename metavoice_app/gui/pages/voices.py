"""Voices area: the library of cloned voices (widgets only; see VoicesController)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
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
        self.export_takes_box = QCheckBox("with its recordings")
        self.export_takes_box.setToolTip(
            "Put the recordings the voice was learned from in the exported file, to keep "
            "them (voice banking) or to re-create the voice on another installation. They "
            "are the person's own voice: share such a file only with their agreement."
        )
        self.export_takes_box.setEnabled(False)
        self.import_button = QPushButton("Import…")
        # A voice made for another model (the engine was retrained) is learned again from
        # the takes kept with it, in the background.
        self.rebuild_button = QPushButton("Re-create for this model")
        self.rebuild_button.setVisible(False)
        self.rebuild_progress = QProgressBar()
        self.rebuild_progress.setAccessibleName("Re-creating the voice")
        self.rebuild_progress.setVisible(False)
        self.cancel_rebuild_button = QPushButton("Cancel")
        self.cancel_rebuild_button.setAccessibleName("Cancel re-creating the voice")
        self.cancel_rebuild_button.setVisible(False)
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
        for button in self.selection_buttons:
            actions.addWidget(button)
        actions.addWidget(self.export_takes_box)
        actions.addWidget(self.import_button)
        actions.addStretch(1)
        rebuild = QHBoxLayout()
        rebuild.addWidget(self.rebuild_button)
        rebuild.addWidget(self.rebuild_progress, stretch=1)
        rebuild.addWidget(self.cancel_rebuild_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.clone_button)
        bottom.addWidget(self.status, stretch=1)
        bottom.addWidget(self.recordings_button)
        bottom.addWidget(self.undo_button)
        self.content.addWidget(self.empty_label)
        self.content.addWidget(self.table, stretch=1)
        self.content.addLayout(actions)
        self.content.addLayout(rebuild)
        self.content.addWidget(self.map_caption)
        self.content.addWidget(self.voice_map, stretch=1)
        self.content.addLayout(bottom)
