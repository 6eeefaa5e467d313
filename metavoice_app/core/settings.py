"""User settings, stored as JSON in the config folder.

A damaged settings file must never stop the app from starting: it is moved
aside (so nothing is silently thrown away) and defaults are used instead.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metavoice_app.core.atomic import atomic_write_text

log = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")
COMPUTE_DEVICES = ("auto", "cpu", "cuda")
EXPORT_FORMATS = ("wav", "flac", "ogg", "mp3")
EXPORT_SAMPLE_RATES = (16000, 22050, 44100, 48000)


class SettingsError(ValueError):
    """A setting has a value the app cannot use."""


@dataclass
class Settings:
    """Everything a user can change in the Settings dialog."""

    theme: str = "system"
    compute_device: str = "auto"
    input_device: str | None = None
    output_device: str | None = None
    export_format: str = "wav"
    export_sample_rate: int = 48000
    prompts_per_voice: int = 5

    def validate(self) -> None:
        """Raise :class:`SettingsError` naming the first bad field."""
        checks: list[tuple[str, object, tuple[object, ...]]] = [
            ("theme", self.theme, THEMES),
            ("compute_device", self.compute_device, COMPUTE_DEVICES),
            ("export_format", self.export_format, EXPORT_FORMATS),
            ("export_sample_rate", self.export_sample_rate, EXPORT_SAMPLE_RATES),
        ]
        for name, value, allowed in checks:
            if value not in allowed:
                raise SettingsError(f"{name} must be one of {allowed}, not {value!r}")
        if not 1 <= self.prompts_per_voice <= 20:
            raise SettingsError(
                f"prompts_per_voice must be between 1 and 20, not {self.prompts_per_voice}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Known keys are taken, unknown ones ignored (files from newer versions)."""
        names = {f.name for f in dataclasses.fields(cls)}
        settings = cls(**{k: v for k, v in data.items() if k in names})
        settings.validate()
        return settings


def load_settings(path: Path) -> Settings:
    """Read settings; a missing file gives defaults, a damaged one is kept aside."""
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise SettingsError("the file does not hold a JSON object")
        return Settings.from_dict(data)
    except (OSError, ValueError, TypeError) as exc:
        backup = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning(
            "settings file %s is unusable (%s); kept as %s, using defaults", path, exc, backup
        )
        try:
            path.replace(backup)
        except OSError:
            log.exception("could not move the damaged settings file aside")
        return Settings()


def save_settings(settings: Settings, path: Path) -> None:
    """Validate and write atomically."""
    settings.validate()
    atomic_write_text(path, json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n")
