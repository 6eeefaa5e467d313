"""The voice library: the profiles in the user's voices folder.

Every change is atomic, and deleting moves a profile to a trash folder so it
can be restored: a saved voice is never lost by a slip of the mouse.

Each voice's takes (the recordings it was learned from, :mod:`.takes`) are kept in
``.takes/<voice id>/``, by id so renaming never separates them, and left there when the
voice is deleted so undo brings back a voice that can still be re-created. A voice is
tied to the model it was made for; its takes are what let it outlive that model.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from metavoice_app.core.profiles import takes as kept
from metavoice_app.core.profiles.mvoice import (
    SUFFIX,
    Manifest,
    ProfileError,
    check_fits,
    read_profile,
    save_profile,
)
from metavoice_app.core.profiles.takes import TakesError, VoiceTakes

TRASH = ".trash"
TAKES = ".takes"
# Voice ids are uuid4 hex; anything else in a manifest is not made a folder name.
_VOICE_ID = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass(frozen=True)
class Entry:
    path: Path
    manifest: Manifest | None
    problem: str = ""  # why the file could not be read, for files that are not usable
    takes_kept: bool = False  # whether its takes are in the library, to re-create it

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
        self.takes_root = folder / TAKES

    def entries(self) -> list[Entry]:
        """Every profile in the folder, readable or not (unreadable ones say why)."""
        if not self.folder.exists():
            return []
        result = []
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            try:
                manifest = read_profile(path).manifest
                result.append(Entry(path, manifest, takes_kept=self.has_takes(manifest.id)))
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
        present. A profile that carries its takes is let in even when made for another
        model, to be re-created for this one; its takes go to the library's takes."""
        profile = read_profile(source)
        if profile.takes is None or profile.manifest.base_model_id == base_model_id:
            check_fits(profile, base_model_id, expected_shapes, source.name)
        for entry in self.entries():
            if entry.manifest is not None and entry.manifest.id == profile.manifest.id:
                raise ProfileError(
                    f"'{profile.manifest.name}' is already in your library ({entry.path.name})"
                )
        self.folder.mkdir(parents=True, exist_ok=True)
        if profile.takes is not None:
            self.keep_takes(profile.manifest.id, profile.takes)
        target = self._target(profile.manifest)
        save_profile(
            target, profile.manifest, profile.tensors, profile.preview, profile.preview_rate
        )
        return target

    def export(self, path: Path, destination: Path, with_takes: bool = False) -> Path:
        """Copy a voice out of the library; ``with_takes``: the file carries the voice's
        takes too (for voice banking or a new installation; it holds the person's own
        recordings, so it is the user's choice, never the default)."""
        if destination.is_dir():
            destination = destination / path.name
        if destination.suffix != SUFFIX:
            destination = destination.with_suffix(SUFFIX)
        profile = read_profile(path)  # never hand out a damaged file
        if not with_takes:
            shutil.copyfile(path, destination)
            return destination
        takes = self.takes(profile.manifest.id)
        if takes is None:
            raise ProfileError(
                f"'{profile.manifest.name}' has no takes kept with it (it was made before "
                "voices kept them, or from files outside the library); export it without"
            )
        save_profile(
            destination,
            profile.manifest,
            profile.tensors,
            profile.preview,
            profile.preview_rate,
            takes,
        )
        return destination

    # Takes ----------------------------------------------------------------------------
    def takes_folder(self, voice_id: str) -> Path:
        if not _VOICE_ID.match(voice_id):
            raise ProfileError(f"the voice id {voice_id[:70]!r} is not one takes are kept under")
        return self.takes_root / voice_id

    def has_takes(self, voice_id: str) -> bool:
        """Whether takes are kept for voice ``voice_id`` (not read, so cheap to ask)."""
        return (
            bool(_VOICE_ID.match(voice_id)) and (self.takes_root / voice_id / kept.INDEX).is_file()
        )

    def keep_takes(self, voice_id: str, takes: VoiceTakes) -> None:
        """Keep the takes voice ``voice_id`` was learned from (replacing earlier ones)."""
        try:
            kept.write_folder(self.takes_folder(voice_id), takes)
        except TakesError as exc:
            raise ProfileError(f"the takes cannot be kept: {exc}") from exc

    def takes(self, voice_id: str) -> VoiceTakes | None:
        """The takes kept for voice ``voice_id``, validated; None when there are none."""
        folder = self.takes_folder(voice_id)
        if not folder.is_dir():
            return None
        try:
            return kept.read_folder(folder)
        except TakesError as exc:
            raise ProfileError(f"the voice's takes are unusable: {exc}") from exc

    def set_aside(self, path: Path, model_id: str) -> Path:
        """Copy a profile made for model ``model_id`` into the trash before it is replaced
        by the same voice re-created for another model (in case that model returns)."""
        self.trash.mkdir(parents=True, exist_ok=True)
        target = self.trash / f"{path.stem}-for-{model_id[:8]}{SUFFIX}"
        shutil.copyfile(path, target)
        return target

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
        takes = self.takes(profile.manifest.id)
        profile.manifest.id = uuid.uuid4().hex
        if takes is not None:  # the copy can be re-created too
            self.keep_takes(profile.manifest.id, takes)
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
