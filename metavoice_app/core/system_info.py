"""Versions of the app and the libraries it runs on, for the About box and bug reports.

Read from package metadata rather than by importing each library, so asking
is instant and does not load torch or Qt as a side effect.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from metavoice_app import __version__

_LIBRARIES = ("torch", "numpy", "PySide6-Essentials", "pyqtgraph", "sounddevice", "soundfile")


def library_versions() -> dict[str, str]:
    """Name to version of the app, Python, the OS and the main libraries."""
    versions = {
        "MetaVoice Studio": __version__,
        "Python": sys.version.split()[0],
        "Platform": platform.platform(terse=True),
    }
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
