"""Cleaning up a recording before analysis: trimming silence and levelling loudness."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TARGET_RMS_DBFS = -23.0
PEAK_LIMIT = 0.95


def frame_energy_db(wav: npt.NDArray[np.float32], frame: int = 160) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of consecutive ``frame``-sample blocks."""
    n = len(wav) // frame
    if n == 0:
        return np.array([-120.0])
    blocks = wav[: n * frame].astype(np.float64).reshape(n, frame)
    return np.asarray(10.0 * np.log10(np.mean(blocks**2, axis=1) + 1e-12), dtype=np.float64)


def trim_silence(
    wav: npt.NDArray[np.float32],
    sample_rate: int = 16000,
    threshold_db: float = 35.0,
    margin_s: float = 0.15,
) -> npt.NDArray[np.float32]:
    """Cut leading and trailing stretches quieter than ``threshold_db`` below the loudest
    10 ms, keeping ``margin_s`` of context on each side."""
    frame = sample_rate // 100
    energy = frame_energy_db(wav, frame)
    active = np.flatnonzero(energy > energy.max() - threshold_db)
    if len(active) == 0:
        return wav
    margin = int(margin_s * sample_rate)
    start = max(0, active[0] * frame - margin)
    end = min(len(wav), (active[-1] + 1) * frame + margin)
    return wav[start:end]


def normalize_loudness(
    wav: npt.NDArray[np.float32], target_dbfs: float = TARGET_RMS_DBFS
) -> npt.NDArray[np.float32]:
    """Scale speech to ``target_dbfs`` RMS over its active part, never peaking above 0.95."""
    energy = frame_energy_db(wav)
    active = energy[energy > energy.max() - 40.0]
    level = 10.0 * np.log10(np.mean(10.0 ** (active / 10.0)) + 1e-12)
    gain = 10.0 ** ((target_dbfs - level) / 20.0)
    peak = float(np.max(np.abs(wav))) * gain
    if peak > PEAK_LIMIT:
        gain *= PEAK_LIMIT / peak
    return np.asarray(wav * gain, dtype=np.float32)
