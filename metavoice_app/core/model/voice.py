"""A voice as the model carries it: its speaker vector plus any adapted parameters (and,
for a cloned voice, its takes' exemplar tables, which are not model parameters).

Adaptation makes these tensors, profiles store them and the engine speaks with them,
so their names and shapes live here, below all three, rather than in the adapter (the
engine importing the adapter tied speaking to the training loop in a package cycle).
"""

from __future__ import annotations

import copy

import torch

from metavoice_app.core.features.exemplars import without_exemplars
from metavoice_app.core.model.acoustic import AcousticModel

SPEAKER = "speaker"


def allowed_shapes(model: AcousticModel) -> dict[str, tuple[int, ...]]:
    """Names and shapes a profile for this model may carry."""
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters() if n.startswith("decoder.")}
    shapes[SPEAKER] = (model.config.speaker_dim,)
    return shapes


def with_voice(model: AcousticModel, tensors: dict[str, torch.Tensor]) -> AcousticModel:
    """A copy of ``model`` carrying a voice's adapted parameters (the base stays untouched)."""
    voiced = copy.deepcopy(model)
    overrides = {k: v for k, v in without_exemplars(tensors).items() if k != SPEAKER}
    if overrides:
        state = voiced.state_dict()
        voiced.load_state_dict({**state, **{k: v.to(state[k].dtype) for k, v in overrides.items()}})
    return voiced.eval()
