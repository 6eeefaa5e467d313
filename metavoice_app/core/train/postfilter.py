"""Fit a model's synthesis post-filter on real speakers' recordings.

For each real built-in voice with recordings in the shared folder (VCC2016 by default:
never the adaptation dev sets, never the held-out LibriSpeech test-other speakers), the
model reads the recordings' own texts in that voice; the WORLD analysis of each
recording and the model's frames for the same text are compared:

- envelope gain, per coded-envelope coefficient: the square root of the ratio of the
  real to the predicted within-sentence variance, averaged over sentences and pooled
  over speakers;
- pitch range: the median over speakers of the ratio of the real to the predicted
  standard deviation of log-F0 over voiced frames;
- duration scale: the median over speakers of the ratio of the model's speaking rate
  to the recordings' (phones per second of speech);
- voicing threshold: the model's voicing probability at which the share of voiced
  frames in its speech equals the recordings' (pooled over speakers).

Rate and voicing are measured on audio by :mod:`metavoice_app.core.features.delivery`,
the same measures ``bench tts`` reports, for the recordings and the model's vocoded
speech alike. Durations are the model's own (no alignment is needed: every statistic is
per sentence), so what is fitted is what the app will hear.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.features import world
from metavoice_app.core.features.delivery import Delivery, measure
from metavoice_app.core.features.postfilter import (
    DURATION_SCALE_LIMITS,
    MAX_GAIN,
    PITCH_RANGE_LIMITS,
    PostFilter,
)
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.text.frontend import TextError, TextFrontend
from metavoice_app.core.train.corpus.real import RealSpeaker, vcc2016_speakers

Progress = Callable[[str], None]
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7)
THRESHOLD_SENTENCES = 5  # per speaker, for the voicing search


@dataclass
class SpeakerStats:
    """One speaker's sentences: variances of each coefficient and log-F0 spreads."""

    voice: str
    real_var: list[np.ndarray] = field(default_factory=list)
    model_var: list[np.ndarray] = field(default_factory=list)
    real_lf0_std: list[float] = field(default_factory=list)
    model_lf0_std: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    real_delivery: list[Delivery] = field(default_factory=list)
    model_frames: list[np.ndarray] = field(default_factory=list)

    @property
    def pitch_ratio(self) -> float:
        return statistics.mean(self.real_lf0_std) / max(statistics.mean(self.model_lf0_std), 1e-6)

    @property
    def real_rate(self) -> float:
        return statistics.median(d.phones_per_second for d in self.real_delivery)


@dataclass
class PostFilterFit:
    postfilter: PostFilter
    speakers: list[SpeakerStats]
    sentences: int

    def record(self) -> dict[str, object]:
        """How the post-filter was fitted, for the model's config and card."""
        return {
            "source": "real recordings of the model's VCC2016 voices (their own texts)",
            "speakers": [s.voice for s in self.speakers],
            "sentences": self.sentences,
            "pitch_ratio_by_speaker": {s.voice: round(s.pitch_ratio, 3) for s in self.speakers},
            "real_phones_per_second": {s.voice: round(s.real_rate, 2) for s in self.speakers},
        }


def _lf0_std(features: np.ndarray, voiced: np.ndarray) -> float:
    return float(features[voiced, world.LF0].std()) if voiced.sum() > 2 else 0.0


def _model_delivery(
    stats: SpeakerStats, postfilter: PostFilter, frontend: TextFrontend, count: int | None
) -> list[Delivery]:
    """Delivery of the model's speech for (the first ``count`` of) a speaker's texts."""
    pairs = list(zip(stats.texts, stats.model_frames, strict=True))[:count]
    measured = [measure(postfilter.vocode(frames), text, frontend) for text, frames in pairs]
    return [m for m in measured if m is not None]


