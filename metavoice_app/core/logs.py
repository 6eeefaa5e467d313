"""Logging set-up shared by the GUI and the command line.

Everything at INFO and above goes to a rotating file in the log folder, so a
user can attach it to a bug report; ``-v`` adds a DEBUG stream on stderr.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_FILE_NAME = "metavoice.log"
MAX_LOG_BYTES = 1_000_000
LOG_BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_MARK = "_metavoice_handler"


def setup_logging(logs_dir: Path, verbose: bool = False) -> Path:
    """Attach the file (and, if ``verbose``, stderr) handlers; returns the log file.

    Calling it again replaces the handlers it added before, so tests and
    repeated CLI invocations in one process do not duplicate lines.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()

    logs_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs_dir / LOG_FILE_NAME
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    file_handler.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [file_handler]
    if verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.DEBUG)
        handlers.append(stream)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return log_file
