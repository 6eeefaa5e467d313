"""Exemplar refinement: the takes' residuals put back into a cloned voice's frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from metavoice_app.core.adapt.adapter import Adapter, read_takes, spoken_pairs
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import load_takes, take_features
from metavoice_app.core.features import world
from metavoice_app.core.features.exemplars import (
    CLASSES,
    ENVELOPE,
    MAX_FRAMES,
    PREDICTED,
    RESIDUAL,
    RESIDUAL_WEIGHT,
    ExemplarError,
    Exemplars,
)
from metavoice_app.core.features.postfilter import EXEMPLAR_STRENGTH, PostFilter
from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.profiles.mvoice import Consent, Manifest, ProfileError, save_profile
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.text.phones import PHONE_TO_ID

AA1, AA0, S, SIL = (PHONE_TO_ID[p] for p in ("AA1", "AA0", "S", "sil"))

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
]


def _frames(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.1, (n, world.FEATURE_DIM))


def test_refinement_adds_the_residuals_of_the_same_sound() -> None:
    said = _frames(60, 0)
    real = said.copy()
    phones = np.array([SIL] * 10 + [AA1] * 30 + [S] * 20)
    real[10:40, ENVELOPE] += 0.5  # the person's vowel differs by a constant
    exemplars = Exemplars.collect([(phones, said, real)])
    assert exemplars is not None and exemplars.frames == 50  # silence is not kept
    # A new sentence: the same vowel with another stress, a hiss, silence, and a sound
    # the takes never said (left as the model makes it).
    new = _frames(80, 1)
    new_phones = np.array([SIL] * 5 + [AA0] * 30 + [S] * 20 + [PHONE_TO_ID["ZH"]] * 25)
    refined = exemplars.refine(new, new_phones)
    assert refined.shape == new.shape
    added = refined[7:33, ENVELOPE] - new[7:33, ENVELOPE]
    np.testing.assert_allclose(added, 0.5 * RESIDUAL_WEIGHT, atol=1e-6)
    np.testing.assert_allclose(refined[37:53, ENVELOPE], new[37:53, ENVELOPE], atol=1e-6)
    np.testing.assert_allclose(refined[57:, ENVELOPE], new[57:, ENVELOPE], atol=1e-6)
    np.testing.assert_array_equal(refined[:, 0], new[:, 0])  # loudness is the model's
    np.testing.assert_array_equal(refined[:, world.LF0 :], new[:, world.LF0 :])


def test_refinement_matches_frames_by_the_model_prediction() -> None:
    """Of two kinds of vowel frames the nearer prediction's residual is the one used."""
    said = np.zeros((40, world.FEATURE_DIM))
    said[20:, ENVELOPE] = 5.0
    real = said.copy()
    real[:20, ENVELOPE] += 1.0
    real[20:, ENVELOPE] -= 1.0
    exemplars = Exemplars.collect([(np.full(40, AA1), said, real)])
    assert exemplars is not None
    near_second = np.full((10, world.FEATURE_DIM), 4.8)
    refined = exemplars.refine(near_second, np.full(10, AA1))
    np.testing.assert_allclose(refined[2:8, ENVELOPE], 4.8 - RESIDUAL_WEIGHT, atol=1e-6)


def test_tables_are_thinned_to_the_cap() -> None:
    n = MAX_FRAMES + 500
    exemplars = Exemplars.collect([(np.full(n, AA1), _frames(n, 2), _frames(n, 3))])
    assert exemplars is not None and exemplars.frames <= MAX_FRAMES


def test_no_speech_gives_no_tables() -> None:
    assert Exemplars.collect([(np.full(20, SIL), _frames(20, 0), _frames(20, 1))]) is None


def _good_tables() -> dict[str, torch.Tensor]:
    exemplars = Exemplars.collect([(np.full(30, AA1), _frames(30, 0), _frames(30, 1))])
    assert exemplars is not None
    return exemplars.to_tensors()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop(RESIDUAL), "incomplete"),
        (lambda t: t.update({CLASSES: t[CLASSES].float()}), "8-bit"),
        (lambda t: t.update({PREDICTED: t[PREDICTED][:10]}), "shape"),
        (lambda t: t.update({RESIDUAL: t[RESIDUAL] * 0 + 1e4}), "absurd"),
        (lambda t: t.update({CLASSES: t[CLASSES] * 0 + 200}), "phone"),
    ],
)
def test_malformed_tables_are_refused(change, message: str) -> None:
    tables = _good_tables()
    change(tables)
    with pytest.raises(ExemplarError, match=message):
        Exemplars.from_tensors(tables)


def test_round_trip_through_tensors() -> None:
    tables = _good_tables()
    again = Exemplars.from_tensors(tables)
    assert again is not None and again.frames == 30
    assert Exemplars.from_tensors({"speaker": torch.zeros(4)}) is None


def test_refined_voices_get_the_gentler_envelope_gains() -> None:
    postfilter = PostFilter(envelope_gain=(2.0,) * (world.N_MCEP - 1), strength=1.5)
    assert postfilter.for_voice(None).strength == 1.5
    assert postfilter.for_voice(None, exemplars=True).strength == EXEMPLAR_STRENGTH


