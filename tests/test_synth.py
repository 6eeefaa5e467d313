from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from metavoice_app.cli import main
from metavoice_app.core.audio.export import ExportError, ExportOptions, write_audio
from metavoice_app.core.model.acoustic import AcousticModel
from metavoice_app.core.progress import Cancelled, Progress, ProgressSink
from metavoice_app.core.synth.engine import SENTENCE_GAP_S, SpeechEngine, VoiceNotFoundError
from metavoice_app.core.text.frontend import TextError


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> SpeechEngine:
    return SpeechEngine(tiny_model_dir, device="cpu")


@pytest.fixture
def made(engine: SpeechEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per sentence the engine's model makes from here on."""
    calls: list[int] = []
    synthesize = engine.model.synthesize

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return synthesize(*args, **kwargs)

    monkeypatch.setattr(engine.model, "synthesize", counted)
    return calls


def test_engine_speaks_every_sentence(engine: SpeechEngine) -> None:
    one = engine.speak("Hello there.")
    two = engine.speak("Hello there. Hello there.")
    assert one.sample_rate == 16000 and one.audio.dtype == np.float32
    assert one.duration > 0 and np.isfinite(one.audio).all()
    assert two.sentences == ["Hello there.", "Hello there."]
    assert len(two.audio) > 2 * len(one.audio)  # both sentences and the pause between


THREE_SENTENCES = "Hello there. The rainbow is a division of white light. Goodbye now."


def test_stream_makes_each_sentence_on_demand_and_joins_to_speak(
    engine: SpeechEngine, made: list[int]
) -> None:
    reports: list[Progress] = []
    whole = engine.speak(THREE_SENTENCES, progress=ProgressSink(reports.append))
    assert [(p.fraction, p.message) for p in reports] == [
        (0.0, "sentence 1 of 3"),
        (pytest.approx(1 / 3), "sentence 2 of 3"),
        (pytest.approx(2 / 3), "sentence 3 of 3"),
        (1.0, "done"),
    ]
    made.clear()  # the sentences of the whole reading above
    stream = engine.speak_stream(THREE_SENTENCES)
    assert stream.count == 3 and made == []
    first = next(stream)
    assert len(made) == 1  # handed out before the later sentences are made
    assert first.index == 0 and first.first
    pieces = [first, *stream]
    assert len(made) == 3
    complete = [p for p in pieces if p.complete]
    assert [(p.index, p.count) for p in complete] == [(0, 3), (1, 3), (2, 3)]
    assert [p.text for p in complete] == whole.sentences
    # later sentences come whole; the pieces of each join to the sentence kept
    for index, sentence in enumerate(stream.made):
        own = [p for p in pieces if p.index == index]
        assert own[0].first and own[-1].complete and (index == 0 or len(own) == 1)
        assert np.array_equal(np.concatenate([p.audio for p in own]), sentence.audio)
    gap = np.zeros(int(SENTENCE_GAP_S * engine.sample_rate), dtype=np.float32)
    said = [s.audio for s in stream.made]
    joined = np.concatenate([said[0], gap, said[1], gap, said[2]])
    assert np.array_equal(joined, whole.audio)
    assert np.array_equal(np.concatenate([p.spaced() for p in pieces]), whole.audio)
    with pytest.raises(TextError):  # bad text fails when the stream is made, before any audio
        engine.speak_stream("   ")


def test_a_long_first_sentence_starts_before_it_is_vocoded(engine: SpeechEngine) -> None:
    """The first audio of a text comes after a part of its first sentence is vocoded, and
    the parts play exactly as the sentence vocoded whole; a stream stopped after the first
    part keeps nothing unfinished."""
    text = (
        "The rainbow is a division of white light into many beautiful colours, which take "
        "the shape of a long round arch, with its path high above, and its two ends apparently "
        "beyond the horizon."
    )
    whole = engine.speak(text)
    stream = engine.speak_stream(text)
    first = next(stream)
    assert not first.complete and stream.made == []
    assert stream.result().sentences == []  # a part of a sentence is not a finished one
    rest = list(stream)
    assert rest[-1].complete and len(stream.made) == 1
    joined = np.concatenate([first.audio, *(p.audio for p in rest)])
    assert np.array_equal(joined, whole.audio)
    assert len(first.audio) < 0.25 * len(whole.audio)


def test_a_cancel_stops_speaking_before_the_next_sentence(
    engine: SpeechEngine, made: list[int]
) -> None:
    reports: list[Progress] = []

    def stop_while_the_first_is_made(progress: Progress) -> None:
        reports.append(progress)
        sink.cancel()  # as Stop pressed while the first sentence is being made

    sink = ProgressSink(stop_while_the_first_is_made)
    with pytest.raises(Cancelled):
        engine.speak(THREE_SENTENCES, progress=sink)
    assert len(made) == 1 and [p.message for p in reports] == ["sentence 1 of 3"]


def test_each_voice_sounds_different(engine: SpeechEngine) -> None:
    a, b = engine.voice_ids()[:2]
    audio_a = engine.speak("The rainbow is a division of white light.", voice=a).audio
    audio_b = engine.speak("The rainbow is a division of white light.", voice=b).audio
    assert not (len(audio_a) == len(audio_b) and np.allclose(audio_a, audio_b))


def test_unknown_voice_and_unspeakable_text(engine: SpeechEngine) -> None:
    with pytest.raises(VoiceNotFoundError, match="list-voices"):
        engine.speak("Hello.", voice="nobody")
    with pytest.raises(TextError):
        engine.speak("   ")


@pytest.mark.parametrize(
    ("fmt", "rate"),
    [("wav", 16000), ("wav", 44100), ("flac", 22050), ("ogg", 48000), ("mp3", 44100)],
)
def test_exports_are_tagged_as_synthetic(tmp_path: Path, fmt: str, rate: int) -> None:
    tone = (0.3 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 220)).astype(np.float32)
    path = tmp_path / f"clip.{fmt}"
    write_audio(path, tone, 16000, ExportOptions(fmt, rate, voice_name="Ada"))
    info = sf.info(str(path))
    assert info.samplerate == rate and info.channels == 1
    assert abs(info.duration - 1.0) < 0.1
    with sf.SoundFile(str(path)) as handle:  # RIFF INFO, Vorbis comments or ID3 tags
        assert "Synthetic speech" in handle.comment and "Ada" in handle.comment


