"""The packaging files are consistent with each other and with the app.

Building the bundle takes minutes and a gigabyte, so CI checks the inputs here and
``packaging/build.sh`` builds and smoke-tests the real thing.
"""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from metavoice_app.core.paths import APP_NAME

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.metavoice.Studio"


def test_desktop_entry_names_the_app_its_icon_and_command() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == APP_NAME
    assert entry["Icon"] == APP_ID and entry["Exec"].split()[0] == "metavoice-studio"
    assert entry["Terminal"] == "false" and "Audio" in entry["Categories"].split(";")


def test_appstream_metainfo_is_valid_xml_for_the_same_app() -> None:
    component = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    assert component.findtext("name") == APP_NAME
    launchable = component.find("launchable")
    assert launchable is not None and launchable.text == f"{APP_ID}.desktop"
    assert component.findtext("metadata_license") == "CC0-1.0"
    from metavoice_app import __version__

    release = component.find("releases/release")
    assert release is not None and release.get("version") == __version__


def test_spec_bundles_resources_and_asks_macos_for_the_microphone() -> None:
    spec = (ROOT / "packaging" / "metavoice.spec").read_text(encoding="utf-8")
    ast.parse(spec)  # valid Python
    assert '"resources"' in spec and "NSMicrophoneUsageDescription" in spec
    # the default model only, not the one kept for the benchmark
    assert '"resources/models/base"' in spec and '!= "models"' in spec
    for heavy in ("faster_whisper", "resemblyzer", "matplotlib", "pytest"):
        assert f'"{heavy}"' in spec, f"{heavy} should be excluded from the bundle"


def test_launcher_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "launcher.py"), "--version"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0 and done.stdout.startswith("metavoice")


def test_install_script_is_valid_shell() -> None:
    for script in (LINUX / "install.sh", ROOT / "packaging" / "build.sh"):
        assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0


def test_spec_bundles_the_readme_where_help_looks_for_it() -> None:
    spec = (ROOT / "packaging" / "metavoice.spec").read_text(encoding="utf-8")
    assert '(str(root / "README.md"), ".")' in spec
