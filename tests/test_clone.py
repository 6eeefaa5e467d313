"""The clone pipeline (core/adapt/clone.py) on the tiny real model: takes in, one profile out."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from metavoice_app.core.adapt.adapter import AdaptStep
from metavoice_app.core.adapt.clone import clone_voice, recreate_voice
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import Take, load_takes
from metavoice_app.core.profiles import mvoice
from metavoice_app.core.profiles.library import VoiceLibrary
from metavoice_app.core.progress import Cancelled, Progress, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
]


def _step(progress: Progress) -> int:
    assert isinstance(progress.detail, AdaptStep)
    return progress.detail.step


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> SpeechEngine:
    return SpeechEngine(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory, flite_speech) -> list[Take]:
    folder = tmp_path_factory.mktemp("clone-takes")
    for index, line in enumerate(LINES):
        sf.write(folder / f"{index}.wav", flite_speech(line, "awb"), 16000)
        (folder / f"{index}.txt").write_text(line, encoding="utf-8")
    found, rejected = load_takes(folder)
    assert not rejected
    return found


def test_a_cloned_voice_is_written_once_and_validated_once(
    engine: SpeechEngine,
    takes: list[Take],
    tmp_path: Path,
    flite_speech,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consent = tmp_path / "consent.wav"
    sf.write(consent, flite_speech("I agree.", "awb"), 16000)
    library = VoiceLibrary(tmp_path / "voices")
    writes: list[Path] = []
    validations: list[str] = []
    real_save, real_validate = mvoice.save_profile, mvoice.Manifest.validate

    def counted_save(path: Path, *args: object) -> None:
        writes.append(path)
        real_save(path, *args)  # type: ignore[arg-type]

    def counted_validate(manifest: mvoice.Manifest) -> None:
        validations.append(manifest.name)
        real_validate(manifest)

    monkeypatch.setattr("metavoice_app.core.adapt.clone.save_profile", counted_save)
    monkeypatch.setattr(mvoice.Manifest, "validate", counted_validate)
    steps: list[int] = []
    cloned = clone_voice(
        engine,
        takes,
        name="Alan's voice",
        speaker_name="Alan",
        consent_recording=consent,
        destination=library.new_path,
        config=AdaptConfig(steps=3),
        progress=ProgressSink(lambda p: steps.append(_step(p))),
    )
    assert writes == [cloned.path] and validations == ["Alan's voice"]
    assert [e.path for e in library.entries()] == [cloned.path]
    assert steps == [1, 2, 3] and cloned.problem == ""
    manifest = mvoice.read_profile(cloned.path, engine.info.model_id).manifest
    assert manifest.name == "Alan's voice" and manifest.takes == 3
    assert manifest.consent.speaker_name == "Alan" and manifest.consent.recording_sha256


def test_cancelling_while_the_preview_is_made_writes_nothing(
    engine: SpeechEngine, takes: list[Take], tmp_path: Path
) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    done: list[int] = []

    def cancel_after_the_last_step(progress: Progress) -> None:
        done.append(_step(progress))
        if len(done) == 2:  # every step has run: the next check is before the profile
            sink.cancel()

    sink = ProgressSink(cancel_after_the_last_step)
    with pytest.raises(Cancelled):
        clone_voice(
            engine,
            takes,
            name="v",
            speaker_name="v",
            consent_recording=None,
            destination=library.new_path,
            config=AdaptConfig(steps=2),
            progress=sink,
        )
    assert done == [1, 2] and library.entries() == []


def _made_for_another_model(path: Path) -> None:
    """Rewrite a profile as if made for an earlier model (the engine was retrained)."""
    profile = mvoice.read_profile(path)
    profile.manifest.base_model_id = "e" * 64
    mvoice.save_profile(
        path, profile.manifest, profile.tensors, profile.preview, profile.preview_rate
    )


def test_a_voice_keeps_its_takes_and_is_recreated_for_a_new_model(
    engine: SpeechEngine, takes: list[Take], tmp_path: Path, flite_speech
) -> None:
    consent = tmp_path / "consent.wav"
    sf.write(consent, flite_speech("I agree.", "awb"), 16000)
    library = VoiceLibrary(tmp_path / "voices")
    cloned = clone_voice(
        engine,
        takes,
        name="Alan",
        speaker_name="Alan",
        consent_recording=consent,
        destination=library.new_path,
        config=AdaptConfig(steps=2),
        keep_takes_in=library,
    )
    assert cloned.takes_problem == ""
    stored = library.takes(cloned.manifest.id)
    assert stored is not None and [t.text for t in stored.takes] == LINES
    assert stored.consent_recording == consent.read_bytes()
    assert all(len(s.audio) == len(t.audio) for s, t in zip(stored.takes, takes, strict=True))
    [entry] = library.entries()
    assert entry.takes_kept

    _made_for_another_model(cloned.path)
    old = mvoice.read_profile(cloned.path).manifest
    steps: list[int] = []
    again = recreate_voice(
        engine,
        library,
        cloned.path,
        AdaptConfig(steps=2),
        ProgressSink(lambda p: steps.append(_step(p))),
    )
    assert again.path == cloned.path and steps == [1, 2]
    new = mvoice.read_profile(cloned.path, engine.info.model_id).manifest
    assert new.id == old.id and new.name == "Alan" and new.takes == 3
    assert new.consent == old.consent  # the person's consent is carried, not re-dated
    assert new.recipe["recreated"]["from_model"] == "e" * 64
    [set_aside] = list((library.trash).glob("*.mvoice"))
    assert mvoice.read_profile(set_aside).manifest.base_model_id == "e" * 64
    with pytest.raises(mvoice.ProfileError, match="already made for the model in use"):
        recreate_voice(engine, library, cloned.path)

    # the model's envelope refiner was trained again since the voice's tables were read
    profile = mvoice.read_profile(cloned.path)
    assert not engine.misses_its_refiner(profile.manifest.recipe)
    profile.manifest.recipe["refiner"] = "0123456789abcdef"
    mvoice.save_profile(
        cloned.path, profile.manifest, profile.tensors, profile.preview, profile.preview_rate
    )
    assert engine.misses_its_refiner(mvoice.read_profile(cloned.path).manifest.recipe)
    recreate_voice(engine, library, cloned.path, AdaptConfig(steps=2))
    renewed = mvoice.read_profile(cloned.path, engine.info.model_id).manifest
    assert renewed.id == old.id and not engine.misses_its_refiner(renewed.recipe)


def test_recreating_is_refused_without_takes_and_changes_nothing_when_cancelled(
    engine: SpeechEngine, takes: list[Take], tmp_path: Path
) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    bare = clone_voice(
        engine,
        takes,
        name="Bare",
        speaker_name="Bare",
        consent_recording=None,
        destination=library.new_path,
        config=AdaptConfig(steps=1),
    )
    _made_for_another_model(bare.path)
    with pytest.raises(mvoice.ProfileError, match="no recordings kept with it"):
        recreate_voice(engine, library, bare.path)
    kept = clone_voice(
        engine,
        takes,
        name="Kept",
        speaker_name="Kept",
        consent_recording=None,
        destination=library.new_path,
        config=AdaptConfig(steps=1),
        keep_takes_in=library,
    )
    _made_for_another_model(kept.path)
    before = kept.path.read_bytes()
    cancelled = ProgressSink()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        recreate_voice(engine, library, kept.path, AdaptConfig(steps=3), progress=cancelled)
    assert kept.path.read_bytes() == before and not library.trash.exists()
