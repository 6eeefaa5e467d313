"""Forced alignment: which frames say which phone of a known phone sequence.

A frame-wise phone classifier (a small dilated convolution stack over the
WORLD frames) gives every frame a log-probability for every phone; forced
alignment is the best monotonic path through those scores over the phones the
text says (monotonic alignment search, i.e. Viterbi with a left-to-right
topology). This is the hybrid-HMM recipe without the HMM: the classifier
learns from the engine-timed corpus, where every frame's phone is known, and
then aligns recordings it has never heard, real speakers included.

It replaced a jointly learned attention aligner (forward-sum loss) that did
not converge within a CPU training budget (206 ms mean boundary error).
Log-F0 is left out of the classifier's input and the spectral envelope is
mean-normalised per utterance, so the aligner listens to what is said rather
than to who says it or through which microphone.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from metavoice_app.core.features.world import LF0, MCEP

DILATIONS = (1, 2, 4, 8, 1)


class _Residual(nn.Module):
    def __init__(self, channels: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 5, padding=2 * dilation, dilation=dilation)
        self.norm = nn.GroupNorm(1, channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dropout(F.relu(self.norm(self.conv(x))))


class Aligner(nn.Module):
    """Frame-wise phone classifier over normalised WORLD frames."""

    def __init__(self, feature_dim: int, n_phones: int, channels: int, dropout: float) -> None:
        super().__init__()
        self.inputs = [i for i in range(feature_dim) if i != LF0]
        self.project = nn.Conv1d(len(self.inputs), channels, 5, padding=2)
        self.blocks = nn.Sequential(*(_Residual(channels, d, dropout) for d in DILATIONS))
        self.classify = nn.Conv1d(channels, n_phones, 1)

    def forward(self, features: torch.Tensor, frame_pad: torch.Tensor) -> torch.Tensor:
        """Phone log-probabilities ``(batch, frames, n_phones)`` for normalised ``features``."""
        keep = (~frame_pad).float()[..., None]
        x = features[..., self.inputs] * keep
        envelope = x[..., MCEP]
        mean = envelope.sum(1, keepdim=True) / keep.sum(1, keepdim=True).clamp(min=1.0)
        x = torch.cat([(envelope - mean) * keep, x[..., MCEP.stop :]], dim=-1)
        h = self.blocks(F.relu(self.project(x.transpose(1, 2))))
        logits = self.classify(h).transpose(1, 2)
        return F.log_softmax(logits, dim=-1)


def phone_scores(log_probs: torch.Tensor, phones: torch.Tensor) -> torch.Tensor:
    """``(batch, frames, phones_in_text)``: each frame's log-probability of each text phone."""
    index = phones[:, None, :].expand(-1, log_probs.shape[1], -1)
    return torch.gather(log_probs, 2, index)


def frame_labels(durations: torch.Tensor, phones: torch.Tensor, n_frames: int) -> torch.Tensor:
    """The phone id said at each frame, ``(batch, frames)``; 0 past the end."""
    hard = durations_to_attention(durations.clamp(min=0), n_frames)
    return (hard * phones[:, None, :].float()).sum(-1).round().long()


def monotonic_alignment(log_attn: np.ndarray) -> np.ndarray:
    """Best monotonic path visiting every phone at least once; returns frames per phone.

    ``log_attn`` is ``(frames, phones)`` with frames >= phones.
    """
    frames, phones = log_attn.shape
    if frames < phones:
        raise ValueError(f"{frames} frames cannot cover {phones} phones")
    score = np.full((frames, phones), -np.inf)
    score[0, 0] = log_attn[0, 0]
    moved = np.zeros((frames, phones), dtype=bool)
    for t in range(1, frames):
        stay = score[t - 1]
        move = np.concatenate([[-np.inf], score[t - 1, :-1]])
        moved[t] = move > stay
        score[t] = np.maximum(stay, move) + log_attn[t]
    durations = np.zeros(phones, dtype=np.int64)
    n = phones - 1
    for t in range(frames - 1, -1, -1):
        durations[n] += 1
        if t > 0 and moved[t, n]:
            n -= 1
    return durations


def hard_durations(
    log_attn: torch.Tensor, n_phones: torch.Tensor, n_frames: torch.Tensor
) -> torch.Tensor:
    """MAS durations for a batch, ``(batch, max_phones)``, zero at padding."""
    scores = log_attn.detach().float().cpu().numpy()
    out = torch.zeros(log_attn.shape[0], log_attn.shape[2], dtype=torch.long)
    for b in range(scores.shape[0]):
        t, n = int(n_frames[b]), int(n_phones[b])
        out[b, :n] = torch.from_numpy(monotonic_alignment(scores[b, :t, :n]))
    return out.to(log_attn.device)


def durations_to_attention(durations: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Hard durations as a 0/1 ``(batch, frames, phones)`` matrix."""
    ends = durations.cumsum(1)
    starts = ends - durations
    frames = torch.arange(n_frames, device=durations.device)[None, :, None]
    return ((frames >= starts[:, None, :]) & (frames < ends[:, None, :])).float()
