"""The recording step's "Hear a first sketch": the voice the accepted takes already give.

The sketch is made in the background from the takes accepted so far (``core/adapt/sketch.py``:
no learning, nothing saved) and played; asked again with the same takes, it plays at once.
Recording a take cancels a sketch being made: the microphone and the take checks come
first, and a sketch is only a preview, so nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QPushButton

from metavoice_app.core.adapt.sketch import Sketch, sketch_voice
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.player import Player, PlayToggle
from metavoice_app.gui.workers import Task

log = logging.getLogger(__name__)

Recordings = list[tuple[Path, str]]
LABEL = "Hear a first sketch"


class SketchController(QObject):
    def __init__(
        self,
        button: QPushButton,
        status: QLabel,
        engines: EngineService,
        player: Player,
        recordings: Callable[[], Recordings],
    ) -> None:
        super().__init__(button)
        self.button, self.status = button, status
        self.engines, self.player, self.recordings = engines, player, recordings
        self.task: Task | None = None
        self.sketch: Sketch | None = None
        self._key: tuple[Recordings, list[int]] | None = None
        self._allowed = False
        self.toggle = PlayToggle(button, player, LABEL)
        self.toggle.requested.connect(self._requested)
        player.failed.connect(self.toggle.failure_reporter(status.setText))

    def refresh(self, allowed: bool) -> None:
        """Offer the sketch when there is a take to make it from, the model is loaded and
        the caller allows it (not while a take is being recorded)."""
        self._allowed = allowed
        ready = self.engines.engine is not None and bool(self.recordings())
        self.button.setEnabled(allowed and ready and self.task is None)

    def cancel(self) -> None:
        """Stop making a sketch, and stop one playing (a take is about to be recorded)."""
        if self.task is not None:
            self.task.cancel()
        if self.toggle.active:
            self.player.stop()

    def reset(self) -> None:
        """Forget the sketch: its takes were set aside (Start over)."""
        self.cancel()
        self.sketch, self._key = None, None
        self.status.setText("")

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.wait(10_000)

    def _requested(self) -> None:
        recordings = self.recordings()
        engine = self.engines.engine
        if engine is None or not recordings or self.task is not None:
            return
        key = _key(recordings)
        if key is None:
            self.status.setText("A take could not be read; record it again to hear a sketch.")
            return
        if self.sketch is not None and key == self._key:
            self._play()
            return
        task = Task(lambda ctx: sketch_voice(engine, recordings, progress=ctx))
        task.succeeded.connect(lambda sketch: self._made(sketch, key))
        task.failed.connect(lambda message, _details: self._failed(message))
        task.cancelled.connect(lambda: self.status.setText(""))
        task.finished.connect(self._finished)
        self.task = task
        self.button.setEnabled(False)
        count = len(recordings)
        self.status.setText(f"Making a first sketch from {_takes(count)}…")
        task.start()

    def _made(self, sketch: object, key: tuple[Recordings, list[int]]) -> None:
        assert isinstance(sketch, Sketch)
        self.sketch, self._key = sketch, key
        self.status.setText(
            f"A first sketch from {_takes(sketch.takes)}, before any learning: it grows more "
            "like you with each take, and creating the voice refines it."
        )
        self._play()

    def _failed(self, message: str) -> None:
        log.warning("could not make a first sketch: %s", message)
        self.status.setText(f"No sketch this time: {message}")

    def _finished(self) -> None:
        self.task = None
        self.refresh(self._allowed)

    def _play(self) -> None:
        if self.sketch is not None:
            self.player.play(self.sketch.audio, self.sketch.sample_rate, owner=self.toggle)


def _key(recordings: Recordings) -> tuple[Recordings, list[int]] | None:
    """The takes and their times: a take recorded again keeps its name."""
    try:
        return recordings, [path.stat().st_mtime_ns for path, _ in recordings]
    except OSError:
        return None


def _takes(count: int) -> str:
    return "1 take" if count == 1 else f"{count} takes"
