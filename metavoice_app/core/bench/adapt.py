"""``metavoice bench adapt``: few-shot adaptation on unseen real speakers, meta vs baseline.

The VCTK dev speakers (never trained on) each give 5 support recordings to
adapt on and the rest as queries. After 0, 5, 10, 20, 50 and 100 steps the
query sentences are synthesised in the adapted voice and compared with the
real query recordings: speaker similarity and identification by Resemblyzer
(an encoder no one here trained), spectral distortion and F0 error after DTW,
word error rate by the Whisper judge, naturalness by NISQA-TTS, speaking rate and pitch
range against the person's real queries (:mod:`metavoice_app.core.features.delivery`),
and adaptation wall time.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.adapt.clone import learn_voice
from metavoice_app.core.adapt.config import AdaptConfig, ParamSet
from metavoice_app.core.adapt.takes import Take, take_features
from metavoice_app.core.audio.checks import check_take
from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
from metavoice_app.core.bench.judge import JudgeUnavailableError, WhisperJudge
from metavoice_app.core.bench.naturalness import NaturalnessJudge
from metavoice_app.core.bench.statistics_voice import StatisticsVoice
from metavoice_app.core.bench.wer import word_error_rate
from metavoice_app.core.features import world
from metavoice_app.core.features.delivery import DeliverySummary, measure, summarise
from metavoice_app.core.features.warping import warping_path
from metavoice_app.core.model.folder import ModelFolder
from metavoice_app.core.synth.engine import SpeechEngine, VoiceHandle
from metavoice_app.core.text.frontend import TextFrontend
from metavoice_app.core.train.corpus.real import (
    held_out_voices,
    is_held_out,
    librispeech_speakers,
)

STEPS = (0, 5, 10, 20, 50, 100)
MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)


@dataclass
class Row:
    init: str
    adapts: str  # parameter set and update rule
    profile_kb: float  # adapted tensors as a profile stores them
    steps: int
    similarity: float
    identification: float
    mcd_db: float
    f0_rmse_cents: float
    wer: float
    seconds: float
    analysis_seconds: float  # of ``seconds``: analysing the takes (done while recording in the app)
    naturalness: float = float("nan")  # NISQA-TTS of the synthesised queries
    rate_ratio: float = float("nan")  # speaking rate of the clone / of the person
    pitch_ratio: float = float("nan")  # pitch range of the clone / of the person


class SpeakerJudge:
    """Resemblyzer's pretrained speaker encoder (it ships in its wheel)."""

    def __init__(self) -> None:
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder, preprocess_wav
        except ImportError as exc:
            raise JudgeUnavailableError(
                "the speaker judge needs the bench extra: pip install -e '.[bench]' (resemblyzer)"
            ) from exc
        self._encoder = VoiceEncoder("cpu", verbose=False)
        self._prep = preprocess_wav

    def embed(self, audio: np.ndarray) -> np.ndarray:
        return np.asarray(self._encoder.embed_utterance(self._prep(audio, source_sr=16000)))


def distortion(real: np.ndarray, synthetic: np.ndarray) -> tuple[float, float]:
    """(MCD in dB over envelope coefficients 1-39, F0 RMSE in cents) after DTW."""
    mcep = slice(1, world.N_MCEP)
    path = warping_path(real[:, mcep], synthetic[:, mcep])
    i, j = np.array(path).T
    diff = real[i, mcep] - synthetic[j, mcep]
    mcd = float(MCD_SCALE * np.mean(np.sqrt((diff**2).sum(1))))
    voiced = (real[i, world.VUV] > 0.5) & (synthetic[j, world.VUV] > 0.5)
    if not voiced.any():
        return mcd, float("nan")
    cents = 1200 / np.log(2) * (real[i, world.LF0] - synthetic[j, world.LF0])[voiced]
    return mcd, float(np.sqrt(np.mean(cents**2)))


