"""Each command-line choice and default is written once, in the settings it feeds: the
adaptation, base-training and meta-training dataclasses and their ``Literal`` types."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from metavoice_app.cli import build_parser
from metavoice_app.core.adapt.config import INNER_OPTIMIZERS, PARAM_SETS, AdaptConfig
from metavoice_app.core.meta.config import MetaTrainConfig
from metavoice_app.core.train.config import TRAIN_PARTS, TrainConfig


def _options(*names: str) -> dict[str, argparse.Action]:
    """The options of the subcommand ``names`` (e.g. "train", "base"), by destination."""
    parser = build_parser()
    for name in names:
        [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = action.choices[name]
    return {a.dest: a for a in parser._actions}


def _field_defaults(config: Any) -> dict[str, object]:
    """The plain defaults, but the device's: a subcommand's ``--device`` has none, so that
    the global ``metavoice --device`` given before it is not replaced."""
    return {
        f.name: f.default
        for f in dataclasses.fields(config)
        if f.default is not dataclasses.MISSING and f.name != "device"
    }


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


def test_train_base_options_are_the_training_settings_defaults() -> None:
    options = _options("train", "base")
    defaults = _field_defaults(TrainConfig)
    shared = [name for name in defaults if name in options]
    assert set(shared) >= {"steps", "batch_frames", "validate_every", "learning_rate", "parts"}
    for name in shared:
        assert options[name].default == defaults[name], name
    assert tuple(options["parts"].choices) == TRAIN_PARTS


def test_train_meta_run_options_are_the_run_settings_defaults() -> None:
    options = _options("train", "meta")
    defaults = _field_defaults(MetaTrainConfig)
    shared = [name for name in defaults if name in options]
    assert set(shared) >= {"steps", "support", "query", "real_fraction", "seed"}
    for name in shared:
        assert options[name].default == defaults[name], name


@pytest.mark.parametrize("make", [TrainConfig, MetaTrainConfig])
def test_training_settings_take_only_a_known_device(make: Any, tmp_path: Path) -> None:
    paths = {f.name: tmp_path for f in dataclasses.fields(make) if f.type == "Path"}
    assert make(**paths, device="cpu").device == "cpu"
    with pytest.raises(ValueError, match="unknown device 'gpu'; choose one of auto, cpu, cuda"):
        make(**paths, device="gpu")
