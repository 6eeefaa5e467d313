"""Starting the Qt application."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from metavoice_app import __version__
from metavoice_app.core.paths import APP_NAME, APP_SLUG, AppPaths
from metavoice_app.core.settings import load_settings
from metavoice_app.gui.main_window import MainWindow
from metavoice_app.gui.resources import app_icon
from metavoice_app.gui.theme import apply_theme
from metavoice_app.gui.workers import Task

log = logging.getLogger(__name__)


def ensure_application() -> QApplication:
    """The process's QApplication, created and branded on first use."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_SLUG)
    app.setWindowIcon(app_icon())
    return app


def create_main_window(
    paths: AppPaths, device_override: str | None = None, model_dir: Path | None = None
) -> MainWindow:
    """Build the themed main window from saved settings (used by the app and its tests)."""
    app = ensure_application()
    settings, notice = load_settings(paths.settings_file)
    scheme = apply_theme(app, settings.theme)
    log.info("theme %s (%s)", settings.theme, scheme)
    return MainWindow(
        paths,
        settings,
        device_preference=device_override,
        model_dir=model_dir,
        settings_notice=notice,
    )


def run_app(paths: AppPaths, device_override: str | None = None) -> int:
    """Open the main window and run the event loop until it closes."""
    app = ensure_application()
    window = create_main_window(paths, device_override)
    window.show()
    # What startup built lives as long as the app: keep it out of the collector's full
    # passes, which hold the interpreter (every thread, the interface too) while they scan.
    gc.collect()
    gc.freeze()
    code = app.exec()
    Task.wait_all()
    return code
