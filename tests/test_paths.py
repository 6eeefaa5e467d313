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


def _interrupted_write(folder: Path, name: str, hours_ago: float) -> Path:
    """The temporary file a write of ``folder/name`` leaves when the app is killed mid-way
    (named by the same mkstemp call atomic_open makes)."""
    import os
    import tempfile
    import time

    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    stamp = time.time() - hours_ago * 3600
    os.utime(temp, (stamp, stamp))
    return Path(temp)


def test_stale_temporaries_are_cleared_from_the_apps_folders_at_start(
    app_paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import time

    from metavoice_app.cli import main

    session = app_paths.recordings_dir / "clone-20260101-120000-abcdef"
    stale = [
        _interrupted_write(app_paths.voices_dir, "ada-1234abcd.mvoice", 2),
        _interrupted_write(app_paths.config_dir, "settings.json", 5),
        _interrupted_write(session, "session.json", 2),
        _interrupted_write(session / "takes", "01.wav.features.npy", 30),
    ]
    recent = _interrupted_write(app_paths.voices_dir, "bob-5678abcd.mvoice", 0.1)
    elsewhere = _interrupted_write(app_paths.exports_dir, "clip.wav", 48)  # not ours to tidy
    user_files = [app_paths.voices_dir / "notes.tmp", app_paths.config_dir / ".backup.tmp"]
    for path in user_files:
        path.write_text("mine")
        old = time.time() - 48 * 3600
        os.utime(path, (old, old))
    assert main(["profile", "list"]) == 0
    assert not any(path.exists() for path in stale)
    assert recent.exists() and elsewhere.exists()
    assert all(path.read_text() == "mine" for path in user_files)
    assert "no voices yet" in capsys.readouterr().out
