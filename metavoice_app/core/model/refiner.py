"""The envelope refiner: a small convolutional network that corrects the acoustic model's
coded envelopes before the post-filter and the vocoder.

The acoustic model underfits: even for its own training speakers, speaking their own
recorded sentences at their real phone timing, the envelopes it predicts lose most of
the words a recogniser hears in the recordings, while the real envelope carried by the
model's own pitch, voicing and aperiodicity loses almost none (docs/benchmarks.md,
"where the words are lost"). The refiner is trained afterwards, with the model frozen,
to map the model's frames (and the phone each frame belongs to) to the real envelope of
the same frames (:mod:`metavoice_app.core.train.refiner` trains it). Only coefficients
1 and up change: loudness, pitch, voicing and aperiodicity stay the model's.

It lives in its own file beside the weights, ``refiner.safetensors``, and is not part of
the model's weights: the model id that voice profiles are tied to stays the same, so a
refiner can be added to (or retrained for) a model without turning away anyone's voices.
The file is data: tensors only, every name and shape checked against the model before
use, size-capped.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import nn
from torch.nn import functional as F

from metavoice_app.core.atomic import atomic_write_bytes
from metavoice_app.core.features.world import N_MCEP
from metavoice_app.core.model.config import ModelConfig

REFINER_FILE = "refiner.safetensors"
MAX_REFINER_BYTES = 16 * 2**20
ENVELOPE = slice(1, N_MCEP)  # the coefficients the refiner changes (0 is loudness)
MAX_CHANNELS = 512
MAX_LAYERS = 12
MAX_KERNEL = 15


class RefinerError(ValueError):
    """A refiner file that cannot be used with this model; the message says why."""


class EnvelopeRefiner(nn.Module):
    """Normalised model frames ``(B, T, F)`` and each frame's phone id ``(B, T)`` in, the
    normalised envelope coefficients 1..N_MCEP-1 ``(B, T, N_MCEP-1)`` out: the model's own
    plus a residual correction (the output layer starts at zero, so an untrained refiner
    changes nothing)."""

    # The first 16 hex digits of its file's sha256 ("" for one not read from a file): a
    # cloned voice records the refiner its exemplar tables were read through.
    file_id: str = ""

    def __init__(
        self,
        n_phones: int,
        feature_dim: int,
        channels: int = 160,
        kernel: int = 5,
        layers: int = 5,
        phone_dim: int = 16,
    ) -> None:
        super().__init__()
        self.phone_embedding = nn.Embedding(n_phones, phone_dim)
        self.input = nn.Conv1d(feature_dim + phone_dim, channels, kernel, padding=kernel // 2)
        self.norms = nn.ModuleList(nn.GroupNorm(1, channels) for _ in range(layers))
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=kernel // 2) for _ in range(layers)
        )
        self.output = nn.Conv1d(channels, N_MCEP - 1, 1)
        for parameter in self.output.parameters():
            nn.init.zeros_(parameter)

    def forward(self, normalized: torch.Tensor, frame_phones: torch.Tensor) -> torch.Tensor:
        h = torch.cat([normalized, self.phone_embedding(frame_phones)], -1).transpose(1, 2)
        h = self.input(h)
        for norm, conv in zip(self.norms, self.convs, strict=True):
            h = h + conv(F.gelu(norm(h)))
        correction = self.output(F.gelu(h)).transpose(1, 2)
        return normalized[..., ENVELOPE] + correction


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise RefinerError(message)


def refiner_from_state(state: dict[str, torch.Tensor], config: ModelConfig) -> EnvelopeRefiner:
    """Rebuild a refiner from its tensors, its sizes read from their shapes and checked
    against ``config`` (the model it corrects) and against plain limits."""
    _check("input.weight" in state, "the refiner has no input layer")
    channels, inputs, kernel = state["input.weight"].shape
    _check(
        "phone_embedding.weight" in state and state["phone_embedding.weight"].dim() == 2,
        "the refiner has no phone embedding",
    )
    n_phones, phone_dim = state["phone_embedding.weight"].shape
    _check(
        n_phones == config.n_phones,
        f"the refiner knows {n_phones} phones; this model has {config.n_phones}",
    )
    _check(
        inputs == config.feature_dim + phone_dim,
        "the refiner was made for frames of another size than this model's",
    )
    _check(
        0 < channels <= MAX_CHANNELS and 0 < kernel <= MAX_KERNEL and kernel % 2 == 1,
        "the refiner's layer sizes are out of range",
    )
    layers = len({m.group(1) for name in state if (m := re.match(r"convs\.(\d+)\.", name))})
    _check(0 < layers <= MAX_LAYERS, f"the refiner has {layers} layers (1 to {MAX_LAYERS})")
    refiner = EnvelopeRefiner(n_phones, config.feature_dim, channels, kernel, layers, phone_dim)
    expected = refiner.state_dict()
    _check(set(state) == set(expected), "the refiner's tensors do not fit its layers")
    for name, tensor in state.items():
        _check(
            tuple(tensor.shape) == tuple(expected[name].shape),
            f"refiner tensor {name} has shape {tuple(tensor.shape)}, expected "
            f"{tuple(expected[name].shape)}",
        )
        _check(bool(torch.isfinite(tensor).all()), f"refiner tensor {name} is not finite")
    refiner.load_state_dict({k: v.float() for k, v in state.items()})
    return refiner.eval()


def load_refiner(folder: Path, config: ModelConfig) -> EnvelopeRefiner | None:
    """A model folder's refiner, checked; None when the folder has none."""
    path = folder / REFINER_FILE
    if not path.exists():
        return None
    size = path.stat().st_size
    _check(
        size <= MAX_REFINER_BYTES,
        f"{REFINER_FILE} is {size / 2**20:.0f} MB, over the {MAX_REFINER_BYTES // 2**20} MB limit",
    )
    try:
        blob = path.read_bytes()
        state = load(blob)
    except (SafetensorError, OSError, ValueError) as exc:
        raise RefinerError(f"{REFINER_FILE} is not a valid safetensors file: {exc}") from exc
    refiner = refiner_from_state(state, config)
    refiner.file_id = hashlib.sha256(blob).hexdigest()[:16]
    return refiner


def save_refiner(refiner: EnvelopeRefiner, folder: Path) -> None:
    """Write a refiner into a model folder atomically (half precision: it is a correction,
    and half the size)."""
    state = {k: v.detach().half().contiguous().cpu() for k, v in refiner.state_dict().items()}
    atomic_write_bytes(folder / REFINER_FILE, save(state))
