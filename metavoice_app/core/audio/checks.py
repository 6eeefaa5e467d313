"""Instant checks of a recorded take, each with a specific verdict a person can act on.

Energy-based voice activity: 10 ms frames louder than the noise floor by a
margin count as speech. The noise floor is the quiet end of the level
distribution, so the signal-to-noise estimate is speech level minus floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from metavoice_app.core.audio.prep import frame_energy_db

MIN_SPEECH_SECONDS = 1.0
SILENT_PEAK = 10 ** (-45 / 20)  # -45 dBFS
CLIP_LEVEL = 0.999
MAX_CLIPPED_FRACTION = 0.001
MIN_SNR_DB = 15.0
MIN_SPEECH_FRACTION = 0.2


@dataclass
class TakeReport:
    """What a take sounds like, and what (if anything) is wrong with it."""

    duration: float
    speech_seconds: float
    peak_dbfs: float
    snr_db: float
    clipped_fraction: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_take(wav: np.ndarray, sample_rate: int = 16000) -> TakeReport:
    audio = np.asarray(wav, dtype=np.float32)
    duration = len(audio) / sample_rate
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    peak_dbfs = 20 * np.log10(max(peak, 1e-9))
    levels = frame_energy_db(audio, sample_rate // 100)
    floor = float(np.percentile(levels, 10))
    loud = float(np.percentile(levels, 95))
    speech = levels > max(floor + 10.0, loud - 30.0)
    speech_seconds = float(speech.sum()) * 0.01
    snr = loud - floor
    clipped = float(np.mean(np.abs(audio) >= CLIP_LEVEL)) if len(audio) else 0.0
    report = TakeReport(duration, speech_seconds, float(peak_dbfs), snr, clipped)
    if peak < SILENT_PEAK:
        report.problems.append(
            "The take is silent: check that the right microphone is selected and not muted."
        )
        return report
    if clipped > MAX_CLIPPED_FRACTION:
        report.problems.append(
            f"The take is clipping ({100 * clipped:.1f}% of samples at "
            "full scale): move back from the microphone or lower its gain."
        )
    if speech_seconds < MIN_SPEECH_SECONDS:
        report.problems.append(
            f"Too short: only {speech_seconds:.1f} s of speech; read the whole sentence."
        )
    elif speech.mean() < MIN_SPEECH_FRACTION:
        report.problems.append(
            "The take is mostly silence: start reading soon after you "
            "press record, and stop when you finish."
        )
    if snr < MIN_SNR_DB:
        report.problems.append(
            f"Too noisy: the voice is only {snr:.0f} dB above the "
            "background; find a quieter place or move closer."
        )
    return report
