"""The Voices area on a real library: every action changes files on disk as it says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pytestqt.qtbot import QtBot

from metavoice_app.core.model.checkpoint import read_info
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.mvoice import Consent, Manifest, read_profile, save_profile
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import Area, MainWindow


def _profile(path: Path, model_id: str, name: str) -> Path:
    consent = Consent(name, f"I, {name}, agree.", "2026-11-21T12:00:00+00:00")
    manifest = Manifest(
        name=name, base_model_id=model_id, tensors=[], consent=consent, takes=5, similarity=0.8
    )
    save_profile(
        path, manifest, {"speaker": torch.randn(16)}, np.zeros(1600, dtype=np.float32), 16000
    )
    return path


@pytest.fixture
def window(qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path) -> MainWindow:
    model_id = read_info(tiny_model_dir).model_id
    app_paths.voices_dir.mkdir(parents=True, exist_ok=True)
    _profile(app_paths.voices_dir / "ada.mvoice", model_id, "Ada")
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.engines.engine is not None, timeout=60_000)
    return win


def _names(window: MainWindow) -> list[str]:
    table = window.voices_page.table
    return sorted(table.item(r, 0).text() for r in range(table.rowCount()))


def test_library_actions(
    window: MainWindow, qtbot: QtBot, app_paths: AppPaths, tmp_path: Path
) -> None:
    controller = window.voices_controller
    page = window.voices_page
    assert _names(window) == ["Ada"]
    assert page.table.item(0, 4).text() == "this model"
    page.table.selectRow(0)
    assert page.rename_button.isEnabled()
    controller.rename(controller.selected(), "Ada Lovelace")
    assert _names(window) == ["Ada Lovelace"]
    controller.duplicate()
    assert _names(window) == ["Ada Lovelace", "Ada Lovelace (copy)"]
    assert len(list(app_paths.voices_dir.glob("*.mvoice"))) == 2
    page.table.selectRow(0)
    controller.delete()
    assert len(_names(window)) == 1 and page.undo_button.isVisible()
    controller.undo_delete()
    assert len(_names(window)) == 2
    page.table.selectRow(0)
    controller.export(controller.selected(), tmp_path / "shared.mvoice")
    assert read_profile(tmp_path / "shared.mvoice").manifest.name.startswith("Ada")
    # the Speak area lists the library voices
    combo = window.speak_page.voice_combo
    assert sum("(your voice)" in combo.itemText(i) for i in range(combo.count())) == 2


def test_import_refuses_bad_and_foreign_profiles(window: MainWindow, tmp_path: Path) -> None:
    controller = window.voices_controller
    junk = tmp_path / "junk.mvoice"
    junk.write_bytes(b"junk")
    controller.import_file(junk)
    assert "not a MetaVoice profile" in window.voices_page.status.text()
    foreign = _profile(tmp_path / "foreign.mvoice", "f" * 64, "Stranger")
    controller.import_file(foreign)
    assert "another speech model" in window.voices_page.status.text()
    assert _names(window) == ["Ada"]


def test_import_refuses_a_profile_whose_tensors_do_not_fit_the_model(
    window: MainWindow, tiny_model_dir: Path, tmp_path: Path
) -> None:
    misfit = tmp_path / "misfit.mvoice"
    consent = Consent("Eve", "I, Eve, agree.", "2026-11-21T12:00:00+00:00")
    manifest = Manifest(
        name="Eve", base_model_id=read_info(tiny_model_dir).model_id, tensors=[], consent=consent
    )
    save_profile(misfit, manifest, {"speaker": torch.randn(24)}, np.zeros(160), 16000)
    window.voices_controller.import_file(misfit)
    status = window.voices_page.status.text()
    assert "Could not import misfit.mvoice" in status and "the model needs (16,)" in status
    assert _names(window) == ["Ada"]


def test_speak_with_a_library_voice(window: MainWindow, qtbot: QtBot) -> None:
    page = window.voices_page
    page.table.selectRow(0)
    page.speak_button.click()
    assert window.current_area() is Area.SPEAK
    assert window.speak_page.voice_combo.currentText() == "Ada (your voice)"


def test_empty_library_invites_cloning(
    qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path
) -> None:
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    assert not win.voices_page.empty_label.isHidden()
    assert win.voices_page.table.isHidden()


def test_delete_key_and_ctrl_z_undo_deletes_in_order(
    window: MainWindow, qtbot: QtBot, app_paths: AppPaths
) -> None:
    from PySide6.QtCore import Qt

    page = window.voices_page
    window.show_area(Area.VOICES)
    page.table.selectRow(0)
    window.voices_controller.duplicate()  # two voices: Ada and Ada (copy)
    window.activateWindow()
    for _ in range(2):
        page.table.selectRow(0)
        page.table.setFocus()
        qtbot.waitUntil(page.table.hasFocus)
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert _names(window) == []
    assert len(list((app_paths.voices_dir / ".trash").glob("*.mvoice"))) == 2
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(_names(window)) == 1 and page.undo_button.isVisible()
    qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _names(window) == ["Ada", "Ada (copy)"]
    assert not page.undo_button.isVisible()
    assert "Restored" in page.status.text()


def test_your_voices_come_first_in_the_speak_picker(window: MainWindow) -> None:
    combo = window.speak_page.voice_combo
    assert combo.itemText(0) == "Ada (your voice)"
    assert combo.itemData(1) is None  # the separator before the built-in voices
    assert all("(your voice)" not in combo.itemText(i) for i in range(2, combo.count()))


def test_preview_button_plays_and_stops(window: MainWindow, silent_speakers: None) -> None:
    page = window.voices_page
    page.table.selectRow(0)
    page.play_button.click()
    assert window.player.playing and page.play_button.text() == "Stop"
    page.play_button.click()
    assert not window.player.playing and page.play_button.text() == "Play preview"


@pytest.fixture
def old_voice(window: MainWindow, app_paths: AppPaths, flite_speech) -> Path:
    """A voice made for an earlier model (the engine was retrained), with its takes kept."""
    from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
    from metavoice_app.core.profiles.library import VoiceLibrary
    from metavoice_app.core.profiles.takes import StoredTake, VoiceTakes

    path = _profile(app_paths.voices_dir / "old.mvoice", "f" * 64, "Old")
    lines = ["The birch canoe slid on the smooth planks.", "Rice is often served in round bowls."]
    takes = [StoredTake(t, normalize_loudness(trim_silence(flite_speech(t, "awb")))) for t in lines]
    library = VoiceLibrary(app_paths.voices_dir)
    library.keep_takes(read_profile(path).manifest.id, VoiceTakes(takes))
    _profile(app_paths.voices_dir / "bare.mvoice", "f" * 64, "Bare")  # no takes kept
    window.voices_controller.refresh()
    return path


def _row(window: MainWindow, name: str) -> int:
    table = window.voices_page.table
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)


def test_a_voice_for_another_model_is_shown_as_such_and_recreated(
    window: MainWindow, qtbot: QtBot, old_voice: Path, app_paths: AppPaths
) -> None:
    from metavoice_app.core.adapt.config import AdaptConfig

    page, controller = window.voices_page, window.voices_controller
    controller.rebuild_config = AdaptConfig(steps=2)
    page.table.selectRow(_row(window, "Bare"))
    assert "no takes to re-create it" in page.table.item(_row(window, "Bare"), 4).text()
    assert not page.speak_button.isEnabled() and page.play_button.isEnabled()
    assert page.rebuild_button.isVisible() and not page.rebuild_button.isEnabled()
    page.table.selectRow(_row(window, "Ada"))
    assert page.speak_button.isEnabled() and not page.rebuild_button.isVisible()

    page.table.selectRow(_row(window, "Old"))
    assert page.table.item(_row(window, "Old"), 4).text().endswith("re-create it")
    assert not page.speak_button.isEnabled() and page.rebuild_button.isEnabled()
    page.rebuild_button.click()
    assert page.rebuild_progress.isVisible() and page.cancel_rebuild_button.isVisible()
    assert not page.delete_button.isEnabled()  # nothing changes the library meanwhile
    qtbot.waitUntil(lambda: controller.rebuild_task is None, timeout=120_000)
    assert "Re-created “Old” for this model" in page.status.text()
    model_id = window.engines.engine.info.model_id
    assert read_profile(old_voice, model_id).manifest.name == "Old"
    assert page.table.item(_row(window, "Old"), 4).text() == "this model"
    assert controller.selected().path == old_voice and page.speak_button.isEnabled()
    assert not page.rebuild_progress.isVisible()
    [set_aside] = (app_paths.voices_dir / ".trash").glob("*.mvoice")
    assert read_profile(set_aside).manifest.base_model_id == "f" * 64
    combo = window.speak_page.voice_combo
    assert any(combo.itemText(i) == "Old (your voice)" for i in range(combo.count()))


def test_a_voice_made_before_the_models_refiner_speaks_and_offers_recreation(
    window: MainWindow, app_paths: AppPaths
) -> None:
    """Its exemplar tables were read through an envelope refiner the model no longer has:
    it speaks (without the refiner), and the page says re-creating it brings the refiner."""
    page, controller = window.voices_page, window.voices_controller
    model_id = window.engines.engine.info.model_id
    path = _profile(app_paths.voices_dir / "before.mvoice", model_id, "Before")
    profile = read_profile(path)
    profile.manifest.recipe = {"exemplar_refinement": True, "refiner": "0123456789abcdef"}
    save_profile(path, profile.manifest, profile.tensors, profile.preview, profile.preview_rate)
    controller.refresh()
    assert page.table.item(_row(window, "Before"), 4).text() == "this model, before its new refiner"
    assert page.table.item(_row(window, "Ada"), 4).text() == "this model"
    page.table.selectRow(_row(window, "Before"))
    assert page.speak_button.isEnabled()
    assert page.rebuild_button.isVisible() and not page.rebuild_button.isEnabled()  # no takes


def test_cancelling_a_recreation_leaves_the_voice_as_it_was(
    window: MainWindow, qtbot: QtBot, old_voice: Path
) -> None:
    page, controller = window.voices_page, window.voices_controller
    before = old_voice.read_bytes()
    page.table.selectRow(_row(window, "Old"))
    assert controller.rebuild() is not None
    page.cancel_rebuild_button.click()
    qtbot.waitUntil(lambda: controller.rebuild_task is None, timeout=120_000)
    assert "Cancelled; “Old” is unchanged." in page.status.text()
    assert old_voice.read_bytes() == before
    assert page.rebuild_button.isEnabled()


def test_export_carries_the_takes_when_chosen(
    window: MainWindow, old_voice: Path, tmp_path: Path
) -> None:
    page, controller = window.voices_page, window.voices_controller
    page.table.selectRow(_row(window, "Ada"))
    assert not page.export_takes_box.isEnabled()  # no takes kept for Ada
    page.table.selectRow(_row(window, "Old"))
    assert page.export_takes_box.isEnabled()
    controller.export(controller.selected(), tmp_path / "plain.mvoice")
    assert read_profile(tmp_path / "plain.mvoice").takes is None
    page.export_takes_box.setChecked(True)
    controller.export(controller.selected(), tmp_path / "banked.mvoice")
    assert "with its recordings" in page.status.text()
    carried = read_profile(tmp_path / "banked.mvoice").takes
    assert carried is not None and len(carried.takes) == 2


def test_before_the_model_loads_no_voice_is_called_this_models(
    qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path
) -> None:
    model_id = read_info(tiny_model_dir).model_id
    app_paths.voices_dir.mkdir(parents=True, exist_ok=True)
    _profile(app_paths.voices_dir / "ada.mvoice", "f" * 64, "Ada")
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    assert win.engines.engine is None  # its loading ends on the event loop, not yet run
    assert win.voices_page.table.item(0, 4).text() == "ffffffff"
    qtbot.waitUntil(lambda: win.engines.engine is not None, timeout=60_000)
    assert win.voices_page.table.item(0, 4).text().startswith("another model (ffffffff)")
    assert model_id != "f" * 64
