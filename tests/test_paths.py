from __future__ import annotations

from pathlib import Path

import pytest

from metavoice_app.core.paths import HOME_ENV, RESOURCES_ENV, AppPaths, resources_dir


def test_metavoice_home_holds_every_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "portable"))
    paths = AppPaths.from_env()
    for directory in paths.all_dirs():
        assert directory.is_relative_to(tmp_path / "portable")
    assert len(set(paths.all_dirs())) == 6
    paths.ensure()
    assert all(d.is_dir() for d in paths.all_dirs())
    assert paths.settings_file.parent == paths.config_dir


def test_platform_folders_without_metavoice_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    paths = AppPaths.from_env()
    assert "metavoice-studio" in str(paths.voices_dir)
    assert "metavoice-studio" in str(paths.logs_dir)
    assert paths.exports_dir.name == "MetaVoice Studio"


def test_resources_are_found_and_overridable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (resources_dir() / "icons" / "metavoice.svg").is_file()
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    assert resources_dir() == tmp_path.resolve()
