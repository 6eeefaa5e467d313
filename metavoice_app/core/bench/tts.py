"""``metavoice bench tts``: how natural, how intelligible and how fast the engine is.

Every system reads the same two sentence sets, and independent judges score them in
one run:

- *prompts*: held-out sentences of the prompt list the corpus is drawn from (the kind
  of text the model trained on); the real reference is the VCTK dev recordings;
- *hard*: the LibriSpeech test-other sentences (book text with names and rare words),
  whose real recordings are the reference.

Judges: NISQA-TTS naturalness (1-5), Whisper tiny.en word error rate, and the delivery
measures of :mod:`metavoice_app.core.features.delivery` (voiced share, speaking rate, pitch range), which for a
voice made from a real speaker are compared with that speaker's own recordings. The
model can be measured under several post-filter variants side by side (the ablation);
flite and festival read the same sentences as the non-learned baselines.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_type_hints

import numpy as np
import torch

from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.bench.judge import WhisperJudge
from metavoice_app.core.bench.naturalness import NaturalnessJudge
from metavoice_app.core.bench.wer import word_error_rate
from metavoice_app.core.features.delivery import DeliverySummary, measure, summarise
from metavoice_app.core.features.postfilter import PostFilter, VoiceDelivery
from metavoice_app.core.model.checkpoint import read_info
from metavoice_app.core.model.folder import ModelInfo, ModelLoadError
from metavoice_app.core.model.refiner import EnvelopeRefiner, RefinerError, load_refiner
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.text.frontend import TextFrontend
from metavoice_app.core.train.corpus.build import load_sentences
from metavoice_app.core.train.corpus.engines import EngineVoice, engine_available, synthesize
from metavoice_app.core.train.corpus.real import (
    TEST_OTHER,
    librispeech_speakers,
    vcc2016_speakers,
    voice_id,
)
from metavoice_app.core.train.corpus.store import Corpus

REFERENCE_VOICES = (
    EngineVoice("flite-slt", "flite", "slt"),
    EngineVoice("flite-kal16", "flite", "kal16"),
    EngineVoice("festival-kal", "festival", "voice_kal_diphone"),
)
FIRST_AUDIO_SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
REAL_CLIPS_PER_VOICE = 20
SETS = ("prompts", "hard")

Progress = Callable[[str], None]


@dataclass
class TtsBenchConfig:
    model_dir: Path | None
    shared: Path
    sentences: int = 100
    # Prompts skipped first: choices (post-filter variants) are made on a slice that the
    # reported run does not read.
    skip: int = 0
    hard: int = 100
    hard_skip: int = 0  # the same for the hard sentences (test-other has 100)
    voices: list[str] | None = None
    corpus: Path | None = None
    threads: int = 2
    device: str = "cpu"
    # Post-filter variants to measure: "model" (the model's own), "off", or overrides of
    # the model's, e.g. "strength=1.25,pitch_range=1".
    variants: list[str] = field(default_factory=lambda: ["model"])
    references: bool = True


@dataclass
class SetScore:
    utterances: int
    wer: float
    naturalness: float


@dataclass
class Row:
    system: str
    kind: str  # "model", "engine" or "real"
    variant: str = ""
    sets: dict[str, SetScore] = field(default_factory=dict)
    delivery: DeliverySummary | None = None
    # The real speaker's own recordings, for voices made from a real speaker
    speaker_delivery: DeliverySummary | None = None

    @property
    def naturalness(self) -> float:
        scores = [(s.naturalness, s.utterances) for s in self.sets.values()]
        total = sum(n for _, n in scores)
        return sum(x * n for x, n in scores) / total if total else 0.0


@dataclass
class TtsBenchResult:
    rows: list[Row] = field(default_factory=list)
    real_time_factor: float = 0.0
    first_audio_ms: float = 0.0
    load_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    sentences: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    hard_skipped: int = 0
    model: str = ""
    variants: dict[str, str] = field(default_factory=dict)  # label -> post-filter summary
    threads: int = 2
    date: str = ""


def held_out_sentences(shared: Path, count: int, corpus: Path | None, skip: int = 0) -> list[str]:
    """Sentences from the end of the shuffled prompt list, which the corpus builder (same
    seed, taking from the front) does not reach; any that a given corpus holds are dropped.
    ``skip`` passes over the first ones (a tuning slice apart from the reported one)."""
    pool = load_sentences(shared / "text" / "vctk_prompts.txt", TextFrontend(), random.Random(0))
    seen: set[str] = set()
    if corpus is not None:
        seen = {u.text.lower() for s in Corpus(corpus).speakers() for u in s.utterances}
    picked = [s for s in reversed(pool) if s.lower() not in seen]
    return picked[skip : skip + count]


def hard_recordings(shared: Path, count: int, skip: int = 0) -> list[tuple[Path, str]]:
    """The LibriSpeech test-other clips and their texts: held out of training, book
    sentences with names and rare words; ``skip`` passes over the first ones."""
    clips = [
        (clip.path, clip.text)
        for speaker in librispeech_speakers(shared)
        for clip in speaker.clips
        if TEST_OTHER in clip.path.parts
    ]
    return clips[skip : skip + count]


def _dev_recordings(shared: Path) -> list[tuple[Path, str]]:
    root = shared / "speech" / "vctk_4spk"
    with (root / "metadata.tsv").open(encoding="utf-8") as handle:
        return [
            (root / row[0], row[2]) for row in csv.reader(handle, delimiter="\t") if len(row) >= 3
        ]


def speaker_recordings(shared: Path, voice: str) -> list[tuple[Path, str]]:
    """Real recordings of the speaker a built-in voice was made from (none for engine
    voices and warped pseudo-speakers)."""
    for speaker in vcc2016_speakers(shared) + librispeech_speakers(shared):
        if voice == voice_id(speaker):
            return [(c.path, c.text) for c in speaker.clips[:REAL_CLIPS_PER_VOICE]]
    return []


def _pick_voices(engine: SpeechEngine, wanted: list[str] | None) -> list[str]:
    if wanted:
        return wanted
    ids = engine.voice_ids()
    chosen = [engine.info.default_voice]
    for prefix in ("vcc2016-SM1", "vcc2016-TM1", "flite-slt-00", "festival-ked-00", "libri-"):
        # the voice itself (a real speaker), not a warped pseudo-speaker made from it
        exact: list[str] = [prefix] if prefix in ids and prefix not in chosen else []
        match = next(iter(exact), None) or next(
            (v for v in ids if v.startswith(prefix) and v not in chosen), None
        )
        if match:
            chosen.append(match)
        if len(chosen) == 4:
            break
    return chosen


@dataclass(frozen=True)
class Variant:
    """A post-filter to measure, with the delivery each real voice fitted to its speaker
    keeps under it, and the envelope refiner the model's frames go through."""

    postfilter: PostFilter
    # the real voices' own pitch range, pace and voicing threshold under it
    deliveries: dict[str, VoiceDelivery] = field(default_factory=dict)
    # False: ``refiner`` (another folder's, or None for none) replaces the model's own
    own_refiner: bool = True
    refiner: EnvelopeRefiner | None = None

    def refiner_for(self, own: EnvelopeRefiner | None) -> EnvelopeRefiner | None:
        return own if self.own_refiner else self.refiner


