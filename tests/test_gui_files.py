"""File dialogs start in the user's folders, and recordings left by earlier clones can
be seen and removed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pytestqt.qtbot import QtBot

from metavoice_app.core.adapt.recordings import remove_recording, unfinished_recordings
from metavoice_app.core.adapt.session import CloneSession
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.mvoice import Consent, Manifest, save_profile
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot, app_paths: AppPaths) -> MainWindow:
    win = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(win)
    return win


def _capture(monkeypatch: pytest.MonkeyPatch, method: str, seen: list[str], empty: object) -> None:
    from PySide6.QtWidgets import QFileDialog

    def fake(_parent: object, _caption: str, folder: str, _filter: str = "") -> object:
        seen.append(folder)
        return empty, ""

    monkeypatch.setattr(QFileDialog, method, staticmethod(fake))


def test_dialogs_start_in_the_exports_folder_not_the_working_folder(
    window: MainWindow, app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # where a launcher might have started the app
    seen: list[str] = []
    _capture(monkeypatch, "getOpenFileName", seen, "")
    _capture(monkeypatch, "getOpenFileNames", seen, [])
    _capture(monkeypatch, "getSaveFileName", seen, "")
    window.dub_controller._ask_open()
    window.voices_controller._ask_import()
    consent = Consent("Ada", "I, Ada, agree.", "2026-11-21T12:00:00+00:00")
    manifest = Manifest(name="Ada", base_model_id="0" * 64, tensors=[], consent=consent)
    save_profile(
        app_paths.voices_dir / "ada.mvoice",
        manifest,
        {"speaker": torch.zeros(16)},
        np.zeros(160, np.float32),
        16000,
    )
    window.voices_controller.refresh()
    window.voices_page.table.selectRow(0)
    window.voices_controller._ask_export()
    assert len(seen) == 3
    for folder in seen:
        assert Path(folder).is_absolute()
        assert Path(folder).resolve().is_relative_to(app_paths.exports_dir.resolve()), folder
        assert Path(folder).resolve() != Path.cwd().resolve()


def _session(
    recordings: Path, stamp: str, name: str, takes: int, finished: bool = False
) -> CloneSession:
    """A session started at ``stamp`` (the folder name orders sessions by time)."""
    made = CloneSession.new(recordings, ["One.", "Two.", "Three."])
    folder = recordings / f"clone-{stamp}-abcdef"
    made.folder.rename(folder)
    session = CloneSession.load(folder)
    session.speaker_name = name
    for index in range(takes):
        (session.takes_dir / f"{index:02d}.wav").write_bytes(b"\0" * 1000)
        session.accepted[index] = f"{index:02d}.wav"
    if finished:
        session.profile = "somewhere.mvoice"
    session.save()
    return session


def test_unfinished_recordings_are_listed_and_removable(
    window: MainWindow, qtbot: QtBot, app_paths: AppPaths
) -> None:
    recordings = app_paths.recordings_dir
    old = _session(recordings, "20261101-090000", "Old Ada", 2)
    done = _session(recordings, "20261102-090000", "Done", 3, finished=True)
    newest = _session(recordings, "20261103-090000", "Newest", 1)  # the Clone area resumes it
    (recordings / "clone-not-a-session").mkdir()
    found = unfinished_recordings(recordings)
    assert [r.folder for r in found] == [old.folder]
    assert found[0].takes == 2 and "Old Ada" in found[0].describe()
    window.voices_controller.refresh()
    button = window.voices_page.recordings_button
    assert not button.isHidden() and "(1)" in button.text()
    dialog = window.voices_controller.show_recordings()
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1
    dialog.list.item(0).setSelected(True)
    dialog.remove(dialog.selected())
    assert not old.folder.exists()
    assert done.folder.exists() and newest.folder.exists()
    assert dialog.list.count() == 0 and "Removed 1" in dialog.status.text()
    dialog.accept()
    assert button.isHidden()


def test_removing_refuses_folders_that_are_not_clone_recordings(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    from metavoice_app.core.adapt.recordings import UnfinishedRecording

    outside = tmp_path / "clone-elsewhere"
    outside.mkdir()
    with pytest.raises(ValueError, match="not a clone recording"):
        remove_recording(app_paths.recordings_dir, UnfinishedRecording(outside, "", "", 0, 0, 0))
    assert outside.exists()
