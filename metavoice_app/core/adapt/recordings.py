"""Recordings left by clones that never became a voice.

The clone wizard resumes only the newest unfinished session; older ones (a clone
started over, an app closed mid-way and restarted anew) stay on disk with their
takes and consent recording. They are listed here so the user can see them and
remove them: a voice's recordings are personal data, and should not pile up unseen.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from metavoice_app.core.adapt.session import CloneSession

SESSION_GLOB = "clone-*"


@dataclass(frozen=True)
class UnfinishedRecording:
    folder: Path
    created: str  # ISO time the clone started
    speaker_name: str
    takes: int
    prompts: int
    size_bytes: int

    def describe(self) -> str:
        who = f" by {self.speaker_name}" if self.speaker_name else ""
        when = self.created[:16].replace("T", " ")
        return (
            f"{when}{who}: {self.takes} of {self.prompts} sentences, "
            f"{self.size_bytes / 2**20:.1f} MB"
        )


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def unfinished_recordings(
    recordings_dir: Path, in_use: Path | None = None
) -> list[UnfinishedRecording]:
    """Unfinished clone sessions, newest first, except the one the wizard resumes (the
    newest unfinished) and ``in_use`` (the one it holds now)."""
    if not recordings_dir.exists():
        return []
    resumed = CloneSession.unfinished(recordings_dir)
    keep = {p.resolve() for p in (in_use, resumed.folder if resumed else None) if p is not None}
    found = []
    for folder in sorted(recordings_dir.glob(SESSION_GLOB), reverse=True):
        if not folder.is_dir() or folder.resolve() in keep:
            continue
        try:
            session = CloneSession.load(folder)
        except (OSError, ValueError, TypeError, KeyError):
            continue  # not a session the app wrote; never removed from here
        if session.profile is not None:
            continue
        found.append(
            UnfinishedRecording(
                folder,
                session.created,
                session.speaker_name,
                session.take_count,
                len(session.prompts),
                _size(folder),
            )
        )
    return found


def remove_recording(recordings_dir: Path, recording: UnfinishedRecording) -> None:
    """Delete one unfinished session's folder; refuses anything that is not a session
    folder directly inside ``recordings_dir``."""
    folder = recording.folder.resolve()
    if folder.parent != recordings_dir.resolve() or not folder.match(SESSION_GLOB):
        raise ValueError(f"{recording.folder} is not a clone recording of this app")
    shutil.rmtree(folder)
