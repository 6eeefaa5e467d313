"""One type reads, checks and writes a model folder's config.json, every part of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from metavoice_app.core.features.postfilter import PostFilter, VoiceDelivery
from metavoice_app.core.model import folder as model_folder
from metavoice_app.core.model.folder import (
    CONFIG,
    ModelFolder,
    ModelLoadError,
    TrainingRecord,
    VoiceMemoryRecord,
)
from metavoice_app.core.speaker.bundle import load_tools
from metavoice_app.core.synth.engine import bundled_model_dir


@pytest.fixture
def equipped(tiny_model_with_encoder: Path, tmp_path: Path) -> Path:
    """A copy of the tiny model with an encoder, a voice memory and a post-filter."""
    target = tmp_path / "model"
    shutil.copytree(tiny_model_with_encoder, target)
    voices = [v.id for v in ModelFolder(target).read().voices]
    ModelFolder(target).set_synthesis(
        PostFilter((1.2,) * 39, 1.5), {"sentences": 3}, {voices[0]: VoiceDelivery(1.1, 1.2)}
    )
    return target


def _edit(folder: Path, change: dict[str, object]) -> None:
    path = folder / CONFIG
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, **change}), encoding="utf-8")


def test_the_bundled_config_is_rewritten_as_it_was(tmp_path: Path) -> None:
    (tmp_path / CONFIG).write_bytes((bundled_model_dir() / CONFIG).read_bytes())
    folder = ModelFolder(tmp_path)
    info = folder.read()
    assert info.voice_memory is not None and not info.voice_memory.start
    assert info.voice_memory.speakers == 517  # the held-out dev speakers left out
    assert info.speaker_encoder == {"input_dim": 41, "channels": 256, "embedding": 128}
    assert info.training.init == "meta:fomaml" and info.postfilter_fit["sentences"] == 200
    folder.write(info)
    written = json.loads((tmp_path / CONFIG).read_text(encoding="utf-8"))
    assert written == json.loads((bundled_model_dir() / CONFIG).read_text(encoding="utf-8"))


def test_every_change_keeps_the_other_parts_and_unknown_keys(equipped: Path) -> None:
    _edit(equipped, {"made_by": "a newer version"})
    folder = ModelFolder(equipped)
    before = folder.read()
    second = before.voices[1].id
    folder.set_default_voice(second)
    folder.set_synthesis(PostFilter(), {}, None)
    after = folder.read()
    assert after.default_voice == second and after.postfilter.is_identity
    assert after.extra == {"made_by": "a newer version"}
    assert after.voice_memory == before.voice_memory and after.voice_memory is not None
    assert after.speaker_encoder == before.speaker_encoder
    assert after.training == before.training
    assert load_tools(equipped) is not None
    memory = VoiceMemoryRecord(8, 2, (second,), start=False)
    folder.set_speaker_tools({"input_dim": 41, "channels": 8, "embedding": 4}, memory)
    last = folder.read()
    assert last.voice_memory == memory and last.default_voice == second
    assert last.postfilter_fit == {} and not list(equipped.glob(".*.tmp"))


def test_a_change_that_would_leave_an_unusable_config_is_refused(equipped: Path) -> None:
    folder = ModelFolder(equipped)
    written = (equipped / CONFIG).read_bytes()
    with pytest.raises(ModelLoadError, match="'nobody' is not one of the model's voices"):
        folder.set_default_voice("nobody")
    with pytest.raises(ModelLoadError, match="post-filter names voices the model lacks"):
        folder.set_synthesis(PostFilter(), {}, {"nobody": VoiceDelivery()})
    with pytest.raises(ModelLoadError, match="voice memory names voices the model lacks"):
        folder.set_speaker_tools({"channels": 8}, VoiceMemoryRecord(8, 2, ("nobody",)))
    assert (equipped / CONFIG).read_bytes() == written


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"voice_memory": {"prototypes": 64, "speakers": 2, "voices": 5}}, "voice list"),
        ({"voice_memory": {"prototypes": 0, "speakers": 2}}, "must be positive"),
        ({"voice_memory": {"prototypes": 4, "speakers": 2, "start": "yes"}}, "true or false"),
        ({"speaker_encoder": {"channels": "many"}}, "positive whole numbers"),
        ({"training": {"steps": "forty"}}, "training fact 'steps'"),
        ({"training": {"meta": ["fomaml"]}}, "training fact 'meta'"),
        ({"training": []}, "training record is not a JSON object"),
        ({"synthesis": {"fitted": 3}}, "'synthesis.fitted' is not a JSON object"),
    ],
)
def test_a_malformed_part_is_named_on_reading(
    equipped: Path, change: dict[str, object], message: str
) -> None:
    _edit(equipped, change)
    with pytest.raises(ModelLoadError, match=message):
        ModelFolder(equipped).read()
    with pytest.raises(ModelLoadError, match=message):
        load_tools(equipped)  # read a voice memory record with a wrong type and crashed


def test_an_oversized_config_is_refused_before_parsing(
    equipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_folder, "MAX_CONFIG_BYTES", 1000)
    with pytest.raises(ModelLoadError, match="over the"):
        ModelFolder(equipped).read()


def test_the_training_record_keeps_facts_it_does_not_know() -> None:
    stored = {"steps": 3, "hours": 1, "device": "cpu", "optimizer": "lion"}
    record = TrainingRecord.from_dict(stored)
    assert record.steps == 3 and record.hours == 1.0 and record.extra == {"optimizer": "lion"}
    assert record.to_dict() == {**stored, "hours": 1.0}
    with pytest.raises(ValueError, match="training fact 'hours' holds True"):
        TrainingRecord.from_dict({"hours": True})
