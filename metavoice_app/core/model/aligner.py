"""Learning which frames say which phone, without external timings.

The aligner scores every (frame, phone) pair by the distance between a frame
encoding and a phone encoding; the forward-sum loss (CTC over the phone
sequence) makes the monotonic paths through those scores likely, and
monotonic alignment search (Viterbi) reads off hard durations. It trains with
the rest of the model, and on its own it is the forced aligner used for a new
speaker's recordings.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class Aligner(nn.Module):
    def __init__(self, text_dim: int, feature_dim: int, attn_dim: int) -> None:
        super().__init__()
        self.key = nn.Sequential(
            nn.Conv1d(text_dim, 2 * text_dim, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(2 * text_dim, attn_dim, 1),
        )
        self.query = nn.Sequential(
            nn.Conv1d(feature_dim, 2 * feature_dim, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(2 * feature_dim, feature_dim, 1),
            nn.ReLU(),
            nn.Conv1d(feature_dim, attn_dim, 1),
        )
        self.temperature = 0.0005

    def forward(
        self,
        text: torch.Tensor,
        features: torch.Tensor,
        text_pad: torch.Tensor,
        frame_pad: torch.Tensor,
        log_prior: torch.Tensor | None,
    ) -> torch.Tensor:
        """Log attention ``(batch, frames, phones)``: each frame's distribution over phones."""
        keys = self.key(text.transpose(1, 2))  # (B, A, N)
        queries = self.query(features.transpose(1, 2))  # (B, A, T)
        # |q - k|^2 = |q|^2 - 2 q.k + |k|^2, as matrix products: far cheaper than broadcasting.
        distance = (
            queries.pow(2).sum(1)[:, :, None]
            - 2 * torch.bmm(queries.transpose(1, 2), keys)
            + keys.pow(2).sum(1)[:, None, :]
        )  # (B, T, N)
        logits = -self.temperature * distance
        logits = logits.masked_fill(text_pad[:, None, :], -1e4)
        log_attn = F.log_softmax(logits, dim=-1)
        if log_prior is not None:
            log_attn = F.log_softmax(log_attn + log_prior, dim=-1)
        return log_attn.masked_fill(frame_pad[:, :, None], 0.0)


def forward_sum_loss(
    log_attn: torch.Tensor, n_phones: torch.Tensor, n_frames: torch.Tensor
) -> torch.Tensor:
    """CTC over the phone sequence: every monotonic path through the attention counts."""
    losses = []
    for b in range(log_attn.shape[0]):
        t, n = int(n_frames[b]), int(n_phones[b])
        scores = log_attn[b, :t, :n]
        blank = torch.full((t, 1), -1.0, device=scores.device)  # a weak "no phone" option
        with_blank = F.log_softmax(torch.cat([blank, scores], dim=1), dim=1)
        target = torch.arange(1, n + 1, device=scores.device)[None]
        losses.append(
            F.ctc_loss(
                with_blank[:, None, :],
                target,
                torch.tensor([t]),
                torch.tensor([n]),
                blank=0,
                zero_infinity=True,
            )
        )
    return torch.stack(losses).mean()


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


def bin_loss(hard: torch.Tensor, log_attn: torch.Tensor) -> torch.Tensor:
    """Pulls the soft attention onto the hard path once alignment has formed."""
    picked = (log_attn * hard).sum()
    return -picked / hard.sum().clamp(min=1.0)


def _log_beta(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.lgamma(x) + torch.lgamma(y) - torch.lgamma(x + y)


def beta_binomial_prior(phones: int, frames: int, scaling: float = 1.0) -> torch.Tensor:
    """``(frames, phones)`` log-probabilities: frame t expects phone ~ t * phones / frames."""
    k = torch.arange(phones, dtype=torch.float64)[None, :]
    t = torch.arange(frames, dtype=torch.float64)[:, None]
    n = float(phones - 1)
    a, b = scaling * (t + 1), scaling * (frames - t)
    log_choose = torch.lgamma(torch.tensor(n + 1)) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    return (log_choose + _log_beta(k + a, n - k + b) - _log_beta(a, b)).float()


def alignment_prior(
    n_phones: torch.Tensor, n_frames: torch.Tensor, max_phones: int, max_frames: int
) -> torch.Tensor:
    """Log beta-binomial prior near the diagonal, which makes alignment form quickly."""
    prior = torch.zeros(len(n_phones), max_frames, max_phones)
    for b, (n, t) in enumerate(zip(n_phones.tolist(), n_frames.tolist(), strict=True)):
        prior[b, :t, :n] = beta_binomial_prior(n, t)
    return prior
