"""The update rule shared by the adapter and meta-training's inner loop."""

from __future__ import annotations

import pytest
import torch

from metavoice_app.core.adapt.adapter import adaptation_rule
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.update import InnerOptimizer, UpdateRule
from metavoice_app.core.model.checkpoint import ModelInfo
from metavoice_app.core.model.config import ModelConfig
from metavoice_app.core.model.folder import TrainingRecord


def _quadratic_grads(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        n: 2 * (t - 1.0) * torch.arange(1, t.numel() + 1).reshape(t.shape)
        for n, t in tensors.items()
    }


def test_adam_steps_match_torch_adam() -> None:
    torch.manual_seed(0)
    start = {"w": torch.randn(3, 4), "speaker": torch.randn(5)}
    mine = InnerOptimizer(UpdateRule("adam", 1e-2, 1e-1), {"w": 1e-2, "speaker": 1e-1})
    reference = {n: torch.nn.Parameter(t.clone()) for n, t in start.items()}
    torch_adam = torch.optim.Adam(
        [{"params": [reference["w"]], "lr": 1e-2}, {"params": [reference["speaker"]], "lr": 1e-1}]
    )
    tensors = dict(start)
    for _ in range(6):
        tensors = mine.step(tensors, _quadratic_grads(tensors))
        grads = _quadratic_grads({n: p.detach() for n, p in reference.items()})
        for name, parameter in reference.items():
            parameter.grad = grads[name]
        torch_adam.step()
    for name, parameter in reference.items():
        torch.testing.assert_close(tensors[name], parameter.detach(), rtol=1e-5, atol=1e-6)
    assert not torch.equal(tensors["w"], start["w"])


def test_sgd_steps_are_differentiable_in_their_learned_rates() -> None:
    log_rate = torch.full((2,), -2.0, requires_grad=True)
    weight = torch.tensor([3.0, -1.0], requires_grad=True)
    optimizer = InnerOptimizer(UpdateRule("sgd"), {"w": log_rate.exp()})
    after = optimizer.step({"w": weight}, {"w": 2 * weight})
    torch.testing.assert_close(after["w"].detach(), (weight - log_rate.exp() * 2 * weight).detach())
    after["w"].pow(2).sum().backward()
    assert log_rate.grad is not None and bool((log_rate.grad != 0).all())


def test_rates_take_learned_values_only_for_adapted_tensors() -> None:
    rule = UpdateRule("sgd", 1e-3, 1e-2)
    learned = {"a": torch.full((2,), 0.5), "not-adapted": torch.ones(1)}
    rates = rule.rates(["a", "b"], "speaker", learned)
    assert set(rates) == {"a", "b", "speaker"}
    assert rates["b"] == 1e-3 and rates["speaker"] == 1e-2
    assert isinstance(rates["a"], torch.Tensor)
    with pytest.raises(ValueError, match="unknown inner optimizer"):
        UpdateRule("lion")


def _info(training: dict[str, object]) -> ModelInfo:
    return ModelInfo(ModelConfig(), [], "", "", TrainingRecord.from_dict(training))


def test_the_adapter_follows_the_models_meta_training_record() -> None:
    # Not meta-trained: Adam with the fine-tuning defaults.
    params, rule = adaptation_rule(AdaptConfig(), _info({}))
    assert (params, rule) == ("cln", UpdateRule())
    # Meta-trained: the inner loop's parameter set, optimizer and rates.
    record = {
        "meta": {
            "params": "decoder",
            "inner_optimizer": "sgd",
            "inner_lr": 5e-3,
            "inner_speaker_lr": 0.05,
        }
    }
    params, rule = adaptation_rule(AdaptConfig(), _info(record))
    assert (params, rule) == ("decoder", UpdateRule("sgd", 5e-3, 0.05))
    # Records from before the choice existed were plain gradient steps.
    params, rule = adaptation_rule(AdaptConfig(), _info({"meta": {"params": "cln"}}))
    assert rule.optimizer == "sgd"
    # What the person asks for wins.
    params, rule = adaptation_rule(
        AdaptConfig(params="embedding", optimizer="adam", learning_rate=1e-2), _info(record)
    )
    assert (params, rule) == ("embedding", UpdateRule("adam", 1e-2, 0.05))
