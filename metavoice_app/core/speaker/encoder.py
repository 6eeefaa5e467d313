"""A speaker encoder trained with the generalized end-to-end (GE2E) loss.

It reads the same WORLD envelope and pitch features the acoustic model uses
(so the app computes them once per take), runs dilated 1-D convolutions over
1.6 s windows, pools their mean and spread over time (the x-vector recipe) and
averages the window embeddings of an utterance into one unit vector. The
convolutions replaced a 3-layer LSTM, whose step-by-step recurrence trained at
about 12 s a batch on one CPU thread; the convolutional encoder looks at a
similar span of context and runs every frame at once. Uses: the zero-shot
starting point of adaptation (through the voice memory), the similarity meter,
and the 2-D map of voices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from metavoice_app.core.features.world import LF0, N_MCEP

WINDOW = 160  # frames: 1.6 s
HOP = 80


@dataclass(frozen=True)
class EncoderConfig:
    input_dim: int = N_MCEP + 1
    channels: int = 256
    embedding: int = 128

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def encoder_inputs(features: np.ndarray) -> np.ndarray:
    """The envelope and log-F0 columns of a ``(frames, 43)`` feature matrix."""
    return np.concatenate([features[:, :N_MCEP], features[:, LF0 : LF0 + 1]], axis=1)


class SpeakerEncoder(nn.Module):
    input_mean: torch.Tensor
    input_std: torch.Tensor

    def __init__(self, config: EncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or EncoderConfig()
        c = self.config
        layers: list[nn.Module] = []
        width = c.input_dim
        for kernel, dilation in ((5, 1), (3, 2), (3, 3), (3, 4), (1, 1)):
            layers += [
                nn.Conv1d(width, c.channels, kernel, dilation=dilation),
                nn.ReLU(),
                nn.BatchNorm1d(c.channels),
            ]
            width = c.channels
        self.frames = nn.Sequential(*layers)
        self.project = nn.Sequential(
            nn.Linear(2 * c.channels, c.channels), nn.ReLU(), nn.Linear(c.channels, c.embedding)
        )
        self.register_buffer("input_mean", torch.zeros(c.input_dim))
        self.register_buffer("input_std", torch.ones(c.input_dim))
        # GE2E similarity scale and offset (learned, scale kept positive).
        self.ge2e_w = nn.Parameter(torch.tensor(10.0))
        self.ge2e_b = nn.Parameter(torch.tensor(-5.0))

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """``(batch, frames, input_dim)`` windows -> unit embeddings ``(batch, embedding)``."""
        x = self.frames(((windows - self.input_mean) / self.input_std).transpose(1, 2))
        pooled = torch.cat([x.mean(-1), x.std(-1)], dim=-1)
        return F.normalize(self.project(pooled), dim=-1)

    @torch.no_grad()
    def embed(self, features: np.ndarray) -> np.ndarray:
        """One unit vector for an utterance's ``(frames, 43)`` features."""
        inputs = encoder_inputs(features).astype(np.float32)
        if len(inputs) < WINDOW:
            inputs = np.pad(inputs, ((0, WINDOW - len(inputs)), (0, 0)), mode="edge")
        starts = range(0, len(inputs) - WINDOW + 1, HOP)
        windows = torch.from_numpy(np.stack([inputs[s : s + WINDOW] for s in starts]))
        device = self.input_mean.device
        mean = self(windows.to(device)).mean(0)
        return F.normalize(mean, dim=0).cpu().numpy()

    def voice_print(self, utterances: list[np.ndarray]) -> np.ndarray:
        """One unit vector for a voice: the mean of its utterances' embeddings."""
        mean = np.stack([self.embed(f) for f in utterances]).mean(0)
        return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)


def ge2e_loss(encoder: SpeakerEncoder, embeddings: torch.Tensor) -> torch.Tensor:
    """GE2E softmax loss for ``(speakers, utterances, dim)`` unit embeddings.

    Each utterance is scored against every speaker's centroid (its own centroid
    leaves it out) and must be closest to its own speaker.
    """
    speakers, utterances, _ = embeddings.shape
    total = embeddings.sum(1, keepdim=True)
    centroids = F.normalize(total / utterances, dim=-1)  # (S, 1, D)
    exclusive = F.normalize((total - embeddings) / (utterances - 1), dim=-1)  # (S, U, D)
    similarity = torch.einsum("sud,kd->suk", embeddings, centroids[:, 0])
    own = (embeddings * exclusive).sum(-1)
    index = torch.arange(speakers)
    similarity = similarity.clone()
    similarity[index, :, index] = own
    scaled = encoder.ge2e_w.clamp(min=1e-6) * similarity + encoder.ge2e_b
    targets = index[:, None].expand(speakers, utterances)
    return F.cross_entropy(scaled.reshape(-1, speakers), targets.reshape(-1))