DEV_SETS = {
    "vctk": "4 unseen VCTK dev speakers (p225-p228)",
    "test-other": "10 LibriSpeech test-other speakers (left out of the training corpus)",
}


def dev_recordings(shared: Path, dev_set: str = "vctk") -> dict[str, list[tuple[Path, str]]]:
    """A dev set's recordings and transcripts, by speaker, in name order: the 4 VCTK
    speakers, or the 10 LibriSpeech test-other speakers (10 clips each, machine
    transcripts), which the corpus builder leaves out of training."""
    rows: dict[str, list[tuple[Path, str]]] = {}
    if dev_set == "test-other":
        for person in librispeech_speakers(shared):
            if is_held_out(person):
                rows[person.name] = [(c.path, c.text) for c in person.clips]
    elif dev_set == "vctk":
        root = shared / "speech" / "vctk_4spk"
        with (root / "metadata.tsv").open(encoding="utf-8") as handle:
            for relpath, speaker, text in csv.reader(handle, delimiter="\t"):
                rows.setdefault(speaker, []).append((root / relpath, text))
    else:
        raise ValueError(f"unknown dev set {dev_set!r}; choose {', '.join(DEV_SETS)}")
    return {speaker: sorted(items) for speaker, items in sorted(rows.items())}


@dataclass(frozen=True)
class SeenSpeakers:
    """The dev speakers a model was trained on: its numbers there are not held out."""

    weights: tuple[str, ...]  # speakers with a voice among the model's trained voices
    memory: tuple[str, ...]  # speakers the voice memory was fitted on


def seen_speakers(model_dir: Path, shared: Path, dev_set: str) -> SeenSpeakers:
    """Which of a dev set's speakers a model folder was trained on.

    The corpus builder leaves the test-other speakers out, but a model built before that
    rule (or from another corpus) may hold them; VCTK was never a training source. Read
    from the folder's voice list, so it needs no corpus.
    """
    if dev_set != "test-other":
        return SeenSpeakers((), ())
    ids = held_out_voices(shared)
    info = ModelFolder(model_dir).read()
    memory = info.voice_memory.voices if info.voice_memory is not None else ()
    return SeenSpeakers(
        tuple(sorted(ids[v.id] for v in info.voices if v.id in ids)),
        tuple(sorted(ids[v] for v in memory if v in ids)),
    )


# speaker -> (support takes, (path, text) of each query recording)
DevSpeakers = dict[str, tuple[list[Take], list[tuple[Path, str]]]]


SUPPORT = 5  # recordings each dev speaker gives to learn from; the rest are queries


def dev_speakers(shared: Path, support: int, dev_set: str = "vctk") -> DevSpeakers:
    """Each speaker's first ``support`` recordings as takes and, whatever ``support``,
    the same queries (those after the first :data:`SUPPORT`), so runs with fewer takes
    are judged on the same sentences."""
    speakers = {}
    for speaker, items in dev_recordings(shared, dev_set).items():
        takes = []
        for path, text in items[:support]:
            audio = load_audio(path)
            takes.append(
                Take(path, text, normalize_loudness(trim_silence(audio)), check_take(audio))
            )
        speakers[speaker] = (takes, items[max(support, SUPPORT) :])
    return speakers


