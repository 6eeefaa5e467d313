"""MAML, first-order MAML, Reptile and Meta-SGD over a chosen parameter subset.

The inner loop adapts, for one speaker, the speaker vector (starting at the
meta-learned ``speaker_init``) and the chosen model parameters on the support
set, by the same update rule the app's adapter then uses (``.adapt.update``):
Adam for the first-order algorithms, plain gradient steps for the second-order
ones, which differentiate through them. The outer loop updates the starting point
from the query loss: every model parameter and ``speaker_init`` (``outer_params=
"all"``); only what the inner loop adapts (``"adapted"``), which leaves the
pretrained shared weights as they are; or only the starting vector (``"start"``),
which leaves every weight the built-in voices use bit-identical, so meta-training
cannot change how they sound (Meta-SGD's learned rates are learned with any choice):

- ``maml``: exact meta-gradient through the inner loop (second order, torch.func);
- ``fomaml``: first-order approximation, the query gradient at the adapted point;
- ``reptile``: move the start toward the adapted point; shared weights take the
  first-order query gradient;
- ``metasgd``: MAML with per-parameter inner learning rates, learned too.

Under torch.distributed each rank runs its own tasks and the meta-gradients are
averaged across ranks before the step.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel

from metavoice_app.core.adapt.adapter import SPEAKER_INIT, acoustic_loss, adapted_names
from metavoice_app.core.adapt.update import InnerOptimizer
from metavoice_app.core.meta.config import ALGORITHMS, OUTER_PARAMS, SECOND_ORDER, MetaConfig
from metavoice_app.core.model.acoustic import AcousticModel, Batch

__all__ = ["ALGORITHMS", "OUTER_PARAMS", "SECOND_ORDER", "MetaConfig", "MetaLearner"]


class MetaLearner:
    def __init__(self, model: AcousticModel, config: MetaConfig) -> None:
        self.model = model
        self.config = config
        self.names = adapted_names(model, config.params)
        self.fast_names = [*self.names, SPEAKER_INIT]
        self.log_lrs: dict[str, nn.Parameter] = {}
        parameters = dict(model.named_parameters())
        if config.algorithm == "metasgd":
            rates = config.rule.rates(self.names, SPEAKER_INIT)
            for name in self.fast_names:
                self.log_lrs[name] = nn.Parameter(
                    torch.full_like(parameters[name].detach(), math.log(float(rates[name])))
                )
        # What the outer loop moves; every meta-gradient is taken for these and no others.
        self.moved_names = {
            "all": list(parameters),
            "adapted": self.fast_names,
            "start": [SPEAKER_INIT],
        }[config.outer_params]
        self.moved: list[torch.Tensor] = [parameters[n] for n in self.moved_names]
        # First order splits them: adapted ones take the query gradient at the adapted
        # point, shared ones at the start.
        self.moved_fast_names = [n for n in self.fast_names if n in self.moved_names]
        self.moved_shared_names = [n for n in self.moved_names if n not in self.fast_names]
        self.outer: list[torch.Tensor] = [*self.moved, *self.log_lrs.values()]
        self.optimizer = torch.optim.Adam(self.outer, lr=config.outer_lr)

    # The functional model -------------------------------------------------------------
    def loss(self, params: dict[str, torch.Tensor], batch: Batch) -> torch.Tensor:
        speaker = params[SPEAKER_INIT][None].expand(batch.phones.shape[0], -1)
        return acoustic_loss(
            functional_call(self.model, params, (batch,), {"speaker": speaker, "align": False})
        )

    def learned_rates(self) -> dict[str, torch.Tensor]:
        """Meta-SGD's per-parameter step sizes (empty for the other algorithms)."""
        return {name: log_lr.exp() for name, log_lr in self.log_lrs.items()}

    def adapt(
        self, support: Batch, create_graph: bool, steps: int | None = None
    ) -> dict[str, torch.Tensor]:
        """The inner loop; returns every parameter, the adapted ones replaced."""
        params: dict[str, torch.Tensor] = dict(self.model.named_parameters())
        params.update(dict(self.model.named_buffers()))
        fast = {n: params[n] for n in self.fast_names}
        rule = self.config.rule
        optimizer = InnerOptimizer(rule, rule.rates(self.names, SPEAKER_INIT, self.learned_rates()))
        for _ in range(self.config.inner_steps if steps is None else steps):
            loss = self.loss({**params, **fast}, support)
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph)
            fast = optimizer.step(fast, dict(zip(fast, grads, strict=True)))
            if not create_graph:
                fast = {n: w.detach().requires_grad_() for n, w in fast.items()}
        return {**params, **fast}

    # One outer step ---------------------------------------------------------------------
    def step(self, tasks: list[tuple[Batch, Batch]]) -> dict[str, float]:
        """One meta-update from (support, query) batches; returns mean losses."""
        self.optimizer.zero_grad(set_to_none=True)
        stats = self.accumulate(tasks)
        self._average_across_ranks()
        torch.nn.utils.clip_grad_norm_(self.outer, 1.0)
        self.optimizer.step()
        return stats

    def accumulate(self, tasks: list[tuple[Batch, Batch]]) -> dict[str, float]:
        """Add this rank's meta-gradient of ``tasks`` to ``.grad``; returns mean losses."""
        algorithm = self.config.algorithm
        before = after = 0.0
        weight = 1.0 / len(tasks)
        model_params = dict(self.model.named_parameters())
        for support, query in tasks:
            with torch.set_grad_enabled(self.config.start_weight > 0):
                start = self.loss({**model_params, **dict(self.model.named_buffers())}, query)
            if self.config.start_weight > 0:
                grads = torch.autograd.grad(start, self.moved, allow_unused=True)
                for parameter, grad in zip(self.moved, grads, strict=True):
                    self._accumulate(parameter, grad, weight * self.config.start_weight)
            before += float(start.detach()) * weight
            if algorithm in SECOND_ORDER:
                # Second order needs double backward, which the fused attention kernels
                # lack; the plain (math) kernel has it.
                with sdpa_kernel(SDPBackend.MATH):
                    adapted = self.adapt(support, create_graph=True)
                    query_loss = self.loss(adapted, query)
                    grads = torch.autograd.grad(query_loss, self.outer, allow_unused=True)
                for parameter, grad in zip(self.outer, grads, strict=True):
                    self._accumulate(parameter, grad, weight)
            else:
                adapted = self.adapt(support, create_graph=False)
                query_loss = self.loss(adapted, query)
                fast: list[torch.Tensor] = [adapted[n] for n in self.moved_fast_names]
                shared: list[torch.Tensor] = [model_params[n] for n in self.moved_shared_names]
                grads = torch.autograd.grad(query_loss, fast + shared, allow_unused=True)
                fast_grads, shared_grads = grads[: len(fast)], grads[len(fast) :]
                for name, grad in zip(self.moved_fast_names, fast_grads, strict=True):
                    if algorithm == "reptile":  # toward the adapted point
                        grad = model_params[name].detach() - adapted[name].detach()
                    self._accumulate(model_params[name], grad, weight)
                for parameter, grad in zip(shared, shared_grads, strict=True):
                    self._accumulate(parameter, grad, weight)
            after += float(query_loss.detach()) * weight
        return {"query_before": before, "query_after": after}

    @staticmethod
    def _accumulate(parameter: torch.Tensor, grad: torch.Tensor | None, weight: float) -> None:
        if grad is None:
            return
        grad = grad.detach() * weight
        parameter.grad = grad if parameter.grad is None else parameter.grad + grad

    def _average_across_ranks(self) -> None:
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return
        world = dist.get_world_size()
        for parameter in self.outer:
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
            dist.all_reduce(parameter.grad)
            parameter.grad /= world

    def state(self) -> dict[str, object]:
        return {
            "optimizer": self.optimizer.state_dict(),
            "log_lrs": {k: v.detach() for k, v in self.log_lrs.items()},
        }

    def load_state(self, state: dict[str, object]) -> None:
        for name, value in dict(state["log_lrs"]).items():  # type: ignore[call-overload]
            self.log_lrs[name].data.copy_(value)
        self.optimizer.load_state_dict(state["optimizer"])  # type: ignore[arg-type]
