"""Reading SRT, WebVTT and plain scripts into cues.

Every format may start a cue's text with ``[voice name]`` to switch voices.
Problems are collected with their line numbers and reported together, so a
user can fix a file in one pass; nothing in a malformed file crashes the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 5 * 2**20
MAX_CUES = 5000
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_VOICE = re.compile(r"^\s*\[([^\]]{1,80})\]\s*(.*)$", re.DOTALL)
_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")


class SubtitleError(ValueError):
    """The file has problems; ``problems`` lists them as "line N: what is wrong"."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(problems[:20])
        more = f"\n…and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{source} has {len(problems)} problem(s):\n{shown}{more}")


@dataclass
class Cue:
    number: int
    text: str
    start: float | None = None  # seconds; None in a plain script
    end: float | None = None
    voice: str | None = None
    line: int = 0

    @property
    def slot(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, millis = groups
    return (
        int(hours or 0) * 3600
        + int(minutes or 0) * 60
        + int(seconds or 0)
        + int((millis or "0").ljust(3, "0")) / 1000
    )


def _split_voice(text: str) -> tuple[str | None, str]:
    match = _VOICE.match(text)
    return (match.group(1).strip(), match.group(2).strip()) if match else (None, text.strip())


def _clean(text: str) -> str:
    return " ".join(_TAGS.sub("", text).split())


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks, each with its first line's number (1-based)."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _timed(blocks: list[tuple[int, list[str]]], vtt: bool) -> tuple[list[Cue], list[str]]:
    cues: list[Cue] = []
    problems: list[str] = []
    for first, block in blocks:
        timing_at = next((i for i, line in enumerate(block) if "-->" in line), None)
        if timing_at is None:
            if vtt and block[0].startswith(("NOTE", "STYLE", "REGION")):
                continue
            problems.append(f"line {first}: no timing line (00:00:01,000 --> 00:00:02,000)")
            continue
        if timing_at > 1 or (not vtt and timing_at == 1 and not block[0].strip().isdigit()):
            problems.append(f"line {first}: a cue starts with a number, then its timing")
            continue
        number_line = first + timing_at
        match = _TIMING.match(block[timing_at])
        if match is None:
            problems.append(f"line {number_line}: cannot read the timing {block[timing_at]!r}")
            continue
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        if end <= start:
            problems.append(f"line {number_line}: the cue ends before it starts")
            continue
        if cues and cues[-1].start is not None and start < cues[-1].start:
            problems.append(f"line {number_line}: cues are out of order")
        voice, text = _split_voice("\n".join(block[timing_at + 1 :]))
        text = _clean(text)
        if not text:
            problems.append(f"line {number_line}: the cue has no text")
            continue
        cues.append(Cue(len(cues) + 1, text, start, end, voice, number_line))
    return cues, problems


def parse(text: str, source: str = "the file", kind: str | None = None) -> list[Cue]:
    """Cues from SRT, WebVTT or a plain script (one cue per line); ``kind`` overrides
    the detection (``srt``, ``vtt`` or ``script``)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if kind is None:
        if lines and lines[0].startswith("WEBVTT"):
            kind = "vtt"
        elif any("-->" in line for line in lines[:50]):
            kind = "srt"
        else:
            kind = "script"
    problems: list[str] = []
    if kind == "vtt":
        if not lines or not lines[0].startswith("WEBVTT"):
            problems.append("line 1: a WebVTT file starts with WEBVTT")
        cues, more = _timed(_blocks(lines[1:]), vtt=True)
        for cue in cues:
            cue.line += 1
        problems += [
            re.sub(r"^line (\d+)", lambda m: f"line {int(m.group(1)) + 1}", p) for p in more
        ]
    elif kind == "srt":
        cues, more = _timed(_blocks(lines), vtt=False)
        problems += more
    else:
        cues = []
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            voice, spoken = _split_voice(line)
            if not _clean(spoken):
                problems.append(f"line {number}: a voice tag with no text")
                continue
            cues.append(Cue(len(cues) + 1, _clean(spoken), voice=voice, line=number))
    if not cues and not problems:
        problems.append("line 1: the file holds no cues")
    if len(cues) > MAX_CUES:
        problems.append(f"line {cues[MAX_CUES].line}: more than {MAX_CUES} cues")
    if problems:
        raise SubtitleError(source, problems)
    return cues


def read_cues(path: Path) -> list[Cue]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SubtitleError(
                path.name,
                [
                    f"line 1: the file is {size // 2**20} MB; "
                    f"the limit is {MAX_FILE_BYTES // 2**20} MB"
                ],
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SubtitleError(path.name, [f"line 1: cannot be read ({exc})"]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    suffix = path.suffix.lower()
    kind = {".srt": "srt", ".vtt": "vtt", ".txt": "script"}.get(suffix)
    return parse(text, path.name, kind)