def parse_variant(spec: str, info: ModelInfo) -> Variant:
    """A post-filter variant of the model ``info`` describes: ``model``, ``off``,
    ``fit=DIR`` (the post-filter, voices' delivery and envelope refiner, or its absence, of
    another copy of the same model, to compare two fits), or ``key=value,...`` over the
    model's (``own_voicing=0`` among them keeps voices at the model's pooled threshold,
    ``refiner=off`` speaks without the model's envelope refiner)."""
    model = info.postfilter
    if spec == "model":
        return Variant(model, info.voice_delivery)
    if spec == "off":  # the real voices keep their pitch range and pace, not their voicing
        return Variant(PostFilter(), _pooled_voicing(info.voice_delivery))
    if spec.startswith("fit="):
        try:
            other = read_info(Path(spec.removeprefix("fit=")))
        except ModelLoadError as exc:
            raise ValueError(f"post-filter variant {spec!r}: {exc}") from exc
        if other.model_id != info.model_id:
            raise ValueError(
                f"post-filter variant {spec!r}: that folder holds another model "
                f"({other.model_id[:12]}, not {info.model_id[:12]})"
            )
        try:
            refiner = load_refiner(Path(spec.removeprefix("fit=")), info.config)
        except RefinerError as exc:
            raise ValueError(f"post-filter variant {spec!r}: {exc}") from exc
        return Variant(other.postfilter, other.voice_delivery, own_refiner=False, refiner=refiner)
    kinds = get_type_hints(PostFilter)
    names = set(kinds) - {"envelope_gain"}
    changes: dict[str, float] = {}
    deliveries = info.voice_delivery
    own_refiner = True
    for part in spec.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key == "own_voicing" and value.strip() in ("0", "1"):
            if value.strip() == "0":
                deliveries = _pooled_voicing(deliveries)
            continue
        if key == "refiner" and value.strip() == "off":
            own_refiner = False
            continue
        if key not in names or not value:
            raise ValueError(
                f"post-filter variant {spec!r}: use model, off, fit=DIR, or key=value with "
                f"keys {', '.join(sorted(names | {'own_voicing'}))} (or refiner=off)"
            )
        changes[key] = kinds[key](value)  # float, or int for a count of frames
    changed = dataclasses.replace(model, **changes)  # type: ignore[arg-type]
    return Variant(changed, deliveries, own_refiner=own_refiner)


