"""Atomic file writes.

Profiles, settings and models must never be left half-written by a crash,
a full disk or a cancel: data goes to a temporary file in the same folder,
is flushed to disk, and then renamed over the target in one step.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# An interrupted write (a crash, a power cut) leaves its temporary file behind; one
# untouched this long belongs to no write in progress.
STALE_AFTER_S = 3600.0
# The names _temporary gives: "." + the target's name + "." + mkstemp's 8 characters + ".tmp"
_TEMPORARY_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def _read_umask() -> int:
    """The process umask (it can only be read by setting it), taken once at import."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _cannot_write(path: Path, exc: OSError) -> OSError:
    return OSError(f"cannot write {path}: {exc.strerror or exc}")


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Report a failed step of a write as a failure to write ``path``: the operating
    system's own message names the hidden temporary file, which means nothing to a user."""
    try:
        yield
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def _temporary(path: Path, folder: Path) -> tuple[int, Path]:
    with _naming(path):
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    return fd, Path(name)


@contextlib.contextmanager
def atomic_open(path: Path) -> Iterator[BinaryIO]:
    """Open a temporary file that replaces ``path`` only if the block succeeds."""
    with _naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path, path.parent)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open would.
        tmp.chmod(0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            with _naming(path):
                handle.flush()
                os.fsync(handle.fileno())
        with _naming(path):
            tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_writable(path: Path) -> None:
    """Raise ``OSError`` naming ``path`` when :func:`atomic_open` could not write it.

    Commands call this before their work, so an output location that cannot be written
    is reported at once rather than after minutes of work that is then lost. Nothing is
    left behind: missing folders are not created (the write will do that), and the
    probe file is removed at once.
    """
    if path.is_dir():
        raise OSError(f"cannot write {path}: it is a folder, not a file")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OSError(f"cannot write {path}: {folder} is a file, not a folder")
    fd, probe = _temporary(path, folder)
    os.close(fd)
    probe.unlink()


def remove_stale_temporaries(
    folder: Path, recursive: bool = False, older_than_s: float = STALE_AFTER_S
) -> list[Path]:
    """Delete the temporary files that interrupted writes left in ``folder``; returns them.

    Only files named as :func:`atomic_open` names them and untouched for
    ``older_than_s`` are removed (a younger one may be another instance's write in
    progress), so nothing of the user's is ever deleted. Call it only on the app's own
    folders; a file that cannot be removed is left for the next start.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    cutoff = time.time() - older_than_s
    for path in folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp"):
        try:
            if (
                _TEMPORARY_NAME.match(path.name)
                and path.is_file()
                and not path.is_symlink()
                and path.stat().st_mtime < cutoff
            ):
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file, never a mix."""
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))
