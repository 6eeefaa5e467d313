from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from metavoice_app.cli import main
from metavoice_app.core.logs import LOG_FILE_NAME
from metavoice_app.core.paths import AppPaths

EXPECTED_COMMANDS = ["gui", "synth", "adapt", "train", "bench", "dub", "profile"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=os.environ.copy())


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in EXPECTED_COMMANDS:
        assert f"\n    {command} " in out, f"{command} missing from --help"


def test_console_script_help_lists_subcommands() -> None:
    script = Path(sys.executable).with_name("metavoice")
    assert script.exists(), "the metavoice console script is not installed"
    result = _run(str(script), "--help")
    assert result.returncode == 0, result.stderr
    for command in EXPECTED_COMMANDS:
        assert command in result.stdout


def test_python_dash_m_runs_the_same_cli() -> None:
    result = _run(sys.executable, "-m", "metavoice_app", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("metavoice 0.")


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["gui", "--no-such-option"])
    assert exit_info.value.code == 2
    assert "--no-such-option" in capsys.readouterr().err


def test_help_loads_neither_qt_nor_torch() -> None:
    code = (
        "import sys\n"
        "from metavoice_app.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr


def test_commands_log_to_the_log_folder(
    app_paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["-v", "profile", "list"])
    log_text = (app_paths.logs_dir / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "command profile" in log_text
    assert "command profile" in capsys.readouterr().err, "-v should also log to stderr"


def test_quiet_by_default_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    main(["profile", "list"])
    assert "command profile" not in capsys.readouterr().err


def test_selftest_passes_with_a_model_and_fails_without(
    tiny_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    from metavoice_app.core.paths import RESOURCES_ENV

    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path / "resources"))
    assert main(["--selftest", "--device", "cpu"]) == 1
    assert "[FAIL] speech model" in capsys.readouterr().out
    shutil.copytree(tiny_model_dir, tmp_path / "resources" / "models" / "base")
    assert main(["--selftest", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "[  ok] synthesis" in out and "selftest passed" in out
    assert "[  ok] window: shown in" in out and "offscreen platform" in out


def test_selftest_without_a_display_skips_the_window(
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from metavoice_app.commands.selftest import run_selftest
    from metavoice_app.core.paths import AppPaths

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert run_selftest(AppPaths.from_env(), model=tiny_model_dir, device="cpu") == 0
    assert "window: skipped: no display" in capsys.readouterr().out
