"""Base-model training settings, free of torch: ``metavoice train base``'s choices and
defaults are read from here when the command line is built, and ``metavoice --help``
must not wait for torch to load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from metavoice_app.core.device import DEVICE_CHOICES, DevicePreference
from metavoice_app.core.model.config import ModelConfig

# "all", or "aligner": train only the forced aligner's phone classifier (minutes, not
# hours), e.g. before force-aligning the real speakers of a corpus.
TrainParts = Literal["all", "aligner"]
TRAIN_PARTS: tuple[TrainParts, ...] = get_args(TrainParts)


@dataclass
class TrainConfig:
    corpus: Path
    out: Path
    model: ModelConfig = field(default_factory=ModelConfig)
    steps: int = 100_000
    batch_frames: int = 6000  # frames per batch (padded): memory against speed
    learning_rate: float = 1e-3  # the peak, after warm-up
    warmup_steps: int = 500
    validate_every: int = 250
    holdout: int = 64
    checkpoint_minutes: float = 5.0
    max_minutes: float | None = None
    device: DevicePreference = "auto"
    seed: int = 0
    threads: int | None = None
    init_from: Path | None = None  # start from an exported model folder's weights
    parts: TrainParts = "all"
    # Leave out the speakers made from these voices or sources (e.g. "festival"), to
    # measure how the aligner does on voices it never heard.
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.device not in DEVICE_CHOICES:
            raise ValueError(
                f"unknown device {self.device!r}; choose one of {', '.join(DEVICE_CHOICES)}"
            )
        if self.parts not in TRAIN_PARTS:
            raise ValueError(
                f"unknown training parts {self.parts!r}; choose {', '.join(TRAIN_PARTS)}"
            )


@dataclass(frozen=True)
class RefinerTraining:
    """How the envelope refiner is trained (:mod:`metavoice_app.core.train.refiner`);
    the defaults are the bundled model's."""

    steps: int = 1500
    batch: int = 24
    segment_frames: int = 192
    learning_rate: float = 5e-4
    channels: int = 160
    layers: int = 5
    kernel: int = 5
    seed: int = 0
    # Clones of the VCC2016 speakers made for pairs (:func:`make_clone_pairs`): how many
    # per speaker (0: none), from how many takes, each reading how many training clips
    # and kept-apart clips. None by default: 3 draws corrected the clones' kept-apart
    # envelopes three times as much, but on the dev sets the clones' similarity and
    # naturalness stayed level and their WER went down on one and up on the other
    # (docs/benchmarks.md, tts-refiner-clones), so the bundled refiner has none.
    clone_draws: int = 0
    clone_takes: int = 5
    clone_clips: int = 60
    clone_tune: int = 10
