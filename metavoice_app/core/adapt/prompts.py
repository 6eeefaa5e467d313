"""The sentences a person reads to clone their voice (bundled, public domain)."""

from __future__ import annotations

from pathlib import Path

from metavoice_app.core.paths import resources_dir

DEFAULT_PROMPTS = 5
MAX_PROMPTS = 20


def load_prompts(path: Path | None = None) -> list[str]:
    """All prompts in order; lines starting with # are comments."""
    source = path or resources_dir() / "prompts" / "en.txt"
    lines = source.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def pick_prompts(count: int = DEFAULT_PROMPTS) -> list[str]:
    if not 1 <= count <= MAX_PROMPTS:
        raise ValueError(f"between 1 and {MAX_PROMPTS} prompts, not {count}")
    return load_prompts()[:count]
