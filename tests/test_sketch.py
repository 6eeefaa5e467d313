"""The first sketch (core/adapt/sketch.py): the takes so far, heard before any learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from metavoice_app.core.adapt.adapter import AdaptationError
from metavoice_app.core.adapt.sketch import SKETCH_TEXT, sketch_voice
from metavoice_app.core.adapt.takes import features_path
from metavoice_app.core.progress import Cancelled, Progress, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

LINE = "The birch canoe slid on the smooth planks."


def _recording(folder: Path, audio: np.ndarray, name: str = "01.wav") -> tuple[Path, str]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    sf.write(path, audio, 16000)
    return path, LINE


def test_a_sketch_speaks_in_the_takes_voice_without_learning_or_saving(
    tiny_model_with_encoder: Path, tmp_path: Path, flite_speech
) -> None:
    engine = SpeechEngine(tiny_model_with_encoder, device="cpu")
    before = {k: v.clone() for k, v in engine.model.state_dict().items()}
    awb = _recording(tmp_path / "awb", flite_speech(LINE, "awb"))
    reports: list[Progress] = []
    sketch = sketch_voice(engine, [awb], progress=ProgressSink(reports.append))
    assert sketch.takes == 1 and sketch.sample_rate == 16000
    assert len(sketch.audio) > sketch.sample_rate and np.isfinite(sketch.audio).all()
    assert np.abs(sketch.audio).max() > 0.01
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # no step was taken on the model, and only the take's analysis was written
    after = engine.model.state_dict()
    assert all(torch_equal(before[k], after[k]) for k in before)
    assert sorted(p.name for p in awb[0].parent.iterdir()) == ["01.wav", features_path(awb[0]).name]
    # the takes make the voice: another person's take gives another sketch, and
    # neither is the model's default voice
    kal = _recording(tmp_path / "kal", flite_speech(LINE, "kal16"))
    other = sketch_voice(engine, [kal])
    default = engine.speak(SKETCH_TEXT).audio
    assert not _same(sketch.audio, other.audio)
    assert not _same(sketch.audio, default) and not _same(other.audio, default)


def test_a_sketch_can_be_cancelled_and_refuses_unusable_takes(
    tiny_model_dir: Path, tmp_path: Path, flite_speech
) -> None:
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    take = _recording(tmp_path / "awb", flite_speech(LINE, "awb"))
    sink = ProgressSink(lambda _p: None)
    sink.cancel()
    with pytest.raises(Cancelled):
        sketch_voice(engine, [take], progress=sink)
    silent = _recording(tmp_path / "quiet", np.zeros(32000, dtype=np.float32))
    with pytest.raises(AdaptationError, match="none of the takes has usable speech"):
        sketch_voice(engine, [silent])
    # a bad take among good ones is left out, not learned from
    assert sketch_voice(engine, [silent, take]).takes == 1


def torch_equal(a: object, b: object) -> bool:
    import torch

    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
    return torch.equal(a, b)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return len(a) == len(b) and np.allclose(a, b, atol=1e-4)
