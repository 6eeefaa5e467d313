"""Where the app keeps its files.

Everything lives under the platform's standard user folders (via platformdirs),
or under one folder named by ``METAVOICE_HOME`` when that is set: tests and
portable installs use it so they never touch the real home directory.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from metavoice_app.core.atomic import remove_stale_temporaries

APP_NAME = "MetaVoice Studio"
APP_SLUG = "metavoice-studio"
HOME_ENV = "METAVOICE_HOME"
RESOURCES_ENV = "METAVOICE_RESOURCES"


@dataclass(frozen=True)
class AppPaths:
    """The folders the app reads and writes; see :meth:`from_env`."""

    config_dir: Path
    voices_dir: Path
    recordings_dir: Path
    exports_dir: Path
    logs_dir: Path
    cache_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @classmethod
    def under(cls, home: Path) -> AppPaths:
        """All folders below one root (portable installs and tests)."""
        return cls(
            config_dir=home / "config",
            voices_dir=home / "voices",
            recordings_dir=home / "recordings",
            exports_dir=home / "exports",
            logs_dir=home / "logs",
            cache_dir=home / "cache",
        )

    @classmethod
    def from_env(cls) -> AppPaths:
        """``METAVOICE_HOME`` if set, else the platform's per-user folders."""
        home = os.environ.get(HOME_ENV, "").strip()
        if home:
            return cls.under(Path(home).expanduser().resolve())
        data = Path(platformdirs.user_data_dir(APP_SLUG, appauthor=False))
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_SLUG, appauthor=False)),
            voices_dir=data / "voices",
            recordings_dir=data / "recordings",
            exports_dir=Path(platformdirs.user_documents_dir()) / APP_NAME,
            logs_dir=Path(platformdirs.user_log_dir(APP_SLUG, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_SLUG, appauthor=False)),
        )

    def all_dirs(self) -> tuple[Path, ...]:
        return (
            self.config_dir,
            self.voices_dir,
            self.recordings_dir,
            self.exports_dir,
            self.logs_dir,
            self.cache_dir,
        )

    def ensure(self) -> None:
        """Create every folder; raises ``OSError`` with the path if one cannot be made."""
        for directory in self.all_dirs():
            directory.mkdir(parents=True, exist_ok=True)

    def remove_stale_temporaries(self) -> list[Path]:
        """Clear what interrupted writes left in the app's own folders: the voice library,
        the settings folder and the clone sessions (with their takes). The exports and any
        folder the user chose are never scanned."""
        return [
            *remove_stale_temporaries(self.voices_dir),
            *remove_stale_temporaries(self.config_dir),
            *remove_stale_temporaries(self.recordings_dir, recursive=True),
        ]


def resources_dir() -> Path:
    """The bundled read-only resources (model, prompts, icons).

    Looked up, in order: ``METAVOICE_RESOURCES``; a PyInstaller bundle's data
    folder; ``resources/`` beside the package (a source checkout).
    """
    override = os.environ.get(RESOURCES_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
