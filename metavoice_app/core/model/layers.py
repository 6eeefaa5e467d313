"""Building blocks: positional encoding, conditional layer norm, feed-forward Transformer blocks."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def sinusoidal_positions(length: int, dim: int, device: torch.device) -> torch.Tensor:
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div[: dim // 2])
    return table


class ConditionalLayerNorm(nn.Module):
    """Layer norm whose scale and bias are computed from the speaker embedding.

    This is where much of a voice lives in the decoder, and it is small: the
    adaptation engine tunes these projections (AdaSpeech-style) plus the
    speaker embedding, a few thousand numbers per voice.
    """

    def __init__(self, dim: int, speaker_dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.scale = nn.Linear(speaker_dim, dim)
        self.bias = nn.Linear(speaker_dim, dim)
        nn.init.zeros_(self.scale.weight)
        nn.init.ones_(self.scale.bias)
        nn.init.zeros_(self.bias.weight)
        nn.init.zeros_(self.bias.bias)

    def forward(self, x: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        normed = F.layer_norm(x, (self.dim,))
        return normed * self.scale(speaker)[:, None, :] + self.bias(speaker)[:, None, :]


class FFTBlock(nn.Module):
    """Self-attention + convolutional feed-forward, post-norm; optionally speaker-conditioned."""

    def __init__(
        self,
        dim: int,
        heads: int,
        ffn_dim: int,
        kernel: int,
        dropout: float,
        speaker_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.conv1 = nn.Conv1d(dim, ffn_dim, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(ffn_dim, dim, 1)
        self.dropout = nn.Dropout(dropout)
        self.conditional = speaker_dim is not None
        if speaker_dim is not None:
            self.norm1: nn.Module = ConditionalLayerNorm(dim, speaker_dim)
            self.norm2: nn.Module = ConditionalLayerNorm(dim, speaker_dim)
        else:
            self.norm1 = nn.LayerNorm(dim)
            self.norm2 = nn.LayerNorm(dim)

    def _norm(self, norm: nn.Module, x: torch.Tensor, speaker: torch.Tensor | None) -> torch.Tensor:
        out: torch.Tensor = norm(x, speaker) if self.conditional else norm(x)
        return out

    def forward(
        self, x: torch.Tensor, pad_mask: torch.Tensor, speaker: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``pad_mask`` is True at padding positions."""
        attended, _ = self.attention(x, x, x, key_padding_mask=pad_mask, need_weights=False)
        x = self._norm(self.norm1, x + self.dropout(attended), speaker)
        x = x.masked_fill(pad_mask[..., None], 0.0)
        hidden = F.relu(self.conv1(x.transpose(1, 2)))
        hidden = self.conv2(hidden).transpose(1, 2)
        x = self._norm(self.norm2, x + self.dropout(hidden), speaker)
        return x.masked_fill(pad_mask[..., None], 0.0)


class VariancePredictor(nn.Module):
    """Two conv layers and a linear head: one value per phone (duration, pitch or energy)."""

    def __init__(self, dim: int, channels: int, kernel: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(dim, channels, kernel, padding=kernel // 2)
        self.norm1 = nn.LayerNorm(channels)
        self.conv2 = nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
        self.norm2 = nn.LayerNorm(channels)
        self.head = nn.Linear(channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv1(x.transpose(1, 2))).transpose(1, 2)
        h = self.dropout(self.norm1(h))
        h = F.relu(self.conv2(h.transpose(1, 2))).transpose(1, 2)
        h = self.dropout(self.norm2(h))
        return self.head(h).squeeze(-1).masked_fill(pad_mask, 0.0)
