"""The Dub area with the tiny real model: load, map voices, render to files, cancel."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from metavoice_app.core.paths import AppPaths
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import MainWindow

SRT = """1
00:00:00,500 --> 00:00:02,000
[Alice] Hello there.

2
00:00:02,500 --> 00:00:04,000
[Bob] Hello to you.

3
00:00:04,500 --> 00:00:06,000
Good bye now.
"""


@pytest.fixture
def window(qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path) -> MainWindow:
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.engines.engine is not None, timeout=60_000)
    return win


def test_load_render_and_files(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    subtitles = tmp_path / "scene.srt"
    subtitles.write_text(SRT)
    controller = window.dub_controller
    assert controller.load(subtitles)
    page = window.dub_page
    assert page.cue_table.rowCount() == 3 and page.cue_table.item(0, 3).text() == "Alice"
    assert set(controller.voice_combos) == {None, "Alice", "Bob"}
    assert page.render_button.isEnabled()
    out = tmp_path / "scene-dub.wav"
    task = controller.render_to(out)
    assert task is not None
    qtbot.waitUntil(
        lambda: not task.is_running() and page.open_folder_button.isEnabled(), timeout=60_000
    )
    assert sf.info(str(out)).duration >= 6.0
    assert len(list((tmp_path / "scene-dub-stems").glob("*.wav"))) == 3
    assert out.with_suffix(".csv").exists()
    assert "Saved scene-dub.wav" in page.status.text()


def test_malformed_file_is_explained(window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:09,000 --> 00:00:01,000\nBackwards.\n")
    assert not window.dub_controller.load(bad)
    assert "line 2: the cue ends before it starts" in window.dub_page.status.text()
    assert not window.dub_page.render_button.isEnabled()


def test_cancel_writes_nothing(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    script = tmp_path / "long.txt"
    script.write_text("\n".join(f"This is line number {i}." for i in range(1, 40)))
    controller = window.dub_controller
    controller.load(script)
    out = tmp_path / "long.wav"
    task = controller.render_to(out)
    assert task is not None
    controller.cancel()
    qtbot.waitUntil(lambda: "Cancelled" in window.dub_page.status.text(), timeout=60_000)
    assert not out.exists()


def test_dub_main_voice_is_the_last_used_one(
    qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from metavoice_app.core.model.checkpoint import read_info
    from metavoice_app.core.settings import Settings, save_settings

    info = read_info(tiny_model_dir)
    other = next(v.id for v in info.voices if v.id != info.default_voice)
    save_settings(Settings(last_voice=other), app_paths.settings_file)
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.engines.engine is not None, timeout=60_000)
    script = tmp_path / "one.txt"
    script.write_text("Just one line.")
    assert win.dub_controller.load(script)
    picker = win.dub_controller.voice_combos[None]
    assert picker.currentData() == other
    picker.setCurrentIndex(picker.findData(info.default_voice))
    task = win.dub_controller.render_to(tmp_path / "one.wav")
    assert task is not None
    qtbot.waitUntil(lambda: not task.is_running(), timeout=60_000)
    assert win.settings.last_voice == info.default_voice


def test_overflowing_cues_are_marked_the_mix_plays_and_progress_says_done(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, silent_speakers: None
) -> None:
    long_text = "This sentence is far too long to be spoken in the tiny slot it was given here."
    subtitles = tmp_path / "tight.srt"
    subtitles.write_text(
        f"1\n00:00:00,500 --> 00:00:00,700\n{long_text}\n\n"
        "2\n00:00:01,000 --> 00:00:09,000\nPlenty of time.\n"
    )
    controller, page = window.dub_controller, window.dub_page
    assert controller.load(subtitles)
    assert not page.play_mix_button.isEnabled()
    task = controller.render_to(tmp_path / "tight.wav")
    assert task is not None
    qtbot.waitUntil(lambda: page.play_mix_button.isEnabled(), timeout=60_000)
    assert page.progress.value() == 100 and page.progress.text() == "Done"
    table = page.cue_table
    tight, roomy = table.item(0, 5), table.item(1, 5)
    assert tight.text().startswith("+") and roomy.text() == "fits"
    assert "past its slot" in table.item(0, 4).toolTip() and long_text in tight.toolTip()
    assert table.item(0, 0).background().color().alpha() > 0
    assert table.item(1, 0).background().style() == Qt.BrushStyle.NoBrush
    page.play_mix_button.click()
    assert window.player.playing and page.play_mix_button.text() == "Stop"
    assert len(window.player._audio) == len(controller.result.track)
    page.play_mix_button.click()
    assert not window.player.playing and page.play_mix_button.text() == "Play mix"
