"""``metavoice --selftest``: check an installation end to end and say what works."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from metavoice_app.core.paths import AppPaths


def _check(name: str, fn: Callable[[], str], results: list[tuple[str, bool, str]]) -> None:
    started = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as exc:  # every failure becomes a line of the report
        detail, ok = f"{type(exc).__name__}: {exc}", False
    results.append((name, ok, f"{detail} ({time.perf_counter() - started:.2f} s)"))


def has_display() -> bool:
    """Can Qt open a window here? (Without one it aborts the process, uncatchably.)"""
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
        or sys.platform in ("win32", "darwin")
    )


def _window(paths: AppPaths) -> str:
    """Build and show the main window, as a bundle must (Qt plugins, icons, theme)."""
    from PySide6.QtWidgets import QApplication

    from metavoice_app.gui.app import create_main_window
    from metavoice_app.gui.workers import Task

    started = time.perf_counter()
    window = create_main_window(paths)
    window.show()
    QApplication.processEvents()
    shown = time.perf_counter() - started
    platform = QApplication.platformName()
    window.close()
    QApplication.processEvents()
    Task.wait_all()
    return f"shown in {shown:.2f} s on the {platform} platform"


def run_selftest(
    paths: AppPaths, model: Path | None = None, device: str = "auto", window: bool = True
) -> int:
    """Returns 0 when the model loads and speaks, and the window opens where a display is
    available; audio devices are reported, not required."""
    from metavoice_app.core.audio.devices import AudioUnavailableError, list_devices

    results: list[tuple[str, bool, str]] = []
    engine_box: list[object] = []

    def load() -> str:
        from metavoice_app.core.synth.engine import SpeechEngine

        engine = SpeechEngine(model, device=device)
        engine_box.append(engine)
        return f"{engine.model_dir} on {engine.device}, {len(engine.voice_ids())} voices"

    def speak() -> str:
        import soundfile as sf

        from metavoice_app.core.audio.export import ExportOptions, write_audio
        from metavoice_app.core.synth.engine import SpeechEngine

        engine = engine_box[0]
        assert isinstance(engine, SpeechEngine)
        result = engine.speak("This is a test of MetaVoice Studio.")
        if result.duration < 0.5 or not (abs(result.audio) > 1e-3).any():
            raise RuntimeError("the synthesised audio is empty")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "selftest.wav"
            write_audio(path, result.audio, result.sample_rate, ExportOptions())
            seconds = sf.info(str(path)).duration
        return f"{seconds:.2f} s of speech in {result.seconds_to_make:.2f} s"

    def audio() -> str:
        try:
            devices = list_devices()
        except AudioUnavailableError as exc:
            return f"none usable ({exc}); playback and recording are off, files still work"
        inputs = sum(d.max_input_channels > 0 for d in devices)
        outputs = sum(d.max_output_channels > 0 for d in devices)
        return f"{inputs} input and {outputs} output devices"

    _check("speech model", load, results)
    if engine_box:
        _check("synthesis", speak, results)
    _check("audio devices", audio, results)
    essential = {"speech model", "synthesis"}
    if window and has_display():
        _check("window", lambda: _window(paths), results)
        essential.add("window")
    else:
        results.append(("window", True, "skipped: no display (set QT_QPA_PLATFORM=offscreen)"))
    for name, ok, detail in results:
        print(f"[{'ok' if ok else 'FAIL':>4}] {name}: {detail}")
    failed = [name for name, ok, _ in results if not ok]
    if failed or not essential <= {name for name, _, _ in results}:
        print("selftest FAILED: " + ", ".join(failed or ["speech model"]), file=sys.stderr)
        return 1
    print("selftest passed")
    return 0
