from __future__ import annotations

import sys

import pytest

from metavoice_app.core.audio import devices
from metavoice_app.core.audio.devices import AudioUnavailableError


def test_listing_works_with_or_without_sound_hardware() -> None:
    found = devices.list_devices()
    assert all(d.max_input_channels >= 0 and d.name for d in found)
    assert set(devices.input_devices()) <= set(found)


def test_missing_portaudio_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(AudioUnavailableError, match="libportaudio2"):
        devices.list_devices()
