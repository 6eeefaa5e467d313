"""The list of unfinished recordings from earlier clones, to remove what is not wanted."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from metavoice_app.core.adapt.recordings import (
    UnfinishedRecording,
    remove_recording,
    unfinished_recordings,
)


class RecordingsDialog(QDialog):
    def __init__(
        self, recordings_dir: Path, in_use: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished recordings")
        self.recordings_dir, self.in_use = recordings_dir, in_use
        self.recordings: list[UnfinishedRecording] = []
        intro = QLabel(
            "Recordings from clones that were started but never became a voice. The clone "
            "you can resume in the Clone area is not listed."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Unfinished recordings")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.remove_button = QPushButton("Remove selected…")
        self.remove_button.setEnabled(False)
        self.list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.list.selectedItems()))
        )
        self.remove_button.clicked.connect(self._ask_remove)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.recordings = unfinished_recordings(self.recordings_dir, self.in_use)
        self.list.clear()
        for recording in self.recordings:
            item = QListWidgetItem(recording.describe())
            item.setData(Qt.ItemDataRole.UserRole, str(recording.folder))
            self.list.addItem(item)

    def selected(self) -> list[UnfinishedRecording]:
        rows = sorted(self.list.row(item) for item in self.list.selectedItems())
        return [self.recordings[row] for row in rows]

    def _ask_remove(self) -> None:
        chosen = self.selected()
        answer = QMessageBox.question(
            self,
            "Remove recordings",
            f"Delete {len(chosen)} unfinished recording(s) and their takes for good?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove(chosen)

    def remove(self, chosen: list[UnfinishedRecording]) -> None:
        problems = []
        for recording in chosen:
            try:
                remove_recording(self.recordings_dir, recording)
            except (OSError, ValueError) as exc:
                problems.append(str(exc))
        self.refresh()
        self.status.setText(
            "Could not remove: " + "; ".join(problems)
            if problems
            else f"Removed {len(chosen)} recording(s)."
        )
