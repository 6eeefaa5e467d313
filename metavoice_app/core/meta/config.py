"""Meta-training settings, free of torch: ``metavoice train meta``'s choices and defaults
are read from here when the command line is built, and ``metavoice --help`` must not
wait for torch to load."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from metavoice_app.core.adapt.config import InnerOptimizerName, ParamSet
from metavoice_app.core.device import DEVICE_CHOICES, DevicePreference

if TYPE_CHECKING:
    from metavoice_app.core.adapt.update import UpdateRule

Algorithm = Literal["maml", "fomaml", "reptile", "metasgd"]
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
SECOND_ORDER: tuple[Algorithm, ...] = ("maml", "metasgd")
# What the outer loop moves: every weight, only what the inner loop adapts, or only the
# starting vector (see ``algorithms``)
OuterParams = Literal["all", "adapted", "start"]
OUTER_PARAMS: tuple[OuterParams, ...] = get_args(OuterParams)


@dataclass
class MetaConfig:
    algorithm: Algorithm = "fomaml"
    params: ParamSet = "cln"
    inner_steps: int = 5
    inner_lr: float = 2e-3
    inner_speaker_lr: float = 2e-2
    outer_lr: float = 1e-4
    tasks_per_step: int = 4
    inner_optimizer: InnerOptimizerName | None = None  # None: adam if first-order, else sgd
    outer_params: OuterParams = "all"
    # Weight of the unadapted query loss in the outer objective (MAML++'s multi-step loss
    # at step 0): keeps the voice before adaptation good too, which is what a person hears
    # first, and what a cancelled adaptation leaves.
    start_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {self.algorithm!r}; choose {', '.join(ALGORITHMS)}"
            )
        if self.outer_params not in OUTER_PARAMS:
            raise ValueError(
                f"unknown outer_params {self.outer_params!r}; choose {', '.join(OUTER_PARAMS)}"
            )
        if not (math.isfinite(self.start_weight) and self.start_weight >= 0):
            raise ValueError(f"start_weight must be 0 or more, not {self.start_weight}")
        if self.inner_optimizer is None:
            self.inner_optimizer = "sgd" if self.algorithm in SECOND_ORDER else "adam"
        if self.algorithm in SECOND_ORDER and self.inner_optimizer != "sgd":
            raise ValueError(
                f"{self.algorithm} differentiates through the inner steps, which needs "
                "the sgd inner optimizer"
            )

    @property
    def rule(self) -> UpdateRule:
        from metavoice_app.core.adapt.update import UpdateRule

        return UpdateRule(str(self.inner_optimizer), self.inner_lr, self.inner_speaker_lr)


@dataclass
class MetaTrainConfig:
    """A meta-training run: the corpus, the model it starts from, where it keeps its
    state, and how its episodes are drawn."""

    corpus: Path
    init: Path
    out: Path
    meta: MetaConfig = field(default_factory=MetaConfig)
    steps: int = 2000
    support: int = 5  # utterances per task to adapt on
    query: int = 3  # utterances per task to judge the adaptation on
    real_fraction: float | None = 0.5  # share of tasks drawn from real speakers
    max_minutes: float | None = None
    checkpoint_minutes: float = 5.0
    device: DevicePreference = "auto"
    seed: int = 0
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.device not in DEVICE_CHOICES:
            raise ValueError(
                f"unknown device {self.device!r}; choose one of {', '.join(DEVICE_CHOICES)}"
            )