def speaker_stats(
    engine: SpeechEngine, voice: str, clips: list[tuple[Path, str]], threads: int
) -> SpeakerStats:
    """Real and predicted statistics of one voice over its recordings."""
    stats = SpeakerStats(voice)
    handle = engine.voice(voice)

    def analyse(clip: tuple[Path, str]) -> tuple[np.ndarray, Delivery | None]:
        audio = load_audio(clip[0])
        return world.encode(world.analyze(audio)), measure(audio, clip[1], engine.frontend)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:  # WORLD releases the GIL
        analysed = list(pool.map(analyse, clips))
    for (_path, text), (real, delivery) in zip(clips, analysed, strict=True):
        try:
            prepared = engine.frontend.prepare(text)
        except TextError:
            continue
        if delivery is None:
            continue
        pieces = [
            handle.model.synthesize(torch.tensor([s.ids], device=engine.device), handle.speaker)
            for s in prepared.sentences
        ]
        predicted = torch.cat(pieces).float().cpu().numpy()
        real_voiced = real[:, world.VUV] > 0.5
        model_voiced = predicted[:, world.VUV] > 0.5
        stats.real_var.append(real[:, 1 : world.N_MCEP].var(axis=0))
        stats.model_var.append(predicted[:, 1 : world.N_MCEP].var(axis=0))
        stats.real_lf0_std.append(_lf0_std(real, real_voiced))
        stats.model_lf0_std.append(_lf0_std(predicted, model_voiced))
        stats.texts.append(text)
        stats.real_delivery.append(delivery)
        stats.model_frames.append(predicted)
    return stats


def fit(
    engine: SpeechEngine,
    speakers: list[RealSpeaker],
    per_speaker: int = 20,
    strength: float = 1.0,
    threads: int = 2,
    progress: Progress = lambda _m: None,
) -> PostFilterFit:
    """Fit the post-filter for ``engine``'s model on ``speakers`` that it has as voices."""
    torch.set_num_threads(threads)
    known = set(engine.voice_ids())
    all_stats: list[SpeakerStats] = []
    for speaker in speakers:
        voice = f"{speaker.source}-{speaker.name}"
        if voice not in known:
            continue
        clips = [(c.path, c.text) for c in speaker.clips[:per_speaker]]
        progress(f"{voice}: {len(clips)} recordings")
        stats = speaker_stats(engine, voice, clips, threads)
        if stats.real_var:
            all_stats.append(stats)
    if not all_stats:
        raise ValueError("none of the given speakers is a voice of this model")
    real_var = np.mean([v for s in all_stats for v in s.real_var], axis=0)
    model_var = np.mean([v for s in all_stats for v in s.model_var], axis=0)
    gains = np.clip(np.sqrt(real_var / np.maximum(model_var, 1e-12)), 1e-3, MAX_GAIN)
    postfilter = PostFilter(
        envelope_gain=tuple(float(g) for g in gains),
        strength=strength,
        pitch_range=float(
            np.clip(statistics.median(s.pitch_ratio for s in all_stats), *PITCH_RANGE_LIMITS)
        ),
    )
    frontend = engine.frontend
    progress("speaking rate")
    rate_ratios = [
        statistics.median(d.phones_per_second for d in spoken) / s.real_rate
        for s in all_stats
        if (spoken := _model_delivery(s, postfilter, frontend, None))
    ]
    scale = float(np.clip(statistics.median(rate_ratios), *DURATION_SCALE_LIMITS))
    progress("voicing threshold")
    real_share = statistics.mean(d.voiced_share for s in all_stats for d in s.real_delivery)
    misses = {}
    for threshold in THRESHOLDS:
        candidate = dataclasses.replace(postfilter, voicing_threshold=threshold)
        spoken = [
            d
            for s in all_stats
            for d in _model_delivery(s, candidate, frontend, THRESHOLD_SENTENCES)
        ]
        misses[threshold] = abs(statistics.mean(d.voiced_share for d in spoken) - real_share)
    best = min(misses, key=lambda t: misses[t])
    postfilter = dataclasses.replace(postfilter, voicing_threshold=best, duration_scale=scale)
    sentences = sum(len(s.real_var) for s in all_stats)
    return PostFilterFit(postfilter, all_stats, sentences)


def default_speakers(shared: Path) -> list[RealSpeaker]:
    """The speakers a post-filter is fitted on: VCC2016's ten."""
    return vcc2016_speakers(shared)
