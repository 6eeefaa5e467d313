"""Asking what is said in an imported recording that came without a transcript.

The words must match the audio exactly (the take checks compare them with it), so the
dialog lets the person listen while typing: a Play button that also stops, and the
words in a box; Skip leaves the recording out.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from metavoice_app.core.audio.io import AudioFileError, load_audio
from metavoice_app.gui.player import Player, PlayToggle


class TranscriptDialog(QDialog):
    def __init__(self, path: Path, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path, self.player = path, player
        self.setWindowTitle("Transcript")
        self.prompt = QLabel(
            f"What is said in {path.name}? Listen, then type the words exactly as spoken."
        )
        self.prompt.setWordWrap(True)
        self.text_edit = QLineEdit()
        self.text_edit.setAccessibleName(f"Transcript of {path.name}")
        self.text_edit.setPlaceholderText("The words spoken in the recording")
        self.play_button = QPushButton("Play")
        self.play_toggle = PlayToggle(self.play_button, player)
        self.play_toggle.requested.connect(self._play)
        player.failed.connect(self.play_toggle.failure_reporter(self.problem_said))
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        self.buttons = QDialogButtonBox()
        self.add_button = self.buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.skip_button = self.buttons.addButton(
            "Skip this recording", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.text_edit.textChanged.connect(
            lambda text: self.add_button.setEnabled(bool(text.strip()))
        )
        self.add_button.setEnabled(False)
        self.finished.connect(lambda _result: self._stop())
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.text_edit, stretch=1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

    @property
    def text(self) -> str:
        return self.text_edit.text().strip()

    def problem_said(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(True)

    def _play(self) -> None:
        try:
            audio = load_audio(self.path)
        except (AudioFileError, OSError) as exc:
            self.problem_said(f"The recording cannot be played: {exc}")
            return
        self.player.play(audio, 16000, owner=self.play_toggle)

    def _stop(self) -> None:
        if self.play_toggle.active:
            self.player.stop()