class DevJudges:
    """The judges and the real speakers' references for one dev set: each speaker's
    Resemblyzer centroid (for similarity and identification), WORLD features of each real
    query (for distortion), and their delivery (for rate and pitch-range ratios)."""

    def __init__(self, shared: Path, speakers: DevSpeakers, threads: int) -> None:
        self.speaker, self.whisper = SpeakerJudge(), WhisperJudge(threads)
        self.nisqa, self.frontend = NaturalnessJudge(shared), TextFrontend()
        self.real_features: dict[Path, np.ndarray] = {}
        self.centroids: dict[str, np.ndarray] = {}
        self.person: dict[str, DeliverySummary | None] = {}
        for name, (_, queries) in speakers.items():
            embeddings, delivered = [], []
            for path, text in queries:
                audio = load_audio(path)
                embeddings.append(self.speaker.embed(audio))
                self.real_features[path] = world.recording_features(trim_silence(audio))
                delivered.append(measure(audio, text, self.frontend))
            centroid = np.mean(embeddings, axis=0)
            self.centroids[name] = centroid / np.linalg.norm(centroid)
            self.person[name] = summarise(delivered)
        self.names = sorted(self.centroids)
        self.matrix = np.stack([self.centroids[n] for n in self.names])

    def judge(
        self,
        speak: Callable[[str], np.ndarray],
        speaker: str,
        queries: list[tuple[Path, str]],
        stats: dict[str, list[float]],
    ) -> list[tuple[str, str]]:
        """Speak every query of ``speaker`` with ``speak``, add each measure to ``stats``
        and return (text, Whisper's transcript) pairs for the word error rate."""
        clones, texts = [], []
        for path, text in queries:
            audio = speak(text)
            embedding = self.speaker.embed(audio)
            stats.setdefault("similarity", []).append(float(self.centroids[speaker] @ embedding))
            identified = self.names[int(np.argmax(self.matrix @ embedding))] == speaker
            stats.setdefault("identified", []).append(float(identified))
            mcd, f0 = distortion(self.real_features[path], world.recording_features(audio))
            stats.setdefault("mcd", []).append(mcd)
            if np.isfinite(f0):
                stats.setdefault("f0", []).append(f0)
            texts.append((text, self.whisper.transcribe(audio)))
            clones.append((text, audio))
        stats.setdefault("naturalness", []).extend(self.nisqa.score([a for _, a in clones]))
        clone = summarise([measure(a, t, self.frontend) for t, a in clones])
        real = self.person[speaker]
        if clone is not None and real is not None:
            rate, pitch = clone.ratio_to(real)
            stats.setdefault("rate", []).append(rate)
            stats.setdefault("pitch", []).append(pitch)
        return texts


def summary_row(
    label: str,
    adapts: str,
    profile_kb: float,
    steps: int,
    stats: dict[str, list[float]],
    texts: list[tuple[str, str]],
) -> Row:
    """One table row: every measure averaged over the dev speakers' queries."""
    return Row(
        label,
        adapts,
        profile_kb,
        steps,
        statistics.mean(stats["similarity"]),
        statistics.mean(stats["identified"]),
        statistics.mean(stats["mcd"]),
        statistics.mean(stats.get("f0", [float("nan")])),
        word_error_rate(texts),
        statistics.mean(stats["seconds"]),
        statistics.mean(stats["analysis"]),
        statistics.mean(stats["naturalness"]),
        statistics.mean(stats.get("rate", [float("nan")])),
        statistics.mean(stats.get("pitch", [float("nan")])),
    )


STATISTICS_BASELINE = "statistics baseline"


def statistics_baseline_row(
    engine: SpeechEngine, speakers: DevSpeakers, judges: DevJudges, progress: Callable[[str], None]
) -> Row:
    """The non-learned baseline (:mod:`.statistics_voice`) judged like the clones."""
    stats: dict[str, list[float]] = {}
    texts: list[tuple[str, str]] = []
    for speaker, (takes, queries) in speakers.items():
        progress(f"{STATISTICS_BASELINE}: fitting to {speaker}")
        started = time.perf_counter()
        features = [take_features(take) for take in takes]
        analysis = time.perf_counter() - started
        voice = StatisticsVoice.fit(engine, takes, features)
        stats.setdefault("seconds", []).append(analysis + voice.seconds)
        stats.setdefault("analysis", []).append(analysis)
        texts += judges.judge(voice.speak, speaker, queries, stats)
    kb = (2 * world.N_MCEP + 3) * 4 / 1024  # the statistics and the rate, as float32
    return summary_row(
        STATISTICS_BASELINE, f"none ({engine.info.default_voice})", kb, 0, stats, texts
    )


