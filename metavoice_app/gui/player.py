"""Playing audio through sounddevice, with a position the GUI can follow.

PortAudio pulls samples from a callback on its own thread; the GUI polls the
position with a timer, so nothing blocks the event loop. On a machine without
an output device, :attr:`Player.problem` says why and play() reports an error
instead of raising.

A play can be *growing*: speech still being made is appended as it arrives, and
reaching the end of what has arrived plays silence until more comes or
:meth:`Player.complete` says nothing more will.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)


class Player(QObject):
    position_changed = Signal(float)  # seconds
    started = Signal()
    stopped = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, device: int | str | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self._lock = threading.Lock()
        self._audio = np.zeros(0, dtype=np.float32)
        self._rate = 16000
        self._cursor = 0
        self._growing = False
        self._stream: Any = None
        self._finished = threading.Event()
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._poll)

    @property
    def playing(self) -> bool:
        return self._stream is not None

    @property
    def growing(self) -> bool:
        """Whether the current play takes :meth:`append`: started growing, not completed,
        and not replaced by another play (the player is shared by every area)."""
        return self.playing and self._growing

    @property
    def position(self) -> float:
        with self._lock:
            return self._cursor / self._rate

    def _callback(self, out: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        with self._lock:
            chunk = self._audio[self._cursor : self._cursor + frames]
            self._cursor += len(chunk)
            growing = self._growing
        out[: len(chunk), 0] = chunk
        out[len(chunk) :, 0] = 0.0
        if len(chunk) < frames and not growing:
            self._finished.set()

    def play(
        self, audio: np.ndarray, sample_rate: int, start: float = 0.0, growing: bool = False
    ) -> None:
        """Play ``audio`` from ``start`` seconds; ``growing``: more will be :meth:`append`-ed,
        so the end of ``audio`` is not the end of the play until :meth:`complete`."""
        self.stop()
        with self._lock:
            self._audio = np.asarray(audio, dtype=np.float32)
            self._rate = sample_rate
            self._cursor = min(int(start * sample_rate), len(self._audio))
            self._growing = growing
        self._finished.clear()
        try:
            import sounddevice

            self._stream = sounddevice.OutputStream(
                samplerate=sample_rate,
                channels=1,
                dtype="float32",
                device=self.device,
                callback=self._callback,
            )
            self._stream.start()
        except Exception as exc:  # PortAudio errors, no device, missing library
            self._stream = None
            log.warning("playback failed: %s", exc)
            self.failed.emit(f"Cannot play audio: {exc}. You can still export the clip.")
            return
        self._timer.start()
        self.started.emit()

    def append(self, audio: np.ndarray) -> None:
        """Add ``audio`` (at the play's rate) after what a growing play has queued; ignored
        once that play has been stopped or replaced, so it never extends another clip."""
        if not self.growing:
            return
        with self._lock:
            self._audio = np.concatenate((self._audio, np.asarray(audio, dtype=np.float32)))

    def complete(self) -> None:
        """Nothing more will be appended: the play stops at the end of what it has."""
        with self._lock:
            self._growing = False

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._cursor = int(np.clip(seconds * self._rate, 0, len(self._audio)))
        self.position_changed.emit(self.position)

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        self._timer.stop()
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                log.exception("closing the output stream failed")
            self.stopped.emit()

    def _poll(self) -> None:
        self.position_changed.emit(self.position)
        if self._finished.is_set():
            self.stop()
