"""Shared fixtures: every test gets its own METAVOICE_HOME and an offscreen Qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before pytest-qt creates the QApplication: no screen is needed unless a test asks for Xvfb.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from metavoice_app.core.paths import HOME_ENV, AppPaths

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(autouse=True)
def app_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    """Point the app at a fresh home folder so no test touches the real one."""
    home = tmp_path / "metavoice-home"
    monkeypatch.setenv(HOME_ENV, str(home))
    paths = AppPaths.from_env()
    paths.ensure()
    return paths
