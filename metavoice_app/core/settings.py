"""User settings, stored as JSON in the config folder.

A damaged settings file must never stop the app from starting, nor cost the
user more than it must: a value the app cannot use resets only that setting, a
file that cannot be read resets them all, the file as it was is kept aside (so
nothing is silently thrown away), and the app is told what was reset.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from metavoice_app.core.atomic import atomic_write_text
from metavoice_app.core.audio.export import EXPORT_FORMATS, SAMPLE_RATES, ExportFormat
from metavoice_app.core.device import DEVICE_CHOICES, DevicePreference

log = logging.getLogger(__name__)

Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = get_args(Theme)


class SettingsError(ValueError):
    """A setting has a value the app cannot use."""


@dataclass
class Settings:
    """Everything a user can change in the Settings dialog."""

    theme: Theme = "system"
    compute_device: DevicePreference = "auto"
    input_device: str | None = None
    output_device: str | None = None
    export_format: ExportFormat = "wav"
    export_sample_rate: int = 48000
    prompts_per_voice: int = 5
    # The voice spoken with last (a built-in voice id or a profile path), chosen again at
    # the next start; None: the model's default voice.
    last_voice: str | None = None

    def validate(self) -> None:
        """Raise :class:`SettingsError` naming the first bad field."""
        for item in dataclasses.fields(self):
            problem = _problem(item.name, getattr(self, item.name))
            if problem:
                raise SettingsError(problem)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _among(allowed: tuple[object, ...]) -> Callable[[object], bool]:
    # Same type as well as equal: JSON's 48000.0 or true are not the setting 48000 or 1.
    return lambda value: any(type(value) is type(a) and value == a for a in allowed)


def _name_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)  # None: the system's default device


def _prompt_count(value: object) -> bool:
    return type(value) is int and 1 <= value <= 20


_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "theme": (_among(THEMES), f"one of {THEMES}"),
    "compute_device": (_among(DEVICE_CHOICES), f"one of {DEVICE_CHOICES}"),
    "input_device": (_name_or_none, "a device name or null"),
    "output_device": (_name_or_none, "a device name or null"),
    "export_format": (_among(EXPORT_FORMATS), f"one of {EXPORT_FORMATS}"),
    "export_sample_rate": (_among(SAMPLE_RATES), f"one of {SAMPLE_RATES}"),
    "prompts_per_voice": (_prompt_count, "between 1 and 20"),
    "last_voice": (_name_or_none, "a voice id, a profile path or null"),
}


def _problem(name: str, value: object) -> str:
    """Why ``value`` cannot be the setting ``name`` ('' when it can)."""
    valid, wanted = _RULES[name]
    return "" if valid(value) else f"{name} must be {wanted}, not {value!r}"


def _keep_aside(path: Path, what_happened: str) -> str:
    """Move the settings file aside and return the notice for the user."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup, number = path.with_name(f"{path.name}.broken-{stamp}"), 2
    while backup.exists():  # never replace an earlier backup made in the same second
        backup, number = path.with_name(f"{path.name}.broken-{stamp}-{number}"), number + 1
    try:
        path.replace(backup)
    except OSError:
        log.exception("could not move the damaged settings file aside")
        notice = f"{what_happened}."
    else:
        notice = f"{what_happened}. The file as it was is kept as {backup}."
    log.warning("settings file %s: %s", path, notice)
    return notice


def load_settings(path: Path) -> tuple[Settings, str]:
    """Read settings, and a notice of what had to be reset ('' when nothing was).

    Keys unknown to this version (files from newer versions) are ignored. After a
    reset the repaired settings are saved, so the notice is given once, not at every
    start.
    """
    if not path.exists():
        return Settings(), ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise SettingsError("the file does not hold a JSON object")
    except (OSError, ValueError) as exc:
        reason = (
            f"The settings file could not be read ({exc}); every setting is back to its default"
        )
        return Settings(), _keep_aside(path, reason)
    defaults = Settings()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for item in dataclasses.fields(Settings):
        if item.name not in data:
            continue
        problem = _problem(item.name, data[item.name])
        if problem:
            problems.append(f"{problem}, so it is back to {getattr(defaults, item.name)!r}")
        else:
            values[item.name] = data[item.name]
    settings = Settings(**values)
    if not problems:
        return settings, ""
    notice = _keep_aside(path, "Some settings could not be used: " + "; ".join(problems))
    try:
        save_settings(settings, path)
    except OSError:
        log.exception("could not save the repaired settings")
    return settings, notice


def save_settings(settings: Settings, path: Path) -> None:
    """Validate and write atomically."""
    settings.validate()
    atomic_write_text(path, json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n")
