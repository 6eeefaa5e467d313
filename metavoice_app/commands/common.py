"""Helpers shared by the subcommands: options, progress lines and locating the shared data."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from metavoice_app.core.device import DEVICE_CHOICES
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.progress import ProgressSink

if TYPE_CHECKING:  # torch loads only when a command runs, not for --help
    from metavoice_app.core.model.acoustic import Controls
    from metavoice_app.core.synth.engine import SpeechEngine

SHARED_ENV = "METAVOICE_SHARED_DATA"
# What the model speaks sensibly with (the Speak area offers the same energy range);
# beyond these it distorts or falls silent, and NaN comes out as full-scale noise.
CONTROL_RANGES = {"--speed": (0.25, 4.0), "--pitch": (-24.0, 24.0), "--energy": (-2.0, 2.0)}


def default_shared_data() -> Path | None:
    """The training data folder: ``METAVOICE_SHARED_DATA``, else ``../shared/data`` beside
    a source checkout, else none (the app itself never needs it)."""
    override = os.environ.get(SHARED_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    beside_checkout = Path(__file__).resolve().parents[3] / "shared" / "data"
    return beside_checkout if beside_checkout.is_dir() else None


def shared_data_or_say(args: argparse.Namespace, command: str, what: str = "") -> Path | None:
    """``--shared`` or the default shared data folder; None after saying on stderr that
    ``metavoice COMMAND`` needs it (``what``: for what, when that helps)."""
    shared: Path | None = args.shared or default_shared_data()
    if shared is None:
        print(
            f"metavoice {command}: needs the shared data folder (--shared DIR){what}.",
            file=sys.stderr,
        )
    return shared


def add_device_option(
    parser: argparse.ArgumentParser,
    default: str = "auto: CUDA when available, otherwise CPU",
) -> None:
    """A subcommand's ``--device``. It is left out of the namespace when not given: a
    default here would replace the global ``metavoice --device`` given before the
    subcommand, which then ran on the CPU without a word. ``default`` says, for the
    help, what the command runs on when neither is given."""
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default=argparse.SUPPRESS,
        help=f"compute device (default: {default})",
    )


def runs_on_cpu_only(parser: argparse.ArgumentParser) -> None:
    """Mark a subcommand whose work runs on the CPU whatever the device: the global
    ``metavoice --device cuda`` is then refused for it, by name, instead of ignored."""
    parser.set_defaults(cpu_only=parser.prog)


def checked_controls(speed: float = 1.0, pitch: float = 0.0, energy: float = 0.0) -> Controls:
    """The speaking controls given on the command line, refused (``ValueError`` naming
    the option) unless finite and in :data:`CONTROL_RANGES`: argparse takes ``nan`` and
    ``inf`` as floats, and the model turned them into full-scale noise."""
    from metavoice_app.core.model.acoustic import Controls

    for flag, value in (("--speed", speed), ("--pitch", pitch), ("--energy", energy)):
        low, high = CONTROL_RANGES[flag]
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"{flag} must be a number from {low:g} to {high:g}, not {value:g}")
    return Controls(speed=speed, pitch_semitones=pitch, energy=energy)


def print_progress(done: int, total: int, message: str) -> None:
    width = len(str(total))
    print(f"[{done:>{width}}/{total}] {message}", file=sys.stderr, flush=True)


def counted_lines(total: int) -> ProgressSink:
    """A progress sink printing each report as a :func:`print_progress` line, for an
    action over ``total`` like units (the cues of a dub): the fraction counts them."""
    return ProgressSink(lambda p: print_progress(round(p.fraction * total), total, p.message))


def resolve_voice(voice: str | None, engine: SpeechEngine, paths: AppPaths) -> str | Path | None:
    """A built-in voice id, a .mvoice path, or a library voice name (turned into its path)."""
    from metavoice_app.core.profiles.library import VoiceLibrary
    from metavoice_app.core.profiles.mvoice import SUFFIX, ProfileError
    from metavoice_app.core.synth.engine import VoiceNotFoundError

    if voice is None or voice in engine.voice_ids():
        return voice
    if voice.endswith(SUFFIX):
        return Path(voice)
    try:
        return VoiceLibrary(paths.voices_dir).find(voice)
    except ProfileError as exc:
        raise VoiceNotFoundError(
            f"unknown voice {voice!r}: not a built-in voice (see --list-voices), not a "
            f".mvoice file, and {exc}"
        ) from None
