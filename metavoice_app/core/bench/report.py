"""Keeping benchmark sections of docs/benchmarks.md up to date.

Each benchmark owns a section between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->``; a rerun replaces its own section and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from metavoice_app.core.atomic import atomic_write_text

HEADER = "# Benchmarks\n\nNumbers measured by `metavoice bench`; each section says how and when.\n"


def update_section(path: Path, name: str, markdown: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    atomic_write_text(path, text)
