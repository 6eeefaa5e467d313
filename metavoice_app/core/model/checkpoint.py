"""A model folder's weights, and the model rebuilt from them.

    MODEL/config.json        format, model settings, phone set, feature layout, the
                             voices (training speakers) and training facts: read and
                             written by :mod:`metavoice_app.core.model.folder`
    MODEL/model.safetensors  the weights (never pickle), and for a Meta-SGD model its
                             learned inner-loop step sizes (``inner_rate.NAME``)
    MODEL/refiner.safetensors  optional: the envelope refiner trained on the model's
                             frames (:mod:`metavoice_app.core.model.refiner`), outside
                             the weights so it leaves the model id alone
    MODEL/MODEL_CARD.md      data, training and measurements, for people

Loading validates everything before use: format version, phone set, feature
layout, tensor names and shapes, and a size cap, with a plain message for each.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

from metavoice_app.core.atomic import atomic_write_bytes
from metavoice_app.core.features.postfilter import PostFilter, VoiceDelivery
from metavoice_app.core.model.acoustic import AcousticModel
from metavoice_app.core.model.folder import (
    CONFIG,
    MODEL_FORMAT,
    ModelFolder,
    ModelInfo,
    ModelLoadError,
    TrainingRecord,
    Voice,
)
from metavoice_app.core.model.refiner import RefinerError, load_refiner

__all__ = [
    "CONFIG",
    "INNER_RATE",
    "MAX_WEIGHTS_BYTES",
    "MODEL_FORMAT",
    "WEIGHTS",
    "ModelInfo",
    "ModelLoadError",
    "Voice",
    "load_model",
    "read_info",
    "read_weights",
    "save_model",
    "write_postfilter",
]

WEIGHTS = "model.safetensors"
MAX_WEIGHTS_BYTES = 200 * 2**20
INNER_RATE = "inner_rate."


def save_model(
    model: AcousticModel,
    folder: Path,
    voices: list[Voice],
    default_voice: str,
    training: TrainingRecord,
    half: bool = True,
    inner_rates: dict[str, torch.Tensor] | None = None,
) -> str:
    """Write weights then config, atomically; returns the model id."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.half() if half and v.is_floating_point() else v).contiguous().cpu()
        for k, v in model.state_dict().items()
    }
    # Feature statistics are tiny and precision-sensitive: keep them in float32.
    for name in ("feature_mean", "feature_std"):
        state[name] = model.state_dict()[name].float().cpu()
    for name, rate in (inner_rates or {}).items():
        state[INNER_RATE + name] = rate.detach().float().contiguous().cpu()
    blob = save(state)
    model_id = hashlib.sha256(blob).hexdigest()
    atomic_write_bytes(folder / WEIGHTS, blob)
    info = ModelInfo(model.config, list(voices), default_voice, model_id, training)
    ModelFolder(folder).write(info)
    return model_id


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ModelLoadError(message)


def read_info(folder: Path) -> ModelInfo:
    """Parse and check ``config.json`` without loading weights."""
    return ModelFolder(folder).read()


def write_postfilter(
    folder: Path,
    postfilter: PostFilter,
    fitted: dict[str, Any],
    voices: dict[str, VoiceDelivery] | None = None,
) -> None:
    """Store a post-filter in a model folder's config (see ``ModelFolder.set_synthesis``)."""
    ModelFolder(folder).set_synthesis(postfilter, fitted, voices)


def _read_state(folder: Path, model_id: str) -> tuple[dict[str, torch.Tensor], str]:
    """The weights file, size-capped and checked against the config's hash; and its hash."""
    weights = folder / WEIGHTS
    _expect(weights.is_file(), f"{folder} has no {WEIGHTS}")
    size = weights.stat().st_size
    _expect(
        size <= MAX_WEIGHTS_BYTES,
        f"{WEIGHTS} is {size / 2**20:.0f} MB, over the {MAX_WEIGHTS_BYTES // 2**20} MB limit",
    )
    blob = weights.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    _expect(
        not model_id or digest == model_id,
        f"{WEIGHTS} does not match its config (damaged or replaced)",
    )
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises several types for bad files
        raise ModelLoadError(f"{WEIGHTS} is not a valid safetensors file: {exc}") from exc
    return state, digest


def read_weights(folder: Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """A model folder's weights (float32) and voice ids, even from an older layout of the
    model: training warm-starts from whatever still fits."""
    model_folder = ModelFolder(folder)
    state, _ = _read_state(folder, str(model_folder.read_header().get("model_id", "")))
    voices = model_folder.voice_ids()
    return {k: v.float() for k, v in state.items()}, voices


def load_model(
    folder: Path,
    device: torch.device | str = "cpu",
) -> tuple[AcousticModel, ModelInfo]:
    """Rebuild a model from its folder, checking the weights against its config."""
    info = read_info(folder)
    state, digest = _read_state(folder, info.model_id)
    model = AcousticModel(info.config)
    expected = model.state_dict()
    if "speaker_init" not in state and "speaker_embedding.weight" in state:
        # Models made before meta-learning start new voices from the average voice.
        state["speaker_init"] = state["speaker_embedding.weight"].float().mean(0)
    for name in [n for n in state if n.startswith(INNER_RATE)]:
        rate, target = state.pop(name).float(), name.removeprefix(INNER_RATE)
        _expect(
            target in expected and rate.shape == expected[target].shape,
            f"learned step size {name} fits no weight of this model",
        )
        _expect(
            bool(torch.isfinite(rate).all()) and bool((rate >= 0).all()),
            f"learned step size {name} holds negative or non-finite values",
        )
        info.inner_rates[target] = rate
    _expect(set(state) == set(expected), "the weights do not fit this model's layers")
    for name, tensor in state.items():
        _expect(
            tuple(tensor.shape) == tuple(expected[name].shape),
            f"weight {name} has shape {tuple(tensor.shape)}, expected "
            f"{tuple(expected[name].shape)}",
        )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    info.model_id = digest
    model = model.to(device).eval()
    try:
        model.attach_refiner(load_refiner(folder, info.config))
    except RefinerError as exc:
        raise ModelLoadError(f"{folder}: {exc}") from exc
    return model, info
