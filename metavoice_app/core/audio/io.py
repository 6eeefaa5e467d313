"""Reading audio files of any common format into 16 kHz mono float32.

Every failure becomes :class:`AudioFileError` naming the file and the problem,
so the wizard and the command line can show it as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

MAX_FILE_SECONDS = 30 * 60

AudioArray = npt.NDArray[np.float32]


class AudioFileError(ValueError):
    """An audio file cannot be used; the message says which file and why."""


def resample(wav: npt.NDArray[np.floating], source_rate: int, target_rate: int) -> AudioArray:
    """High-quality resampling (soxr); a no-op when the rates match."""
    audio = np.asarray(wav, dtype=np.float32)
    if source_rate == target_rate:
        return audio
    return np.asarray(soxr.resample(audio, source_rate, target_rate), dtype=np.float32)


def to_mono(wav: npt.NDArray[np.floating]) -> AudioArray:
    """Average the channels of ``(frames, channels)`` audio."""
    audio = np.asarray(wav, dtype=np.float32)
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def load_audio(path: Path, target_rate: int = 16000) -> AudioArray:
    """Read, mix to mono and resample; rejects unreadable, empty and over-long files."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(f"{path.name}: not a readable audio file ({exc})") from exc
    if info.frames == 0 or info.samplerate <= 0:
        raise AudioFileError(f"{path.name}: the file holds no audio")
    if info.frames / info.samplerate > MAX_FILE_SECONDS:
        raise AudioFileError(
            f"{path.name}: {info.frames / info.samplerate / 60:.0f} minutes long; files over "
            f"{MAX_FILE_SECONDS // 60} minutes are not accepted"
        )
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(f"{path.name}: the audio data is damaged ({exc})") from exc
    audio = resample(to_mono(data), rate, target_rate)
    if not np.isfinite(audio).all():
        raise AudioFileError(f"{path.name}: the audio holds invalid (NaN or infinite) samples")
    return audio
