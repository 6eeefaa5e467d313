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


@pytest.fixture(scope="session")
def flite_speech(tmp_path_factory: pytest.TempPathFactory):
    """A function that makes real speech (16 kHz float32) with flite, or skips."""
    import shutil
    import subprocess

    import soundfile as sf

    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (apt-get install flite)")
    folder = tmp_path_factory.mktemp("flite")

    def speak(text: str, voice: str = "slt"):
        path = folder / f"{abs(hash((text, voice)))}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True)
        wav, rate = sf.read(str(path), dtype="float32")
        assert rate == 16000
        return wav

    return speak


def shared_data() -> Path | None:
    """The shared training data beside the checkout, if present."""
    from metavoice_app.commands.common import default_shared_data

    return default_shared_data()