def _pooled_voicing(deliveries: dict[str, VoiceDelivery]) -> dict[str, VoiceDelivery]:
    return {
        voice: dataclasses.replace(delivery, voicing_threshold=None)
        for voice, delivery in deliveries.items()
    }


def _describe(postfilter: PostFilter) -> str:
    if postfilter.is_identity:
        return "none (the model's frames as predicted, at its own durations)"
    envelope = (
        f"envelope gains ^{postfilter.strength:g}" if postfilter.envelope_gain else "no envelope"
    )
    floor = postfilter.min_phone_frames
    return (
        f"{envelope}, pitch range x{postfilter.pitch_range:.2f}, "
        f"voicing threshold {postfilter.voicing_threshold:.2f}"
        + (f", speech sounds at least {floor} frames" if floor > 1 else "")
    )


class _Judges:
    """Whisper, NISQA-TTS and the delivery measures, applied to one system's clips."""

    def __init__(self, shared: Path, threads: int) -> None:
        self.whisper = WhisperJudge(threads)
        self.nisqa = NaturalnessJudge(shared)
        self.frontend = TextFrontend()

    def score(self, clips: list[tuple[str, np.ndarray]]) -> SetScore:
        pairs = [(text, self.whisper.transcribe(audio)) for text, audio in clips]
        mos = self.nisqa.score([audio for _, audio in clips])
        return SetScore(len(clips), word_error_rate(pairs), statistics.mean(mos) if mos else 0)

    def delivery(self, clips: list[tuple[str, np.ndarray]]) -> DeliverySummary | None:
        return summarise([measure(audio, text, self.frontend) for text, audio in clips])


def run(config: TtsBenchConfig, progress: Progress = lambda _m: None) -> TtsBenchResult:
    torch.set_num_threads(config.threads)
    result = TtsBenchResult(
        threads=config.threads,
        date=dt.date.today().isoformat(),
        skipped=config.skip,
        hard_skipped=config.hard_skip,
    )
    texts: dict[str, list[str]] = {
        "prompts": held_out_sentences(config.shared, config.sentences, config.corpus, config.skip),
        "hard": [text for _, text in hard_recordings(config.shared, config.hard, config.hard_skip)],
    }
    texts = {name: items for name, items in texts.items() if items}
    result.sentences = {name: len(items) for name, items in texts.items()}

    started = time.perf_counter()
    engine = SpeechEngine(config.model_dir, device=config.device)
    result.load_seconds = time.perf_counter() - started
    result.model = f"{engine.model_dir.name} ({engine.info.model_id[:12]})"
    variants = {spec: parse_variant(spec, engine.info) for spec in config.variants}
    own_deliveries = engine.info.voice_delivery
    result.variants = {}
    for spec, variant in variants.items():
        fitted = len(variant.deliveries)
        own_voicing = sum(d.voicing_threshold is not None for d in variant.deliveries.values())
        kept = f"; the {fitted} real voices with recordings keep their own pitch range and pace"
        if own_voicing:
            kept += f", and {own_voicing} their own voicing threshold"
        refined = variant.refiner_for(engine.model.refiner) is not None
        result.variants[spec] = (
            _describe(variant.postfilter)
            + (kept if fitted else "")
            + ("; through the envelope refiner" if refined else "; no envelope refiner")
        )
    engine.speak("Warm up.")  # lexicon and first-call costs are not per-sentence costs

    first = []
    for _ in range(5):  # what a listener waits for: the stream's first piece
        t0 = time.perf_counter()
        next(engine.speak_stream(FIRST_AUDIO_SENTENCE))
        first.append(time.perf_counter() - t0)
    result.first_audio_ms = 1000 * statistics.median(first)

    judges = _Judges(config.shared, config.threads)
    voices = _pick_voices(engine, config.voices)
    synth_seconds = audio_seconds = 0.0
    own: dict[str, DeliverySummary | None] = {}
    own_refiner = engine.model.refiner
    for spec, variant in variants.items():
        engine.postfilter = variant.postfilter
        engine.info.voice_delivery = variant.deliveries
        engine.model.attach_refiner(variant.refiner_for(own_refiner))
        for voice in voices:
            progress(f"{voice} [{spec}]: synthesising and judging")
            row = Row(voice, "model", spec)
            spoken_all = []
            for name, items in texts.items():
                spoken = []
                for text in items:
                    speech = engine.speak(text, voice=voice)
                    synth_seconds += speech.seconds_to_make
                    audio_seconds += speech.duration
                    spoken.append((text, speech.audio))
                row.sets[name] = judges.score(spoken)
                spoken_all += spoken
            row.delivery = judges.delivery(spoken_all)
            if voice not in own:
                recordings = speaker_recordings(config.shared, voice)
                own[voice] = judges.delivery(
                    [(text, load_audio(path)) for path, text in recordings]
                )
            row.speaker_delivery = own[voice]
            result.rows.append(row)
    engine.postfilter = engine.info.postfilter
    engine.info.voice_delivery = own_deliveries
    engine.model.attach_refiner(own_refiner)
    result.real_time_factor = synth_seconds / max(audio_seconds, 1e-9)
    result.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    if config.references:
        _references(config, texts, judges, result, progress)
    return result


