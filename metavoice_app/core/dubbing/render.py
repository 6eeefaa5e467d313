"""Rendering cues to one timed track, fitting each cue into its slot.

A cue is first spoken at normal speed. If it is longer than its slot it is
re-spoken faster, up to a limit; if it is much shorter it may be slowed a
little. Words are never cut: a cue that still does not fit runs over, and the
report says by how much. Plain scripts (no timings) are laid end to end.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metavoice_app.core.atomic import atomic_write_text
from metavoice_app.core.audio.prep import trim_silence
from metavoice_app.core.dubbing.cues import Cue
from metavoice_app.core.model.acoustic import Controls
from metavoice_app.core.progress import NO_PROGRESS, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine, VoiceHandle
from metavoice_app.core.text.frontend import TextError

EDGE_MARGIN_S = 0.02  # silence kept around a cue's speech after trimming
MAX_SPEEDUP = 1.6
MAX_SLOWDOWN = 0.85
SCRIPT_GAP_S = 0.4
TAIL_S = 0.5
OVERFLOW_TOLERANCE_S = 0.005  # less than this past the slot is not worth a report


@dataclass
class RenderedCue:
    number: int
    text: str
    voice: str
    start: float
    slot: float | None
    speed: float
    duration: float
    audio: np.ndarray
    line: int  # where the cue is in its file, for reports

    @property
    def overflow(self) -> float:
        """Seconds past the end of the slot (0 when it fits)."""
        return 0.0 if self.slot is None else max(0.0, self.duration - self.slot)

    @property
    def overflows(self) -> bool:
        return self.overflow > OVERFLOW_TOLERANCE_S

    def overflow_note(self) -> str:
        """What the report says of a cue that overflows, without its text."""
        return (
            f"cue {self.number} runs {self.overflow:.2f} s past its slot even at "
            f"{self.speed:.2f}x (line {self.line})"
        )


@dataclass
class DubResult:
    track: np.ndarray
    sample_rate: int
    cues: list[RenderedCue] = field(default_factory=list)

    @property
    def overflowing(self) -> list[RenderedCue]:
        return [c for c in self.cues if c.overflows]

    def report(self) -> str:
        lines = [f"{len(self.cues)} cues, {len(self.track) / self.sample_rate:.1f} s of audio"]
        for cue in self.overflowing:
            lines.append(f'{cue.overflow_note()}: "{cue.text[:60]}"')
        return "\n".join(lines)

    def cue_sheet(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["cue", "start_s", "end_s", "slot_s", "voice", "speed", "audio_s", "overflow_s", "text"]
        )
        for cue in self.cues:
            slot = "" if cue.slot is None else f"{cue.slot:.3f}"
            writer.writerow(
                [
                    cue.number,
                    f"{cue.start:.3f}",
                    f"{cue.start + cue.duration:.3f}",
                    slot,
                    cue.voice,
                    f"{cue.speed:.3f}",
                    f"{cue.duration:.3f}",
                    f"{cue.overflow:.3f}",
                    cue.text,
                ]
            )
        return out.getvalue()

    def write_cue_sheet(self, path: Path) -> None:
        atomic_write_text(path, self.cue_sheet())


def _speech_only(audio: np.ndarray, rate: int) -> np.ndarray:
    """The cue without the model's leading and trailing silence, so speech starts on time."""
    return trim_silence(audio, rate, margin_s=EDGE_MARGIN_S) if len(audio) else audio


def fit_speed(natural: float, slot: float) -> float:
    """The speed that makes ``natural`` seconds of speech fill ``slot``, within limits."""
    if natural > slot:
        return min(MAX_SPEEDUP, natural / slot * 1.02)
    if natural < slot * MAX_SLOWDOWN:
        return max(MAX_SLOWDOWN, natural / slot)
    return 1.0


def render(
    cues: list[Cue],
    engine: SpeechEngine,
    voices: dict[str | None, VoiceHandle],
    controls: Controls | None = None,
    progress: ProgressSink = NO_PROGRESS,
) -> DubResult:
    """Speak every cue in its voice and place it on the timeline, reporting before each
    cue; once ``progress`` is cancelled, :class:`~metavoice_app.core.progress.Cancelled`
    is raised before the next cue."""
    base = controls or Controls()
    rate = engine.sample_rate
    rendered: list[RenderedCue] = []
    cursor = 0.0
    for index, cue in enumerate(cues):
        progress.report(index / len(cues), f"cue {cue.number}")
        voice = voices.get(cue.voice) or voices[None]
        try:
            speech = engine.speak(cue.text, voice=voice, controls=base)
        except TextError as exc:  # say which cue, not just what is wrong with some text
            raise TextError(f"cue {cue.number} (line {cue.line}): {exc}") from exc
        audio = _speech_only(speech.audio, rate)
        speed = 1.0
        if cue.slot is not None:
            speed = fit_speed(len(audio) / rate, cue.slot)
            if speed != 1.0:
                speech = engine.speak(
                    cue.text,
                    voice=voice,
                    controls=Controls(
                        speed=base.speed * speed,
                        pitch_semitones=base.pitch_semitones,
                        energy=base.energy,
                    ),
                )
                audio = _speech_only(speech.audio, rate)
        start = cue.start if cue.start is not None else cursor
        duration = len(audio) / rate
        rendered.append(
            RenderedCue(
                cue.number,
                cue.text,
                voice.name,
                start,
                cue.slot,
                speed,
                duration,
                audio,
                cue.line,
            )
        )
        cursor = start + duration + SCRIPT_GAP_S
    progress.report(1.0, "mixing")
    end = max((c.start + c.duration for c in rendered), default=0.0)
    end = max(end, max((c.start + (c.slot or 0.0) for c in rendered), default=0.0))
    track = np.zeros(int((end + TAIL_S) * rate), dtype=np.float32)
    for item in rendered:
        offset = round(item.start * rate)
        track[offset : offset + len(item.audio)] += item.audio
    peak = float(np.max(np.abs(track))) if len(track) else 0.0
    if peak > 1.0:  # overlapping overflows must not clip
        track /= peak
    return DubResult(track, rate, rendered)
