"""The envelope refiner: what it changes, how a model folder carries it, what is refused,
and that training it on recordings lowers the envelope error (tiny real model, flite
recordings standing in for a real speaker)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from metavoice_app.core.adapt.adapter import Adapter
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import load_takes
from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
from metavoice_app.core.bench.tts import parse_variant
from metavoice_app.core.features import world
from metavoice_app.core.features.world import BAP, LF0, N_MCEP, VUV
from metavoice_app.core.model import refiner as refiner_module
from metavoice_app.core.model.checkpoint import ModelLoadError, load_model, read_info
from metavoice_app.core.model.refiner import (
    REFINER_FILE,
    EnvelopeRefiner,
    RefinerError,
    refiner_from_state,
    save_refiner,
)
from metavoice_app.core.model.voice import SPEAKER, with_voice
from metavoice_app.core.profiles.mvoice import Consent, Manifest, save_profile
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.train.config import RefinerTraining
from metavoice_app.core.train.corpus.real import RealClip, RealSpeaker
from metavoice_app.core.train.refiner import (
    envelope_error,
    load_pairs,
    make_clone_pairs,
    make_pairs,
    train,
)


def _busy_refiner(n_phones: int, feature_dim: int) -> EnvelopeRefiner:
    """A refiner whose output layer is not zero, so it visibly changes the envelope."""
    torch.manual_seed(1)
    refiner = EnvelopeRefiner(n_phones, feature_dim, channels=16, kernel=3, layers=2)
    with torch.no_grad():
        for parameter in refiner.output.parameters():
            parameter.normal_(0.0, 0.5)
    return refiner.eval()


@pytest.fixture()
def refined_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    config = read_info(folder).config
    save_refiner(_busy_refiner(config.n_phones, config.feature_dim), folder)
    return folder


def _frames(model_dir: Path) -> np.ndarray:
    model, _ = load_model(model_dir)
    phones = torch.tensor([[1, 20, 31, 14, 1]])
    speaker = model.speaker_vectors(torch.tensor([0]))
    durations = torch.tensor([[3, 4, 6, 5, 3]])
    return model.synthesize(phones, speaker, durations=durations).numpy()


def test_a_new_refiner_changes_nothing(tiny_model_dir: Path) -> None:
    info = read_info(tiny_model_dir)
    frames = torch.randn(1, 30, info.config.feature_dim)
    phones = torch.randint(0, info.config.n_phones, (1, 30))
    refiner = EnvelopeRefiner(info.config.n_phones, info.config.feature_dim).eval()
    assert torch.equal(refiner(frames, phones), frames[..., 1:N_MCEP])


def test_the_folder_refiner_changes_only_the_envelope(
    tiny_model_dir: Path, refined_copy: Path
) -> None:
    plain, refined = _frames(tiny_model_dir), _frames(refined_copy)
    assert plain.shape == refined.shape
    assert np.abs(refined[:, 1:N_MCEP] - plain[:, 1:N_MCEP]).mean() > 1e-3
    for kept in (0, LF0, VUV, BAP):
        np.testing.assert_allclose(refined[:, kept], plain[:, kept], atol=1e-6)


def test_a_refiner_leaves_the_model_id_and_its_voices_alone(
    tiny_model_dir: Path, refined_copy: Path
) -> None:
    assert load_model(refined_copy)[1].model_id == load_model(tiny_model_dir)[1].model_id
    model, _ = load_model(refined_copy)
    assert not any(name.startswith("refiner") for name in model.state_dict())
    voice = with_voice(model, {SPEAKER: model.speaker_vectors(torch.tensor([1]))[0]})
    assert voice.refiner is not None and voice.refiner is not model.refiner


def test_the_engine_speaks_through_the_refiner(tiny_model_dir: Path, refined_copy: Path) -> None:
    plain = SpeechEngine(tiny_model_dir).speak("A short test.").audio
    refined = SpeechEngine(refined_copy).speak("A short test.").audio
    assert len(plain) == len(refined)
    assert not np.allclose(plain, refined, atol=1e-3)


def test_refiners_for_another_model_are_refused(tiny_model_dir: Path) -> None:
    config = read_info(tiny_model_dir).config
    other = EnvelopeRefiner(config.n_phones + 1, config.feature_dim, channels=8, layers=1)
    with pytest.raises(RefinerError, match="phones"):
        refiner_from_state(other.state_dict(), config)
    state = EnvelopeRefiner(config.n_phones, config.feature_dim, channels=8, layers=1)
    broken = {k: v.clone() for k, v in state.state_dict().items()}
    broken["convs.0.weight"][0, 0, 0] = float("nan")
    with pytest.raises(RefinerError, match="not finite"):
        refiner_from_state(broken, config)
    del broken["output.bias"]
    with pytest.raises(RefinerError, match="do not fit"):
        refiner_from_state(broken, config)


def test_a_damaged_or_huge_refiner_file_is_explained(
    refined_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = refined_copy / REFINER_FILE
    monkeypatch.setattr(refiner_module, "MAX_REFINER_BYTES", 100)
    with pytest.raises(ModelLoadError, match="over the"):
        load_model(refined_copy)
    monkeypatch.undo()
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="not a valid safetensors file"):
        load_model(refined_copy)


def test_training_on_recordings_lowers_the_envelope_error(
    tiny_model_dir: Path, flite_speech: Callable[[str], np.ndarray], tmp_path: Path
) -> None:
    """flite's slt, read as a 'real' speaker of the tiny model's first voice."""
    texts = [
        "Please call Stella and ask her to bring these things with her.",
        "The rainbow is a division of white light into many beautiful colors.",
        "We also need a small plastic snake and a big toy frog for the kids.",
    ]
    clips = []
    for index, text in enumerate(texts):
        path = tmp_path / f"clip{index}.wav"
        sf.write(path, flite_speech(text), 16000)
        clips.append(RealClip(path, text))
    voice = read_info(tiny_model_dir).voices[0].id  # e.g. flite-slt-00
    source, _, name = voice.partition("-")
    speaker = RealSpeaker(source, name, None, tuple(clips))
    work = tmp_path / "work"
    model, info = load_model(tiny_model_dir)
    make_pairs(model, info, [speaker], work, lambda _m: None)
    assert (work / "pairs" / f"{voice}.npz").exists()
    # the real frames are analysed as the model's training recordings are, not by dio
    with np.load(work / "pairs" / f"{voice}.npz") as data:
        first = data["real"][: int(data["lengths"][0])]
    clean = normalize_loudness(trim_silence(load_audio(clips[0].path)))
    expected = world.encode(world.analyze(clean, world.RECORDING_F0))[: len(first)]
    np.testing.assert_allclose(first, expected, atol=1e-5)
    pairs = load_pairs(work, model)
    assert len(pairs.train) >= 2
    settings = RefinerTraining(
        steps=100, batch=4, segment_frames=64, learning_rate=2e-3, channels=32, layers=2
    )
    checkpoint = work / REFINER_FILE
    trained = train(pairs, info.config.n_phones, settings, checkpoint, lambda _m: None)
    before = envelope_error(None, pairs, pairs.train)
    assert envelope_error(trained, pairs, pairs.train) < 0.9 * before
    # a finished run resumes at its end: nothing more is trained, the same refiner returns
    again = train(pairs, info.config.n_phones, settings, checkpoint, lambda _m: None)
    for name, tensor in trained.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name])


def test_clone_pairs_are_read_by_a_voice_adapted_to_takes(
    tiny_model_dir: Path,
    refined_copy: Path,
    flite_speech: Callable[[str], np.ndarray],
    tmp_path: Path,
) -> None:
    """A clone made from two of a speaker's clips reads the other two: the same real
    frames as the built-in voice's pairs of those clips, other predicted ones; a rerun
    resumes without redoing it, and the pairs are read without the model's refiner."""
    texts = [
        "Please call Stella and ask her to bring these things with her.",
        "The rainbow is a division of white light into many beautiful colors.",
        "We also need a small plastic snake and a big toy frog for the kids.",
        "Rice is often served in round bowls.",
    ]
    clips = []
    for index, text in enumerate(texts):
        path = tmp_path / f"clip{index}.wav"
        sf.write(path, flite_speech(text), 16000)
        clips.append(RealClip(path, text))
    engine = SpeechEngine(refined_copy)
    voice = engine.info.voices[0].id
    source, _, name = voice.partition("-")
    speaker = RealSpeaker(source, name, None, tuple(clips))
    work = tmp_path / "work"
    settings = RefinerTraining(clone_draws=1, clone_takes=2, clone_clips=5, clone_tune=0)
    make_clone_pairs(engine, [speaker], work, settings, lambda _m: None)
    made = work / "pairs" / f"clone-{voice}-0.npz"
    stamp = made.stat().st_mtime_ns
    make_clone_pairs(engine, [speaker], work, settings, lambda _m: None)
    assert made.stat().st_mtime_ns == stamp
    # the same clips through the built-in voice, in another folder; matched by length
    built_in = tmp_path / "built-in"
    make_pairs(engine.model, engine.info, [speaker], built_in, lambda _m: None)
    assert engine.model.refiner is not None  # put back after the pairs

    def by_clip(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        with np.load(path) as data:
            ends = np.cumsum(data["lengths"])
            return {
                int(n): (data["real"][e - n : e], data["predicted"][e - n : e])
                for n, e in zip(data["lengths"], ends, strict=True)
            }

    cloned, base = by_clip(made), by_clip(built_in / "pairs" / f"{voice}.npz")
    assert len(cloned) == 2 and set(cloned) <= set(base)
    for length, (real, predicted) in cloned.items():
        np.testing.assert_array_equal(real, base[length][0])
        assert not np.allclose(predicted, base[length][1], atol=1e-3)
    pairs = load_pairs(work, engine.model)
    assert pairs.voices == 1 and len(pairs.train) == 2 and not pairs.tune
    # the same model without a refiner makes the same pairs: the refiner is not in them
    plain = tmp_path / "plain"
    make_clone_pairs(SpeechEngine(tiny_model_dir), [speaker], plain, settings, lambda _m: None)
    for length, (_real, predicted) in by_clip(plain / "pairs" / made.name).items():
        np.testing.assert_allclose(predicted, cloned[length][1], atol=1e-5)
    # with no draws asked for, or a speaker with no more clips than takes, none are made
    make_clone_pairs(engine, [speaker], tmp_path / "none", RefinerTraining(clone_draws=0), print)
    short = RealSpeaker(source, name, None, tuple(clips[:2]))
    make_clone_pairs(engine, [short], tmp_path / "none", settings, print)
    assert not list((tmp_path / "none" / "pairs").glob("*.npz"))


def test_benchmark_variants_choose_the_refiner(tiny_model_dir: Path, refined_copy: Path) -> None:
    info = read_info(refined_copy)
    own = load_model(refined_copy)[0].refiner
    assert parse_variant("model", info).refiner_for(own) is own
    assert parse_variant("refiner=off,strength=1", info).refiner_for(own) is None
    # another folder's variant speaks through that folder's refiner, or none
    assert parse_variant(f"fit={tiny_model_dir}", info).refiner_for(own) is None
    carried = parse_variant(f"fit={refined_copy}", info).refiner_for(None)
    assert carried is not None and torch.equal(
        carried.output.weight, _busy_refiner(info.config.n_phones, 43).output.weight.half().float()
    )


def test_a_clone_speaks_through_the_refiner_its_tables_were_read_through(
    refined_copy: Path, flite_speech: Callable[..., np.ndarray], tmp_path: Path
) -> None:
    """A profile records the refiner behind its exemplar tables; one made before the model
    had a refiner (no record) speaks without it, as it did when it was made."""
    lines = [
        "Rice is often served in round bowls.",
        "The birch canoe slid on the smooth planks.",
    ]
    for index, line in enumerate(lines):
        sf.write(tmp_path / f"take{index}.wav", flite_speech(line, "awb"), 16000)
        (tmp_path / f"take{index}.txt").write_text(line, encoding="utf-8")
    takes, _ = load_takes(tmp_path)
    engine = SpeechEngine(refined_copy)
    assert engine.model.refiner is not None
    voice = Adapter(engine.model, engine.info, AdaptConfig(steps=1, holdout=False)).adapt(takes)
    assert voice.recipe["refiner"] == engine.model.refiner.file_id
    assert len(engine.model.refiner.file_id) == 16
    consent = Consent("Alan", "I, Alan, agree.", "2026-12-01T00:00:00+00:00")
    audio = np.zeros(1600, np.float32)
    spoken = {}
    for label, recipe in (("new", dict(voice.recipe)), ("old", {})):
        manifest = Manifest("Alan", engine.info.model_id, [], consent, recipe=recipe)
        save_profile(tmp_path / f"{label}.mvoice", manifest, voice.tensors, audio, 16000)
        handle = engine.voice(tmp_path / f"{label}.mvoice")
        assert (handle.model.refiner is not None) == (label == "new")
        spoken[label] = engine.speak("Rice in bowls.", voice=handle).audio
    fresh = engine.speak("Rice in bowls.", voice=engine.voice_from_tensors("A", voice.tensors))
    np.testing.assert_allclose(fresh.audio, spoken["new"], atol=1e-4)
    assert not np.allclose(spoken["new"], spoken["old"], atol=1e-3)
    assert engine.model.refiner is not None  # the base model keeps its own


def test_the_train_command_says_what_it_lacks(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metavoice_app.cli import main

    args = ["train", "refiner", "--model", str(tiny_model_dir), "--work", str(tmp_path / "w")]
    assert main([*args, "--shared", str(tmp_path)]) == 2
    assert "no real speakers' recordings" in capsys.readouterr().err
    assert not (tiny_model_dir / REFINER_FILE).exists()


def test_the_model_card_says_how_the_refiner_was_trained(refined_copy: Path) -> None:
    from metavoice_app.core.train.modelcard import REFINER_HEADING, update_refiner_section

    card = update_refiner_section(refined_copy, 0.62, 0.60, 1500, clone_draws=3)
    update_refiner_section(refined_copy, 0.61, 0.59, 1500, clone_draws=0)
    text = card.read_text(encoding="utf-8")
    assert text.count(REFINER_HEADING) == 1  # rewritten in place, never appended twice
    assert "0.6100 without it, 0.5900 with it" in text and "0.6200" not in text
    assert "cloned" not in text
    update_refiner_section(refined_copy, 0.61, 0.59, 1500, clone_draws=3)
    assert "cloned 3 times" in card.read_text(encoding="utf-8")