def _references(
    config: TtsBenchConfig,
    texts: dict[str, list[str]],
    judges: _Judges,
    result: TtsBenchResult,
    progress: Progress,
) -> None:
    """flite and festival on the same sentences; real recordings of each set."""
    for reference in REFERENCE_VOICES:
        if not engine_available(reference.engine):
            progress(f"{reference.engine} is not installed: {reference.name} left out")
            continue
        progress(f"{reference.name}: the same sentences")
        row = Row(reference.name, "engine")
        spoken_all = []
        for name, items in texts.items():
            spoken = [(t, s.wav) for t, s in zip(items, synthesize(reference, items), strict=True)]
            row.sets[name] = judges.score(spoken)
            spoken_all += spoken
        row.delivery = judges.delivery(spoken_all)
        result.rows.append(row)
    progress("real recordings")
    for label, name, recordings in (
        ("real recordings (VCTK dev speakers, own texts)", "prompts", _dev_recordings(config.shared)),
        ("real recordings (LibriSpeech test-other)", "hard", hard_recordings(config.shared, config.hard, config.hard_skip)),
    ):  # fmt: skip
        if name not in texts:
            continue
        clips = [(text, load_audio(path)) for path, text in recordings]
        row = Row(label, "real", sets={name: judges.score(clips)}, delivery=judges.delivery(clips))
        result.rows.append(row)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _cell(row: Row, name: str, what: str) -> str:
    score = row.sets.get(name)
    if score is None:
        return "-"
    return f"{score.naturalness:.2f}" if what == "mos" else _pct(score.wer)


def _ratios(row: Row) -> tuple[str, str]:
    if row.delivery is None or row.speaker_delivery is None:
        return "-", "-"
    rate, pitch = row.delivery.ratio_to(row.speaker_delivery)
    return f"{rate:.2f}", f"{pitch:.2f}"


def _real_reference(result: TtsBenchResult, name: str) -> Row | None:
    return next((r for r in result.rows if r.kind == "real" and name in r.sets), None)


