"""The models that ship in resources/: the meta-trained default, and the ordinarily
trained baseline beside it for the adaptation benchmark."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import shared_data
from safetensors.torch import load_file

from metavoice_app.core.adapt.adapter import SPEAKER_INIT, adaptation_rule
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.model.checkpoint import load_model, read_info
from metavoice_app.core.model.refiner import REFINER_FILE
from metavoice_app.core.speaker.voicemap import layout
from metavoice_app.core.synth.engine import SpeechEngine, bundled_model_dir


def test_the_default_model_speaks_and_maps_its_voices() -> None:
    engine = SpeechEngine(bundled_model_dir(), device="cpu")
    audio = engine.speak("Hello there.").audio
    assert len(audio) > 4000 and np.abs(audio).max() > 0.01
    tools = engine.speaker_tools
    assert tools is not None and len(tools.voice_prints) > 100
    # the memory's start was not clearly better (docs/benchmarks.md, adapt-start)
    assert not tools.memory_start
    assert len(layout(tools.voice_prints)) == len(tools.voice_prints)


def test_the_default_is_meta_trained_and_adapts_as_it_was_meta_trained() -> None:
    info = read_info(bundled_model_dir())
    record = info.training.meta
    assert record is not None and info.training.init and info.training.init.startswith("meta:")
    assert info.training.meta_steps and info.training.meta_steps > 0
    params, rule = adaptation_rule(AdaptConfig(), info)
    assert params == record["params"] and rule.optimizer == record["inner_optimizer"]
    assert rule.learning_rate == record["inner_lr"]


def test_the_baseline_differs_from_the_default_only_in_the_meta_learned_start() -> None:
    """Meta-training moved only the starting vector, so every built-in voice is the
    baseline's, bit for bit, and the benchmark compares the start alone."""
    baseline_dir = bundled_model_dir().parent / "baseline"
    baseline, default = read_info(baseline_dir), read_info(bundled_model_dir())
    assert baseline.training.meta is None and default.training.meta
    assert default.training.meta["outer_params"] == "start"
    assert baseline.config == default.config and baseline.model_id != default.model_id
    ours = load_file(bundled_model_dir() / "model.safetensors")
    theirs = load_file(baseline_dir / "model.safetensors")
    assert ours.keys() == theirs.keys()
    assert [n for n in ours if not torch.equal(ours[n], theirs[n])] == [SPEAKER_INIT]


def test_both_bundled_models_carry_the_same_fitted_post_filter() -> None:
    """The benchmark compares the two models' cloning, so their built-in voices (identical
    weights) must also be vocoded identically; the default voice has its own delivery."""
    base = read_info(bundled_model_dir())
    baseline = read_info(bundled_model_dir().parent / "baseline")
    assert not base.postfilter.is_identity and base.postfilter.envelope_gain
    assert base.postfilter == baseline.postfilter
    assert base.voice_delivery == baseline.voice_delivery
    assert base.default_voice in base.voice_delivery
    # a held-out test-other speaker (a voice of this model, trained on before they were
    # held out) was not used to fit anything
    assert "libri-1688" in {v.id for v in base.voices}
    assert "libri-1688" not in base.voice_delivery


def test_both_bundled_models_speak_through_the_same_refiner() -> None:
    """The adaptation benchmark compares the two models' starts alone, so the envelope
    refiner (trained on their shared voices' frames) must be the same in both."""
    base = bundled_model_dir()
    baseline = base.parent / "baseline"
    assert (base / REFINER_FILE).read_bytes() == (baseline / REFINER_FILE).read_bytes()
    model, info = load_model(base)
    assert model.refiner is not None
    assert info.model_id == read_info(base).model_id  # the refiner is not in the weights


@pytest.mark.skipif(shared_data() is None, reason="the shared data folder is not present")
def test_the_bundled_voice_memories_leave_the_held_out_speakers_out() -> None:
    """The weights predate the hold-out rule, but a start drawn from the voice memory
    must not know the test-other dev speakers, or that dev set would measure recall."""
    from metavoice_app.core.bench.adapt import seen_speakers

    shared = shared_data()
    assert shared is not None
    for folder in (bundled_model_dir(), bundled_model_dir().parent / "baseline"):
        assert seen_speakers(folder, shared, "test-other").memory == ()


def test_the_bundled_memory_starts_every_voice_among_known_voices() -> None:
    """Whatever the takes sound like (a band-limited microphone, a voice unlike any
    trained one), the start is a blend of real voices, never beyond the largest of them:
    a memory whose values had drifted started such voices far outside and they whistled."""
    engine = SpeechEngine(bundled_model_dir(), device="cpu")
    tools = engine.speaker_tools
    assert tools is not None
    largest = engine.model.speaker_embedding.weight.detach().norm(dim=-1).max()
    rng = np.random.default_rng(0)
    queries = rng.standard_normal((200, tools.memory.keys.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    prints = list(tools.voice_prints.values())[:50]
    for query in [*queries, *prints]:
        assert tools.starting_vector(query).norm() <= largest + 1e-5
