"""Log-mel spectrograms for display, computed with ``torch.stft``."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import torch

from metavoice_app.core.features.world import HOP_LENGTH, SAMPLE_RATE

N_FFT = 1024
N_MELS = 80
F_MIN = 0.0


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_frequencies(
    n_mels: int = N_MELS, sample_rate: int = SAMPLE_RATE
) -> npt.NDArray[np.float64]:
    """Centre frequency in Hz of each mel band (for the display's frequency axis)."""
    edges = np.linspace(
        _hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(sample_rate / 2)), n_mels + 2
    )
    return _mel_to_hz(edges[1:-1])


@lru_cache(maxsize=4)
def _filterbank(n_mels: int, sample_rate: int) -> torch.Tensor:
    """Triangular (HTK-style, area-normalised) mel filters, ``(n_mels, n_fft // 2 + 1)``."""
    fft_freqs = np.linspace(0, sample_rate / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(F_MIN)), _hz_to_mel(np.array(sample_rate / 2)), n_mels + 2)
    )
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (fft_freqs[None, :] - lower) / (centre - lower)
    falling = (upper - fft_freqs[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= 2.0 / (upper - lower)
    return torch.from_numpy(weights.astype(np.float32))


def log_mel(
    wav: npt.NDArray[np.floating],
    sample_rate: int = SAMPLE_RATE,
    n_mels: int = N_MELS,
    hop_length: int = HOP_LENGTH,
) -> npt.NDArray[np.float32]:
    """``(frames, n_mels)`` log-mel power in dB, floored 80 dB below the peak."""
    signal = torch.as_tensor(np.asarray(wav, dtype=np.float32))
    if signal.numel() < N_FFT:
        signal = torch.nn.functional.pad(signal, (0, N_FFT - signal.numel()))
    spec = torch.stft(
        signal,
        N_FFT,
        hop_length=hop_length,
        window=torch.hann_window(N_FFT),
        center=True,
        return_complex=True,
    )
    power = spec.abs().pow(2)
    mel = _filterbank(n_mels, sample_rate) @ power
    db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
    db = torch.maximum(db, db.max() - 80.0)
    return db.T.contiguous().numpy()
