"""Playback: play buttons that show and stop what they play, plain device errors, and
devices found again without restarting the app. The sound card is replaced by a stream
class that takes the player's callback (this machine has none)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sounddevice
from conftest import SilentSpeakers
from pytestqt.qtbot import QtBot

from metavoice_app.core.audio.devices import describe_output_error
from metavoice_app.core.paths import AppPaths
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import MainWindow
from metavoice_app.gui.player import Player, PlayToggle


class NoSpeakers:
    def __init__(self, **_kwargs: Any) -> None:
        raise sounddevice.PortAudioError("Error querying device -1")


def test_a_play_button_shows_stop_while_its_play_plays(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QPushButton

    monkeypatch.setattr(sounddevice, "OutputStream", SilentSpeakers)
    player = Player()
    first, second = QPushButton("Play"), QPushButton("Play preview")
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    audio = np.zeros(16000, dtype=np.float32)
    one = PlayToggle(first, player)
    two = PlayToggle(second, player, "Play preview")
    one.requested.connect(lambda: player.play(audio, 16000, owner=one))
    two.requested.connect(lambda: player.play(audio, 16000, owner=two))
    first.click()
    assert player.playing and first.text() == "Stop" and second.text() == "Play preview"
    second.click()  # another play takes the player: the first button is Play again
    assert first.text() == "Play" and second.text() == "Stop"
    second.click()  # Stop
    assert not player.playing and second.text() == "Play preview"


@pytest.mark.parametrize(
    ("error", "device", "expected"),
    [
        (sounddevice.PortAudioError("Error querying device -1"), None, "No speakers"),
        (ValueError("No output device matching 'USB Headset'"), "USB Headset", "not connected"),
        (sounddevice.PortAudioError("Device unavailable"), None, "in use by another program"),
    ],
)
def test_device_errors_are_told_in_plain_words(
    error: Exception, device: str | None, expected: str
) -> None:
    message = describe_output_error(error, device)
    assert expected in message and "-1" not in message


def test_playing_without_speakers_says_so_plainly(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sounddevice, "OutputStream", NoSpeakers)
    player = Player()
    with qtbot.waitSignal(player.failed) as blocker:
        player.play(np.zeros(160, dtype=np.float32), 16000)
    message = blocker.args[0]
    assert "No speakers or headphones were found" in message and "-1" not in message
    assert "export" in message


def test_speakers_connected_later_are_found_without_a_restart(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, app_paths: AppPaths
) -> None:
    """PortAudio reads its device list when it starts; the app restarts it (when nothing
    is playing or recording) to see speakers plugged in since."""
    starts = [0]
    monkeypatch.setattr(sounddevice, "_terminate", lambda: None)
    monkeypatch.setattr(sounddevice, "_initialize", lambda: starts.__setitem__(0, starts[0] + 1))

    def devices() -> list[dict[str, Any]]:
        if not starts[0]:
            return []
        return [
            {
                "index": 0,
                "name": "USB Headset",
                "hostapi": 0,
                "max_input_channels": 0,
                "max_output_channels": 2,
                "default_samplerate": 48000.0,
            }
        ]

    monkeypatch.setattr(sounddevice, "query_devices", devices)
    monkeypatch.setattr(sounddevice, "query_hostapis", lambda: [{"name": "ALSA"}])

    def speakers(**kwargs: Any) -> SilentSpeakers:
        if not starts[0]:
            raise sounddevice.PortAudioError("Error querying device -1")
        return SilentSpeakers(**kwargs)

    monkeypatch.setattr(sounddevice, "OutputStream", speakers)
    window: MainWindow = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(window)
    window.player.play(np.zeros(160, dtype=np.float32), 16000)
    assert window.player.playing and starts[0] == 1  # found on the retry after a rescan
    window.player.stop()
    starts[0] = 0
    dialog = window.show_settings()
    qtbot.addWidget(dialog)
    assert dialog.output.findText("USB Headset") >= 0
    dialog.reject()


def test_a_failed_play_is_told_only_where_it_was_asked_for(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QPushButton

    monkeypatch.setattr(sounddevice, "OutputStream", NoSpeakers)
    player = Player()
    buttons = [QPushButton("Play"), QPushButton("Play")]
    for button in buttons:
        qtbot.addWidget(button)
    mine, other = (PlayToggle(b, player) for b in buttons)
    told: dict[str, list[str]] = {"mine": [], "other": []}
    player.failed.connect(mine.failure_reporter(told["mine"].append))
    player.failed.connect(other.failure_reporter(told["other"].append))
    player.play(np.zeros(160, dtype=np.float32), 16000, owner=mine)
    assert len(told["mine"]) == 1 and told["other"] == []


class QueuedSpeakers:
    """A stream with a PortAudio-like queue: stop() drains it (slowly), abort() does not;
    after the callback raises CallbackStop it stays active until the queue is heard."""

    drain_seconds = 1.0

    def __init__(self, **kwargs: Any) -> None:
        self.callback = kwargs["callback"]
        self.active = False
        self.calls: list[str] = []
        QueuedSpeakers.last = self

    def start(self) -> None:
        self.active = True

    def pull(self, frames: int = 160) -> bool:
        """One block through the callback; False once the player said the clip ended."""
        try:
            self.callback(np.zeros((frames, 1), dtype=np.float32), frames, None, None)
        except sounddevice.CallbackStop:
            return False
        return True

    def stop(self) -> None:
        import time

        self.calls.append("stop")
        time.sleep(self.drain_seconds)
        self.active = False

    def abort(self) -> None:
        self.calls.append("abort")
        self.active = False

    def close(self) -> None:
        self.calls.append("close")


def test_stopping_a_play_does_not_wait_for_the_queued_audio(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setattr(sounddevice, "OutputStream", QueuedSpeakers)
    player = Player()
    player.play(np.zeros(16000, dtype=np.float32), 16000)
    stream = QueuedSpeakers.last
    started = time.perf_counter()
    player.stop()  # a Stop, or Record pressed while it plays
    assert time.perf_counter() - started < 0.5
    assert stream.calls == ["abort", "close"] and not player.playing

    # At the clip's end the player lets the queue play out and closes the stream after.
    player.play(np.zeros(320, dtype=np.float32), 16000)
    stream = QueuedSpeakers.last
    assert stream.pull() and stream.pull()
    assert not stream.pull()  # the clip is over: CallbackStop
    qtbot.wait(150)
    assert player.playing and stream.calls == []  # the queued samples are still heard
    stream.active = False  # PortAudio has played them
    qtbot.waitUntil(lambda: not player.playing, timeout=2_000)
    assert stream.calls == ["abort", "close"]
