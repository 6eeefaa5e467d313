from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from metavoice_app.core.audio.io import AudioFileError, load_audio
from metavoice_app.core.audio.prep import frame_energy_db, normalize_loudness, trim_silence


def _tone(seconds: float, rate: int, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_stereo_44k_becomes_mono_16k(tmp_path: Path) -> None:
    tone = _tone(1.0, 44100)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([tone, tone * 0.5], axis=1), 44100)
    audio = load_audio(path)
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(len(audio) - 16000) <= 2
    assert abs(float(np.abs(audio).max()) - 0.225) < 0.02


def test_corrupt_file_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(AudioFileError, match=r"broken\.wav: not a readable audio file"):
        load_audio(path)


def test_text_file_renamed_to_wav_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio")
    with pytest.raises(AudioFileError, match=r"notes\.wav"):
        load_audio(path)


def test_empty_audio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioFileError, match="holds no audio"):
        load_audio(path)


def test_truncated_wav_is_called_truncated(tmp_path: Path) -> None:
    whole = tmp_path / "whole.wav"
    with sf.SoundFile(whole, "w", 16000, 1, subtype="PCM_16", format="WAV") as out:
        out.title = "tagged, so a LIST chunk sits beside the data"
        out.write(_tone(3.0, 16000))
    assert len(load_audio(whole)) == 48000  # complete files, extra chunks and all, load
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + 2 * 8000])  # an interrupted copy: 0.5 s left
    with pytest.raises(AudioFileError, match=r"cut\.wav: the file is truncated: it holds 0\.5 s"):
        load_audio(cut)
    flac = tmp_path / "whole.flac"
    sf.write(flac, _tone(1.0, 16000), 16000)
    assert len(load_audio(flac)) == 16000


def test_trim_keeps_the_speech_and_a_margin() -> None:
    rate = 16000
    audio = np.concatenate([np.zeros(rate), _tone(1.0, rate), np.zeros(2 * rate)])
    trimmed = trim_silence(audio, rate, margin_s=0.1)
    assert abs(len(trimmed) - int(1.2 * rate)) < 0.03 * rate


def test_loudness_normalisation_hits_the_target_without_clipping() -> None:
    quiet = _tone(1.0, 16000, amplitude=0.01)
    levelled = normalize_loudness(quiet, target_dbfs=-23.0)
    level = float(np.mean(frame_energy_db(levelled)))
    assert abs(level - (-23.0)) < 0.5
    loud = normalize_loudness(_tone(1.0, 16000, amplitude=0.01), target_dbfs=0.0)
    assert float(np.abs(loud).max()) <= 0.95 + 1e-6
