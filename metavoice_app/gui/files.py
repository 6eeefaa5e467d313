"""Where file dialogs start: never the folder the app was started from (an install or
source folder), but the user's own: the folder they used last, else the exports folder
(in their documents, or under ``METAVOICE_HOME``)."""

from __future__ import annotations

import logging
from pathlib import Path

from metavoice_app.core.paths import AppPaths

log = logging.getLogger(__name__)


def start_folder(paths: AppPaths, last_used: Path | None = None) -> Path:
    if last_used is not None and last_used.is_dir():
        return last_used
    try:
        paths.exports_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only documents folder: the dialog still opens
        log.warning("could not create %s: %s", paths.exports_dir, exc)
        return Path.home()
    return paths.exports_dir
