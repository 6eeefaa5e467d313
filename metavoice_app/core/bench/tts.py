"""``metavoice bench tts``: how intelligible and how fast the speech engine is.

Intelligibility is the word error rate of an offline Whisper judge on held-out
sentences, in several of the model's voices, beside the same judge on flite and
festival renderings of the same sentences and on real recordings (the dev set).
Speed is measured on the CPU threads given: real-time factor, time to first
audio for a sentence, model load time and peak memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.bench.judge import WhisperJudge
from metavoice_app.core.bench.wer import word_error_rate
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.text.frontend import TextFrontend
from metavoice_app.core.train.corpus.build import load_sentences
from metavoice_app.core.train.corpus.engines import EngineVoice, engine_available, synthesize
from metavoice_app.core.train.corpus.store import Corpus

REFERENCE_VOICES = (
    EngineVoice("flite-slt", "flite", "slt"),
    EngineVoice("flite-awb", "flite", "awb"),
    EngineVoice("festival-kal", "festival", "voice_kal_diphone"),
)
FIRST_AUDIO_SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."

Progress = Callable[[str], None]


@dataclass
class TtsBenchConfig:
    model_dir: Path | None
    shared: Path
    sentences: int = 100
    voices: list[str] | None = None
    corpus: Path | None = None
    threads: int = 2
    device: str = "cpu"


@dataclass
class Row:
    system: str
    kind: str  # "model", "engine" or "real"
    utterances: int
    wer: float


@dataclass
class TtsBenchResult:
    rows: list[Row] = field(default_factory=list)
    real_time_factor: float = 0.0
    first_audio_ms: float = 0.0
    load_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    sentences: int = 0
    model: str = ""
    threads: int = 2
    date: str = ""


def held_out_sentences(shared: Path, count: int, corpus: Path | None) -> list[str]:
    """Sentences from the end of the shuffled prompt list, which the corpus builder (same
    seed, taking from the front) does not reach; any that a given corpus holds are dropped."""
    pool = load_sentences(shared / "text" / "vctk_prompts.txt", TextFrontend(), random.Random(0))
    seen: set[str] = set()
    if corpus is not None:
        seen = {u.text.lower() for s in Corpus(corpus).speakers() for u in s.utterances}
    picked = [s for s in reversed(pool) if s.lower() not in seen]
    return picked[:count]


def _pick_voices(engine: SpeechEngine, wanted: list[str] | None) -> list[str]:
    if wanted:
        return wanted
    ids = engine.voice_ids()
    chosen = [engine.info.default_voice]
    for prefix in ("vcc2016-SM1", "vcc2016-TM1", "flite-slt-00", "festival-ked-00", "libri-"):
        match = next((v for v in ids if v.startswith(prefix) and v not in chosen), None)
        if match:
            chosen.append(match)
        if len(chosen) == 4:
            break
    return chosen


def _dev_recordings(shared: Path) -> list[tuple[Path, str]]:
    root = shared / "speech" / "vctk_4spk"
    with (root / "metadata.tsv").open(encoding="utf-8") as handle:
        return [
            (root / row[0], row[2]) for row in csv.reader(handle, delimiter="\t") if len(row) >= 3
        ]


def run(config: TtsBenchConfig, progress: Progress = lambda _m: None) -> TtsBenchResult:
    torch.set_num_threads(config.threads)
    result = TtsBenchResult(threads=config.threads, date=dt.date.today().isoformat())
    texts = held_out_sentences(config.shared, config.sentences, config.corpus)
    result.sentences = len(texts)

    started = time.perf_counter()
    engine = SpeechEngine(config.model_dir, device=config.device)
    result.load_seconds = time.perf_counter() - started
    result.model = f"{engine.model_dir.name} ({engine.info.model_id[:12]})"
    engine.speak("Warm up.")  # lexicon and first-call costs are not per-sentence costs

    first = []
    for _ in range(5):
        t0 = time.perf_counter()
        engine.speak(FIRST_AUDIO_SENTENCE)
        first.append(time.perf_counter() - t0)
    result.first_audio_ms = 1000 * statistics.median(first)

    voices = _pick_voices(engine, config.voices)
    renders: dict[str, list[tuple[str, np.ndarray]]] = {}
    synth_seconds = audio_seconds = 0.0
    for voice in voices:
        progress(f"synthesising {len(texts)} sentences as {voice}")
        outputs = []
        for text in texts:
            speech = engine.speak(text, voice=voice)
            synth_seconds += speech.seconds_to_make
            audio_seconds += speech.duration
            outputs.append((text, speech.audio))
        renders[voice] = outputs
    result.real_time_factor = synth_seconds / max(audio_seconds, 1e-9)
    result.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    judge = WhisperJudge(config.threads)
    for voice, outputs in renders.items():
        progress(f"judging {voice}")
        pairs = [(text, judge.transcribe(audio)) for text, audio in outputs]
        result.rows.append(Row(voice, "model", len(pairs), word_error_rate(pairs)))
    for reference in REFERENCE_VOICES:
        if not engine_available(reference.engine):
            continue
        progress(f"judging {reference.name} on the same sentences")
        spoken = synthesize(reference, texts)
        pairs = [(text, judge.transcribe(s.wav)) for text, s in zip(texts, spoken, strict=True)]
        result.rows.append(Row(reference.name, "engine", len(pairs), word_error_rate(pairs)))
    progress("judging the real dev recordings")
    dev = _dev_recordings(config.shared)
    pairs = [(text, judge.transcribe(load_audio(path))) for path, text in dev]
    result.rows.append(
        Row("real recordings (VCTK dev speakers)", "real", len(pairs), word_error_rate(pairs))
    )
    return result


def to_markdown(result: TtsBenchResult, command: str) -> str:
    lines = [
        "## Text to speech (`metavoice bench tts`)",
        "",
        f"Measured {result.date} with `{command}` on {result.threads} CPU threads; "
        f"model {result.model}.",
        "",
        f"Intelligibility: word error rate of Whisper tiny.en (offline, greedy) on "
        f"{result.sentences} held-out sentences (not in the training corpus); the real "
        "recordings are the 40 VCTK dev utterances with their own texts.",
        "",
        "| system | kind | utterances | WER |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r.system} | {r.kind} | {r.utterances} | {100 * r.wer:.1f}% |" for r in result.rows
    ]
    real = [r.wer for r in result.rows if r.kind == "real"]
    model = [r.wer for r in result.rows if r.kind == "model"]
    if real and model and real[0] > 0:
        lines += [
            "",
            f"Model voices average {100 * statistics.mean(model):.1f}%, "
            f"{statistics.mean(model) / real[0]:.1f}x the real recordings "
            "(target: within 1.5x).",
        ]
    lines += [
        "",
        "| speed | value | target |",
        "|---|---|---|",
        f"| real-time factor (synthesis time / audio time) | {result.real_time_factor:.3f} "
        "| 0.05 or lower |",
        f"| time to first audio, one 13-word sentence (median of 5) | "
        f"{result.first_audio_ms:.0f} ms | 300 ms |",
        f"| model load time | {result.load_seconds:.2f} s | |",
        f"| peak memory (process, before the judge loads) | {result.peak_memory_mb:.0f} MB | |",
    ]
    return "\n".join(lines) + "\n"
