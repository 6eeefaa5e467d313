"""The recording step's "Hear a first sketch": the voice the accepted takes already give.

The sketch is made in the background from the takes accepted so far (``core/adapt/sketch.py``:
no learning, nothing saved) and played; asked again with the same takes, it plays at once.
While it is made the button reads Cancel. Recording a take, or leaving the step, cancels
a sketch being made and stops one playing: the microphone and the take checks come first,
and a sketch is only a preview, so nothing is lost. A sketch finished after that is kept
but not played.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QPushButton, QStyle

from metavoice_app.core.adapt.sketch import Sketch, sketch_voice
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.player import Player, PlayToggle
from metavoice_app.gui.workers import Task

log = logging.getLogger(__name__)

Recordings = list[tuple[Path, str]]
LABEL = "Hear a first sketch"
CANCEL = "Cancel sketch"


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
        self._cancelling = False  # asked to stop; the work ends at its next check
        self.toggle = PlayToggle(button, player, LABEL)
        self.toggle.requested.connect(self._requested)
        player.failed.connect(self.toggle.failure_reporter(status.setText))

    def refresh(self, allowed: bool) -> None:
        """Offer the sketch when there is a take to make it from, the model is loaded and
        the caller allows it (on the recording step, not while a take is recorded); a
        sketch being made stays cancellable."""
        self._allowed = allowed
        recordings = self.recordings()
        ready = self.engines.engine is not None and bool(recordings)
        making = self.task is not None and not self._cancelling
        self.button.setEnabled(making or (self.task is None and allowed and ready))
        if self.task is None and self.sketch is not None and _key(recordings) != self._key:
            self.status.setText(
                f"The last sketch was from {_takes(self.sketch.takes)}; press "
                f"\u201c{LABEL}\u201d for one from {_takes(len(recordings))}."
                if recordings
                else ""
            )

    def cancel(self, why: str = "") -> None:
        """Stop making a sketch, saying ``why`` in its place, and stop one playing."""
        if self.task is not None and not self._cancelling:
            self.task.cancel()
            self._cancelling = True
            self.status.setText(why)
            self.toggle.show_state()  # no longer a Cancel button
            self.button.setEnabled(False)  # until the work has stopped
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
        if self.task is not None:  # the button reads Cancel while a sketch is made
            self.cancel("Sketch cancelled.")
            return
        recordings = self.recordings()
        engine = self.engines.engine
        if engine is None or not recordings:
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
        task.finished.connect(self._finished)
        self.task = task
        self.button.setText(CANCEL)
        self.button.setIcon(
            self.button.style().standardIcon(QStyle.StandardPixmap.SP_DialogCancelButton)
        )
        count = len(recordings)
        self.status.setText(f"Making a first sketch from {_takes(count)}…")
        task.start()

    def _made(self, sketch: object, key: tuple[Recordings, list[int]]) -> None:
        assert isinstance(sketch, Sketch)
        self.sketch, self._key = sketch, key
        if not self._allowed:  # cancelled too late: a take is being recorded, or gone
            return
        self.status.setText(
            f"A first sketch from {_takes(sketch.takes)}, before any learning: it grows more "
            "like you with each take, and creating the voice refines it."
        )
        self._play()

    def _failed(self, message: str) -> None:
        log.warning("could not make a first sketch: %s", message)
        self.status.setText(f"No sketch this time: {message}")

    def _finished(self) -> None:
        self.task, self._cancelling = None, False
        self.toggle.show_state()
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
