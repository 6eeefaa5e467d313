"""The engine must run without Qt: checked statically and by importing every module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")


def test_no_core_source_imports_qt(repo_root: Path) -> None:
    offenders = []
    for path in sorted((repo_root / "metavoice_app" / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in QT_MODULES]
    assert not offenders


def test_importing_every_core_module_loads_no_qt() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import metavoice_app.core as core\n"
        "names = [m.name for m in pkgutil.walk_packages(core.__path__, 'metavoice_app.core.')]\n"
        "assert names, 'no core modules found'\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        f"loaded = [m for m in {QT_MODULES!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "print(len(names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 5
