"""The package layers in pyproject.toml hold: no cycles between engine packages, and the
app at run time never imports training or benchmark code (checked by import-linter)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def test_layer_contracts_are_kept(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip(
        "importlinter", reason="import-linter is not installed (scripts/setup.sh test installs it)"
    )
    from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

    monkeypatch.chdir(repo_root)
    status = lint_imports(
        config_filename=os.fspath(repo_root / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert status == EXIT_STATUS_SUCCESS, "a layer contract is broken: see the report above"
