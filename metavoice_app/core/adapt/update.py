"""The gradient step a voice's parameters take, shared by the app's adapter and by
meta-training's inner loop.

MAML-family training learns a starting point *for a given update rule*: the
steps taken from it in the app must be the steps it was meta-trained with, or
the learned start is tuned for a procedure that never runs. So meta-training
records its rule in the model folder, the adapter reads it back
(:func:`metavoice_app.core.adapt.adapter.adaptation_rule`), and both take their
steps through :class:`InnerOptimizer`.

- ``adam``: Adam with fresh moments for each voice, the robust choice for a
  handful of steps; first-order meta-learning only, since its update is not
  differentiated through;
- ``sgd``: plain gradient steps, differentiable, so second-order MAML can
  learn through them; Meta-SGD's learned per-parameter rates plug in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from metavoice_app.core.adapt.config import INNER_OPTIMIZERS

BETAS = (0.9, 0.999)
EPSILON = 1e-8


@dataclass(frozen=True)
class UpdateRule:
    optimizer: str = "adam"
    learning_rate: float = 2e-3  # model parameters
    speaker_learning_rate: float = 2e-2  # the speaker vector

    def __post_init__(self) -> None:
        if self.optimizer not in INNER_OPTIMIZERS:
            raise ValueError(
                f"unknown inner optimizer {self.optimizer!r}; choose {', '.join(INNER_OPTIMIZERS)}"
            )

    def rates(
        self,
        names: list[str],
        speaker: str,
        learned: Mapping[str, torch.Tensor | float] | None = None,
    ) -> dict[str, torch.Tensor | float]:
        """Each adapted tensor's step size: the rule's two rates, replaced by
        learned per-parameter rates where there are some."""
        rates: dict[str, torch.Tensor | float] = dict.fromkeys(names, self.learning_rate)
        rates[speaker] = self.speaker_learning_rate
        for name, rate in (learned or {}).items():
            if name in rates:
                rates[name] = rate
        return rates


class InnerOptimizer:
    """One voice's optimiser, functional: ``step`` maps tensors and their gradients to
    the updated tensors, so it serves in-place fine-tuning and a differentiable
    inner loop alike."""

    def __init__(self, rule: UpdateRule, rates: Mapping[str, torch.Tensor | float]) -> None:
        self.rule = rule
        self.rates = dict(rates)
        self.moments: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.count = 0

    def step(
        self, tensors: Mapping[str, torch.Tensor], grads: Mapping[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        self.count += 1
        updated = {}
        for name, weight in tensors.items():
            grad, rate = grads[name], self.rates[name]
            if self.rule.optimizer == "sgd":
                updated[name] = weight - rate * grad
                continue
            grad = grad.detach()
            first, second = self.moments.get(name, (torch.zeros_like(grad), torch.zeros_like(grad)))
            first = BETAS[0] * first + (1 - BETAS[0]) * grad
            second = BETAS[1] * second + (1 - BETAS[1]) * grad * grad
            self.moments[name] = (first, second)
            first_hat = first / (1 - BETAS[0] ** self.count)
            second_hat = second / (1 - BETAS[1] ** self.count)
            updated[name] = weight - rate * first_hat / (second_hat.sqrt() + EPSILON)
        return updated
