"""Icons and other bundled files the window shows."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from metavoice_app.core.paths import resources_dir


def app_icon() -> QIcon:
    """The application icon (an empty icon if the file is missing from a broken install)."""
    return QIcon(str(resources_dir() / "icons" / "metavoice.svg"))
