from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import librispeech_tree, rename_voices
from torch.nn import functional as F

from metavoice_app.cli import main
from metavoice_app.core.speaker.encoder import SpeakerEncoder, ge2e_loss
from metavoice_app.core.speaker.memory import VoiceMemory
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.speaker_encoder import equal_error_rate, load_encoder


def test_ge2e_rewards_separated_speakers() -> None:
    encoder = SpeakerEncoder()
    directions = torch.eye(8)[:4]  # four speakers, orthogonal
    separated = directions[:, None, :].repeat(1, 5, 1) + 0.01 * torch.randn(4, 5, 8)
    mixed = separated[torch.randperm(4)].reshape(20, 8)[torch.randperm(20)].reshape(4, 5, 8)
    good = ge2e_loss(encoder, F.normalize(separated, dim=-1))
    bad = ge2e_loss(encoder, F.normalize(mixed, dim=-1))
    assert good < bad


def test_embeddings_are_unit_vectors_even_for_short_clips() -> None:
    encoder = SpeakerEncoder().eval()
    for frames in (40, 400):
        vector = encoder.embed(np.random.default_rng(0).normal(size=(frames, 43)))
        assert vector.shape == (128,) and abs(np.linalg.norm(vector) - 1) < 1e-5


def test_equal_error_rate() -> None:
    perfect = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert equal_error_rate(perfect, np.array([0, 0, 1, 1])) == 0.0
    assert equal_error_rate(perfect, np.array([0, 1, 0, 1])) >= 0.5


def test_voice_memory_maps_embeddings_to_speaker_vectors() -> None:
    rng = torch.Generator().manual_seed(0)
    embeddings = F.normalize(torch.randn(12, 16, generator=rng), dim=-1)
    vectors = torch.randn(12, 8, generator=rng)
    memory = VoiceMemory.fit(embeddings, vectors, prototypes=12, steps=300)
    with torch.no_grad():
        assert torch.allclose(memory.attention(embeddings).sum(-1), torch.ones(12))
        error = F.mse_loss(memory(embeddings), vectors)
        # every value is a real voice, so any query, however unlike the training voices,
        # starts from a blend of them: never beyond the largest of them
        assert all(any(torch.equal(v, w) for w in vectors) for v in memory.values)
        far = F.normalize(torch.randn(50, 16, generator=rng), dim=-1) * 3
        assert memory(far).norm(dim=-1).max() <= vectors.norm(dim=-1).max() + 1e-5
    assert error < 0.5 * vectors.var()


