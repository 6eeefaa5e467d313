"""Playing audio through sounddevice, with a position the GUI can follow.

PortAudio pulls samples from a callback on its own thread; the GUI polls the
position with a timer, so nothing blocks the event loop. At the end of a clip the
callback tells PortAudio to stop once what it has queued is heard, and the timer closes
the stream when it has; a Stop (or another play) aborts at once. Waiting for the queue to
drain on the GUI thread froze the window for up to 1.7 s on a PulseAudio device, and a
take recorded right after lost its first words. On a machine without
an output device, :attr:`Player.problem` says why and play() reports an error
instead of raising.

Each play may name an *owner* (a :class:`PlayToggle`), so the one button that started
it shows Stop while it plays; playing anything else turns that button back to Play.

A play can be *growing*: speech still being made is appended as it arrives, and
reaching the end of what has arrived plays silence until more comes or
:meth:`Player.complete` says nothing more will.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPushButton, QStyle

from metavoice_app.core.audio.devices import AudioUnavailableError, describe_output_error, rescan

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
        self._end_of_clip: type[Exception] = StopIteration  # sounddevice.CallbackStop once loaded
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._poll)
        self.owner: object | None = None
        self.failed_owner: object | None = None  # the owner of the play that failed last
        # Whether the audio system may be restarted to look for newly connected speakers
        # when playing fails: only when no stream of the app's is open (the window knows
        # whether one is recording).
        self.rescan_allowed: Callable[[], bool] = lambda: False

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
            raise self._end_of_clip  # PortAudio plays what it has queued, then goes inactive

    def play(
        self,
        audio: np.ndarray,
        sample_rate: int,
        start: float = 0.0,
        growing: bool = False,
        owner: object | None = None,
    ) -> None:
        """Play ``audio`` from ``start`` seconds; ``growing``: more will be :meth:`append`-ed,
        so the end of ``audio`` is not the end of the play until :meth:`complete`;
        ``owner``: what started it (see :attr:`owner`)."""
        self.stop()
        with self._lock:
            self._audio = np.asarray(audio, dtype=np.float32)
            self._rate = sample_rate
            self._cursor = min(int(start * sample_rate), len(self._audio))
            self._growing = growing
        self._finished.clear()
        try:
            self._stream = self._open(sample_rate)
        except Exception as first:  # PortAudio errors, no device, missing library
            log.warning("playback failed: %s", first)
            problem: BaseException | None = first
            if self.rescan_allowed():  # speakers plugged in since the start are found now
                try:
                    rescan()
                    self._stream, problem = self._open(sample_rate), None
                except Exception as exc:
                    log.warning("playback failed after rescanning the devices: %s", exc)
                    problem = exc
            if problem is not None:
                self._stream = None
                self.failed_owner = owner
                message = describe_output_error(problem, self.device)
                self.failed.emit(f"Cannot play audio: {message} You can still export the clip.")
                return
        self.owner = owner
        self._timer.start()
        self.started.emit()

    def _open(self, sample_rate: int) -> Any:
        try:
            import sounddevice
        except (OSError, ImportError) as exc:
            raise AudioUnavailableError(
                "The PortAudio library is not installed, so nothing can be played "
                "(on Debian/Ubuntu: apt-get install libportaudio2)."
            ) from exc
        self._end_of_clip = sounddevice.CallbackStop
        stream = sounddevice.OutputStream(
            samplerate=sample_rate,
            channels=1,
            dtype="float32",
            device=self.device,
            callback=self._callback,
        )
        try:
            stream.start()
        except Exception:
            stream.close()
            raise
        return stream

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
        self.owner = None
        self._timer.stop()
        if stream is not None:
            try:
                stream.abort()  # at once: nothing waits for the queued audio
                stream.close()
            except Exception:
                log.exception("closing the output stream failed")
            self.stopped.emit()

    def _poll(self) -> None:
        self.position_changed.emit(self.position)
        stream = self._stream
        if self._finished.is_set() and (stream is None or not stream.active):
            self.stop()  # the clip's last queued samples have been heard


class PlayToggle(QObject):
    """Makes one button play and stop: it reads Stop (with a stop icon) while the play it
    started is playing, and Play again when that play ends, is stopped, or another
    play takes the player. ``requested`` asks the controller to start playing; the
    controller passes this toggle as the play's ``owner``."""

    requested = Signal()

    def __init__(self, button: QPushButton, player: Player, label: str = "Play") -> None:
        super().__init__(button)
        self.button, self.player, self.label = button, player, label
        button.clicked.connect(self._clicked)
        player.started.connect(self.show_state)
        player.stopped.connect(self.show_state)
        self.show_state()

    def failure_reporter(self, report: Callable[[str], None]) -> Callable[[str], None]:
        """``report``, called only for failures of this toggle's own plays: the player is
        shared, and one area must not tell of another's failure."""

        def guarded(message: str) -> None:
            if self.player.failed_owner is self:
                report(message)

        return guarded

    @property
    def active(self) -> bool:
        return self.player.playing and self.player.owner is self

    def _clicked(self) -> None:
        if self.active:
            self.player.stop()
        else:
            self.requested.emit()

    def show_state(self) -> None:
        """Play or Stop, as the player stands (also for a caller that relabelled the
        button meanwhile)."""
        active = self.active
        self.button.setText("Stop" if active else self.label)
        icon = QStyle.StandardPixmap.SP_MediaStop if active else QStyle.StandardPixmap.SP_MediaPlay
        self.button.setIcon(self.button.style().standardIcon(icon))
        self.button.setAccessibleName(f"Stop {self.label.lower()}" if active else self.label)
