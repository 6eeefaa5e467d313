"""Real recorded speakers from the shared data folder (never the adaptation dev sets).

VCC2016: 10 speakers x 216 read sentences, transcripts made by speech
recognition (a consensus over speakers). LibriSpeech: 261 speakers, one to ten
clips each, transcripts by Whisper base. Both are marked ``machine``.

The 10 LibriSpeech test-other speakers are held out of all training: they are the
second dev set for adaptation and the hard sentence set of ``bench tts``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEV_SET = "vctk_4spk"
TEST_OTHER = "librispeech_test-other"  # held out of training


@dataclass(frozen=True)
class RealClip:
    path: Path
    text: str


@dataclass(frozen=True)
class RealSpeaker:
    source: str
    name: str
    sex: str | None
    clips: tuple[RealClip, ...]


def _read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle, delimiter="\t") if len(row) >= 3]


def vcc2016_speakers(shared: Path) -> list[RealSpeaker]:
    root = shared / "speech" / "vcc2016"
    meta = root / "metadata.tsv"
    if not meta.exists():
        return []
    clips: dict[str, list[RealClip]] = {}
    for relpath, speaker, text, *_ in _read_tsv(meta):
        clips.setdefault(speaker, []).append(RealClip(root / relpath, text))
    # Names are S/T (source/target) + F/M + number.
    return [
        RealSpeaker("vcc2016", name, name[1].lower() if len(name) > 1 else None, tuple(items))
        for name, items in sorted(clips.items())
    ]


def _libri_sexes(root: Path) -> dict[str, str]:
    sexes: dict[str, str] = {}
    for table in root.glob("*/SPEAKERS.TXT"):
        for line in table.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) >= 2 and not line.startswith(";") and parts[1] in {"F", "M"}:
                sexes[parts[0]] = parts[1].lower()
    return sexes


def librispeech_speakers(shared: Path) -> list[RealSpeaker]:
    root = shared / "speech" / "librispeech_untranscribed"
    meta = root / "metadata.whisper_base.tsv"
    if not meta.exists():
        return []
    sexes = _libri_sexes(root)
    clips: dict[str, list[RealClip]] = {}
    for relpath, speaker, text, *_ in _read_tsv(meta):
        if text.strip():
            clips.setdefault(speaker, []).append(RealClip(root / relpath, text.strip()))
    return [
        RealSpeaker("librispeech", name, sexes.get(name), tuple(items))
        for name, items in sorted(clips.items(), key=lambda kv: kv[0])
    ]


def voice_id(speaker: RealSpeaker) -> str:
    """The model voice made from this speaker (the corpus builder's naming)."""
    prefix = "libri" if speaker.source == "librispeech" else speaker.source
    return f"{prefix}-{speaker.name}"


def is_held_out(speaker: RealSpeaker) -> bool:
    """A speaker kept out of every training stage (a dev set for adaptation)."""
    return any(TEST_OTHER in clip.path.parts for clip in speaker.clips)


def held_out_voices(shared: Path) -> dict[str, str]:
    """The model voice each held-out speaker would have (:func:`voice_id`) -> the
    speaker's name: what to look for in a model built before the hold-out."""
    return {voice_id(s): s.name for s in librispeech_speakers(shared) if is_held_out(s)}


def training_speakers(shared: Path) -> list[RealSpeaker]:
    """The real speakers training may use: VCC2016 and LibriSpeech without the held-out
    test-other speakers."""
    speakers = vcc2016_speakers(shared) + librispeech_speakers(shared)
    return [s for s in speakers if not is_held_out(s)]
