"""Voice memory: a bank of learned voice prototypes read by attention.

A new voice's speaker-encoder embedding is the query; each prototype has a
key in embedding space and a value in the acoustic model's speaker space. The
attention-weighted blend of values is where adaptation starts, so a new voice
begins as a mixture of known voices before any gradient step.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class VoiceMemory(nn.Module):
    def __init__(self, prototypes: int, key_dim: int, value_dim: int) -> None:
        super().__init__()
        self.keys = nn.Parameter(torch.randn(prototypes, key_dim) * 0.1)
        self.values = nn.Parameter(torch.zeros(prototypes, value_dim))
        self.log_temperature = nn.Parameter(torch.tensor(-2.0))

    def attention(self, queries: torch.Tensor) -> torch.Tensor:
        keys = F.normalize(self.keys, dim=-1)
        return torch.softmax(queries @ keys.T / self.log_temperature.exp(), dim=-1)

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """``(batch, key_dim)`` unit embeddings -> ``(batch, value_dim)`` speaker vectors."""
        return self.attention(queries) @ self.values

    @classmethod
    def fit(
        cls,
        embeddings: torch.Tensor,
        speaker_vectors: torch.Tensor,
        prototypes: int = 32,
        steps: int = 500,
        seed: int = 0,
    ) -> VoiceMemory:
        """Learn prototypes mapping each training speaker's embedding to its speaker vector.

        Each prototype's value is one training speaker's own vector, kept as it is; only
        the keys (started at those speakers' embeddings) and the temperature are refined
        by regression. So every start the memory gives is a blend of real voices, inside
        the region the model was trained on. Values refined too had drifted to 3-9 times
        a real voice's norm, cancelling out only while attention was spread: a band-limited
        take that drew the attention onto one prototype started a voice that whistled.
        """
        generator = torch.Generator().manual_seed(seed)
        count = min(prototypes, len(embeddings))
        chosen = torch.randperm(len(embeddings), generator=generator)[:count]
        memory = cls(count, embeddings.shape[1], speaker_vectors.shape[1])
        with torch.no_grad():
            memory.keys.copy_(embeddings[chosen])
            memory.values.copy_(speaker_vectors[chosen])
        memory.values.requires_grad_(False)
        optimizer = torch.optim.Adam([memory.keys, memory.log_temperature], lr=1e-2)
        for _ in range(steps):
            loss = F.mse_loss(memory(embeddings), speaker_vectors)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
        return memory.eval()
