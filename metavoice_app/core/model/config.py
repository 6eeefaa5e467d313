"""Model hyper-parameters, stored beside the weights so any checkpoint rebuilds itself."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from metavoice_app.core.features.world import FEATURE_DIM
from metavoice_app.core.text.phones import PHONES


@dataclass(frozen=True)
class ModelConfig:
    n_phones: int = len(PHONES)
    feature_dim: int = FEATURE_DIM
    n_speakers: int = 1
    d_model: int = 192
    n_heads: int = 2
    encoder_layers: int = 4
    decoder_layers: int = 4
    ffn_dim: int = 768
    ffn_kernel: int = 3
    dropout: float = 0.1
    speaker_dim: int = 128
    variance_channels: int = 192
    variance_kernel: int = 3
    aligner_channels: int = 192
    max_duration_frames: int = 60

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown model settings: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def tiny(cls, n_speakers: int = 4) -> ModelConfig:
        """A very small model for tests: same code paths, seconds to train."""
        return cls(
            n_speakers=n_speakers,
            d_model=32,
            n_heads=2,
            encoder_layers=1,
            decoder_layers=1,
            ffn_dim=64,
            speaker_dim=16,
            variance_channels=32,
            aligner_channels=16,
            dropout=0.0,
        )
