"""Fit a model's synthesis post-filter on real speakers' recordings.

For each real built-in voice with recordings in the shared folder (VCC2016 by default:
never the adaptation dev sets, never the held-out LibriSpeech test-other speakers), the
model reads the recordings' own texts in that voice; the WORLD analysis of each
recording and the model's frames for the same text are compared:

- envelope gain, per coded-envelope coefficient: the square root of the ratio of the
  real to the predicted within-sentence variance, averaged over sentences and pooled
  over speakers;
- voicing threshold: the model's own, for voices without recordings, from a short grid
  (the one nearest the recordings' voiced share, pooled over speakers);
- for each real voice with recordings (VCC2016 and the LibriSpeech training speakers):
  its pitch range (the ratio of the recordings' F0 spread to the model's), pace (the
  ratio of the model's speaking rate to the recordings') and voicing threshold (where
  its speech, vocoded at the model's threshold, is voiced as often as the recordings),
  stored per voice; the model's own pitch range and pace, for voices without
  recordings, are the medians over voices.

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
from metavoice_app.core.features.delivery import (
    Delivery,
    Spoken,
    matched_voicing,
    measure,
    measure_spoken,
    summarise,
)
from metavoice_app.core.features.postfilter import (
    MAX_GAIN,
    PostFilter,
    VoiceDelivery,
)
from metavoice_app.core.synth.engine import SpeechEngine, VoiceHandle
from metavoice_app.core.text.frontend import TextError, TextFrontend
from metavoice_app.core.train.corpus.real import (
    RealSpeaker,
    training_speakers,
    vcc2016_speakers,
    voice_id,
)

Progress = Callable[[str], None]
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7)
THRESHOLD_SENTENCES = 5  # per speaker, for the model's own voicing threshold


@dataclass
class SpeakerStats:
    """One speaker's sentences: each coefficient's variance, real and predicted, and
    the recordings' delivery beside the model's frames for the same texts."""

    voice: str
    real_var: list[np.ndarray] = field(default_factory=list)
    model_var: list[np.ndarray] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    real_delivery: list[Delivery] = field(default_factory=list)
    model_frames: list[np.ndarray] = field(default_factory=list)


@dataclass
class PostFilterFit:
    postfilter: PostFilter
    speakers: list[SpeakerStats]
    sentences: int
    voices: dict[str, VoiceDelivery] = field(default_factory=dict)

    def record(self) -> dict[str, object]:
        """How the post-filter was fitted, for the model's config and card."""
        return {
            "source": "real recordings of the model's VCC2016 voices (their own texts)",
            "speakers": [s.voice for s in self.speakers],
            "sentences": self.sentences,
            "voices_with_their_own_delivery": len(self.voices),
            "min_phone_frames": self.postfilter.min_phone_frames,
        }


def _model_delivery(
    stats: SpeakerStats, postfilter: PostFilter, frontend: TextFrontend, count: int | None
) -> Spoken:
    """The model's speech for (the first ``count`` of) a speaker's texts."""
    return measure_spoken(
        list(zip(stats.texts, stats.model_frames, strict=True))[:count], postfilter, frontend
    )


def _model_frames(
    engine: SpeechEngine, handle: VoiceHandle, text: str, min_frames: int
) -> np.ndarray | None:
    """The model's frames for ``text`` in a voice, at its own durations (every speech
    sound at least ``min_frames``, as the engine will speak it) and before any other
    correction; None for text the front end cannot speak."""
    try:
        prepared = engine.frontend.prepare(text)
    except TextError:
        return None
    pieces = []
    for sentence in prepared.sentences:
        ids = torch.tensor([sentence.ids], device=engine.device)
        durations = handle.model.predict_durations(ids, handle.speaker, min_frames=min_frames)
        pieces.append(handle.model.synthesize(ids, handle.speaker, durations=durations))
    return torch.cat(pieces).float().cpu().numpy()


def speaker_stats(
    engine: SpeechEngine,
    voice: str,
    clips: list[tuple[Path, str]],
    threads: int,
    min_frames: int = 1,
) -> SpeakerStats:
    """Real and predicted statistics of one voice over its recordings."""
    stats = SpeakerStats(voice)
    handle = engine.voice(voice)

    def analyse(clip: tuple[Path, str]) -> tuple[np.ndarray, Delivery | None]:
        audio = load_audio(clip[0])
        return world.recording_features(audio), measure(audio, clip[1], engine.frontend)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:  # WORLD releases the GIL
        analysed = list(pool.map(analyse, clips))
    for (_path, text), (real, delivery) in zip(clips, analysed, strict=True):
        predicted = _model_frames(engine, handle, text, min_frames)
        if delivery is None or predicted is None:
            continue
        stats.real_var.append(real[:, 1 : world.N_MCEP].var(axis=0))
        stats.model_var.append(predicted[:, 1 : world.N_MCEP].var(axis=0))
        stats.texts.append(text)
        stats.real_delivery.append(delivery)
        stats.model_frames.append(predicted)
    return stats