def test_export_rejects_unsupported_choices(tmp_path: Path) -> None:
    audio = np.zeros(1600, dtype=np.float32)
    with pytest.raises(ExportError, match="sample rate"):
        write_audio(tmp_path / "a.wav", audio, 16000, ExportOptions("wav", 12345))
    with pytest.raises(ExportError, match="Opus"):
        write_audio(tmp_path / "a.ogg", audio, 16000, ExportOptions("ogg", 22050))
    assert list(tmp_path.iterdir()) == []


def test_cli_text_to_wav(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hello.wav"
    code = main(
        [
            "synth",
            "--model",
            str(tiny_model_dir),
            "--text",
            "Hello world.",
            "--out",
            str(out),
            "--speed",
            "1.1",
            "--pitch",
            "2",
            "--device",
            "cpu",
        ]
    )
    assert code == 0, capsys.readouterr().err
    info = sf.info(str(out))
    assert (info.samplerate, info.subtype, info.channels) == (16000, "PCM_16", 1)
    main(
        [
            "synth",
            "--model",
            str(tiny_model_dir),
            "--text",
            "Hello world.",
            "--out",
            str(tmp_path / "hi.wav"),
            "--sample-rate",
            "48000",
        ]
    )
    assert sf.info(str(tmp_path / "hi.wav")).samplerate == 48000


def test_cli_ctrl_c_keeps_the_finished_sentences(
    engine: SpeechEngine,
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = engine.speak("Hello there. The rainbow is a division of white light.").audio
    synthesize = AcousticModel.synthesize
    calls: list[int] = []
    interrupt_at = [3]

    def interrupted(self: AcousticModel, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == interrupt_at[0]:
            raise KeyboardInterrupt  # Ctrl+C while the third sentence is being made
        return synthesize(self, *args, **kwargs)

    monkeypatch.setattr(AcousticModel, "synthesize", interrupted)
    out = tmp_path / "long.wav"
    args = ["synth", "--model", str(tiny_model_dir), "--text", THREE_SENTENCES, "--out", str(out)]
    assert main(args) == 130
    captured = capsys.readouterr()
    assert "[1/3] Hello there." in captured.err and "[2/3]" in captured.err
    assert "[3/3]" not in captured.err
    assert "interrupted" in captured.err and "2 finished sentences of 3" in captured.err
    assert captured.out.startswith(f"{out}\t")
    kept, rate = sf.read(str(out), dtype="float32")
    assert rate == 16000 and len(kept) == len(expected)
    np.testing.assert_allclose(kept, np.clip(expected, -1, 1), atol=1e-4)
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary file left

    calls.clear()
    interrupt_at[0] = 1
    assert main([*args[:-1], str(tmp_path / "none.wav")]) == 130
    assert "nothing written" in capsys.readouterr().err
    assert not (tmp_path / "none.wav").exists()


def test_cli_script_to_numbered_files(tiny_model_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "lines.txt"
    script.write_text("First line.\n\nSecond line, with 2 numbers.\nThird.\n", encoding="utf-8")
    assert (
        main(
            [
                "synth",
                "--model",
                str(tiny_model_dir),
                "--script",
                str(script),
                "--out-dir",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "0001.wav",
        "0002.wav",
        "0003.wav",
    ]


def test_cli_lists_voices_and_explains_errors(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", "--model", str(tiny_model_dir), "--list-voices"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and "(default)" in "".join(listed)
    assert (
        main(
            [
                "synth",
                "--model",
                str(tiny_model_dir),
                "--text",
                "Hi.",
                "--out",
                str(tmp_path / "x.wav"),
                "--voice",
                "nobody",
            ]
        )
        == 1
    )
    assert "unknown voice 'nobody'" in capsys.readouterr().err
    assert (
        main(["synth", "--model", str(tmp_path), "--text", "Hi.", "--out", str(tmp_path / "x.wav")])
        == 1
    )
    assert "No speech model" in capsys.readouterr().err
    assert (
        main(
            [
                "synth",
                "--model",
                str(tiny_model_dir),
                "--text",
                "😀",
                "--out",
                str(tmp_path / "x.wav"),
            ]
        )
        == 1
    )
    assert "Nothing in this text can be spoken" in capsys.readouterr().err
    assert main(["synth", "--model", str(tiny_model_dir), "--text", "Hi."]) == 1
    assert "--out" in capsys.readouterr().err


def test_training_resumes_where_it_stopped(tiny_corpus: Path, tmp_path: Path) -> None:
    from metavoice_app.core.train.base import STATE_FILE

    args = [
        "train",
        "base",
        "--corpus",
        str(tiny_corpus),
        "--out",
        str(tmp_path / "run"),
        "--tiny",
        "--batch-frames",
        "2000",
        "--validate-every",
        "3",
        "--device",
        "cpu",
    ]
    assert main([*args, "--steps", "4"]) == 0
    assert (tmp_path / "run" / STATE_FILE).exists()
    assert (
        main(
            [
                *args,
                "--steps",
                "6",
                "--export",
                str(tmp_path / "exported"),
                "--default-voice",
                "flite-slt-01",
            ]
        )
        == 0
    )
    import torch

    state = torch.load(tmp_path / "run" / STATE_FILE, weights_only=True)
    assert state["step"] == 6
    assert (tmp_path / "exported" / "model.safetensors").exists()
    from metavoice_app.core.model.checkpoint import read_info

    assert read_info(tmp_path / "exported").default_voice == "flite-slt-01"
    card = (tmp_path / "exported" / "MODEL_CARD.md").read_text()
    assert "| flite | 2 |" in card and "## Credits" in card and "- steps: " in card


def test_an_unknown_default_voice_is_refused_before_training(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metavoice_app.core.train.base import STATE_FILE

    run, exported = tmp_path / "run", tmp_path / "exported"
    args = ["train", "base", "--corpus", str(tiny_corpus), "--out", str(run), "--tiny"]
    args += ["--steps", "2", "--batch-frames", "2000", "--device", "cpu"]
    assert main([*args, "--export", str(exported), "--default-voice", "nobody"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "metavoice train base: --default-voice 'nobody' is not one of the corpus's 2 voices "
        "(flite-slt-00, flite-slt-01); nothing was trained"
    )
    assert not (run / STATE_FILE).exists() and not exported.exists()
    assert main([*args, "--default-voice", "flite-slt-01"]) == 2  # and no --export to apply it
    assert "give --export too" in capsys.readouterr().err
    assert not (run / STATE_FILE).exists()


def test_warm_start_keeps_known_voices(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import torch

    from metavoice_app.core.model.checkpoint import load_model
    from metavoice_app.core.model.config import ModelConfig
    from metavoice_app.core.train.base import Trainer
    from metavoice_app.core.train.config import TrainConfig

    trainer = Trainer(
        TrainConfig(
            corpus=tiny_corpus,
            out=tmp_path / "warm",
            model=ModelConfig.tiny(),
            init_from=tiny_model_dir,
            device="cpu",
        )
    )
    source, _ = load_model(tiny_model_dir)
    assert torch.allclose(trainer.model.speaker_embedding.weight, source.speaker_embedding.weight)
    assert torch.allclose(trainer.model.feature_mean, source.feature_mean)


def test_warm_start_keeps_what_fits_and_renews_changed_layers(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    """A model whose aligner changed shape still warm-starts everything else."""
    import dataclasses

    import torch

    from metavoice_app.core.model.checkpoint import load_model
    from metavoice_app.core.model.config import ModelConfig
    from metavoice_app.core.train.base import Trainer
    from metavoice_app.core.train.config import TrainConfig

    wider = dataclasses.replace(ModelConfig.tiny(), aligner_channels=24)
    trainer = Trainer(
        TrainConfig(
            corpus=tiny_corpus,
            out=tmp_path / "warm",
            model=wider,
            init_from=tiny_model_dir,
            device="cpu",
        )
    )
    source, _ = load_model(tiny_model_dir)
    assert torch.allclose(trainer.model.output.weight, source.output.weight.float())
    assert trainer.model.aligner.project.weight.shape[0] == 24


def test_aligner_only_training_changes_nothing_else(tiny_corpus: Path, tmp_path: Path) -> None:
    from metavoice_app.core.model.config import ModelConfig
    from metavoice_app.core.train.base import Trainer
    from metavoice_app.core.train.config import TrainConfig

    trainer = Trainer(
        TrainConfig(
            corpus=tiny_corpus,
            out=tmp_path / "aligner",
            model=ModelConfig.tiny(),
            steps=8,
            batch_frames=2000,
            validate_every=4,
            holdout=1,
            warmup_steps=1,
            device="cpu",
            parts="aligner",
        )
    )
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    after = trainer.model.state_dict()
    changed = {k for k in before if not bool((before[k] == after[k]).all())}
    assert changed and {k for k in changed if not k.startswith("aligner.")} == set()
    assert trainer.step == 8


@pytest.mark.parametrize(
    ("control", "value"),
    [
        ("--energy", "nan"),
        ("--energy", "inf"),
        ("--energy", "50"),
        ("--speed", "nan"),
        ("--pitch", "-inf"),
        ("--pitch", "100"),
    ],
)
def test_cli_refuses_non_finite_or_absurd_controls(
    control: str,
    value: str,
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "noise.wav"
    args = ["synth", "--model", str(tiny_model_dir), "--text", "Hi there.", "--out", str(out)]
    assert main([*args, f"{control}={value}"]) == 1
    assert f"{control} must be a number from" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_a_profile_with_huge_values(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from metavoice_app.core.model.checkpoint import read_info
    from metavoice_app.core.profiles.mvoice import Consent, Manifest, save_profile

    consent = Consent("Max", "I, Max, agree.", "2026-11-21T12:00:00+00:00")
    manifest = Manifest("Loud", read_info(tiny_model_dir).model_id, [], consent)
    speaker = torch.zeros(16)
    speaker[5] = 3e4  # finite, so it passed the NaN check, and spoke as full-scale noise
    voice = tmp_path / "loud.mvoice"
    save_profile(voice, manifest, {"speaker": speaker}, np.zeros(160, np.float32), 16000)
    out = tmp_path / "loud.wav"
    args = ["synth", "--model", str(tiny_model_dir), "--voice", str(voice), "--text", "Hi."]
    assert main([*args, "--out", str(out)]) == 1
    assert "parameter speaker holds values up to 3e+04" in capsys.readouterr().err
    assert not out.exists()


def test_cli_finds_an_unwritable_out_before_speaking(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken.wav"
    taken.mkdir()  # a folder where the file should go (root may write anywhere else)
    args = ["synth", "--model", str(tiny_model_dir), "--text", THREE_SENTENCES]
    assert main([*args, "--out", str(taken)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {taken}: it is a folder" in err
    assert "[1/3]" not in err and ".tmp" not in err  # nothing was spoken first
    script = tmp_path / "lines.txt"
    script.write_text("One.\nTwo.\n", encoding="utf-8")
    args = ["synth", "--model", str(tiny_model_dir), "--script", str(script)]
    assert main([*args, "--out-dir", str(script)]) == 1
    assert f"{script} is a file, not a folder" in capsys.readouterr().err
