"""``metavoice bench align``: the aligner's phone-boundary error against true timings.

Synthetic corpus utterances carry the engine's own phone timings; where the
engine said exactly our phones, those are ground truth for the boundaries.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.features.world import FRAME_PERIOD_MS
from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.train.corpus.align import align_utterance
from metavoice_app.core.train.corpus.store import Corpus


@dataclass
class AlignBenchResult:
    utterances: int
    boundaries: int
    mean_error_ms: float
    median_error_ms: float
    within_20ms: float
    within_50ms: float
    by_source: dict[str, float]
    model: str
    date: str
    sources: tuple[str, ...] = ()


def run(
    model_dir: Path,
    corpus_dir: Path,
    utterances: int = 200,
    seed: int = 0,
    threads: int = 2,
    sources: tuple[str, ...] = (),
) -> AlignBenchResult:
    """``sources`` limits the test to speakers of those sources or voices (e.g. ones the
    aligner was trained without)."""
    torch.set_num_threads(threads)
    model, info = load_model(model_dir)
    corpus = Corpus(corpus_dir)
    candidates = [
        (s, u)
        for s in corpus.speakers()
        if not sources or s.source in sources or s.voice in sources
        for u in s.utterances
        if u.ref_durations is not None and u.ref_agreement == 1.0
    ]
    if not candidates:
        wanted = f" of {', '.join(sources)}" if sources else ""
        raise ValueError(f"the corpus has no utterances{wanted} with exact engine timings")
    random.Random(seed).shuffle(candidates)
    picked = candidates[:utterances]
    errors: list[float] = []
    per_source: dict[str, list[float]] = {}
    cache: dict[str, dict[str, np.ndarray]] = {}
    for speaker, utt in picked:
        feats = cache.setdefault(speaker.id, corpus.features(speaker.id))[utt.id]
        durations, _ = align_utterance(model, utt, feats)
        found = np.cumsum(durations)[:-1]
        truth = np.cumsum(np.array(utt.ref_durations))[:-1]
        diff = list(np.abs(found - truth) * FRAME_PERIOD_MS)
        errors += diff
        per_source.setdefault(speaker.source, []).extend(diff)
    array = np.array(errors)
    return AlignBenchResult(
        utterances=len(picked),
        boundaries=len(errors),
        mean_error_ms=float(array.mean()),
        median_error_ms=float(np.median(array)),
        within_20ms=float((array <= 20).mean()),
        within_50ms=float((array <= 50).mean()),
        by_source={k: statistics.mean(v) for k, v in sorted(per_source.items())},
        model=f"{model_dir.name} ({info.model_id[:12]})",
        date=dt.date.today().isoformat(),
        sources=sources,
    )


def to_markdown(result: AlignBenchResult, command: str) -> str:
    lines = [
        "## Forced aligner (`metavoice bench align`)",
        "",
        f"Measured {result.date} with `{command}`; model {result.model}. Phone boundaries "
        f"found by the model's aligner (monotonic alignment search through its "
        f"phone classifier's scores) against the engines' own timings, on "
        f"{result.utterances} synthetic corpus utterances"
        f"{' of ' + ', '.join(result.sources) if result.sources else ''} whose engine phones "
        f"match the labels exactly "
        f"({result.boundaries} boundaries, 10 ms frames).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| mean boundary error | {result.mean_error_ms:.1f} ms |",
        f"| median boundary error | {result.median_error_ms:.1f} ms |",
        f"| boundaries within 20 ms | {100 * result.within_20ms:.1f}% |",
        f"| boundaries within 50 ms | {100 * result.within_50ms:.1f}% |",
    ]
    lines += [
        f"| mean error, {source} voices | {value:.1f} ms |"
        for source, value in result.by_source.items()
    ]
    return "\n".join(lines) + "\n"
