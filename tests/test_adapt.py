"""Adaptation on a tiny real model with takes spoken at test time by flite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from metavoice_app.cli import main
from metavoice_app.core.adapt.adapter import Adapter, AdaptStep, HoldoutMonitor, adapted_names
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import load_takes
from metavoice_app.core.audio.checks import check_take
from metavoice_app.core.features.exemplars import CLASSES, PREDICTED, RESIDUAL
from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.model.voice import (
    SPEAKER,
    factor_names,
    factored,
    with_voice,
)
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.mvoice import read_profile
from metavoice_app.core.progress import Cancelled, Progress, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

EXEMPLAR_TABLES = (CLASSES, PREDICTED, RESIDUAL)
LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
]


@pytest.fixture(scope="module")
def takes_dir(tmp_path_factory: pytest.TempPathFactory, flite_speech) -> Path:
    folder = tmp_path_factory.mktemp("takes")
    for index, line in enumerate(LINES):
        sf.write(folder / f"take{index}.wav", flite_speech(line, "awb"), 16000)
        (folder / f"take{index}.txt").write_text(line, encoding="utf-8")
    return folder


def test_take_checks_give_specific_verdicts(flite_speech) -> None:
    speech = flite_speech(LINES[0], "awb")
    assert check_take(speech).ok
    assert "silent" in check_take(speech * 1e-4).problems[0]
    assert "clipping" in " ".join(check_take(np.clip(speech * 50, -1, 1)).problems)
    assert "Too short" in " ".join(check_take(speech[:6000]).problems)
    noise = np.random.default_rng(0).standard_normal(len(speech)).astype(np.float32) * 0.2
    assert "Too noisy" in " ".join(check_take(speech + noise).problems)
    padded = np.concatenate([np.zeros(16000 * 10, dtype=np.float32), speech])
    assert "mostly silence" in " ".join(check_take(padded).problems)


def test_bad_takes_are_reported_with_reasons(takes_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("take0", "take1"):
        (folder / f"{name}.wav").write_bytes((takes_dir / f"{name}.wav").read_bytes())
        (folder / f"{name}.txt").write_text(LINES[0])
    sf.write(folder / "silent.wav", np.zeros(32000, dtype=np.float32), 16000)
    (folder / "silent.txt").write_text("Nothing here.")
    (folder / "notext.wav").write_bytes((takes_dir / "take2.wav").read_bytes())
    (folder / "corrupt.wav").write_bytes(b"RIFF garbage")
    (folder / "corrupt.txt").write_text("Broken.")
    takes, rejected = load_takes(folder)
    assert [t.path.name for t in takes] == ["take0.wav", "take1.wav"]
    reasons = {r.path.name: r.reason for r in rejected}
    assert "silent" in reasons["silent.wav"]
    assert "no transcript" in reasons["notext.wav"]
    assert "not a readable audio file" in reasons["corrupt.wav"]


def test_presets_choose_the_parameters(tiny_model_dir: Path) -> None:
    model, _ = load_model(tiny_model_dir)
    assert adapted_names(model, "embedding") == []
    cln = adapted_names(model, "cln")
    assert cln and all(n.startswith("decoder.") and ".norm" in n for n in cln)
    assert set(cln) < set(adapted_names(model, "decoder"))


def test_adaptation_lowers_the_loss_deterministically(
    tiny_model_dir: Path, takes_dir: Path
) -> None:
    model, info = load_model(tiny_model_dir)
    takes, _ = load_takes(takes_dir)
    config = AdaptConfig(steps=15, seed=3, holdout=True, patience=100)
    reports: list[Progress] = []
    first = Adapter(model, info, config).adapt(takes, progress=ProgressSink(reports.append))
    second = Adapter(model, info, config).adapt(takes)
    seen = [p.detail for p in reports if isinstance(p.detail, AdaptStep)]
    assert [p.step for p in seen] == list(range(1, 16)) and len(seen) == len(reports)
    assert [p.fraction for p in reports] == pytest.approx([s / 15 for s in range(1, 16)])
    assert reports[0].message == "step 1 of 15"
    assert seen[-1].loss < seen[0].loss
    assert seen[-1].holdout_loss is not None and seen[-1].eta_seconds == 0
    assert set(first.tensors) == {SPEAKER, *adapted_names(model, "cln"), *EXEMPLAR_TABLES}
    for name, tensor in first.tensors.items():
        assert torch.equal(tensor, second.tensors[name])
    assert first.recipe["support_takes"] == 4 and first.recipe["held_out_takes"] == 1
    # the base model is never modified by adaptation
    reloaded, _ = load_model(tiny_model_dir)
    for (name, a), (_, b) in zip(
        model.state_dict().items(), reloaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_a_lowrank_voice_is_stored_small_and_spoken_as_adapted(
    tiny_model_dir: Path, takes_dir: Path
) -> None:
    model, info = load_model(tiny_model_dir)
    takes, _ = load_takes(takes_dir)
    config = AdaptConfig(steps=4, params="lowrank", holdout=False)
    voice = Adapter(model, info, config).adapt(takes)
    full = Adapter(model, info, AdaptConfig(steps=4, params="decoder", holdout=False)).adapt(takes)
    names = adapted_names(model, "lowrank")
    assert not any(factored(n) and n in voice.tensors for n in names)
    for name in names:
        if factored(name):
            assert set(factor_names(name)) <= set(voice.tensors)
        else:
            assert torch.equal(voice.tensors[name], full.tensors[name])
    assert voice.recipe["params"] == "lowrank"
    size = sum(t.numel() * t.element_size() for t in voice.tensors.values())
    assert size < sum(t.numel() * t.element_size() for t in full.tensors.values())
    # the voice is spoken with the weights the factors make: each close to the full
    # adaptation's (which the same steps reached), none equal to the base model's
    voiced = {n: p.detach() for n, p in with_voice(model, voice.tensors).named_parameters()}
    base = {n: p.detach() for n, p in model.named_parameters()}
    for name in names:
        if factored(name):
            moved = full.tensors[name].float() - base[name]
            assert not torch.equal(voiced[name], base[name])
            assert float((voiced[name] - full.tensors[name].float()).norm()) < float(moved.norm())
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    handle = engine.voice_from_tensors("lowrank", voice.tensors, voice.delivery)
    assert engine.speak("A short test.", voice=handle).audio.size > 0


def test_cancel_stops_adaptation(tiny_model_dir: Path, takes_dir: Path) -> None:
    model, info = load_model(tiny_model_dir)
    takes, _ = load_takes(takes_dir)
    steps: list[int] = []

    def cancel_after_three(progress: Progress) -> None:
        assert isinstance(progress.detail, AdaptStep)
        steps.append(progress.detail.step)
        if len(steps) == 3:
            sink.cancel()

    sink = ProgressSink(cancel_after_three)
    with pytest.raises(Cancelled):
        Adapter(model, info, AdaptConfig(steps=50)).adapt(takes, progress=sink)
    assert steps == [1, 2, 3]  # the fourth step was not taken


def test_early_stopping_on_the_held_out_take(tiny_model_dir: Path, takes_dir: Path) -> None:
    model, info = load_model(tiny_model_dir)
    takes, _ = load_takes(takes_dir)
    voice = Adapter(
        model, info, AdaptConfig(steps=200, patience=2, embedding_learning_rate=5.0)
    ).adapt(takes)
    assert voice.steps < 200


def test_the_held_out_take_keeps_the_latest_voice_within_tolerance_of_the_best() -> None:
    monitor = HoldoutMonitor(patience=2, tolerance=0.01)
    kept = [monitor.keep(loss) for loss in (1.0, 0.9, 0.905, 0.95, 0.96)]
    assert kept == [True, True, True, False, False] and monitor.exhausted
    monitor = HoldoutMonitor(patience=2, tolerance=0.01)
    assert [monitor.keep(loss) for loss in (1.0, 1.2, 0.8)] == [True, False, True]
    assert not monitor.exhausted


def test_adapt_cli_then_speak_with_the_profile(
    tiny_model_dir: Path, takes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "awb.mvoice"
    code = main(
        [
            "adapt",
            str(takes_dir),
            "--out",
            str(profile),
            "--speaker-name",
            "Alan",
            "--steps",
            "5",
            "--model",
            str(tiny_model_dir),
            "--device",
            "cpu",
        ]
    )
    assert code == 0, capsys.readouterr().err
    _, info = load_model(tiny_model_dir)
    loaded = read_profile(profile, info.model_id)
    assert loaded.manifest.consent.speaker_name == "Alan"
    assert "Alan, agree" in loaded.manifest.consent.statement
    assert loaded.manifest.takes == 5 and len(loaded.preview) > 0
    assert profile.stat().st_size <= 2 * 2**20
    out = tmp_path / "spoken.wav"
    assert (
        main(
            [
                "synth",
                "--model",
                str(tiny_model_dir),
                "--voice",
                str(profile),
                "--text",
                "Hello in my new voice.",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with sf.SoundFile(str(out)) as handle:
        assert "Alan" in handle.comment
    assert (
        main(
            [
                "adapt",
                str(tmp_path),
                "--out",
                str(tmp_path / "x.mvoice"),
                "--speaker-name",
                "Nobody",
                "--model",
                str(tiny_model_dir),
            ]
        )
        == 1
    )
    assert "no usable recordings" in capsys.readouterr().err


def test_profile_for_another_model_is_refused_at_synthesis(
    tiny_model_dir: Path, takes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metavoice_app.core.profiles.mvoice import save_profile

    profile = tmp_path / "awb.mvoice"
    main(
        [
            "adapt",
            str(takes_dir),
            "--out",
            str(profile),
            "--speaker-name",
            "Alan",
            "--steps",
            "2",
            "--model",
            str(tiny_model_dir),
        ]
    )
    loaded = read_profile(profile)
    loaded.manifest.base_model_id = "f" * 64
    save_profile(profile, loaded.manifest, loaded.tensors, loaded.preview, loaded.preview_rate)
    assert (
        main(
            [
                "synth",
                "--model",
                str(tiny_model_dir),
                "--voice",
                str(profile),
                "--text",
                "Hi.",
                "--out",
                str(tmp_path / "x.wav"),
            ]
        )
        == 1
    )
    assert "another speech model" in capsys.readouterr().err


def test_take_features_cache(takes_dir: Path, tmp_path: Path) -> None:
    import os
    import shutil

    from metavoice_app.core.adapt.takes import features_path, prepare_take, take_features

    wav = tmp_path / "take.wav"
    shutil.copyfile(takes_dir / "take0.wav", wav)
    take = prepare_take(wav, LINES[0])
    plain = take_features(take)
    assert not features_path(wav).exists()  # never written unless asked
    cached = take_features(take, cache=True)
    assert features_path(wav).exists() and np.array_equal(plain, cached)
    assert np.array_equal(take_features(take, cache=True), cached)
    features_path(wav).write_bytes(b"damaged")
    os.utime(features_path(wav))
    assert np.array_equal(take_features(take, cache=True), plain)


def test_profile_without_a_speaker_vector_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    from metavoice_app.core.profiles.mvoice import Consent, Manifest, ProfileError, save_profile
    from metavoice_app.core.synth.engine import SpeechEngine

    engine = SpeechEngine(tiny_model_dir, device="cpu")
    name = next(n for n, _ in engine.model.named_parameters() if ".norm1.scale.bias" in n)
    shape = dict(engine.model.named_parameters())[name].shape
    consent = Consent("A", "I, A, agree.", "2026-11-21T00:00:00+00:00")
    manifest = Manifest("A", engine.info.model_id, [], consent)
    path = tmp_path / "nospeaker.mvoice"
    save_profile(path, manifest, {name: torch.zeros(shape)}, np.zeros(160, np.float32), 16000)
    with pytest.raises(ProfileError, match="no speaker vector"):
        engine.voice(path)


def _reread(folder: Path, out: Path, frame_period: float, pitch_spread: float) -> Path:
    """The takes re-synthesised by WORLD slower (longer frames) and with a wider pitch
    range: the same person speaking differently."""
    import pyworld

    from metavoice_app.core.features import world

    out.mkdir()
    for wav in sorted(folder.glob("*.wav")):
        params = world.analyze(sf.read(wav, dtype="float32")[0])
        f0 = params.f0.copy()
        voiced = f0 > 0
        centre = np.log(f0[voiced]).mean()
        f0[voiced] = np.exp(centre + pitch_spread * (np.log(f0[voiced]) - centre))
        audio = pyworld.synthesize(f0, params.sp, params.ap, 16000, frame_period)
        sf.write(out / wav.name, audio.astype(np.float32), 16000)
        (out / wav.with_suffix(".txt").name).write_text(wav.with_suffix(".txt").read_text())
    return out


def test_the_voice_keeps_the_persons_pace_and_pitch_range(
    tiny_model_dir: Path, takes_dir: Path, tmp_path: Path
) -> None:
    model, info = load_model(tiny_model_dir)
    config = AdaptConfig(steps=1, holdout=False)
    plain = Adapter(model, info, config).adapt(load_takes(takes_dir)[0])
    slow_dir = _reread(takes_dir, tmp_path / "slow", 12.5, 1.0)
    slow = Adapter(model, info, config).adapt(load_takes(slow_dir)[0])
    wide_dir = _reread(takes_dir, tmp_path / "wide", 10.0, 1.5)
    wide = Adapter(model, info, config).adapt(load_takes(wide_dir)[0])
    voices = (plain, slow, wide)
    pitch = [float(v.recipe["measured_pitch_ratio"]) for v in voices]  # type: ignore[arg-type]
    pace = [float(v.recipe["measured_pace_ratio"]) for v in voices]  # type: ignore[arg-type]
    # 25 % longer frames: a quarter slower; log-F0 spread 1.5 times as wide (each alone,
    # so the voice reads the same words at the same timing when the pitch is measured)
    assert 1.15 < pace[1] / pace[0] < 1.35 and 0.95 < pace[2] / pace[0] < 1.05
    assert 1.3 < pitch[2] / pitch[0] < 1.7
    # what the voice keeps is the measurement, within the post-filter's limits
    assert slow.delivery is not None and wide.delivery is not None
    assert slow.delivery.duration_scale == pytest.approx(min(pace[1], 2.0), rel=1e-3)
    assert wide.delivery.pitch_range == pytest.approx(min(pitch[2], 4.0), rel=1e-3)
    # and the voicing threshold at which its speech is voiced as often as the takes
    from metavoice_app.core.features.postfilter import VOICING_LIMITS

    for voice in voices:
        measured = voice.recipe["measured_voicing_threshold"]
        assert isinstance(measured, float)
        assert voice.delivery is not None and voice.delivery.voicing_threshold is not None
        low, high = VOICING_LIMITS
        expected = min(max(measured, low), high)  # the recipe keeps 4 decimals
        assert voice.delivery.voicing_threshold == pytest.approx(expected, abs=1e-4)


def _adapt_args(takes_dir: Path, out: Path, model: Path) -> list[str]:
    return [
        "adapt",
        str(takes_dir),
        "--out",
        str(out),
        "--speaker-name",
        "Alan",
        "--steps",
        "2",
        "--no-holdout",
        "--model",
        str(model),
    ]


def test_adapt_cli_finds_an_unwritable_out_before_adapting(
    tiny_model_dir: Path, takes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "voice.mvoice"
    taken.mkdir()
    assert main(_adapt_args(takes_dir, taken, tiny_model_dir)) == 1
    err = capsys.readouterr().err
    assert f"cannot write {taken}: it is a folder" in err
    assert "[  1/" not in err  # not one adaptation step was taken


def test_adapt_cli_keeps_the_voice_when_the_out_fails_at_the_end(
    tiny_model_dir: Path,
    takes_dir: Path,
    tmp_path: Path,
    app_paths: AppPaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from metavoice_app.core.profiles import mvoice

    out = tmp_path / "awb.mvoice"
    real_open = mvoice.atomic_open

    def disk_full_at_out(path: Path):  # the disk fills up while the voice is being learned
        if path == out:
            raise OSError(f"cannot write {out}: No space left on device")
        return real_open(path)

    monkeypatch.setattr(mvoice, "atomic_open", disk_full_at_out)
    assert main(_adapt_args(takes_dir, out, tiny_model_dir)) == 1
    kept = app_paths.voices_dir / "awb.mvoice"
    err = capsys.readouterr().err
    assert f"cannot write {out}: No space left on device" in err
    assert f"the voice is saved in your library as {kept}" in err
    assert not out.exists()
    profile = read_profile(kept, load_model(tiny_model_dir)[1].model_id)
    assert profile.manifest.consent.speaker_name == "Alan" and SPEAKER in profile.tensors


def test_truncated_take_is_rejected_as_truncated_not_too_short(
    takes_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "cut"
    folder.mkdir()
    data = (takes_dir / "take0.wav").read_bytes()
    (folder / "take0.wav").write_bytes(data[: len(data) // 5])
    (folder / "take0.txt").write_text(LINES[0], encoding="utf-8")
    takes, [rejected] = load_takes(folder)
    assert takes == [] and "truncated" in rejected.reason and "short" not in rejected.reason


def test_adapt_cli_explains_empty_folders_bad_steps_and_existing_profiles(
    tiny_model_dir: Path, takes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "v.mvoice"
    assert main(_adapt_args(empty, out, tiny_model_dir)) == 1
    err = capsys.readouterr().err
    assert f"found no recordings in {empty}: looked for *.wav or *.flac" in err
    assert "metadata.tsv" in err
    for steps in ("0", "-3"):
        args = _adapt_args(takes_dir, out, tiny_model_dir)
        args[args.index("--steps") + 1] = steps
        assert main(args) == 1
        assert f"--steps must be 1 or more, not {steps}" in capsys.readouterr().err
    assert not out.exists()
    out.write_bytes(b"an earlier voice")
    assert main(_adapt_args(takes_dir, out, tiny_model_dir)) == 1
    assert "already exists; give --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"an earlier voice"
    assert main([*_adapt_args(takes_dir, out, tiny_model_dir), "--force"]) == 0
    assert read_profile(out).manifest.consent.speaker_name == "Alan"


def test_a_parameter_set_too_large_for_a_profile_is_refused_before_adapting(
    tiny_model_dir: Path,
    takes_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from metavoice_app.core.adapt import adapter as adapter_module
    from metavoice_app.core.adapt.adapter import stored_bytes
    from metavoice_app.core.profiles import mvoice

    model, _ = load_model(tiny_model_dir)
    full, low = stored_bytes(model, "decoder"), stored_bytes(model, "lowrank")
    assert stored_bytes(model, "cln") < low < full
    # a profile as small as the tiny model's whole decoder cannot hold it in full
    limit = mvoice.MEMBER_LIMITS[mvoice.ADAPTER]
    monkeypatch.setitem(mvoice.MEMBER_LIMITS, mvoice.ADAPTER, (full + low) // 2)
    steps: list[int] = []
    adapt = adapter_module.Adapter.adapt
    monkeypatch.setattr(
        adapter_module.Adapter, "adapt", lambda *a, **k: steps.append(1) or adapt(*a, **k)
    )
    out = tmp_path / "v.mvoice"
    assert main([*_adapt_args(takes_dir, out, tiny_model_dir), "--params", "decoder"]) == 1
    err = capsys.readouterr().err
    assert "more than the" in err and "adapt cln or lowrank instead" in err
    assert steps == [] and not out.exists()
    # at the real limit the lowrank set is saved, and reads back as a voice of this model
    monkeypatch.setitem(mvoice.MEMBER_LIMITS, mvoice.ADAPTER, limit)
    assert main([*_adapt_args(takes_dir, out, tiny_model_dir), "--params", "lowrank"]) == 0
    assert steps == [1] and read_profile(out).manifest.recipe["params"] == "lowrank"
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    assert engine.speak("A short test.", voice=out).audio.size > 0


def test_adapt_keeps_the_takes_and_profile_rebuild_recreates_the_voice(
    tiny_model_dir: Path,
    takes_dir: Path,
    tmp_path: Path,
    app_paths: AppPaths,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from metavoice_app.core.profiles.library import VoiceLibrary
    from metavoice_app.core.profiles.mvoice import save_profile

    app_paths.voices_dir.mkdir(parents=True, exist_ok=True)
    profile = app_paths.voices_dir / "alan.mvoice"
    model = ["--model", str(tiny_model_dir)]
    args = ["adapt", str(takes_dir), "--out", str(profile), "--speaker-name", "Alan"]
    assert main([*args, "--steps", "1", *model]) == 0, capsys.readouterr().err
    library = VoiceLibrary(app_paths.voices_dir)
    voice_id = read_profile(profile).manifest.id
    stored = library.takes(voice_id)
    assert stored is not None and [t.text for t in stored.takes] == LINES
    assert main(["profile", "rebuild", "Alan", *model]) == 1
    assert "already made for the model in use" in capsys.readouterr().err

    loaded = read_profile(profile)  # the model is retrained: the voice was made for the old
    loaded.manifest.base_model_id = "f" * 64
    save_profile(profile, loaded.manifest, loaded.tensors, loaded.preview, loaded.preview_rate)
    assert main(["profile", "list"]) == 0
    assert "takes kept\tmodel ffffffff" in capsys.readouterr().out
    assert main(["profile", "rebuild", "Alan", "--steps", "2", *model, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "re-created 'Alan' for this model from 5 takes" in out
    _, info = load_model(tiny_model_dir)
    rebuilt = read_profile(profile, info.model_id)
    assert rebuilt.manifest.id == voice_id and rebuilt.manifest.recipe["steps"] == 2

    assert main(["profile", "export", "Alan", str(tmp_path / "plain.mvoice")]) == 0
    assert read_profile(tmp_path / "plain.mvoice").takes is None
    banked = tmp_path / "banked.mvoice"
    assert main(["profile", "export", "Alan", str(banked), "--with-takes"]) == 0
    carried = read_profile(banked).takes
    assert carried is not None and len(carried.takes) == 5