def run(
    models: dict[str, Path],
    shared: Path,
    steps: tuple[int, ...] = STEPS,
    support: int = SUPPORT,
    params: tuple[ParamSet | None, ...] = (None,),
    threads: int = 2,
    progress: Callable[[str], None] = lambda _m: None,
    holdout: bool = False,
    dev_set: str = "vctk",
    baseline: bool = True,
    exemplars: tuple[bool, ...] = (True,),
) -> list[Row]:
    """Adapt each model to each dev speaker and judge the voice after each of ``steps``,
    with and/or without exemplar refinement as ``exemplars`` asks; with ``baseline``, the
    statistics baseline on the first model comes first.

    ``holdout`` measures the wizard's recipe instead: the last take held out, early
    stopping on it, and the voice it keeps judged, adapting once for each of ``steps``
    as the most it may take.
    """
    torch.set_num_threads(threads)
    speakers = dev_speakers(shared, support, dev_set)
    judges = DevJudges(shared, speakers, threads)
    rows = []
    runs = [(m, p, e) for m in models.items() for p in params for e in exemplars]
    for index, ((name, model_dir), preset, refined) in enumerate(runs):
        label = name if len(params) == 1 else f"{name}, {preset or 'default'}"
        if len(exemplars) > 1:
            label += f", exemplars {'on' if refined else 'off'}"
        engine = SpeechEngine(model_dir, device="cpu")
        if baseline and index == 0:
            rows.append(statistics_baseline_row(engine, speakers, judges, progress))
        per_step: dict[int, dict[str, list[float]]] = {s: {} for s in steps}
        texts: dict[int, list[tuple[str, str]]] = {s: [] for s in steps}
        adapts, profile_kb = "", 0.0
        for speaker, (takes, queries) in speakers.items():
            # snapshots of one run, or (the wizard's recipe) one run per step budget
            plans = [(most, ()) for most in steps] if holdout else [(max(steps), steps)]
            for most, snapshot_steps in plans:
                progress(f"{label}: adapting to {speaker} ({most} steps at most)")
                voice = learn_voice(
                    engine,
                    takes,
                    AdaptConfig(steps=most, params=preset, holdout=holdout, exemplars=refined),
                    snapshot_steps=snapshot_steps,
                )
                judged = {most: (voice.tensors, voice.seconds)} if holdout else voice.snapshots
                adapts = f"{voice.recipe['params']}, {voice.recipe['optimizer']}"
                if refined:
                    adapts += ", exemplars"
                profile_kb = sum(t.numel() * t.element_size() for t in voice.tensors.values())
                profile_kb /= 1024
                for step, (tensors, seconds) in sorted(judged.items()):
                    handle = engine.voice_from_tensors(speaker, tensors, voice.delivery)
                    stats = per_step[step]
                    stats.setdefault("seconds", []).append(seconds)
                    stats.setdefault("analysis", []).append(voice.analysis_seconds)
                    texts[step] += judges.judge(
                        functools.partial(speak_audio, engine, handle), speaker, queries, stats
                    )
        rows += [
            summary_row(label, adapts, profile_kb, step, per_step[step], texts[step])
            for step in steps
        ]
    return rows


def speak_audio(engine: SpeechEngine, handle: VoiceHandle, text: str) -> np.ndarray:
    return engine.speak(text, voice=handle).audio


