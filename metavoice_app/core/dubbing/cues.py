"""Reading SRT, WebVTT and plain scripts into cues.

Every format may start a cue's text with ``[voice name]`` to switch voices; in
WebVTT a ``<v Name>`` voice span does the same. Problems are collected with
their line numbers and reported together, so a user can fix a file in one pass;
nothing in a malformed file crashes the app.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from metavoice_app.core.text.frontend import MAX_TEXT_CHARS

MAX_FILE_BYTES = 5 * 2**20
MAX_CUES = 5000
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_VOICE = re.compile(r"^\s*\[([^\]]{1,80})\]\s*(.*)$", re.DOTALL)
_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")
# WebVTT: <v Name> or <v.class Name>; ruby readings (<rt>, whose end tag may be left
# out before </ruby>) and <rp> fallbacks, which are not read aloud.
_VTT_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]{1,80})>")
_VTT_READING = re.compile(r"<(rt|rp)\b[^>]*>.*?(?:</\1>|(?=</ruby>)|$)", re.DOTALL)


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


def _clean_vtt(text: str) -> str:
    """WebVTT cue text as spoken: ruby keeps only its base text (the reading would be
    run into the word), tags go, then character references are decoded (``&amp;``,
    ``&nbsp;``, ``&#233;``), after the tags so an escaped ``&lt;`` stays text."""
    return " ".join(html.unescape(_TAGS.sub("", _VTT_READING.sub("", text))).split())


def _vtt_voice(text: str) -> str | None:
    match = _VTT_VOICE.search(text)
    return (html.unescape(match.group(1)).strip() or None) if match else None


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(round(seconds * 1000), 60_000)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{rest / 1000:06.3f}"


def _too_long(cue: Cue) -> list[str]:
    """A cue too long to be spoken in one request (the text front end's limit), reported
    here with its number and line rather than failing midway through rendering."""
    if len(cue.text) <= MAX_TEXT_CHARS:
        return []
    return [
        f"line {cue.line}: cue {cue.number} is {len(cue.text):,} characters long; "
        f"a cue may have at most {MAX_TEXT_CHARS:,}"
    ]


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
    latest: tuple[float, Cue] | None = None  # the earlier cue that ends last, and its end
    for first, block in blocks:
        timing_at = next((i for i, line in enumerate(block) if "-->" in line), None)
        if timing_at is None:
            if vtt and block[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
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
        elif latest is not None and start < latest[0]:  # reported, not mixed on top
            problems.append(
                f"line {number_line}: cue {len(cues) + 1} starts at {_stamp(start)}, before "
                f"cue {latest[1].number} (line {latest[1].line}) ends at "
                f"{_stamp(latest[0])}; cues must not overlap"
            )
        voice, text = _split_voice("\n".join(block[timing_at + 1 :]))
        if vtt:
            voice = voice or _vtt_voice(text)
        text = _clean_vtt(text) if vtt else _clean(text)
        if not text:
            problems.append(f"line {number_line}: the cue has no text")
            continue
        cue = Cue(len(cues) + 1, text, start, end, voice, number_line)
        cues.append(cue)
        if latest is None or end > latest[0]:
            latest = (end, cue)
        problems += _too_long(cue)
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
        cues, more = _timed(_blocks(lines), vtt=True)
        problems += more
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
            problems += _too_long(cues[-1])
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
