from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from metavoice_app.core.model import checkpoint
from metavoice_app.core.model.checkpoint import ModelLoadError, load_model, read_info


@pytest.fixture
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(tiny_model_dir, target)
    return target


def test_saved_model_reloads_identically(tiny_model_dir: Path) -> None:
    model_a, info = load_model(tiny_model_dir)
    model_b, _ = load_model(tiny_model_dir)
    phones = torch.tensor([[1, 20, 40, 25, 1]])
    speaker = model_a.speaker_vectors(torch.tensor([0]))
    durations = torch.tensor([[2, 3, 4, 3, 2]])
    assert torch.equal(
        model_a.synthesize(phones, speaker, durations=durations),
        model_b.synthesize(phones, speaker, durations=durations),
    )
    assert len(info.model_id) == 64
    assert info.default_voice in {v.id for v in info.voices}
    assert info.training.steps and info.training.steps > 0


def test_weights_that_do_not_match_the_config_are_refused(model_copy: Path) -> None:
    weights = model_copy / checkpoint.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="damaged or replaced"):
        load_model(model_copy)


def test_a_model_for_another_phone_set_is_refused(model_copy: Path) -> None:
    config = json.loads((model_copy / checkpoint.CONFIG).read_text())
    config["phones"] = config["phones"][:-1]
    (model_copy / checkpoint.CONFIG).write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="phone set"):
        read_info(model_copy)


def test_unknown_format_and_garbage_are_refused(model_copy: Path) -> None:
    config_path = model_copy / checkpoint.CONFIG
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "format": 7}))
    with pytest.raises(ModelLoadError, match="format 7"):
        read_info(model_copy)
    config_path.write_text("{ not json")
    with pytest.raises(ModelLoadError, match="unreadable"):
        read_info(model_copy)


def test_wrong_shapes_are_refused(model_copy: Path) -> None:
    config_path = model_copy / checkpoint.CONFIG
    config = json.loads(config_path.read_text())
    config["model"]["d_model"] = 48
    config_path.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"shape|layers"):
        load_model(model_copy)


def test_oversized_weights_are_refused(model_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint, "MAX_WEIGHTS_BYTES", 1000)
    with pytest.raises(ModelLoadError, match="over the"):
        load_model(model_copy)


def test_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a model folder"):
        read_info(tmp_path)
