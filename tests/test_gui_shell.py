from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from metavoice_app.core.paths import AppPaths
from metavoice_app.core.settings import Settings, save_settings
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import Area, MainWindow


@pytest.fixture
def window(qtbot: QtBot, app_paths: AppPaths) -> MainWindow:
    win = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_window_opens_on_the_voices_area(window: MainWindow) -> None:
    assert window.windowTitle() == "MetaVoice Studio"
    assert window.isVisible()
    assert window.current_area() is Area.VOICES
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [
        "Voices",
        "Clone",
        "Speak",
        "Dub",
    ]


@pytest.mark.parametrize("area", list(Area))
def test_every_area_is_reachable_from_the_sidebar(
    window: MainWindow, qtbot: QtBot, area: Area
) -> None:
    item = window.nav.item(area.value)
    rect = window.nav.visualItemRect(item)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_area() is area
    assert window.stack.currentWidget() is window.pages[area]


@pytest.mark.parametrize("area", list(Area))
def test_every_area_has_a_keyboard_shortcut(window: MainWindow, qtbot: QtBot, area: Area) -> None:
    window.activateWindow()
    key = Qt.Key(Qt.Key.Key_1.value + area.value)
    qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
    assert window.current_area() is area


def test_clone_button_on_voices_opens_the_clone_area(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.mouseClick(window.voices_page.clone_button, Qt.MouseButton.LeftButton)
    assert window.current_area() is Area.CLONE


def test_about_box_and_status_bar_show_the_compute_device(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: window.device_info is not None, timeout=30_000)
    assert window.device_info is not None
    assert window.device_info.kind == "cpu"
    assert str(window.device_info) in window.device_status.text()
    about = window.show_about()
    qtbot.addWidget(about)
    assert about.isVisible()
    assert about.device_label.text() == str(window.device_info)
    assert "CPU" in about.details_text()
    assert "torch:" in about.details_text()


def test_about_opened_early_is_updated_when_the_device_is_known(
    window: MainWindow, qtbot: QtBot
) -> None:
    about = window.show_about()
    qtbot.addWidget(about)
    qtbot.waitUntil(lambda: "CPU" in about.device_label.text(), timeout=30_000)


def test_unusable_saved_device_falls_back_to_cpu_with_a_warning(
    qtbot: QtBot, app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    save_settings(Settings(compute_device="cuda"), app_paths.settings_file)
    win = create_main_window(app_paths)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.device_info is not None, timeout=30_000)
    assert win.device_info is not None and win.device_info.kind == "cpu"
    assert "Using the CPU instead" in win.statusBar().currentMessage()


def test_clone_area_reports_the_microphone_situation(window: MainWindow, qtbot: QtBot) -> None:
    step = window.clone_page.microphone
    qtbot.waitUntil(
        lambda: step.device_combo.count() > 0 or "No microphone was found" in step.status.text(),
        timeout=30_000,
    )
    if step.device_combo.count() == 0:
        assert "audio files" in step.status.text()
        assert not step.test_button.isEnabled()


def test_settings_dialog_saves_and_applies(
    window: MainWindow, qtbot: QtBot, app_paths: AppPaths
) -> None:
    from PySide6.QtGui import QPalette

    from metavoice_app.core.settings import load_settings

    dialog = window.show_settings()
    qtbot.addWidget(dialog)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.prompts.setValue(7)
    dialog.export_rate.setCurrentIndex(dialog.export_rate.findData(22050))
    dialog.accept()
    saved, _notice = load_settings(app_paths.settings_file)
    assert (saved.theme, saved.prompts_per_voice, saved.export_sample_rate) == ("dark", 7, 22050)
    qtbot.waitUntil(
        lambda: window.palette().color(QPalette.ColorRole.Window).lightness() < 100,
        timeout=5_000,
    )
    assert window.speak_page.export_rate.currentData() == 22050
    assert window.clone_controller.settings.prompts_per_voice == 7
    dialog = window.show_settings()
    qtbot.addWidget(dialog)
    assert dialog.theme.currentData() == "dark"
    dialog.reject()


def test_a_reset_setting_is_noticed_once_in_the_status_bar(
    qtbot: QtBot, app_paths: AppPaths
) -> None:
    import json

    app_paths.settings_file.write_text(
        json.dumps({"theme": "neon", "export_sample_rate": 22050}), encoding="utf-8"
    )
    first = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(first)
    message = first.statusBar().currentMessage()
    assert "theme must be one of" in message and "not 'neon', so it is back to 'system'" in message
    assert "settings.json.broken-" in message
    assert first.settings.export_sample_rate == 22050  # the good value is kept
    again = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(again)
    assert again.statusBar().currentMessage() == "Ready"


def test_ctrl_comma_opens_settings(window: MainWindow, qtbot: QtBot) -> None:
    from metavoice_app.gui.settings_dialog import SettingsDialog

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialogs = [d for d in window.findChildren(SettingsDialog) if d.isVisible()]
    assert len(dialogs) == 1
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert len([d for d in window.findChildren(SettingsDialog) if d.isVisible()]) == 1
    dialogs[0].reject()


def test_f1_opens_help_with_the_keys_and_the_guide(window: MainWindow, qtbot: QtBot) -> None:
    from metavoice_app.gui.about import AboutDialog
    from metavoice_app.gui.help import HelpDialog

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    helps = [d for d in window.findChildren(HelpDialog) if d.isVisible()]
    assert len(helps) == 1
    assert not any(d.isVisible() for d in window.findChildren(AboutDialog))
    text = helps[0].browser.toPlainText()
    assert "Ctrl+," in text and "Settings" in text  # the keys, from the actions themselves
    assert "Ctrl+Z" in text
    assert "Space starts and stops recording" in text  # the README's user guide
    helps[0].reject()


def test_help_without_a_readme_still_lists_the_keys(tmp_path) -> None:
    from metavoice_app.gui.help import HelpDialog

    dialog = HelpDialog([], readme=tmp_path / "missing.md")
    assert "Ctrl+Enter" in dialog.browser.toPlainText()
    assert "README" in dialog.browser.toPlainText()
