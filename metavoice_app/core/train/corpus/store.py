"""The corpus on disk (format documented in docs/corpus.md).

    CORPUS/corpus.json                  format version, feature layout, phone set
    CORPUS/speakers/<speaker>.json      a speaker and its utterances (written last)
    CORPUS/features/<speaker>.safetensors
                                        per utterance: "<utt>" float16 (frames, 43)

A speaker counts as built only once its JSON exists; both files are written
atomically, so an interrupted build resumes at the first unfinished speaker.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save

from metavoice_app.core.atomic import atomic_write_bytes, atomic_write_text
from metavoice_app.core.features.world import (
    FEATURE_DIM,
    FEATURE_LAYOUT,
    FRAME_PERIOD_MS,
    SAMPLE_RATE,
)
from metavoice_app.core.text.phones import PHONES

CORPUS_FORMAT = 1
# Sources whose long clips are stored whole and cut at pauses later (`train split`).
SPLIT_SOURCES = ("librispeech",)


@dataclass
class Utterance:
    id: str
    text: str
    phones: list[str]
    n_frames: int
    transcript: str  # "given" (the text was spoken from it) or "machine" (ASR-made)
    ref_durations: list[int] | None = None  # engine timings, in frames per phone
    ref_agreement: float | None = None  # share of our phones the engine also said
    source_file: str | None = None
    aligned_durations: list[int] | None = None  # forced alignment, frames per phone
    aligned_by: str | None = None  # id of the model whose aligner made them


@dataclass
class Speaker:
    id: str
    source: str  # flite, festival, espeak, vcc2016, librispeech
    voice: str  # the engine voice or the real speaker it derives from
    real: bool  # recorded by a person (possibly transformed)
    transform: dict[str, float] = field(default_factory=dict)
    sex: str | None = None
    utterances: list[Utterance] = field(default_factory=list)
    split_by: str | None = None  # id of the aligner model that split long clips
    dropped: dict[str, str] = field(default_factory=dict)  # utterance id -> why

    @property
    def n_frames(self) -> int:
        return sum(u.n_frames for u in self.utterances)

    @property
    def awaits_split(self) -> bool:
        """Stored as whole long clips that `train split` has not cut yet."""
        return self.source in SPLIT_SOURCES and self.split_by is None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Speaker:
        utterances = [Utterance(**u) for u in data.pop("utterances")]
        return cls(**data, utterances=utterances)


class CorpusError(RuntimeError):
    """The corpus folder is missing, of another format, or damaged."""


class Corpus:
    """Read and write a corpus folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.speakers_dir = root / "speakers"
        self.features_dir = root / "features"

    def create(self) -> None:
        self.speakers_dir.mkdir(parents=True, exist_ok=True)
        self.features_dir.mkdir(parents=True, exist_ok=True)
        header = {
            "format": CORPUS_FORMAT,
            "sample_rate": SAMPLE_RATE,
            "frame_period_ms": FRAME_PERIOD_MS,
            "feature_dim": FEATURE_DIM,
            "feature_layout": FEATURE_LAYOUT,
            "phones": list(PHONES),
        }
        meta = self.root / "corpus.json"
        if meta.exists():
            self._check_header(json.loads(meta.read_text(encoding="utf-8")), header)
        else:
            atomic_write_text(meta, json.dumps(header, indent=2) + "\n")

    @staticmethod
    def _check_header(found: dict[str, Any], expected: dict[str, Any]) -> None:
        for key, value in expected.items():
            if found.get(key) != value:
                raise CorpusError(f"corpus was built with a different {key}; rebuild it")

    def has_speaker(self, speaker_id: str) -> bool:
        return (self.speakers_dir / f"{speaker_id}.json").exists()

    def write_speaker(self, speaker: Speaker, features: dict[str, np.ndarray]) -> None:
        missing = {u.id for u in speaker.utterances} - set(features)
        if missing:
            raise CorpusError(f"{speaker.id}: no features for {sorted(missing)[:3]}")
        tensors = {
            key: np.ascontiguousarray(value, dtype=np.float16) for key, value in features.items()
        }
        atomic_write_bytes(self.features_dir / f"{speaker.id}.safetensors", save(tensors))
        self._write_record(speaker)

    def update_speaker(self, speaker: Speaker) -> None:
        """Rewrite a built speaker's record (labels, alignments); its features stay."""
        if not self.has_speaker(speaker.id):
            raise CorpusError(f"{speaker.id} is not in the corpus")
        self._write_record(speaker)

    def _write_record(self, speaker: Speaker) -> None:
        """The speaker's JSON, written last and atomically: it is what marks a speaker built."""
        atomic_write_text(
            self.speakers_dir / f"{speaker.id}.json", json.dumps(asdict(speaker), indent=1) + "\n"
        )

    def remove_speaker(self, speaker_id: str) -> None:
        """Forget a speaker (its JSON goes first, so a crash leaves no half speaker)."""
        (self.speakers_dir / f"{speaker_id}.json").unlink(missing_ok=True)
        (self.features_dir / f"{speaker_id}.safetensors").unlink(missing_ok=True)

    def speakers(self) -> list[Speaker]:
        meta = self.root / "corpus.json"
        if not meta.exists():
            raise CorpusError(f"{self.root} is not a corpus folder (no corpus.json)")
        header = json.loads(meta.read_text(encoding="utf-8"))
        if header.get("format") != CORPUS_FORMAT:
            raise CorpusError(f"corpus format {header.get('format')} is not {CORPUS_FORMAT}")
        return [
            Speaker.from_dict(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(self.speakers_dir.glob("*.json"))
        ]

    def features(self, speaker_id: str) -> dict[str, np.ndarray]:
        return load_file(str(self.features_dir / f"{speaker_id}.safetensors"))
