"""A voice as the model carries it: its speaker vector plus any adapted parameters (and,
for a cloned voice, its takes' exemplar tables, which are not model parameters).

Adaptation makes these tensors, profiles store them and the engine speaks with them,
so their names and shapes live here, below all three, rather than in the adapter (the
engine importing the adapter tied speaking to the training loop in a package cycle).

A voice whose whole decoder was adapted would carry 6.5 MB of weights, over what a
profile may take. The change a few steps make to each large weight matrix is nearly low
rank, so those matrices are stored as rank-:data:`RANK` updates of the model's own
weights (two thin factors, ``lowrank.<name>.up`` and ``lowrank.<name>.down``), the
other adapted tensors (layer norms, biases, the output layer) in full.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping

import torch

from metavoice_app.core.features.exemplars import without_exemplars
from metavoice_app.core.model.acoustic import AcousticModel

SPEAKER = "speaker"
LOW_RANK = "lowrank."
# Rank of the stored updates. On the dev speakers rank 8 kept the whole decoder's
# likeness and naturalness (docs/benchmarks.md, adapt-lowrank).
RANK = 8
# The decoder's weight matrices stored as low-rank updates (attention and convolutions).
_FACTORED = (
    "attention.in_proj_weight",
    "attention.out_proj.weight",
    "conv1.weight",
    "conv2.weight",
)


def adaptable(name: str) -> bool:
    """Whether a model parameter is one a voice may adapt (the decoder and its output
    layer; the encoder and predictors stay shared)."""
    return name.startswith(("decoder.", "output."))


def factored(name: str) -> bool:
    """Whether a decoder parameter is stored as a low-rank update."""
    return name.startswith("decoder.") and name.endswith(_FACTORED)


def factor_names(name: str) -> tuple[str, str]:
    return f"{LOW_RANK}{name}.up", f"{LOW_RANK}{name}.down"


def allowed_shapes(model: AcousticModel) -> dict[str, tuple[int, ...]]:
    """Names and shapes a profile for this model may carry: adapted decoder and output
    parameters in full, the factored ones' low-rank updates, the speaker vector."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, parameter in model.named_parameters():
        if not adaptable(name):
            continue
        shapes[name] = tuple(parameter.shape)
        if factored(name):
            up, down = factor_names(name)
            shapes[up] = (parameter.shape[0], RANK)
            shapes[down] = (RANK, math.prod(parameter.shape[1:]))
    shapes[SPEAKER] = (model.config.speaker_dim,)
    return shapes


def compress(tensors: Mapping[str, torch.Tensor], model: AcousticModel) -> dict[str, torch.Tensor]:
    """``tensors`` (a voice's adapted parameters, in full) with each factored weight
    replaced by the best rank-:data:`RANK` approximation of its change from ``model``'s
    weight (truncated SVD), as two float16 factors of equal scale."""
    base = dict(model.named_parameters())
    out: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if not factored(name):
            out[name] = tensor
            continue
        weight = base[name].detach()
        change = (tensor.cpu().float() - weight.cpu().float()).reshape(weight.shape[0], -1)
        # Randomised SVD: as close as the full one on these changes and a small part of
        # its time (a full SVD of the largest matrices took a second of the wizard's wait);
        # seeded, so the same voice always compresses the same way.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            left, values, right = torch.svd_lowrank(change, q=min(2 * RANK, *change.shape))
        scale = values[:RANK].sqrt()
        up = torch.zeros(change.shape[0], RANK)  # zero-padded where a matrix is thinner
        down = torch.zeros(RANK, change.shape[1])
        up[:, : len(scale)] = left[:, :RANK] * scale
        down[: len(scale)] = scale[:, None] * right[:, :RANK].T
        up_name, down_name = factor_names(name)
        out[up_name], out[down_name] = up.half(), down.half()
    return out


def factor_problem(names: Iterable[str]) -> str | None:
    """What is wrong with the low-rank updates among a voice's tensor ``names``, if
    anything: a factor without its pair, or a weight given both in full and as an update."""
    present = set(names)
    for key in sorted(k for k in present if k.startswith(LOW_RANK)):
        name = key[len(LOW_RANK) :].rsplit(".", 1)[0]
        if not set(factor_names(name)) <= present:
            return f"the low-rank update of {name} is incomplete"
        if name in present:
            return f"{name} is given both in full and as a low-rank update"
    return None


def expanded(tensors: Mapping[str, torch.Tensor], model: AcousticModel) -> dict[str, torch.Tensor]:
    """A voice's adapted parameters in full, each low-rank update added to ``model``'s
    weight; raises ValueError where :func:`factor_problem` finds a problem."""
    problem = factor_problem(tensors)
    if problem is not None:
        raise ValueError(problem)
    state = model.state_dict()
    out = {k: v for k, v in without_exemplars(tensors).items() if not k.startswith(LOW_RANK)}
    for key in tensors:
        if not key.endswith(".up") or not key.startswith(LOW_RANK):
            continue
        name = key[len(LOW_RANK) : -len(".up")]
        if name not in state:
            raise ValueError(f"the model has no weight {name} to update")
        up, down = factor_names(name)
        weight = state[name]
        change = tensors[up].to(weight.device).float() @ tensors[down].to(weight.device).float()
        out[name] = weight + change.reshape(weight.shape).to(weight.dtype)
    return out


def load_voice(
    target: AcousticModel, tensors: dict[str, torch.Tensor], model: AcousticModel
) -> AcousticModel:
    """``target`` (``model`` or a copy of it) given a voice's adapted parameters, in
    place, each low-rank update added to ``model``'s own weight."""
    overrides = {k: v for k, v in expanded(tensors, model).items() if k != SPEAKER}
    if overrides:
        state = target.state_dict()
        target.load_state_dict({**state, **{k: v.to(state[k].dtype) for k, v in overrides.items()}})
    return target


def with_voice(model: AcousticModel, tensors: dict[str, torch.Tensor]) -> AcousticModel:
    """A copy of ``model`` carrying a voice's adapted parameters (the base stays untouched)."""
    return load_voice(copy.deepcopy(model), tensors, model).eval()
