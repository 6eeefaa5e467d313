"""``metavoice bench dub``: rendering speed and timing accuracy of dubbing.

A subtitle track of about ten minutes is made from held-out sentences, each
given a slot of natural reading length. The renderer's speed is timed, and
each cue's timing error is measured where it matters to a viewer: from the
cue's start time to the first audible speech in the rendered track.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.audio.prep import frame_energy_db
from metavoice_app.core.dubbing.cues import Cue
from metavoice_app.core.dubbing.render import render
from metavoice_app.core.synth.engine import SpeechEngine, VoiceHandle
from metavoice_app.core.text.frontend import TextFrontend
from metavoice_app.core.train.corpus.build import load_sentences

WORDS_PER_SECOND = 2.6
GAP_S = 0.4


@dataclass
class DubBenchResult:
    cues: int
    timeline_minutes: float
    render_seconds: float
    real_time_factor: float
    mean_start_error_ms: float
    p95_start_error_ms: float
    fitted_share: float
    mean_speed: float
    model: str
    threads: int
    date: str


def make_cues(sentences: list[str], minutes: float) -> list[Cue]:
    cues: list[Cue] = []
    clock = 1.0
    for sentence in sentences:
        slot = len(sentence.split()) / WORDS_PER_SECOND + 0.4
        cues.append(Cue(len(cues) + 1, sentence, clock, clock + slot))
        clock += slot + GAP_S
        if clock > minutes * 60:
            break
    return cues


def onset(audio: np.ndarray, rate: int) -> float:
    """Seconds to the first 10 ms frame within 30 dB of the clip's loudest frame."""
    levels = frame_energy_db(audio, rate // 100)
    loud = np.flatnonzero(levels > levels.max() - 30.0)
    return float(loud[0]) * 0.01 if len(loud) else 0.0


def run(
    model_dir: Path | None, shared: Path, minutes: float = 10.0, threads: int = 2, seed: int = 0
) -> DubBenchResult:
    torch.set_num_threads(threads)
    engine = SpeechEngine(model_dir, device="cpu")
    pool = load_sentences(shared / "text" / "vctk_prompts.txt", TextFrontend(), random.Random(seed))
    cues = make_cues(list(reversed(pool)), minutes)
    voices: dict[str | None, VoiceHandle] = {None: engine.voice()}
    engine.speak("Warm up.")
    started = time.perf_counter()
    result = render(cues, engine, voices)
    seconds = time.perf_counter() - started
    rate = result.sample_rate
    errors = []
    for cue in result.cues:
        start = round(cue.start * rate)
        window = result.track[start : start + len(cue.audio)]
        errors.append(1000 * onset(window, rate))
    timeline = len(result.track) / rate
    return DubBenchResult(
        cues=len(cues),
        timeline_minutes=timeline / 60,
        render_seconds=seconds,
        real_time_factor=seconds / timeline,
        mean_start_error_ms=statistics.mean(errors),
        p95_start_error_ms=float(np.percentile(errors, 95)),
        fitted_share=1 - len(result.overflowing) / len(result.cues),
        mean_speed=statistics.mean(c.speed for c in result.cues),
        model=f"{engine.model_dir.name} ({engine.info.model_id[:12]})",
        threads=threads,
        date=dt.date.today().isoformat(),
    )


def to_markdown(result: DubBenchResult, command: str) -> str:
    return (
        "\n".join(
            [
                "## Dubbing (`metavoice bench dub`)",
                "",
                f"Measured {result.date} with `{command}` on {result.threads} CPU threads; model "
                f"{result.model}. A {result.timeline_minutes:.1f}-minute subtitle track of "
                f"{result.cues} held-out sentences, each in a slot of natural reading length "
                f"({WORDS_PER_SECOND} words/s + 0.4 s), rendered in the default voice.",
                "",
                "| measure | value |",
                "|---|---|",
                f"| render time | {result.render_seconds:.1f} s |",
                f"| real-time factor | {result.real_time_factor:.3f} |",
                f"| cue start error: cue start to first audible speech, mean | "
                f"{result.mean_start_error_ms:.0f} ms |",
                f"| cue start error, 95th percentile | {result.p95_start_error_ms:.0f} ms |",
                f"| cues that fit their slot | {100 * result.fitted_share:.1f}% |",
                f"| mean speed factor applied | {result.mean_speed:.2f} |",
            ]
        )
        + "\n"
    )
