"""Measures of how speech is delivered, computed the same way for real recordings and
synthetic speech so the two can be compared: the share of voiced frames, the speaking
rate and the pitch range.

All three come from one fast WORLD analysis of the audio (DIO with StoneMask, 10 ms
frames), never from the model's own frames, so a recording and a synthesised clip are
judged by the same ear.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from metavoice_app.core.features import world
from metavoice_app.core.features.postfilter import PostFilter
from metavoice_app.core.text.frontend import TextError, TextFrontend, utterance_phones
from metavoice_app.core.text.phones import PAUSES

SILENCE_DB = 35.0  # frames this far below the clip's loud frames count as silence
NOISE_MARGIN_DB = 10.0  # ... and so do frames within this of its noise floor


@dataclass(frozen=True)
class Delivery:
    """One clip: voiced share of its speech frames, phones per second of speech (leading
    and trailing silence trimmed), and the standard deviation of its F0 in semitones."""

    voiced_share: float
    phones_per_second: float
    pitch_range_st: float


def speech_frames(wav: npt.NDArray[np.floating]) -> npt.NDArray[np.bool_]:
    """Frames (10 ms) louder than the clip's loud frames less ``SILENCE_DB`` and clear of
    its noise floor (its quietest tenth), so a noisy recording's hiss is not speech."""
    hop = world.HOP_LENGTH
    n = max(1, len(wav) // hop)
    frames = np.asarray(wav[: n * hop], dtype=np.float64).reshape(n, hop)
    level = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    floor = max(np.percentile(level, 95) - SILENCE_DB, np.percentile(level, 10) + NOISE_MARGIN_DB)
    return np.asarray(level > floor)


def measure(wav: npt.NDArray[np.floating], text: str, frontend: TextFrontend) -> Delivery | None:
    """Delivery of one 16 kHz clip of ``text``; None for a clip with no speech or no
    speakable text."""
    try:
        phones = [p for p in utterance_phones(text, frontend) if p not in PAUSES]
    except TextError:
        return None
    if len(wav) < world.HOP_LENGTH * 10 or not phones:
        return None
    speech = speech_frames(wav)
    active = np.flatnonzero(speech)
    if active.size < 5:
        return None
    seconds = (active[-1] - active[0] + 1) * world.FRAME_PERIOD_MS / 1000.0
    f0, _ = world.pitch(wav, f0_method="dio")
    n = min(len(f0), len(speech))
    f0, speech = f0[:n], speech[:n]
    voiced = (f0 > 0) & speech
    share = float(voiced.sum() / max(speech.sum(), 1))
    semitones = 12.0 * np.log2(f0[voiced]) if voiced.sum() > 2 else np.zeros(1)
    return Delivery(share, len(phones) / seconds, float(np.std(semitones)))


@dataclass(frozen=True)
class DeliverySummary:
    clips: int
    voiced_share: float
    phones_per_second: float
    pitch_range_st: float

    def ratio_to(self, real: DeliverySummary) -> tuple[float, float]:
        """(speaking-rate ratio, pitch-range ratio) of this speech to ``real``."""
        rate = self.phones_per_second / real.phones_per_second if real.phones_per_second else 0
        pitch = self.pitch_range_st / real.pitch_range_st if real.pitch_range_st else 0
        return rate, pitch


def summarise(measured: Sequence[Delivery | None]) -> DeliverySummary | None:
    clips = [m for m in measured if m is not None]
    if not clips:
        return None
    return DeliverySummary(
        len(clips),
        statistics.mean(m.voiced_share for m in clips),
        statistics.median(m.phones_per_second for m in clips),
        statistics.mean(m.pitch_range_st for m in clips if math.isfinite(m.pitch_range_st)),
    )


@dataclass
class Spoken:
    """The model's speech for some of a voice's texts, as measured: each clip's delivery
    and the voicing probabilities of its speech frames (silence left out, as the voiced
    share leaves it out), with the threshold they were vocoded at."""

    delivery: list[Delivery]
    speech_vuv: list[np.ndarray]
    threshold: float


def measure_spoken(
    frames: Sequence[tuple[str, np.ndarray]], postfilter: PostFilter, frontend: TextFrontend
) -> Spoken:
    """The model's frames for some texts, vocoded through ``postfilter`` and measured."""
    spoken = Spoken([], [], postfilter.voicing_threshold)
    for text, predicted in frames:
        audio = postfilter.vocode(predicted)
        delivery = measure(audio, text, frontend)
        if delivery is None:
            continue
        speech = speech_frames(audio)
        n = min(len(speech), len(predicted))
        spoken.delivery.append(delivery)
        spoken.speech_vuv.append(predicted[:n, world.VUV][speech[:n]])
    return spoken


def matched_voicing(real: list[Delivery], spoken: Spoken) -> float | None:
    """The voicing threshold at which a voice's speech is voiced as often as its
    speaker's recordings, or None without enough speech to tell.

    A threshold decides which frames are voiced before vocoding; the measured share
    also counts how the vocoded sound reads, so the gap between the two, measured once
    at the threshold the speech was vocoded at, is carried over: the new threshold is
    the quantile of the speech frames' voicing probabilities that leaves the
    recordings' share, less that gap, above it. One vocoding per clip suffices."""
    if not real or not spoken.delivery:
        return None
    vuv = np.concatenate(spoken.speech_vuv) if spoken.speech_vuv else np.zeros(0)
    if vuv.size < 200:
        return None
    measured = statistics.mean(d.voiced_share for d in spoken.delivery)
    gap = measured - float(np.mean(vuv > spoken.threshold))
    target = float(np.clip(statistics.mean(d.voiced_share for d in real) - gap, 0.01, 0.99))
    return float(np.quantile(vuv, 1.0 - target))
