"""Each command-line choice and default is written once, in the settings it feeds: the
adaptation, base-training and meta-training dataclasses and their ``Literal`` types."""

from __future__ import annotations

import argparse

import pytest

from metavoice_app.cli import build_parser
from metavoice_app.core.adapt.config import INNER_OPTIMIZERS, PARAM_SETS, AdaptConfig


def _options(*names: str) -> dict[str, argparse.Action]:
    """The options of the subcommand ``names`` (e.g. "train", "base"), by destination."""
    parser = build_parser()
    for name in names:
        [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = action.choices[name]
    return {a.dest: a for a in parser._actions}


def test_adapt_profile_rebuild_and_bench_offer_the_adapters_choices_and_defaults() -> None:
    adapt = _options("adapt")
    defaults = AdaptConfig()
    assert tuple(adapt["params"].choices) == PARAM_SETS
    assert adapt["params"].default is None  # the model's meta-training record decides
    assert adapt["steps"].default == defaults.steps and adapt["seed"].default == defaults.seed
    assert _options("profile", "rebuild")["steps"].default == defaults.steps
    assert tuple(_options("bench", "adapt")["params"].choices) == PARAM_SETS


def test_adaptation_refuses_a_choice_it_does_not_have() -> None:
    from metavoice_app.core.adapt.update import UpdateRule

    with pytest.raises(ValueError, match="unknown parameter set 'everything'"):
        AdaptConfig(params="everything")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        AdaptConfig(optimizer="lbfgs")  # type: ignore[arg-type]
    assert {UpdateRule(name).optimizer for name in INNER_OPTIMIZERS} == set(INNER_OPTIMIZERS)
    with pytest.raises(ValueError, match="unknown inner optimizer"):
        UpdateRule("lbfgs")
