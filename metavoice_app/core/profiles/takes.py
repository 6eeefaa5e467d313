"""The recordings a voice was learned from, kept with it so it can be learned again.

A voice is tied to the speech model it was adapted on; when the model is retrained, the
voice is re-created from these takes (trimmed, levelled 16 kHz audio and the words said)
and its consent recording, without the person having to read the sentences again.

The same members serve both places takes are kept: the voice library's takes folder
(``.takes/<voice id>/``, one folder per voice, keyed by the voice's id so a rename never
separates them) and a ``.mvoice`` exported with its takes::

    takes.json     format version, each take's file and text, the consent file if any
    take01.flac    one take, 16 kHz mono (up to 50 of them)
    consent.wav    the consent statement as recorded, byte for byte (its fingerprint is
                   in the profile's consent record)

Takes arrive from other people like profiles do, so reading them trusts nothing: member
names are whitelisted, every member and the whole set are size-capped, and the audio
must decode to finite mono 16 kHz samples of a sane length.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from metavoice_app.core.atomic import atomic_write_bytes

FORMAT_VERSION = 1
INDEX = "takes.json"
CONSENT = "consent.wav"
TAKE_NAME = re.compile(r"^take(\d{2})\.flac$")
SAMPLE_RATE = 16000
MAX_TAKES = 50
MAX_TEXT_CHARS = 1000
MAX_TAKE_SECONDS = 120.0
MAX_INDEX_BYTES = 256 * 1024
MAX_TAKE_BYTES = 4 * 2**20
MAX_CONSENT_BYTES = 4 * 2**20
# Everything the takes add to a profile: the raised cap of a profile exported with them
MAX_TAKES_BYTES = 64 * 2**20


class TakesError(ValueError):
    """Kept takes cannot be used; the message says what is wrong in plain words."""


@dataclass
class StoredTake:
    text: str
    audio: np.ndarray  # 16 kHz float32 mono, trimmed and levelled as the voice learned it


@dataclass
class VoiceTakes:
    takes: list[StoredTake]
    consent_recording: bytes | None = None  # the consent statement's file, unchanged


def take_name(number: int) -> str:
    return f"take{number:02d}.flac"


def is_takes_member(name: str) -> bool:
    return name in (INDEX, CONSENT) or TAKE_NAME.match(name) is not None


def member_limit(name: str) -> int:
    if name == INDEX:
        return MAX_INDEX_BYTES
    return MAX_CONSENT_BYTES if name == CONSENT else MAX_TAKE_BYTES


def encode(takes: VoiceTakes) -> dict[str, bytes]:
    """The members that hold ``takes`` (checked against the same limits as on reading)."""
    if not 0 < len(takes.takes) <= MAX_TAKES:
        raise TakesError(f"a voice keeps 1 to {MAX_TAKES} takes, not {len(takes.takes)}")
    members: dict[str, bytes] = {}
    entries = []
    for number, take in enumerate(takes.takes, start=1):
        name = take_name(number)
        flac = io.BytesIO()
        audio = np.clip(np.asarray(take.audio, dtype=np.float32), -1.0, 1.0)
        sf.write(flac, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        members[name] = flac.getvalue()
        entries.append({"file": name, "text": take.text})
    if takes.consent_recording is not None:
        members[CONSENT] = takes.consent_recording
    index = {
        "format_version": FORMAT_VERSION,
        "takes": entries,
        "consent": CONSENT if takes.consent_recording is not None else None,
    }
    members[INDEX] = json.dumps(index, indent=1).encode("utf-8")
    _check_sizes(members)
    decode(members)  # what is written is what a reader accepts
    return members


def _check_sizes(members: dict[str, bytes]) -> None:
    for name, data in members.items():
        if len(data) > member_limit(name):
            raise TakesError(
                f"{name} is {len(data)} bytes, over its {member_limit(name)}-byte limit"
            )
    total = sum(len(data) for data in members.values())
    if total > MAX_TAKES_BYTES:
        raise TakesError(
            f"the takes are {total / 2**20:.1f} MB, over their {MAX_TAKES_BYTES // 2**20} MB limit"
        )


def decode(members: dict[str, bytes]) -> VoiceTakes:
    """The takes held in ``members`` (name to bytes, takes members only), validated."""
    _check_sizes(members)
    if INDEX not in members:
        raise TakesError(f"the takes have no {INDEX}")
    try:
        index = json.loads(members[INDEX].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TakesError(f"{INDEX} is not valid JSON") from exc
    if not isinstance(index, dict) or index.get("format_version") != FORMAT_VERSION:
        raise TakesError(f"{INDEX} is not a takes index this version reads")
    entries, consent = index.get("takes"), index.get("consent")
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_TAKES:
        raise TakesError(f"{INDEX} must list 1 to {MAX_TAKES} takes")
    if consent not in (None, CONSENT) or (consent is None) != (CONSENT not in members):
        raise TakesError(f"{INDEX} and the consent recording do not agree")
    takes, listed = [], set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise TakesError(f"{INDEX} holds a take that is not an object")
        name, text = entry.get("file"), entry.get("text")
        if not isinstance(name, str) or TAKE_NAME.match(name) is None or name in listed:
            raise TakesError(f"{INDEX} names an unexpected take file {name!r}")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise TakesError(f"{name}: its text must have 1 to {MAX_TEXT_CHARS} characters")
        if name not in members:
            raise TakesError(f"{name} is listed but missing")
        listed.add(name)
        takes.append(StoredTake(text, _audio(name, members[name])))
    unlisted = {n for n in members if TAKE_NAME.match(n)} - listed
    if unlisted:
        raise TakesError(f"{', '.join(sorted(unlisted))} not listed in {INDEX}")
    return VoiceTakes(takes, members.get(CONSENT))


def _audio(name: str, data: bytes) -> np.ndarray:
    try:
        audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise TakesError(f"{name}: the audio is damaged") from exc
    if audio.ndim != 1 or rate != SAMPLE_RATE:
        raise TakesError(f"{name}: a take must be mono at {SAMPLE_RATE} Hz")
    seconds = len(audio) / SAMPLE_RATE
    if not 0.1 <= seconds <= MAX_TAKE_SECONDS or not math.isfinite(float(np.abs(audio).sum())):
        raise TakesError(f"{name}: {seconds:.1f} s is not a take's length")
    return np.asarray(audio, dtype=np.float32)


def read_folder(folder: Path) -> VoiceTakes:
    """Takes kept in a folder; anything there besides takes members is refused."""
    members: dict[str, bytes] = {}
    try:
        for path in folder.iterdir():
            if not is_takes_member(path.name) or not path.is_file():
                raise TakesError(f"{folder.name} holds an unexpected file {path.name!r}")
            if path.stat().st_size > member_limit(path.name):
                raise TakesError(f"{path.name} in {folder.name} is too large")
            members[path.name] = path.read_bytes()
    except OSError as exc:
        raise TakesError(f"the takes in {folder} cannot be read ({exc})") from exc
    return decode(members)


def write_folder(folder: Path, takes: VoiceTakes) -> None:
    """Keep ``takes`` in ``folder``, all at once: they are written to a folder beside it,
    which then takes its place, so a crash leaves the old takes or the new, never a mix."""
    members = encode(takes)
    partial = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.mkdir(parents=True)
    try:
        for name, data in members.items():
            atomic_write_bytes(partial / name, data)
        if folder.exists():
            old = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.old")
            folder.replace(old)
            try:
                partial.replace(folder)
            except OSError:
                old.replace(folder)  # the earlier takes stay where they were
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            partial.replace(folder)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
