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


def _wav_shortfall(path: Path) -> tuple[float, float] | None:
    """(seconds present, seconds declared) when a RIFF WAV file's data chunk is cut short.

    libsndfile quietly reads what is there, so an interrupted copy or recording looked
    like a short take and was called "too short"; the header still says how long it was.
    Streaming writers that leave the size unset (0 or 0xFFFFFFFF) are not truncated.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            if handle.read(4) != b"RIFF" or handle.read(8)[4:] != b"WAVE":
                return None
            byte_rate = 0
            while len(header := handle.read(8)) == 8:
                kind, length = header[:4], int.from_bytes(header[4:], "little")
                if kind == b"fmt ":
                    byte_rate = int.from_bytes(handle.read(12)[8:12], "little")
                    handle.seek(length - 12 + (length & 1), 1)
                elif kind == b"data":
                    present = size - handle.tell()
                    if length in (0, 0xFFFFFFFF) or present >= length or byte_rate <= 0:
                        return None
                    return present / byte_rate, length / byte_rate
                else:
                    handle.seek(length + (length & 1), 1)
    except OSError:
        return None  # unreadable files are reported by libsndfile below
    return None


def load_audio(path: Path, target_rate: int = 16000) -> AudioArray:
    """Read, mix to mono and resample; rejects unreadable, truncated, empty and over-long
    files."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(f"{path.name}: not a readable audio file ({exc})") from exc
    shortfall = _wav_shortfall(path)
    if shortfall is not None:
        present, declared = shortfall
        raise AudioFileError(
            f"{path.name}: the file is truncated: it holds {present:.1f} s of the "
            f"{declared:.1f} s of audio its header declares (an interrupted recording or "
            "copy?)"
        )
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
