"""Recording from a microphone straight to disk.

Samples go to a ``.part`` file on disk from PortAudio's callback thread as they
arrive, so even a crash mid-take keeps what was said; ``stop()`` turns the part
into the finished take. Level and the latest samples are kept for the meters.
An input error (a device unplugged) discards the take and says so.
"""

from __future__ import annotations

import collections
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

RECORD_RATE = 16000
DISPLAY_SECONDS = 4.0


class RecordingError(RuntimeError):
    """Recording failed; the message says why and that the take was discarded."""


class Recorder:
    def __init__(self, device: int | str | None = None, sample_rate: int = RECORD_RATE) -> None:
        self.device = device
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._file: sf.SoundFile | None = None
        self._stream: Any = None
        self._path: Path | None = None
        self._frames = 0
        self._level = 0.0
        self._recent: collections.deque[np.ndarray] = collections.deque()
        self._recent_frames = 0
        self.error: str | None = None
        self._stopping = False

    @property
    def recording(self) -> bool:
        return self._stream is not None

    @property
    def seconds(self) -> float:
        return self._frames / self.sample_rate

    @property
    def level(self) -> float:
        """Peak of the last block, 0..1."""
        return self._level

    def recent(self) -> np.ndarray:
        """The last few seconds, for a scrolling waveform."""
        with self._lock:
            return np.concatenate(list(self._recent)) if self._recent else np.zeros(0, np.float32)

    def _callback(self, data: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        mono = data.mean(axis=1) if data.ndim == 2 else data
        with self._lock:
            if status and status.input_overflow:
                log.warning("input overflow while recording")
            if self._file is not None:
                self._file.write(mono)
            self._frames += frames
            self._level = float(np.max(np.abs(mono))) if frames else 0.0
            self._recent.append(mono.astype(np.float32).copy())
            self._recent_frames += frames
            while self._recent_frames > DISPLAY_SECONDS * self.sample_rate and self._recent:
                self._recent_frames -= len(self._recent.popleft())

    def start(self, path: Path) -> None:
        """Record into ``path`` (written as ``path.part`` until stopped)."""
        import sounddevice

        if self.recording:
            raise RecordingError("already recording")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        self._path, self._frames, self.error = path, 0, None
        self._recent.clear()
        self._recent_frames = 0
        self._file = sf.SoundFile(
            str(part), "w", self.sample_rate, 1, subtype="PCM_16", format="WAV"
        )
        try:
            self._stream = sounddevice.InputStream(
                samplerate=self.sample_rate,
                channels=1,
                dtype="float32",
                device=self.device,
                callback=self._callback,
                finished_callback=self._stream_finished,
            )
            self._stream.start()
        except Exception as exc:
            self._stream = None
            self._discard()
            raise RecordingError(f"The microphone could not be opened: {exc}") from exc

    def _stream_finished(self) -> None:
        if self._file is not None and self._stream is not None and not self._stopping:
            self.error = "The microphone stopped delivering audio (was it unplugged?)."

    def stop(self) -> Path:
        """Finish the take and return its path; raises if the device failed meanwhile."""
        stream, self._stream = self._stream, None
        self._stopping = True
        try:
            if stream is not None:
                stream.stop()
                stream.close()
        except Exception as exc:
            self.error = f"The microphone failed: {exc}"
        finally:
            self._stopping = False
        if self.error:
            self._discard()
            raise RecordingError(f"{self.error} The take was discarded; nothing else is lost.")
        with self._lock:
            assert self._file is not None and self._path is not None
            self._file.close()
            part = Path(self._file.name)
            self._file = None
        part.replace(self._path)
        return self._path

    def cancel(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                log.exception("closing the input stream failed")
        self._discard()

    def _discard(self) -> None:
        with self._lock:
            if self._file is not None:
                name = self._file.name
                self._file.close()
                self._file = None
                Path(name).unlink(missing_ok=True)