@pytest.fixture(scope="module")
def adapted(tiny_model_dir: Path, flite_speech, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("exemplar-takes")
    for index, line in enumerate(LINES):
        sf.write(folder / f"take{index}.wav", flite_speech(line, "awb"), 16000)
        (folder / f"take{index}.txt").write_text(line, encoding="utf-8")
    takes, _ = load_takes(folder)
    model, info = load_model(tiny_model_dir)
    voice = Adapter(model, info, AdaptConfig(steps=2, holdout=False)).adapt(takes)
    return takes, voice


def test_adapted_voices_carry_their_takes_tables(tiny_model_dir: Path, adapted) -> None:
    takes, voice = adapted
    exemplars = Exemplars.from_tensors(voice.tensors)
    assert exemplars is not None
    assert voice.recipe["exemplar_refinement"] is True
    # every speech frame of the takes is in the tables
    assert 0.5 * sum(len(t.audio) for t in takes) / world.HOP_LENGTH < exemplars.frames
    model, info = load_model(tiny_model_dir)
    plain = Adapter(model, info, AdaptConfig(steps=2, holdout=False, exemplars=False)).adapt(takes)
    assert Exemplars.from_tensors(plain.tensors) is None


def _spoken(tiny_model_dir: Path, takes, voice):
    """The adapted voice's handle and its readings of the takes as it speaks new text."""
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    handle = engine.voice_from_tensors("Alan", voice.tensors, voice.delivery)
    adapter = Adapter(engine.model, engine.info, AdaptConfig())
    batch = adapter._batch(takes, [take_features(t) for t in takes], handle.model)
    readings = read_takes(handle.model, [batch], handle.speaker[0])
    postfilter = engine.postfilter.for_voice(voice.delivery, exemplars=True)
    return handle, spoken_pairs(handle.model, readings, handle.speaker[0], postfilter)


def test_tables_hold_the_takes_as_the_voice_speaks_them(tiny_model_dir: Path, adapted) -> None:
    """The tables are searched with frames the voice makes at its own pace, so they hold
    its frames made that way, not its reading at the takes' aligned timing."""
    takes, voice = adapted
    handle, pairs = _spoken(tiny_model_dir, takes, voice)
    assert handle.exemplars is not None
    expected = Exemplars.collect(pairs)
    assert expected is not None and expected.frames == handle.exemplars.frames
    np.testing.assert_allclose(handle.exemplars.predicted, expected.predicted, atol=2e-2)
    np.testing.assert_allclose(handle.exemplars.residual, expected.residual, atol=2e-2)
    for take, (phones, said, real) in zip(takes, pairs, strict=True):
        assert len(phones) == len(said) == len(real)
        # every real frame is one of the take's (or a mean of neighbouring ones)
        features = take_features(take)
        assert (real[:, ENVELOPE] >= features[:, ENVELOPE].min(0) - 1e-6).all()
        assert (real[:, ENVELOPE] <= features[:, ENVELOPE].max(0) + 1e-6).all()


def test_refinement_brings_the_voice_saying_a_take_closer_to_the_take(
    tiny_model_dir: Path, adapted
) -> None:
    takes, voice = adapted
    handle, pairs = _spoken(tiny_model_dir, takes, voice)
    assert handle.exemplars is not None
    for phones, said, real in pairs:
        refined = handle.exemplars.refine(said, phones)
        before = np.abs(said[:, ENVELOPE] - real[:, ENVELOPE]).mean()
        after = np.abs(refined[:, ENVELOPE] - real[:, ENVELOPE]).mean()
        assert after < 0.9 * before


def test_refined_voice_speaks_and_survives_a_profile(
    tiny_model_dir: Path, adapted, tmp_path: Path
) -> None:
    _, voice = adapted
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    text = "Rice is often served in round bowls."
    refined = engine.speak(text, voice=engine.voice_from_tensors("Alan", voice.tensors)).audio
    tables = {k for k in voice.tensors if k.startswith("exemplar.")}
    plain_tensors = {k: v for k, v in voice.tensors.items() if k not in tables}
    plain = engine.speak(text, voice=engine.voice_from_tensors("Alan", plain_tensors)).audio
    assert np.isfinite(refined).all() and len(refined) == len(plain)
    assert not np.allclose(refined, plain)
    consent = Consent("Alan", "I, Alan, agree.", "2026-12-01T00:00:00+00:00")
    manifest = Manifest("Alan", engine.info.model_id, [], consent)
    path = tmp_path / "alan.mvoice"
    save_profile(path, manifest, voice.tensors, refined, engine.sample_rate)
    spoken = engine.speak(text, voice=path).audio
    np.testing.assert_allclose(spoken, refined, atol=1e-4)
    # a damaged table is refused when the profile is read, naming the problem
    broken = dict(voice.tensors)
    broken[CLASSES] = broken[CLASSES][:5]
    save_profile(tmp_path / "broken.mvoice", manifest, broken, refined, engine.sample_rate)
    with pytest.raises(ProfileError, match="exemplar"):
        engine.voice(tmp_path / "broken.mvoice")
