"""Building the corpus: plan the speakers, then make each in a worker process.

Synthetic speakers: every engine voice reads its own sentences, and each is
turned into several pseudo-speakers (pitch, vocal-tract length, rate). Real
speakers: each recording is trimmed, levelled and analysed; VCC2016 speakers
also spawn warped pseudo-speakers, which sit closer to real voices than any
warped synthesiser. Finished speakers are skipped on the next run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
from metavoice_app.core.features import world
from metavoice_app.core.text.frontend import (
    TextError,
    TextFrontend,
    utterance_phones,
)
from metavoice_app.core.text.normalize import normalize
from metavoice_app.core.train.corpus import pseudo
from metavoice_app.core.train.corpus.engines import ENGINE_VOICES, EngineVoice, synthesize
from metavoice_app.core.train.corpus.labels import Segment, align_to_phones
from metavoice_app.core.train.corpus.real import (
    RealClip,
    RealSpeaker,
    training_speakers,
    voice_id,
)
from metavoice_app.core.train.corpus.store import Corpus, Speaker, Utterance

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass
class CorpusConfig:
    out: Path
    text_file: Path | None = None
    shared: Path | None = None
    engine_voices: tuple[EngineVoice, ...] = ENGINE_VOICES
    speakers_per_voice: dict[str, int] = field(
        default_factory=lambda: {"flite": 22, "festival": 22, "espeak": 12}
    )
    utterances_per_speaker: int = 20
    real_pseudo_speakers: int = 4
    max_real_speakers: int | None = None
    jobs: int = 2
    seed: int = 0


@dataclass(frozen=True)
class SyntheticJob:
    speaker_id: str
    voice: EngineVoice
    transform: pseudo.Transform
    texts: tuple[str, ...]


@dataclass(frozen=True)
class RealJob:
    speaker_id: str
    speaker: RealSpeaker
    transform: pseudo.Transform
    clips: tuple[RealClip, ...]


Job = SyntheticJob | RealJob


def _lexicon_only(sentence: str, frontend: TextFrontend) -> str | None:
    """The normalised sentence if every word is in the lexicon and it has 5-20 words."""
    text = normalize(sentence).text
    if not 5 <= len(text.split()) <= 20:
        return None
    try:
        prepared = frontend.prepare(text)
    except TextError:
        return None
    words = [w for s in prepared.sentences for w in s.words]
    if len(prepared.sentences) != 1 or any(w.source == "espeak" for w in words):
        return None
    return text


def load_sentences(path: Path, frontend: TextFrontend, rng: random.Random) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    rng.shuffle(lines)
    seen: set[str] = set()
    sentences = []
    for line in lines:
        text = _lexicon_only(line, frontend) if line else None
        if text and text.lower() not in seen:
            seen.add(text.lower())
            sentences.append(text)
    return sentences


def plan(config: CorpusConfig) -> list[Job]:
    """Every speaker the corpus will hold, in a fixed order for a given seed."""
    rng = random.Random(config.seed)
    nprng = np.random.default_rng(config.seed)
    frontend = TextFrontend()
    jobs: list[Job] = []
    if config.text_file is not None and config.engine_voices:
        sentences = load_sentences(config.text_file, frontend, rng)
        if not sentences:
            raise ValueError(f"{config.text_file}: no usable sentences")
        cursor = 0
        for voice in config.engine_voices:
            count = config.speakers_per_voice.get(voice.engine, 0)
            for index, transform in enumerate(pseudo.sample_transforms(count, nprng)):
                texts = []
                for _ in range(config.utterances_per_speaker):
                    texts.append(sentences[cursor % len(sentences)])
                    cursor += 1
                jobs.append(
                    SyntheticJob(f"{voice.name}-{index:02d}", voice, transform, tuple(texts))
                )
    if config.shared is not None:
        usable = training_speakers(config.shared)
        vcc = [s for s in usable if s.source == "vcc2016"]
        libri = [s for s in usable if s.source == "librispeech"]
        for speaker in vcc:
            jobs.append(RealJob(voice_id(speaker), speaker, pseudo.Transform(), speaker.clips))
            warps = pseudo.sample_transforms(config.real_pseudo_speakers + 1, nprng)[1:]
            for k, transform in enumerate(warps):
                subset = speaker.clips[k :: len(warps)]
                jobs.append(RealJob(f"vcc2016-{speaker.name}-p{k + 1}", speaker, transform, subset))
        for speaker in libri:
            jobs.append(RealJob(voice_id(speaker), speaker, pseudo.Transform(), speaker.clips))
        if config.max_real_speakers is not None:
            real = [j for j in jobs if isinstance(j, RealJob)][: config.max_real_speakers]
            jobs = [j for j in jobs if isinstance(j, SyntheticJob)] + real
    return jobs


def _scale_segments(segments: list[Segment], rate: float) -> list[Segment]:
    return [Segment(s.phone, s.start / rate, s.end / rate) for s in segments]


def run_synthetic(job: SyntheticJob) -> tuple[Speaker, dict[str, np.ndarray]]:
    frontend = TextFrontend()
    speaker = Speaker(
        job.speaker_id,
        job.voice.engine,
        job.voice.name,
        real=False,
        transform=job.transform.to_dict(),
    )
    features: dict[str, np.ndarray] = {}
    for index, (text, speech) in enumerate(
        zip(job.texts, synthesize(job.voice, list(job.texts)), strict=True)
    ):
        params = pseudo.apply(world.analyze(speech.wav, "dio"), job.transform)
        feats = world.encode(params)
        phones = utterance_phones(text, frontend)
        durations, agreement = align_to_phones(
            phones, _scale_segments(speech.segments, job.transform.rate), len(feats)
        )
        utt_id = f"{job.speaker_id}-{index:03d}"
        speaker.utterances.append(
            Utterance(
                utt_id,
                text,
                list(phones),
                len(feats),
                "given",
                ref_durations=durations.tolist(),
                ref_agreement=round(agreement, 4),
            )
        )
        features[utt_id] = feats
    return speaker, features


def run_real(job: RealJob) -> tuple[Speaker, dict[str, np.ndarray]]:
    frontend = TextFrontend()
    speaker = Speaker(
        job.speaker_id,
        job.speaker.source,
        job.speaker.name,
        real=True,
        transform=job.transform.to_dict(),
        sex=job.speaker.sex,
    )
    features: dict[str, np.ndarray] = {}
    for clip in job.clips:
        try:
            phones = utterance_phones(clip.text, frontend)
        except TextError as exc:
            log.warning("%s: skipped (%s)", clip.path.name, exc)
            continue
        wav = normalize_loudness(trim_silence(load_audio(clip.path)))
        feats = world.encode(pseudo.apply(world.analyze(wav, world.RECORDING_F0), job.transform))
        utt_id = f"{job.speaker_id}-{clip.path.stem}"
        speaker.utterances.append(
            Utterance(
                utt_id, clip.text, list(phones), len(feats), "machine", source_file=clip.path.name
            )
        )
        features[utt_id] = feats
    return speaker, features


def run_job(job: Job) -> tuple[Speaker, dict[str, np.ndarray]]:
    return run_synthetic(job) if isinstance(job, SyntheticJob) else run_real(job)


def build(config: CorpusConfig, progress: Progress | None = None) -> Corpus:
    """Build (or finish building) the corpus in ``config.out``."""
    corpus = Corpus(config.out)
    corpus.create()
    jobs = plan(config)
    todo = [job for job in jobs if not corpus.has_speaker(job.speaker_id)]
    total, done = len(jobs), len(jobs) - len(todo)
    log.info("corpus %s: %d speakers planned, %d already built", config.out, total, done)
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, config.jobs)) as pool:
        pending: dict[Future[tuple[Speaker, dict[str, np.ndarray]]], Job] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < 2 * max(1, config.jobs):
                job = queue.pop(0)
                pending[pool.submit(run_job, job)] = job
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                speaker, features = future.result()
                if speaker.utterances:
                    corpus.write_speaker(speaker, features)
                else:
                    log.warning("%s: no usable utterances", job.speaker_id)
                done += 1
                if progress is not None:
                    rate = (time.monotonic() - started) / max(1, done - (total - len(todo)))
                    progress(
                        done,
                        total,
                        f"{job.speaker_id} (about {rate * (total - done) / 60:.0f} min left)",
                    )
    return corpus
