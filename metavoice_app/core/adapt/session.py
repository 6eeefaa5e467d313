"""A clone session on disk: consent, takes and progress, resumable after a crash.

<recordings>/<session-id>/session.json   state, written atomically after each change
<recordings>/<session-id>/attempts/      every recording, kept until the session ends
<recordings>/<session-id>/takes/         accepted takes as NN.wav + NN.txt, the folder
                                         the adaptation reads (like ``metavoice adapt``)
<recordings>/<session-id>/consent.wav    the consent statement
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from metavoice_app.core.adapt.takes import features_path
from metavoice_app.core.atomic import atomic_write_text

SESSION_FILE = "session.json"


@dataclass
class CloneSession:
    folder: Path
    prompts: list[str]
    speaker_name: str = ""
    voice_name: str = ""
    consent_file: str | None = None
    consent_in_writing: bool = False  # confirmed by typing, e.g. importing without a mic
    accepted: dict[int, str] = field(default_factory=dict)  # prompt index -> take file
    imported: list[str] = field(default_factory=list)
    # take file -> what the take checks found (wrong words, another speaker); such takes
    # are left out of adaptation unless listed in ``kept``
    problems: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    profile: str | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    # Files ---------------------------------------------------------------------------------
    @property
    def takes_dir(self) -> Path:
        return self.folder / "takes"

    @property
    def attempts_dir(self) -> Path:
        return self.folder / "attempts"

    def save(self) -> None:
        data = asdict(self)
        data["folder"] = str(self.folder)
        data["accepted"] = {str(k): v for k, v in self.accepted.items()}
        atomic_write_text(self.folder / SESSION_FILE, json.dumps(data, indent=1) + "\n")

    @classmethod
    def new(cls, recordings_dir: Path, prompts: list[str]) -> CloneSession:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = recordings_dir / f"clone-{stamp}-{uuid.uuid4().hex[:6]}"
        session = cls(folder, list(prompts))
        session.attempts_dir.mkdir(parents=True)
        session.takes_dir.mkdir()
        session.save()
        return session

    @classmethod
    def load(cls, folder: Path) -> CloneSession:
        data = json.loads((folder / SESSION_FILE).read_text(encoding="utf-8"))
        data["folder"] = folder
        data["accepted"] = {int(k): v for k, v in data.get("accepted", {}).items()}
        session = cls(**data)
        # Forget takes whose files did not survive (e.g. deleted by hand).
        session.accepted = {
            k: v for k, v in session.accepted.items() if (session.takes_dir / v).exists()
        }
        return session

    @classmethod
    def unfinished(cls, recordings_dir: Path) -> CloneSession | None:
        """The newest session that has not produced a profile yet, to resume it."""
        if not recordings_dir.exists():
            return None
        for folder in sorted(recordings_dir.glob("clone-*"), reverse=True):
            try:
                session = cls.load(folder)
            except (OSError, ValueError, TypeError, KeyError):
                continue
            if session.profile is None:
                return session
        return None

    # Progress ------------------------------------------------------------------------------
    def attempt_path(self, index: int) -> Path:
        stamp = datetime.now().strftime("%H%M%S-%f")
        return self.attempts_dir / f"prompt{index + 1:02d}-{stamp}.wav"

    def consent_path(self) -> Path:
        return self.folder / "consent.wav"

    def set_consent(self, speaker_name: str, recording: Path) -> None:
        if recording != self.consent_path():
            shutil.copyfile(recording, self.consent_path())
        self.speaker_name = speaker_name.strip()
        self.consent_file = self.consent_path().name
        self.save()

    def confirm_consent_in_writing(self, speaker_name: str) -> None:
        self.speaker_name = speaker_name.strip()
        self.consent_in_writing = True
        self.save()

    @property
    def has_consent(self) -> bool:
        return bool(self.consent_file) or self.consent_in_writing

    @staticmethod
    def take_name(index: int) -> str:
        """The file name of sentence ``index``'s take."""
        return f"{index + 1:02d}.wav"

    def accept(self, index: int, recording: Path) -> Path:
        """Keep ``recording`` as the take for prompt ``index`` (replacing an earlier one,
        and what was found about it). Its analysed features, when the checks made them
        while the person listened to the verdict, come along with their times kept, so
        the features cache still holds for the take."""
        name = self.take_name(index)
        target = self.takes_dir / name
        shutil.copy2(recording, target)
        analysed = features_path(recording)
        if analysed.exists():
            shutil.copy2(analysed, features_path(target))
        else:
            features_path(target).unlink(missing_ok=True)
        target.with_suffix(".txt").write_text(self.prompts[index] + "\n", encoding="utf-8")
        self.accepted[index] = name
        self._forget_checks(name)
        self.save()
        return target

    def remove(self, name: str) -> None:
        """Take ``name`` out of the session; its files move back to the attempts folder
        (nothing recorded is deleted), and a sentence whose take it was is asked again."""
        for index, taken in list(self.accepted.items()):
            if taken == name:
                del self.accepted[index]
        if name in self.imported:
            self.imported.remove(name)
        source = self.takes_dir / name
        if source.exists():
            stamp = datetime.now().strftime("%H%M%S-%f")
            source.replace(self.attempts_dir / f"removed-{stamp}-{name}")
        source.with_suffix(".txt").unlink(missing_ok=True)
        features_path(source).unlink(missing_ok=True)
        self._forget_checks(name)
        self.save()

    def imported_text(self, name: str) -> str:
        text_file = (self.takes_dir / name).with_suffix(".txt")
        return text_file.read_text(encoding="utf-8").strip() if text_file.exists() else ""

    def set_problem(self, name: str, problem: str) -> None:
        """Record what the take checks found about take ``name`` ("" for nothing)."""
        if problem:
            self.problems[name] = problem
        else:
            self.problems.pop(name, None)
        self.save()

    def keep(self, name: str, keep: bool = True) -> None:
        """The user's choice to use take ``name`` despite its problem (or not)."""
        if keep and name not in self.kept:
            self.kept.append(name)
        elif not keep and name in self.kept:
            self.kept.remove(name)
        self.save()

    def _forget_checks(self, name: str) -> None:
        self.problems.pop(name, None)
        if name in self.kept:
            self.kept.remove(name)

    def name_voice(self, name: str) -> None:
        self.voice_name = name.strip()
        self.save()

    def add_imported(self, audio: Path, text: str) -> Path:
        number = len(self.imported) + 1
        while any(n.startswith(f"import{number:02d}.") for n in self.imported):
            number += 1  # a number freed by removing a take is not reused over a later one
        target = self.takes_dir / f"import{number:02d}{audio.suffix.lower()}"
        shutil.copyfile(audio, target)
        target.with_suffix(".txt").write_text(text.strip() + "\n", encoding="utf-8")
        self.imported.append(target.name)
        self.save()
        return target

    def next_prompt(self) -> int | None:
        for index in range(len(self.prompts)):
            if index not in self.accepted:
                return index
        return None

    @property
    def take_count(self) -> int:
        return len(self.accepted) + len(self.imported)

    def finish(self, profile: Path) -> None:
        self.profile = str(profile)
        self.save()