def plot(rows: list[Row], path: Path, reference: float | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4), dpi=120)
    for label in dict.fromkeys(r.init for r in rows):
        mine = [r for r in rows if r.init == label]
        if label == STATISTICS_BASELINE:  # learns nothing: one level at every step count
            axis.axhline(mine[0].similarity, linestyle=":", color="black", label=label)
            continue
        axis.plot([r.steps for r in mine], [r.similarity for r in mine], marker="o", label=label)
    if reference is not None:
        axis.axhline(reference, linestyle="--", color="gray", label="real, same speaker")
    axis.set_xscale("symlog", linthresh=5)
    ticks = sorted({r.steps for r in rows})
    axis.set_xticks(ticks, [str(t) for t in ticks])
    axis.set_xlabel("adaptation steps")
    axis.set_ylabel("speaker similarity (Resemblyzer cosine)")
    axis.set_title("Few-shot adaptation on unseen speakers (5 takes)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def to_markdown(
    rows: list[Row],
    command: str,
    plot_name: str | None,
    threads: int,
    holdout: bool = False,
    dev_set: str = "vctk",
    seen: dict[str, SeenSpeakers] | None = None,
    support: int = SUPPORT,
) -> str:
    """The report; ``seen`` (by model label) says plainly where a dev set is not held out."""
    compares_params = len({r.adapts for r in rows}) > len({r.init.split(",")[0] for r in rows})
    if holdout:
        title = "## The wizard's recipe: one take held out (`metavoice bench adapt --holdout`)"
        takes = (
            f"{support} recordings each ({support - 1} adapted on, the last held out to stop "
            "early and choose the voice kept, as the wizard does; steps: the most it may take)"
        )
    else:
        title = (
            "## What to adapt: parameter sets compared (`metavoice bench adapt --params ...`)"
            if compares_params
            else "## Few-shot adaptation (`metavoice bench adapt`)"
        )
        takes = f"{support} support recording{'s' if support != 1 else ''} each"
    lines = [
        title,
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}` on {threads} CPU threads. "
        f"{DEV_SETS[dev_set]}, {takes}, recordings {SUPPORT + 1} on as queries. "
        "Similarity: cosine of Resemblyzer embeddings of each synthesised query and the real "
        "speaker's centroid; identification among the dev set's speakers; MCD over WORLD coded "
        "envelope coefficients 1-39 and F0 RMSE after DTW against the real queries; WER by "
        "Whisper tiny.en; naturalness by NISQA-TTS; rate and pitch range: the clone's speaking "
        "rate and F0 spread over the person's on the same query sentences (target 0.9-1.1 "
        "and 0.8-1.2). Time: from the start to that step, including the WORLD analysis of "
        "the takes, which the wizard does while the person records (so there the wait is the "
        "time less the analysis). The statistics baseline learns nothing: the default voice "
        "with the mean and spread of each envelope coefficient and of log-F0, and its "
        "speaking rate, moved to the takes'.",
        "",
    ]
    for label, known in (seen or {}).items():
        if known.weights or known.memory:
            lines += [
                f"**Not held out for {label}:** its weights were trained on "
                f"{len(known.weights)} of these speakers ({', '.join(known.weights) or '-'}) "
                f"and its voice memory fitted on {len(known.memory)} "
                f"({', '.join(known.memory) or '-'}).",
                "",
            ]
    lines += [
        "| init | adapts | profile (KB) | steps | similarity | identification | MCD (dB) | "
        "F0 RMSE (cents) | WER | NISQA | rate | pitch range | time (s) "
        "| of which take analysis (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.init} | {r.adapts} | {r.profile_kb:.{1 if r.profile_kb < 10 else 0}f} | "
        f"{r.steps} | {r.similarity:.3f} | "
        f"{100 * r.identification:.0f}% | {r.mcd_db:.2f} | {r.f0_rmse_cents:.0f} | "
        f"{100 * r.wer:.1f}% | {r.naturalness:.2f} | {r.rate_ratio:.2f} | {r.pitch_ratio:.2f} | "
        f"{r.seconds:.1f} | {r.analysis_seconds:.1f} |"
        for r in rows
    ]
    if plot_name is not None:
        lines += ["", f"![similarity vs steps]({plot_name})"]
    return "\n".join(lines) + "\n"