def _voice_delivery(real: list[Delivery], spoken: Spoken) -> VoiceDelivery | None:
    """A voice's delivery: its speaker's pitch spread and pace over the model's, and the
    voicing threshold that matches its speaker's voiced share."""
    recorded, said = summarise(real), summarise(spoken.delivery)
    if recorded is None or said is None:
        return None
    if said.pitch_range_st <= 0 or recorded.phones_per_second <= 0:
        return None
    pace, _ = said.ratio_to(recorded)
    _, pitch = recorded.ratio_to(said)
    return VoiceDelivery.measured(pitch, pace, matched_voicing(real, spoken))


def _read_and_spoken(
    engine: SpeechEngine, voice: str, clips: list[tuple[Path, str]], postfilter: PostFilter
) -> tuple[list[Delivery], Spoken]:
    """Deliveries of a speaker's recordings and the model's speech for the same texts."""
    handle = engine.voice(voice)
    real, frames = [], []
    for path, text in clips:
        predicted = _model_frames(engine, handle, text, postfilter.min_phone_frames)
        if predicted is None:
            continue
        recorded = measure(load_audio(path), text, engine.frontend)
        if recorded is not None:
            real.append(recorded)
            frames.append((text, predicted))
    return real, measure_spoken(frames, postfilter, engine.frontend)


def fit(
    engine: SpeechEngine,
    speakers: list[RealSpeaker],
    per_speaker: int = 20,
    strength: float = 1.0,
    threads: int = 2,
    progress: Progress = lambda _m: None,
    delivery_speakers: list[RealSpeaker] | None = None,
    min_phone_frames: int = 1,
) -> PostFilterFit:
    """Fit the post-filter for ``engine``'s model: the envelope gains and the voicing
    threshold on ``speakers`` (those it has as voices), and the pitch range and pace of
    every voice whose speaker is in ``speakers`` or ``delivery_speakers``; the model's
    own pitch range and pace, for voices without recordings, are their medians. The
    model is read with its speech sounds at least ``min_phone_frames`` long (a choice,
    made on the tuning slice, that the record keeps), so the pace fitted is the pace
    heard."""
    torch.set_num_threads(threads)
    known = set(engine.voice_ids())
    all_stats: list[SpeakerStats] = []
    for speaker in speakers:
        voice = voice_id(speaker)
        if voice not in known:
            continue
        clips = [(c.path, c.text) for c in speaker.clips[:per_speaker]]
        progress(f"{voice}: {len(clips)} recordings")
        stats = speaker_stats(engine, voice, clips, threads, min_phone_frames)
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
        min_phone_frames=min_phone_frames,
    )
    frontend = engine.frontend

    progress("voicing threshold")
    # The model's own threshold serves the voices without recordings (engine voices and
    # their warped copies, whose "speaker" is a synthesiser) and cloned voices made before
    # clones had their own: it is searched on a short grid, as it always was, so those
    # voices sound as they did; real voices and new clones are matched one by one.
    real_share = statistics.mean(d.voiced_share for s in all_stats for d in s.real_delivery)
    misses = {}
    for threshold in THRESHOLDS:
        candidate = dataclasses.replace(postfilter, voicing_threshold=threshold)
        spoken = [
            d
            for s in all_stats
            for d in _model_delivery(s, candidate, frontend, THRESHOLD_SENTENCES).delivery
        ]
        misses[threshold] = abs(statistics.mean(d.voiced_share for d in spoken) - real_share)
    postfilter = dataclasses.replace(
        postfilter, voicing_threshold=min(misses, key=lambda t: misses[t])
    )

    progress("pitch range and pace of each voice")
    voices: dict[str, VoiceDelivery] = {}
    for stats in all_stats:
        fitted = _voice_delivery(
            stats.real_delivery, _model_delivery(stats, postfilter, frontend, None)
        )
        if fitted is not None:
            voices[stats.voice] = fitted
    for speaker in delivery_speakers or []:
        voice = voice_id(speaker)
        if voice not in known or voice in voices:
            continue
        clips = [(c.path, c.text) for c in speaker.clips[:per_speaker]]
        fitted = _voice_delivery(*_read_and_spoken(engine, voice, clips, postfilter))
        if fitted is not None:
            voices[voice] = fitted
    postfilter = dataclasses.replace(
        postfilter,
        pitch_range=statistics.median(v.pitch_range for v in voices.values()),
        duration_scale=statistics.median(v.duration_scale for v in voices.values()),
    )
    sentences = sum(len(s.real_var) for s in all_stats)
    return PostFilterFit(postfilter, all_stats, sentences, voices)


def default_speakers(shared: Path) -> tuple[list[RealSpeaker], list[RealSpeaker]]:
    """The speakers a post-filter is fitted on: VCC2016's ten for the envelope and
    voicing, and every real speaker training may use (never the held-out ones) for the
    voices' pitch range and pace."""
    return vcc2016_speakers(shared), training_speakers(shared)