def test_encoder_training_cli_and_resume(tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "encoder"
    args = [
        "train",
        "encoder",
        "--corpus",
        str(tiny_corpus),
        "--out",
        str(out),
        "--speakers",
        "2",
        "--threads",
        "1",
    ]
    assert main([*args, "--steps", "3"]) == 0
    encoder = load_encoder(out)
    corpus = Corpus(tiny_corpus)
    speaker = corpus.speakers()[0]
    feats = corpus.features(speaker.id)[speaker.utterances[0].id].astype(np.float32)
    first = encoder.embed(feats)
    assert np.allclose(first, load_encoder(out).embed(feats))
    assert main([*args, "--steps", "5"]) == 0
    state = torch.load(out / "encoder_state.pt", weights_only=True)
    assert state["step"] == 5


def test_attached_encoder_gives_adaptation_its_start(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from metavoice_app.core.adapt.adapter import Adapter, AdaptStep
    from metavoice_app.core.adapt.config import AdaptConfig
    from metavoice_app.core.adapt.takes import Take
    from metavoice_app.core.audio.checks import TakeReport
    from metavoice_app.core.progress import Progress, ProgressSink
    from metavoice_app.core.synth.engine import SpeechEngine

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    assert (
        main(
            [
                "train",
                "encoder",
                "--corpus",
                str(tiny_corpus),
                "--out",
                str(tmp_path / "enc"),
                "--steps",
                "2",
                "--speakers",
                "2",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                "attach-encoder",
                "--model",
                str(model_dir),
                "--encoder",
                str(tmp_path / "enc"),
                "--corpus",
                str(tiny_corpus),
            ]
        )
        == 0
    )
    engine = SpeechEngine(model_dir, device="cpu")
    assert engine.speaker_tools is not None
    corpus = Corpus(tiny_corpus)
    speaker = corpus.speakers()[0]
    utt = speaker.utterances[0]
    from metavoice_app.core.features import world

    audio = world.synthesize(world.decode(corpus.features(speaker.id)[utt.id].astype(np.float32)))
    take = Take(tmp_path / "t.wav", utt.text, audio, TakeReport(1, 1, 0, 40, 0))
    adapter = Adapter(engine.model, engine.info, AdaptConfig(), engine.speaker_tools)
    from metavoice_app.core.adapt.takes import take_features

    voice_print = engine.speaker_tools.voice_print([take_features(take)])
    assert np.isclose(np.linalg.norm(voice_print), 1.0, atol=1e-5)
    start = adapter.initial_speaker(voice_print)
    assert start.shape == (engine.model.config.speaker_dim,)
    assert not torch.allclose(start, engine.model.speaker_init)
    # The similarity meter reports during adaptation, every few steps.
    reports: list[Progress] = []
    config = AdaptConfig(steps=4, similarity_every=2, holdout=False)
    voice = Adapter(engine.model, engine.info, config, engine.speaker_tools).adapt(
        [take, take], ProgressSink(reports.append)
    )
    assert voice.similarity is not None and -1.0 <= voice.similarity <= 1.0
    assert voice.voice_print is not None and np.allclose(voice.voice_print, voice_print)
    steps = [r.detail for r in reports]
    meter = [step.similarity for step in steps if isinstance(step, AdaptStep)]
    assert len(meter) == 4
    assert meter[0] is None and meter[2] is None
    assert meter[1] is not None and meter[3] is not None
    assert all(-1.0 <= m <= 1.0 for m in meter if m is not None)
    # the voice kept is the one the meter judged last, so its estimate is reused
    assert voice.similarity == meter[3]
    unwatched = Adapter(engine.model, engine.info, config, engine.speaker_tools).adapt([take, take])
    assert unwatched.similarity is not None
    assert abs(unwatched.similarity - voice.similarity) < 1e-3
    assert SpeechEngine(tiny_model_dir).speaker_tools is None  # optional, absent by default

    # Attached to serve only the meter and the map: adaptation keeps the model's start.
    kept = tmp_path / "kept"
    shutil.copytree(tiny_model_dir, kept)
    command = ["train", "attach-encoder", "--model", str(kept), "--encoder", str(tmp_path / "enc")]
    assert main([*command, "--corpus", str(tiny_corpus), "--keep-start"]) == 0
    engine = SpeechEngine(kept, device="cpu")
    assert engine.speaker_tools is not None and not engine.speaker_tools.memory_start
    adapter = Adapter(engine.model, engine.info, AdaptConfig(), engine.speaker_tools)
    assert torch.equal(adapter.initial_speaker(voice_print), engine.model.speaker_init.detach())


def test_envelope_smoothing_keeps_level_and_spreads_detail() -> None:
    from metavoice_app.core.train.speaker_encoder import smooth

    flat = np.full((20, 3), 2.0)
    assert np.allclose(smooth(flat, 5), flat)
    spike = np.zeros((20, 1))
    spike[10] = 5.0
    smoothed = smooth(spike, 5)
    assert smoothed.shape == spike.shape
    assert np.isclose(smoothed.sum(), 5.0) and np.isclose(smoothed.max(), 1.0)
    assert np.count_nonzero(smoothed) == 5


def test_refitting_the_voice_memory_leaves_voices_out(
    tiny_model_with_encoder: Path, tmp_path: Path
) -> None:
    import shutil

    from metavoice_app.core.model.folder import ModelFolder
    from metavoice_app.core.speaker.bundle import MEMORY_FILE, load_tools

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_with_encoder, model_dir)
    before = load_tools(model_dir)
    assert before is not None and before.memory_start
    model_id = ModelFolder(model_dir).read().model_id
    dropped, *kept = list(before.voice_prints)
    assert kept, "the tiny model needs at least two voices in its memory"
    # nothing to leave out is refused, by name, and the folder is untouched
    memory_bytes = (model_dir / MEMORY_FILE).read_bytes()
    assert main(["train", "refit-memory", "--model", str(model_dir)]) == 2
    assert (model_dir / MEMORY_FILE).read_bytes() == memory_bytes

    command = ["train", "refit-memory", "--model", str(model_dir), "--leave-out", dropped]
    assert main([*command, "--no-start"]) == 0
    after = load_tools(model_dir)
    info = ModelFolder(model_dir).read()
    assert after is not None and not after.memory_start
    assert info.voice_memory is not None and info.voice_memory.voices == tuple(kept)
    assert info.voice_memory.speakers == len(kept)
    assert list(after.voice_prints) == kept
    assert all(np.array_equal(after.voice_prints[v], before.voice_prints[v]) for v in kept)
    assert info.model_id == model_id  # the weights, and so every saved voice, still fit
    # the memory was fitted again: a different mapping from the same encoder
    probe = before.voice_prints[dropped]
    assert not torch.allclose(after.starting_vector(probe), before.starting_vector(probe))
    assert torch.equal(
        next(iter(after.encoder.state_dict().values())),
        next(iter(before.encoder.state_dict().values())),
    )


def test_refitting_refuses_to_empty_the_memory(
    tiny_model_with_encoder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from metavoice_app.core.speaker.bundle import MEMORY_FILE, load_tools

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_with_encoder, model_dir)
    tools = load_tools(model_dir)
    assert tools is not None
    memory_bytes = (model_dir / MEMORY_FILE).read_bytes()
    leave = [arg for voice in tools.voice_prints for arg in ("--leave-out", voice)]
    assert main(["train", "refit-memory", "--model", str(model_dir), *leave]) == 1
    assert "no voice would remain" in capsys.readouterr().err
    assert (model_dir / MEMORY_FILE).read_bytes() == memory_bytes


def test_refitting_finds_the_held_out_speakers_in_the_shared_data(
    tiny_model_with_encoder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--held-out`` drops exactly the voices made from test-other speakers."""
    import shutil

    from metavoice_app.core.model.folder import ModelFolder
    from metavoice_app.core.speaker.bundle import MEMORY_FILE

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_with_encoder, model_dir)
    shared = librispeech_tree(tmp_path / "shared")
    command = ["train", "refit-memory", "--model", str(model_dir), "--held-out"]
    command += ["--shared", str(shared)]
    memory_bytes = (model_dir / MEMORY_FILE).read_bytes()
    assert main(command) == 0
    assert "left as it was" in capsys.readouterr().out  # no voice of the tiny model is libri-7
    assert (model_dir / MEMORY_FILE).read_bytes() == memory_bytes

    # Name two of the tiny model's voices after the two LibriSpeech speakers.
    record = ModelFolder(model_dir).read().voice_memory
    assert record is not None and len(record.voices) == 2
    held, trained = record.voices
    rename_voices(model_dir, {held: "libri-7", trained: "libri-8"})
    assert main(command) == 0
    assert "1 left out (libri-7)" in capsys.readouterr().out
    record = ModelFolder(model_dir).read().voice_memory
    assert record is not None and "libri-7" not in record.voices and "libri-8" in record.voices