def to_markdown(result: TtsBenchResult, command: str) -> str:
    ablation = len(result.variants) > 2  # more than the model against no post-filter
    counts = ", ".join(f"{n} {name}" for name, n in result.sentences.items())
    if result.skipped:
        counts += f" (the prompts after the first {result.skipped} held-out ones)"
    if result.hard_skipped:
        counts += f" (the hard sentences after the first {result.hard_skipped})"
    lines = [
        "## Text to speech (`metavoice bench tts`)"
        if not ablation
        else "## Text to speech: post-filter ablation (`metavoice bench tts --variants`)",
        "",
        f"Measured {result.date} with `{command}` on {result.threads} CPU threads; "
        f"model {result.model}; sentences: {counts}.",
        "",
        "Sets: *prompts* are held-out sentences of the prompt list the corpus is drawn from "
        "(real reference: the 40 VCTK dev recordings with their own texts); *hard* are the "
        "LibriSpeech test-other sentences (book text with names and rare words; real "
        "reference: their recordings, transcripts by Whisper base). Judges: NISQA-TTS "
        "naturalness (1-5; Mittag and Moeller 2020, weights CC BY-NC-SA, benchmark only), "
        "Whisper tiny.en WER, and voiced share, speaking rate (phones per second of speech) "
        "and pitch range (F0 standard deviation in semitones) from one DIO analysis of the "
        "audio. Rate and pitch ratios compare a voice made from a real speaker with 20 of "
        "that speaker's recordings.",
        "",
        "Post-filter " + ("variants" if ablation else "used") + ":",
        "",
    ]
    lines += [f"- `{label}`: {text}" for label, text in result.variants.items()]
    lines += [
        "",
        "| system | post-filter | NISQA prompts | NISQA hard | WER prompts | WER hard "
        "| voiced | phones/s | pitch range (st) | rate vs speaker | pitch range vs speaker |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        d = row.delivery
        rate, pitch = _ratios(row)
        lines.append(
            f"| {row.system} | {row.variant or '-'} | {_cell(row, 'prompts', 'mos')} "
            f"| {_cell(row, 'hard', 'mos')} | {_cell(row, 'prompts', 'wer')} "
            f"| {_cell(row, 'hard', 'wer')} "
            f"| {_pct(d.voiced_share) if d else '-'} | {f'{d.phones_per_second:.1f}' if d else '-'} "
            f"| {f'{d.pitch_range_st:.2f}' if d else '-'} | {rate} | {pitch} |"
        )
    own = [r for r in result.rows if r.speaker_delivery is not None]
    seen: set[str] = set()
    speaker_lines = []
    for row in own:
        if row.system in seen or row.speaker_delivery is None:
            continue
        seen.add(row.system)
        s = row.speaker_delivery
        speaker_lines.append(
            f"| {row.system} | {s.clips} | {_pct(s.voiced_share)} | {s.phones_per_second:.1f} "
            f"| {s.pitch_range_st:.2f} |"
        )
    if speaker_lines:
        lines += [
            "",
            "The real speakers behind the voices (their own recordings, same measures):",
            "",
            "| voice | recordings | voiced | phones/s | pitch range (st) |",
            "|---|---|---|---|---|",
            *speaker_lines,
        ]
    lines += _summary(result)
    lines += [
        "",
        "| speed | value | target |",
        "|---|---|---|",
        f"| real-time factor (synthesis time / audio time) | {result.real_time_factor:.3f} "
        "| 0.1 or lower |",
        f"| time to first audio, one 13-word sentence (median of 5) | "
        f"{result.first_audio_ms:.0f} ms | 200 ms |",
        f"| model load time | {result.load_seconds:.2f} s | 1 s |",
        f"| peak memory (process, before the judges load) | {result.peak_memory_mb:.0f} MB | |",
    ]
    return "\n".join(lines) + "\n"


def _summary(result: TtsBenchResult) -> list[str]:
    """Each variant's model voices on average, against the targets."""
    lines = [
        "",
        "| post-filter | voices | NISQA (target 3.0) | WER prompts / real | WER hard / real "
        "| rate vs speaker (0.9-1.1) | pitch range vs speaker (0.8-1.2) |",
        "|---|---|---|---|---|---|---|",
    ]
    real = {name: _real_reference(result, name) for name in SETS}
    for variant in result.variants:
        rows = [r for r in result.rows if r.kind == "model" and r.variant == variant]
        if not rows:
            continue
        cells = []
        for name in SETS:
            ref = real[name]
            if name not in result.sentences:
                cells.append("-")
                continue
            mean_wer = statistics.mean(r.sets[name].wer for r in rows if name in r.sets)
            if ref is not None and ref.sets[name].wer > 0:
                cells.append(f"{_pct(mean_wer)} = {mean_wer / ref.sets[name].wer:.1f}x")
            else:
                cells.append(_pct(mean_wer))
        ratios = [
            r.delivery.ratio_to(r.speaker_delivery)
            for r in rows
            if r.delivery is not None and r.speaker_delivery is not None
        ]
        rate = f"{statistics.mean(x for x, _ in ratios):.2f}" if ratios else "-"
        pitch = f"{statistics.mean(y for _, y in ratios):.2f}" if ratios else "-"
        lines.append(
            f"| {variant} | {len(rows)} | {statistics.mean(r.naturalness for r in rows):.2f} "
            f"| {cells[0]} | {cells[1]} | {rate} | {pitch} |"
        )
    return lines
