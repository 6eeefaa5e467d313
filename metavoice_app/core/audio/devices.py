"""Finding the microphones and speakers PortAudio can see.

A machine may have no sound card at all, or no PortAudio library: the app
must still open and say so, so every failure becomes :class:`AudioUnavailableError`
with a sentence a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AudioUnavailableError(RuntimeError):
    """No usable audio device or audio library; the message says which."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_sample_rate: float


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (OSError, ImportError) as exc:  # PortAudio's shared library or the module is missing
        raise AudioUnavailableError(
            "The PortAudio library is not installed, so no microphone or speaker can be used "
            "(on Debian/Ubuntu: apt-get install libportaudio2). You can still import audio files."
        ) from exc
    return sounddevice


def list_devices() -> list[AudioDevice]:
    """All devices PortAudio reports (possibly none)."""
    sd = _sounddevice()
    try:
        raw = sd.query_devices()
        apis = sd.query_hostapis()
    except Exception as exc:  # PortAudioError and friends
        raise AudioUnavailableError(f"The audio system could not be queried: {exc}") from exc
    return [
        AudioDevice(
            index=int(d["index"]),
            name=str(d["name"]),
            host_api=str(apis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_sample_rate=float(d["default_samplerate"]),
        )
        for d in raw
    ]


def input_devices() -> list[AudioDevice]:
    return [d for d in list_devices() if d.max_input_channels > 0]


def output_devices() -> list[AudioDevice]:
    return [d for d in list_devices() if d.max_output_channels > 0]


def rescan() -> None:
    """Read the device list afresh: PortAudio takes it once, when it starts, so speakers
    or microphones plugged in later stay unseen until it restarts. Restarting closes
    every open stream, so call this only when none is open."""
    sd = _sounddevice()
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # PortAudioError and friends
        raise AudioUnavailableError(f"The audio system could not be restarted: {exc}") from exc


def describe_output_error(exc: BaseException, device: int | str | None) -> str:
    """A sentence a user can act on for a failure to open the speakers: PortAudio's own
    messages ("Error querying device -1") mean nothing to most people."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, AudioUnavailableError):
        return text
    if "no output device matching" in lowered or (
        device is not None and "invalid device" in lowered
    ):
        return (
            f"The speakers chosen in Settings (“{device}”) are not connected. Connect them, "
            "or choose others in File > Settings."
        )
    if "device -1" in lowered or "invalid device" in lowered or "no default" in lowered:
        return (
            "No speakers or headphones were found. Connect some (File > Settings lists them "
            "again when it opens)."
        )
    if "unavailable" in lowered or "busy" in lowered:
        return "The speakers are in use by another program, or were unplugged."
    return f"The speakers could not be opened ({text})."
