"""Adaptation's settings and choices, free of torch.

What ``metavoice adapt``, ``metavoice profile rebuild``, ``bench adapt --params`` and
``train meta`` offer, and their defaults, are read from here when the command line is
built, and ``metavoice --help`` must not wait for torch to load. The adapter
(:mod:`.adapter`) and the update rule (:mod:`.update`) own the behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# What adaptation changes (see :mod:`.adapter`): the speaker vector only; it and the
# decoder's conditional layer norms; it and the whole decoder with its output layer,
# kept in full, or (``lowrank``) with the large weight matrices' changes stored at low
# rank, which fits a profile.
ParamSet = Literal["embedding", "cln", "decoder", "lowrank"]
PARAM_SETS: tuple[ParamSet, ...] = get_args(ParamSet)
# The update rule of each step (see :mod:`.update`)
InnerOptimizerName = Literal["adam", "sgd"]
INNER_OPTIMIZERS: tuple[InnerOptimizerName, ...] = get_args(InnerOptimizerName)


@dataclass
class AdaptConfig:
    """What to adapt and how; ``None`` takes the model's meta-training record, where
    it has one, so the app adapts the way the start was meta-learned."""

    # The most steps. With exemplar refinement most of the likeness comes from the takes'
    # own frames: on the dev speakers 10 steps gave 0.752 similarity against 0.760 after
    # 20 (within what 4 speakers resolve), with better naturalness (NISQA 2.37 against
    # 2.28), in about half the wizard's wait (docs/benchmarks.md, adapt-steps).
    steps: int = 10
    # None: the model's record (the layer norms for the bundled model). The whole decoder
    # at low rank was more like the person on the clean dev set but lost words (WER 22 %
    # against 14 %) and was not ahead on the noisy one (docs/benchmarks.md, adapt-lowrank).
    params: ParamSet | None = None
    optimizer: InnerOptimizerName | None = None
    learning_rate: float | None = None
    embedding_learning_rate: float | None = None
    holdout: bool = True
    patience: int = 10
    similarity_every: int = 5  # steps between similarity estimates (0: never)
    seed: int = 0
    cache_features: bool = False  # keep each take's features beside it (app sessions)
    # Pair the takes' real frames with the voice's predictions for exemplar refinement
    # (:mod:`metavoice_app.core.features.exemplars`)
    exemplars: bool = True

    def __post_init__(self) -> None:
        if self.params is not None and self.params not in PARAM_SETS:
            raise ValueError(
                f"unknown parameter set {self.params!r}; choose {', '.join(PARAM_SETS)}"
            )
        if self.optimizer is not None and self.optimizer not in INNER_OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; choose {', '.join(INNER_OPTIMIZERS)}"
            )
