"""A model folder on disk: weights, configuration and model card.

    MODEL/config.json        format, model settings, phone set, feature layout,
                             the voices (training speakers) and training facts
    MODEL/model.safetensors  the weights (never pickle), and for a Meta-SGD model its
                             learned inner-loop step sizes (``inner_rate.NAME``)
    MODEL/MODEL_CARD.md      data, training and measurements, for people

Loading validates everything before use: format version, phone set, feature
layout, tensor names and shapes, and a size cap, with a plain message for each.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save

from metavoice_app.core.atomic import atomic_write_bytes, atomic_write_text
from metavoice_app.core.features.postfilter import PostFilter, PostFilterError, VoiceDelivery
from metavoice_app.core.features.world import FEATURE_LAYOUT, FRAME_PERIOD_MS, SAMPLE_RATE
from metavoice_app.core.model.acoustic import AcousticModel
from metavoice_app.core.model.config import ModelConfig
from metavoice_app.core.text.phones import PHONES

MODEL_FORMAT = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
MAX_WEIGHTS_BYTES = 200 * 2**20
INNER_RATE = "inner_rate."


class ModelLoadError(RuntimeError):
    """The model folder cannot be used; the message says why."""


@dataclass(frozen=True)
class Voice:
    """A training speaker the model can speak as without any recordings."""

    id: str
    source: str
    real: bool
    sex: str | None = None


@dataclass
class ModelInfo:
    config: ModelConfig
    voices: list[Voice]
    default_voice: str
    model_id: str  # sha256 of the weights: profiles are tied to it
    training: dict[str, Any] = field(default_factory=dict)
    # Meta-SGD's learned inner-loop step sizes, by parameter name (and speaker_init)
    inner_rates: dict[str, torch.Tensor] = field(default_factory=dict)
    # Corrections applied to the frames before vocoding (fitted after training), and the
    # real voices' own pitch range and pace, by voice id
    postfilter: PostFilter = field(default_factory=PostFilter)
    voice_delivery: dict[str, VoiceDelivery] = field(default_factory=dict)

    def voice_index(self, voice_id: str) -> int:
        for index, voice in enumerate(self.voices):
            if voice.id == voice_id:
                return index
        raise KeyError(voice_id)


def save_model(
    model: AcousticModel,
    folder: Path,
    voices: list[Voice],
    default_voice: str,
    training: dict[str, Any],
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
    config = {
        "format": MODEL_FORMAT,
        "model": model.config.to_dict(),
        "phones": list(PHONES),
        "sample_rate": SAMPLE_RATE,
        "frame_period_ms": FRAME_PERIOD_MS,
        "feature_layout": FEATURE_LAYOUT,
        "voices": [vars(v) for v in voices],
        "default_voice": default_voice,
        "model_id": model_id,
        "training": training,
    }
    atomic_write_text(folder / CONFIG, json.dumps(config, indent=1) + "\n")
    return model_id


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ModelLoadError(message)


def _read_config(folder: Path) -> dict[str, Any]:
    """``config.json`` checked for what every model version shares: format, phones, features."""
    path = folder / CONFIG
    _expect(path.is_file(), f"{folder} is not a model folder (no {CONFIG})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is unreadable: {exc}") from exc
    _expect(isinstance(data, dict), f"{path} does not hold a JSON object")
    _expect(
        data.get("format") == MODEL_FORMAT,
        f"model format {data.get('format')!r} is not supported (expected {MODEL_FORMAT})",
    )
    _expect(data.get("phones") == list(PHONES), "the model was trained with another phone set")
    _expect(
        data.get("sample_rate") == SAMPLE_RATE and data.get("feature_layout") == FEATURE_LAYOUT,
        "the model was trained on other acoustic features",
    )
    return data


def read_info(folder: Path) -> ModelInfo:
    """Parse and check ``config.json`` without loading weights."""
    data = _read_config(folder)
    path = folder / CONFIG
    try:
        config = ModelConfig.from_dict(data["model"])
        voices = [Voice(**v) for v in data["voices"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{path} has a malformed model description: {exc}") from exc
    _expect(len(voices) == config.n_speakers, "the voice list does not match the model")
    default = str(data.get("default_voice", voices[0].id if voices else ""))
    _expect(any(v.id == default for v in voices), f"default voice {default!r} is not listed")
    synthesis = data.get("synthesis", {})
    _expect(isinstance(synthesis, dict), f"{path}: 'synthesis' is not a JSON object")
    try:
        postfilter = PostFilter.from_dict(synthesis.get("postfilter", {}))
        stored = synthesis.get("voices", {})
        _expect(isinstance(stored, dict), f"{path}: 'synthesis.voices' is not a JSON object")
        delivery = {str(k): VoiceDelivery.from_dict(v) for k, v in stored.items()}
    except PostFilterError as exc:
        raise ModelLoadError(f"{path} has an unusable post-filter: {exc}") from exc
    unknown = set(delivery) - {v.id for v in voices}
    _expect(
        not unknown, f"{path}: the post-filter names voices the model lacks: {sorted(unknown)[:3]}"
    )
    return ModelInfo(
        config,
        voices,
        default,
        str(data.get("model_id", "")),
        dict(data.get("training", {})),
        postfilter=postfilter,
        voice_delivery=delivery,
    )


def write_postfilter(
    folder: Path,
    postfilter: PostFilter,
    fitted: dict[str, Any],
    voices: dict[str, VoiceDelivery] | None = None,
) -> None:
    """Store a post-filter, the voices' own delivery and how they were fitted in a model
    folder's config, atomically. The weights, and so the model id that voices are tied
    to, stay as they are."""
    data = _read_config(folder)
    data["synthesis"] = {
        "postfilter": postfilter.to_dict(),
        "voices": {k: v.to_dict() for k, v in sorted((voices or {}).items())},
        "fitted": fitted,
    }
    atomic_write_text(folder / CONFIG, json.dumps(data, indent=1) + "\n")


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
    data = _read_config(folder)
    state, _ = _read_state(folder, str(data.get("model_id", "")))
    try:
        voices = [str(v["id"]) for v in data["voices"]]
    except (KeyError, TypeError) as exc:
        raise ModelLoadError(f"{folder / CONFIG} has a malformed voice list: {exc}") from exc
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
    return model.to(device).eval(), info
