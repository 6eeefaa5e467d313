"""Voices that adapt the whole decoder, stored as low-rank updates of its weights."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from metavoice_app.core.adapt.adapter import adapted_names
from metavoice_app.core.model.checkpoint import load_model, read_info
from metavoice_app.core.model.voice import (
    RANK,
    SPEAKER,
    allowed_shapes,
    compress,
    expanded,
    factor_names,
    factored,
    with_voice,
)
from metavoice_app.core.profiles.mvoice import ProfileError, check_fits, read_profile, save_profile
from metavoice_app.core.synth.engine import SpeechEngine

WEIGHT = "decoder.0.conv1.weight"


def test_the_decoder_presets_adapt_the_output_layer_too(tiny_model_dir: Path) -> None:
    model, _ = load_model(tiny_model_dir)
    decoder = adapted_names(model, "decoder")
    assert "output.weight" in decoder and "output.bias" in decoder
    assert adapted_names(model, "lowrank") == decoder
    assert any(factored(n) for n in decoder) and not factored("output.weight")


def test_a_low_rank_change_survives_compression_and_a_full_one_is_truncated_optimally(
    tiny_model_dir: Path,
) -> None:
    model, _ = load_model(tiny_model_dir)
    weight = dict(model.named_parameters())[WEIGHT].detach()
    rows = weight.shape[0]
    generator = torch.Generator().manual_seed(0)
    low = torch.randn(rows, 3, generator=generator) @ torch.randn(
        3, weight[0].numel(), generator=generator
    )
    adapted = {WEIGHT: weight + 0.01 * low.reshape(weight.shape), "output.bias": torch.ones(43)}
    stored = compress(adapted, model)
    up, down = factor_names(WEIGHT)
    assert set(stored) == {up, down, "output.bias"}
    assert stored[up].shape == (rows, RANK) and stored[down].dtype == torch.float16
    restored = expanded(stored, model)
    assert torch.allclose(restored[WEIGHT], adapted[WEIGHT], atol=1e-4)
    assert torch.equal(restored["output.bias"], adapted["output.bias"])

    full = torch.randn(weight.shape, generator=generator) * 0.01
    change = full.reshape(rows, -1)
    error = expanded(compress({WEIGHT: weight + full}, model), model)[WEIGHT] - weight - full
    left, values, right = torch.linalg.svd(change, full_matrices=False)
    best = change - (left[:, :RANK] * values[:RANK]) @ right[:RANK]
    assert float(error.norm()) == pytest.approx(float(best.norm()), rel=0.05)


def test_incomplete_or_doubled_updates_are_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    from tests.test_profiles import _manifest

    model, _ = load_model(tiny_model_dir)
    info = read_info(tiny_model_dir)
    weight = dict(model.named_parameters())[WEIGHT].detach()
    up, down = factor_names(WEIGHT)
    shapes = allowed_shapes(model)
    factors = {up: torch.zeros(shapes[up]).half(), down: torch.zeros(shapes[down]).half()}
    speaker = torch.zeros(model.config.speaker_dim)
    cases = {
        "incomplete": {SPEAKER: speaker, up: factors[up]},
        "both in full and as a low-rank update": {SPEAKER: speaker, WEIGHT: weight, **factors},
    }
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    for message, tensors in cases.items():
        with pytest.raises(ValueError, match=message):
            with_voice(model, tensors)
        with pytest.raises(ProfileError, match=message):
            engine.voice_from_tensors("odd", tensors)
        manifest = _manifest()
        manifest.base_model_id = info.model_id
        path = tmp_path / "odd.mvoice"
        save_profile(path, manifest, tensors, np.zeros(160, np.float32), 16000)
        with pytest.raises(ProfileError, match=re.escape(message)):
            read_profile(path, info.model_id, shapes)
    wrong = {SPEAKER: speaker, up: torch.zeros(shapes[up][0], RANK + 1).half(), down: factors[down]}
    manifest = _manifest()
    manifest.base_model_id = info.model_id
    save_profile(tmp_path / "wide.mvoice", manifest, wrong, np.zeros(160, np.float32), 16000)
    with pytest.raises(ProfileError, match="has shape"):
        check_fits(read_profile(tmp_path / "wide.mvoice"), info.model_id, shapes)
