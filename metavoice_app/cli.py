"""The ``metavoice`` command: the GUI by default, engine tasks as subcommands.

Subcommands import only what they need, so ``metavoice --help`` is instant
and headless commands never load Qt.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from metavoice_app import __version__
from metavoice_app.commands import adapt, bench, dub, profile, synth, train
from metavoice_app.core.device import DEVICE_CHOICES
from metavoice_app.core.logs import setup_logging
from metavoice_app.core.paths import HOME_ENV, AppPaths

log = logging.getLogger(__name__)

EXIT_FAILURE = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metavoice",
        description="MetaVoice Studio: read five sentences, then type and hear your own voice. "
        "With no subcommand the desktop app opens.",
        epilog=f"Data folders follow your platform's conventions; set {HOME_ENV}=DIR to keep "
        "everything (voices, recordings, exports, logs, settings) under one folder.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="load the model, speak a sentence to a temporary file, check audio devices "
        "and open the window (where there is a display), report and exit (non-zero on "
        "failure)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also log debug messages to stderr"
    )
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default=None,
        help="compute device for model work (default: the saved setting, "
        "else auto: CUDA when available, otherwise CPU)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.add_parser(
        "gui",
        help="open the desktop app (the default)",
        description="Open the MetaVoice Studio window.",
    )
    synth.register(sub)
    adapt.register(sub)
    dub.register(sub)
    bench.register(sub)
    profile.register(sub)
    train.register(sub)
    return parser


def _run_gui(paths: AppPaths, device: str | None) -> int:
    try:
        from metavoice_app.gui.app import run_app
    except ImportError as exc:
        print(
            f"metavoice: cannot start the window: {exc}.\n"
            "Qt's system libraries may be missing; on Debian/Ubuntu run scripts/setup.sh.",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return run_app(paths, device_override=device)


def _device_problem(preference: str | None, cpu_only: bool = False) -> str:
    """Why the device a command asks for cannot be used ('' when it can). Commands check
    it before any work: on the command line an unusable device is an error, where the
    app falls back to the CPU with a warning. A ``cpu_only`` command runs on the CPU
    whatever it is given (see ``runs_on_cpu_only``), so a GPU asked for is refused."""
    if preference is None:
        return ""
    if cpu_only and preference not in ("cpu", "auto"):
        return f"runs on the CPU only; leave out --device {preference}"
    from metavoice_app.core.device import DeviceError, resolve_device

    try:
        resolve_device(preference)
    except DeviceError as exc:
        return str(exc)
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``metavoice`` console script and ``python -m metavoice_app``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    paths = AppPaths.from_env()
    try:
        paths.ensure()
        log_file = setup_logging(paths.logs_dir, verbose=args.verbose)
    except OSError as exc:
        print(f"metavoice: cannot create the app's folders: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    log.info("metavoice %s: command %s, log %s", __version__, args.command or "gui", log_file)
    for leftover in paths.remove_stale_temporaries():
        log.info("removed %s, left by an interrupted write", leftover)
    if args.selftest:
        from metavoice_app.commands.selftest import run_selftest

        return run_selftest(paths, device=args.device or "auto")
    handler = getattr(args, "handler", None)
    if handler is not None:
        cpu_only = getattr(args, "cpu_only", None)  # the command's full name, if marked
        problem = _device_problem(args.device, cpu_only is not None)
        if problem:
            print(f"{cpu_only or 'metavoice ' + args.command}: {problem}", file=sys.stderr)
            return EXIT_FAILURE
        return int(handler(args, paths))
    return _run_gui(paths, args.device)


def main_gui() -> None:
    """Entry point of the windowed launcher (no console on Windows)."""
    sys.exit(main(sys.argv[1:]))
