"""The voice library: the profiles in the user's voices folder.

Every change is atomic, and deleting moves a profile to a trash folder so it
can be restored: a saved voice is never lost by a slip of the mouse.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from metavoice_app.core.profiles.mvoice import (
    SUFFIX,
    Manifest,
    ProfileError,
    read_profile,
    save_profile,
)

TRASH = ".trash"


@dataclass(frozen=True)
class Entry:
    path: Path
    manifest: Manifest | None
    problem: str = ""  # why the file could not be read, for files that are not usable

    @property
    def name(self) -> str:
        return self.manifest.name if self.manifest else self.path.stem


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()
    return slug[:40] or "voice"


class VoiceLibrary:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.trash = folder / TRASH

    def entries(self) -> list[Entry]:
        """Every profile in the folder, readable or not (unreadable ones say why)."""
        if not self.folder.exists():
            return []
        result = []
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            try:
                result.append(Entry(path, read_profile(path).manifest))
            except ProfileError as exc:
                result.append(Entry(path, None, str(exc)))
        return result

    def find(self, name_or_path: str) -> Path:
        """A profile by file path, voice name or id prefix."""
        candidate = Path(name_or_path)
        if candidate.suffix == SUFFIX and candidate.exists():
            return candidate
        matches = [
            e.path
            for e in self.entries()
            if e.manifest is not None
            and (e.manifest.name == name_or_path or e.manifest.id.startswith(name_or_path))
        ]
        if not matches:
            raise ProfileError(f"no voice called {name_or_path!r} in the library")
        if len(matches) > 1:
            raise ProfileError(f"several voices match {name_or_path!r}; use the file path")
        return matches[0]

    def _target(self, manifest: Manifest) -> Path:
        return self.folder / f"{_slug(manifest.name)}-{manifest.id[:8]}{SUFFIX}"

    def new_path(self, manifest: Manifest) -> Path:
        """Where a new voice of this manifest is written (the folder made if need be): a
        voice just cloned is saved here directly, once, rather than staged and copied."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self._target(manifest)

    def add(
        self,
        source: Path,
        base_model_id: str,
        expected_shapes: dict[str, tuple[int, ...]],
    ) -> Path:
        """Import a profile file after full validation against the model in use (its id,
        and the names and shapes of its parameters), so a voice the model cannot use is
        refused here rather than failing the first time it speaks; refuses one already
        present."""
        profile = read_profile(source, base_model_id, expected_shapes)
        for entry in self.entries():
            if entry.manifest is not None and entry.manifest.id == profile.manifest.id:
                raise ProfileError(
                    f"'{profile.manifest.name}' is already in your library ({entry.path.name})"
                )
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._target(profile.manifest)
        save_profile(
            target, profile.manifest, profile.tensors, profile.preview, profile.preview_rate
        )
        return target

    def export(self, path: Path, destination: Path) -> Path:
        if destination.is_dir():
            destination = destination / path.name
        if destination.suffix != SUFFIX:
            destination = destination.with_suffix(SUFFIX)
        read_profile(path)  # never hand out a damaged file
        shutil.copyfile(path, destination)
        return destination

    def rename(self, path: Path, new_name: str) -> Path:
        profile = read_profile(path)
        profile.manifest.name = new_name.strip()
        target = self._target(profile.manifest)
        save_profile(
            target, profile.manifest, profile.tensors, profile.preview, profile.preview_rate
        )
        if target != path:
            path.unlink()
        return target

    def duplicate(self, path: Path, new_name: str) -> Path:
        profile = read_profile(path)
        profile.manifest.name = new_name.strip()
        profile.manifest.id = uuid.uuid4().hex
        target = self._target(profile.manifest)
        save_profile(
            target, profile.manifest, profile.tensors, profile.preview, profile.preview_rate
        )
        return target

    def delete(self, path: Path) -> Path:
        """Move to the trash; returns where it went (for undo)."""
        self.trash.mkdir(parents=True, exist_ok=True)
        target = self.trash / path.name
        path.replace(target)
        return target

    def restore(self, trashed: Path) -> Path:
        target = self.folder / trashed.name
        if target.exists():
            raise ProfileError(f"{target.name} exists again; not overwriting it")
        trashed.replace(target)
        return target
