"""Smoke-test a built MetaVoice Studio bundle and measure its size and start-up time.

    python3 packaging/smoke.py build/dist/metavoice-studio [--tarball FILE] [--report FILE]

Runs, from the bundle and with a throwaway data folder: ``--version`` (how long the
frozen interpreter and the CLI take to start), ``--selftest`` with Qt's offscreen
platform (model load, one sentence to a file, audio devices, the main window), the same
under Xvfb when ``xvfb-run`` is installed, and ``synth`` to a wav that is then checked.
Exits non-zero when any step fails. With ``--report`` the numbers replace the
``package`` section of the benchmarks file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run(command: list[str], env: dict[str, str], timeout: float = 300) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    print(f"$ {' '.join(command)}  ({seconds:.1f} s, exit {done.returncode})")
    print(output.rstrip())
    if done.returncode != 0:
        raise SystemExit(f"smoke test failed: {command[-1]} exited {done.returncode}")
    return seconds, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="the one-folder bundle")
    parser.add_argument("--tarball", type=Path, help="the release tarball, to report its size")
    parser.add_argument("--report", type=Path, help="update this benchmarks file")
    args = parser.parse_args()
    exe = args.bundle / ("metavoice-studio.exe" if os.name == "nt" else "metavoice-studio")
    if not exe.exists():
        raise SystemExit(f"no executable at {exe}")
    home = Path(tempfile.mkdtemp(prefix="metavoice-smoke-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAVOICE_")}
    env["METAVOICE_HOME"] = str(home)
    try:
        version_s, _ = run([str(exe), "--version"], env)
        version_s = min(version_s, run([str(exe), "--version"], env)[0])  # warm file cache
        offscreen = {**env, "QT_QPA_PLATFORM": "offscreen"}
        selftest_s, out = run([str(exe), "--selftest", "--device", "cpu"], offscreen)
        if "[  ok] window" not in out or "selftest passed" not in out:
            raise SystemExit("smoke test failed: the selftest did not open the window")
        shown = re.search(r"window: shown in ([0-9.]+) s", out)
        xvfb = "not run (xvfb-run is not installed)"
        if shutil.which("xvfb-run") and sys.platform.startswith("linux"):
            plain = {k: v for k, v in env.items() if k != "QT_QPA_PLATFORM"}
            seconds, out = run(
                ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", str(exe), "--selftest"], plain
            )
            if "xcb platform" not in out:
                raise SystemExit("smoke test failed: the window did not open on X11 (xcb)")
            xvfb = f"passed in {seconds:.1f} s (xcb platform)"
        wav = home / "smoke.wav"
        synth_s, _ = run(
            [str(exe), "synth", "--text", "Hello from the bundle.", "--out", str(wav)], env
        )
        with wave.open(str(wav)) as handle:
            if handle.getnframes() < handle.getframerate() // 2:
                raise SystemExit("smoke test failed: the synthesised wav is too short")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    size = folder_size(args.bundle)
    lines = [
        "## Desktop bundle (`packaging/build.sh`)",
        "",
        f"Measured {dt.date.today().isoformat()} with `bash packaging/build.sh` (PyInstaller "
        f"one-folder build, CPU torch) on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPU cores; the smoke test is `packaging/smoke.py`.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| bundle folder | {size / 2**20:.0f} MB |",
    ]
    if args.tarball is not None and args.tarball.exists():
        lines.append(f"| release tarball (gzip) | {args.tarball.stat().st_size / 2**20:.0f} MB |")
    lines += [
        f"| start-up to the CLI (`--version`, warm cache) | {version_s:.1f} s |",
        f"| `--selftest` (model load, a sentence, devices, window) | {selftest_s:.1f} s |",
    ]
    if shown:
        lines.append(f"| main window built and shown (inside the selftest) | {shown.group(1)} s |")
    lines += [
        f"| `synth` of one sentence, whole process | {synth_s:.1f} s |",
        f"| selftest under Xvfb | {xvfb} |",
    ]
    markdown = "\n".join(lines) + "\n"
    print()
    print(markdown)
    if args.report is not None:
        sys.path.insert(0, str(ROOT))
        from metavoice_app.core.bench.report import update_section

        update_section(args.report, "package", markdown)
        print(f"updated {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
