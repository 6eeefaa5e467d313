"""Helpers shared by the subcommands: progress lines and locating the shared data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHARED_ENV = "METAVOICE_SHARED_DATA"


def default_shared_data() -> Path | None:
    """The training data folder: ``METAVOICE_SHARED_DATA``, else ``../shared/data`` beside
    a source checkout, else none (the app itself never needs it)."""
    override = os.environ.get(SHARED_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    beside_checkout = Path(__file__).resolve().parents[3] / "shared" / "data"
    return beside_checkout if beside_checkout.is_dir() else None


def print_progress(done: int, total: int, message: str) -> None:
    width = len(str(total))
    print(f"[{done:>{width}}/{total}] {message}", file=sys.stderr, flush=True)
