"""The non-learned statistics baseline of ``bench adapt``, on the tiny real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from metavoice_app.core.adapt.takes import load_takes, take_features
from metavoice_app.core.bench.statistics_voice import FrameStatistics, StatisticsVoice, move
from metavoice_app.core.features import world
from metavoice_app.core.features.postfilter import PostFilter
from metavoice_app.core.synth.engine import SpeechEngine

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
]


def _frames(seed: int, scale: float, shift: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = rng.normal(shift, scale, (400, world.FEATURE_DIM))
    frames[:, world.VUV] = (rng.random(400) > 0.3).astype(float)
    return frames


def test_moved_frames_take_the_target_statistics() -> None:
    source_frames, target_frames = _frames(0, 1.0, 0.0), _frames(1, 0.3, 2.0)
    source, target = FrameStatistics.of([source_frames]), FrameStatistics.of([target_frames])
    moved = FrameStatistics.of([move(source_frames, source, target, 0.5)])
    np.testing.assert_allclose(moved.envelope_mean, target.envelope_mean, atol=1e-9)
    np.testing.assert_allclose(moved.envelope_std, target.envelope_std, rtol=1e-9)
    assert moved.lf0_mean == pytest.approx(target.lf0_mean)
    assert moved.lf0_std == pytest.approx(target.lf0_std)


def test_statistics_need_voiced_frames() -> None:
    frames = _frames(0, 1.0, 0.0)
    frames[:, world.VUV] = 0.0
    with pytest.raises(ValueError, match="voiced"):
        FrameStatistics.of([frames])


def test_statistics_voice_speaks_with_the_takes_envelope(
    tiny_model_dir: Path, flite_speech, tmp_path: Path
) -> None:
    for index, line in enumerate(LINES):
        sf.write(tmp_path / f"take{index}.wav", flite_speech(line, "awb"), 16000)
        (tmp_path / f"take{index}.txt").write_text(line, encoding="utf-8")
    takes, rejected = load_takes(tmp_path)
    assert not rejected
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    features = [take_features(take) for take in takes]
    voice = StatisticsVoice.fit(engine, takes, features)
    assert 0.5 <= voice.speed <= 2.0
    target = FrameStatistics.of(features)
    audio = voice.speak("Rice is often served in round bowls.")
    assert audio.dtype == np.float32 and len(audio) > world.SAMPLE_RATE // 4
    assert np.isfinite(audio).all()
    heard = FrameStatistics.of([world.encode(world.analyze(audio, "harvest"))])
    plain = FrameStatistics.of(
        [world.encode(world.analyze(engine.speak("Rice is often served in round bowls.").audio))]
    )
    # The baseline's envelope sits closer to the takes' than the plain voice's does.
    assert (
        np.abs(heard.envelope_mean - target.envelope_mean).mean()
        < np.abs(plain.envelope_mean - target.envelope_mean).mean()
    )
    # it speaks through the model's post-filter as the engine does: a floor under the
    # speech sounds lengthens it
    floored = StatisticsVoice(engine, voice.source, voice.target, voice.speed)
    engine.postfilter = PostFilter(min_phone_frames=10)
    assert len(floored.speak("Rice is often served in round bowls.")) > len(audio)
