"""Reading a folder of recordings with their transcripts, checking each take.

A folder holds ``*.wav``/``*.flac`` files with same-stem ``*.txt`` transcripts,
or a ``metadata.tsv`` (relative path, speaker, text). Every take that cannot
be used is reported with its reason; the rest are trimmed and levelled.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metavoice_app.core.atomic import atomic_open
from metavoice_app.core.audio.checks import TakeReport, check_take
from metavoice_app.core.audio.io import AudioFileError, load_audio
from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
from metavoice_app.core.features import world

AUDIO_SUFFIXES = (".wav", ".flac")
MAX_TAKES = 50
LOOKED_FOR = (
    "*.wav or *.flac recordings, each with a transcript in a .txt file of the same name, "
    "or a metadata.tsv listing them (relative path, speaker, text)"
)


@dataclass
class Take:
    path: Path
    text: str
    audio: np.ndarray  # trimmed, levelled, 16 kHz
    report: TakeReport
    # its WORLD features once analysed (by the take checks), so adaptation does not
    # analyse it a second time
    features: np.ndarray | None = None


@dataclass
class Rejected:
    path: Path
    reason: str


def _pairs(folder: Path) -> list[tuple[Path, str | None]]:
    meta = folder / "metadata.tsv"
    if meta.exists():
        with meta.open(encoding="utf-8", newline="") as handle:
            rows = [r for r in csv.reader(handle, delimiter="\t") if r and not r[0].startswith("#")]
        return [(folder / r[0], r[2] if len(r) >= 3 else None) for r in rows]
    pairs = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        text_file = path.with_suffix(".txt")
        text = text_file.read_text(encoding="utf-8").strip() if text_file.exists() else None
        pairs.append((path, text))
    return pairs


def load_takes(folder: Path) -> tuple[list[Take], list[Rejected]]:
    """The usable takes in ``folder`` and the rejected ones with their reasons; a folder
    with nothing to read is an error that says what was looked for."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    pairs = _pairs(folder)
    if not pairs:
        raise FileNotFoundError(f"found no recordings in {folder}: looked for {LOOKED_FOR}")
    takes: list[Take] = []
    rejected: list[Rejected] = []
    for path, text in pairs[:MAX_TAKES]:
        if not text:
            rejected.append(
                Rejected(
                    path, "no transcript (add a .txt file with the same name, or a metadata.tsv)"
                )
            )
            continue
        try:
            audio = load_audio(path)
        except (AudioFileError, FileNotFoundError) as exc:
            rejected.append(Rejected(path, str(exc)))
            continue
        report = check_take(audio)
        if not report.ok:
            rejected.append(Rejected(path, " ".join(report.problems)))
            continue
        takes.append(Take(path, text, normalize_loudness(trim_silence(audio)), report))
    return takes, rejected


def features_path(audio_path: Path) -> Path:
    return audio_path.with_name(audio_path.name + ".features.npy")


def take_features(take: Take, cache: bool = False) -> np.ndarray:
    """WORLD features of a take; with ``cache``, kept beside its file and reused.

    Harvest F0 is the slow part of preparing takes; the wizard computes and caches
    each take's features as it is accepted (in the app's own session folder), so
    adaptation later finds them ready. Folders the user owns are never written to.
    """
    if take.features is not None:
        return take.features
    if not cache:
        return world.recording_features(take.audio)
    cached_file = features_path(take.path)
    try:
        if cached_file.exists() and cached_file.stat().st_mtime >= take.path.stat().st_mtime:
            cached = np.load(cached_file, allow_pickle=False)
            if cached.ndim == 2 and cached.shape[1] == world.FEATURE_DIM:
                return cached
    except (OSError, ValueError):
        pass  # a damaged cache is simply recomputed
    features = world.recording_features(take.audio)
    try:
        with atomic_open(cached_file) as handle:
            np.save(handle, features, allow_pickle=False)
    except OSError:
        pass  # a read-only folder: nothing cached, nothing lost
    return features


def prepare_take(path: Path, text: str) -> Take:
    """Load, trim and level one recording (already known to be usable)."""
    audio = load_audio(path)
    return Take(path, text, normalize_loudness(trim_silence(audio)), check_take(audio))
