"""The main window: a sidebar of areas (Voices, Clone, Speak, Dub), menus and a status bar."""

from __future__ import annotations

import dataclasses
import enum
import logging
from pathlib import Path

from PySide6.QtCore import QSize, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QStyle,
    QWidget,
)

from metavoice_app.core.audio.devices import (
    AudioUnavailableError,
    input_devices,
    output_devices,
)
from metavoice_app.core.audio.devices import rescan as rescan_audio_devices
from metavoice_app.core.device import DeviceError, DeviceInfo, describe_device, resolve_device
from metavoice_app.core.paths import APP_NAME, AppPaths
from metavoice_app.core.settings import Settings, SettingsError, save_settings
from metavoice_app.gui.about import DEVICE_PENDING, AboutDialog
from metavoice_app.gui.controllers.clone import CloneController
from metavoice_app.gui.controllers.dub import DubController
from metavoice_app.gui.controllers.speak import SpeakController
from metavoice_app.gui.controllers.voices import VoicesController
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.help import HelpDialog
from metavoice_app.gui.pages.base import AreaPage
from metavoice_app.gui.pages.clone import ClonePage
from metavoice_app.gui.pages.dub import DubPage
from metavoice_app.gui.pages.speak import SpeakPage
from metavoice_app.gui.pages.voices import VoicesPage
from metavoice_app.gui.player import Player
from metavoice_app.gui.plots import style_plots
from metavoice_app.gui.resources import app_icon
from metavoice_app.gui.settings_dialog import SettingsDialog
from metavoice_app.gui.theme import apply_theme, visible_icon
from metavoice_app.gui.workers import Task

log = logging.getLogger(__name__)


class Area(enum.IntEnum):
    VOICES = 0
    CLONE = 1
    SPEAK = 2
    DUB = 3


_AREA_ICONS = {
    Area.VOICES: QStyle.StandardPixmap.SP_DirHomeIcon,
    Area.CLONE: QStyle.StandardPixmap.SP_MediaSeekForward,
    Area.SPEAK: QStyle.StandardPixmap.SP_MediaPlay,
    Area.DUB: QStyle.StandardPixmap.SP_FileDialogDetailedView,
}


def probe_device(preference: str) -> tuple[DeviceInfo, str]:
    """Resolve the compute device; an unusable choice falls back to the CPU with a warning."""
    try:
        return describe_device(resolve_device(preference)), ""
    except DeviceError as exc:
        return describe_device(resolve_device("cpu")), f"{exc} Using the CPU instead."


class MainWindow(QMainWindow):
    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        device_preference: str | None = None,
        model_dir: Path | None = None,
        settings_notice: str = "",
    ) -> None:
        """``settings_notice`` says which settings had to be reset on loading; it is shown
        in the status bar (once: the repaired settings are saved)."""
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.device_preference = device_preference or settings.compute_device
        self.device_info: DeviceInfo | None = None
        self._tasks: list[Task] = []
        self._about: AboutDialog | None = None
        self._help: HelpDialog | None = None
        self._settings_dialog: SettingsDialog | None = None

        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.resize(1100, 720)

        self.voices_page = VoicesPage()
        self.clone_page = ClonePage()
        self.speak_page = SpeakPage()
        self.dub_page = DubPage()
        self.pages: dict[Area, AreaPage] = {
            Area.VOICES: self.voices_page,
            Area.CLONE: self.clone_page,
            Area.SPEAK: self.speak_page,
            Area.DUB: self.dub_page,
        }
        self.voices_page.clone_requested.connect(lambda: self.show_area(Area.CLONE))

        self.nav = QListWidget()
        self.nav.setAccessibleName("Areas")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFixedWidth(150)
        self.stack = QStackedWidget()
        for area, page in self.pages.items():
            item = QListWidgetItem(page.title)
            item.setToolTip(f"{page.summary} (Ctrl+{area.value + 1})")
            self.nav.addItem(item)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, stretch=1)
        self.setCentralWidget(central)

        self.device_status = QLabel(f"Compute: {DEVICE_PENDING}")
        self.device_status.setAccessibleName("Compute device")
        self.statusBar().addPermanentWidget(self.device_status)
        # Adaptation's progress, seen from every area (it runs for a minute or more).
        self.clone_status = QLabel()
        self.clone_status.setAccessibleName("Voice cloning progress")
        self.clone_status.setVisible(False)
        self.statusBar().addPermanentWidget(self.clone_status)
        self.statusBar().showMessage(settings_notice or "Ready")

        self.player = Player(self, device=settings.output_device)
        self.player.rescan_allowed = self._audio_idle
        self.engines = EngineService(model_dir, self.device_preference, self)
        self.speak_controller = SpeakController(
            self.speak_page,
            self.engines,
            paths,
            self.player,
            settings.export_sample_rate,
            settings.last_voice,
        )
        self.clone_controller = CloneController(
            self.clone_page, self.engines, paths, settings, self.player
        )
        self.voices_controller = VoicesController(
            self.voices_page, paths, self.engines, self.player, self._recording_in_use
        )
        self.dub_controller = DubController(
            self.dub_page, self.engines, paths, self.player, settings.last_voice
        )
        self.dub_controller.voice_used.connect(self.remember_voice)
        self.engines.ready.connect(lambda _engine: self.dub_controller.engine_ready())
        self.voices_controller.changed.connect(self.speak_controller.refresh_voices)
        self.speak_controller.voice_used.connect(self.remember_voice)
        self.voices_controller.speak_requested.connect(self._speak_with)
        self.clone_controller.voice_saved.connect(self._voice_saved)
        self.clone_controller.speak_requested.connect(self._speak_with)
        self.clone_controller.status_changed.connect(self._clone_status)

        self._build_menus()
        self._follow_theme()
        self.show_area(Area.VOICES)
        self._start_probes()
        self.engines.start()
        self.clone_controller.activate()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.settings_action = QAction("&Settings…", self)
        # Ctrl+, everywhere (as the README says), plus the platform's own key if it has one.
        keys = [
            QKeySequence("Ctrl+,"),
            *QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences),
        ]
        self.settings_action.setShortcuts(list(dict.fromkeys(keys)))
        self.settings_action.triggered.connect(self.show_settings)
        file_menu.addAction(self.settings_action)
        open_data = QAction("Open &Voices Folder", self)
        open_data.triggered.connect(lambda: self._open_folder(self.paths.voices_dir))
        file_menu.addAction(open_data)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        for area, page in self.pages.items():
            action = QAction(page.title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{area.value + 1}"))
            action.triggered.connect(lambda _checked=False, a=area: self.show_area(a))
            view_menu.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        self.help_action = QAction(f"{APP_NAME} &Help", self)
        self.help_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.help_action.triggered.connect(self.show_help)
        help_menu.addAction(self.help_action)
        open_logs = QAction("Open &Log Folder", self)
        open_logs.triggered.connect(lambda: self._open_folder(self.paths.logs_dir))
        help_menu.addAction(open_logs)
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)

    def _follow_theme(self) -> None:
        """Colour what the palette does not reach: the sidebar's icons and the plots."""
        palette = QApplication.palette()
        text, base = (
            palette.color(QPalette.ColorRole.WindowText),
            palette.color(QPalette.ColorRole.Base),
        )
        for area in self.pages:
            icon = self.style().standardIcon(_AREA_ICONS[area])
            self.nav.item(area.value).setIcon(visible_icon(icon, text, base, self.nav.iconSize()))
        style_plots(self)

    def _open_folder(self, folder: object) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # Areas -----------------------------------------------------------------------------
    def show_area(self, area: Area) -> None:
        self.nav.setCurrentRow(area.value)

    def current_area(self) -> Area:
        return Area(self.stack.currentIndex())

    # Background probes -----------------------------------------------------------------
    def _run_task(self, task: Task) -> Task:
        self._tasks.append(task)
        task.finished.connect(lambda: self._tasks.remove(task))
        task.start()
        return task

    def _start_probes(self) -> None:
        preference = self.device_preference
        device_task = Task(lambda _ctx: probe_device(preference))
        device_task.succeeded.connect(self._on_device)
        device_task.failed.connect(self._on_device_failed)
        self._run_task(device_task)

    def _on_device(self, result: tuple[DeviceInfo, str]) -> None:
        info, warning = result
        self.device_info = info
        self.device_status.setText(f"Compute: {info}")
        if self._about is not None:
            self._about.set_device(str(info))
        if warning:
            log.warning(warning)
            self.statusBar().showMessage(warning, 15_000)
        log.info("compute device: %s", info)

    def _on_device_failed(self, message: str, _details: str) -> None:
        self.device_status.setText("Compute: unavailable")
        self.statusBar().showMessage(f"Could not set up model computation: {message}")

    def device_text(self) -> str:
        return str(self.device_info) if self.device_info else DEVICE_PENDING

    # Dialogs ---------------------------------------------------------------------------
    def show_about(self) -> AboutDialog:
        if self._about is None:
            self._about = AboutDialog(self.paths, self.device_text(), self)
        self._about.set_device(self.device_text())
        self._about.show()
        self._about.raise_()
        return self._about

    def _recording_in_use(self) -> Path | None:
        session = self.clone_controller.session
        return session.folder if session is not None else None

    def _audio_idle(self) -> bool:
        """No sound stream is open (nothing playing, nothing recording): the audio system
        may be restarted to see devices connected since it started."""
        return not self.player.playing and self.clone_controller.recorder is None

    def show_help(self) -> HelpDialog:
        if self._help is None:
            self._help = HelpDialog(self.findChildren(QAction), parent=self)
        self._help.show()
        self._help.raise_()
        return self._help

    def show_settings(self) -> SettingsDialog:
        """Open the Settings dialog (device lists are read when it opens); a second
        request while it is open brings the open one forward."""
        if self._settings_dialog is not None and self._settings_dialog.isVisible():
            self._settings_dialog.raise_()
            return self._settings_dialog
        try:
            if self._audio_idle():  # devices connected since the start are listed too
                rescan_audio_devices()
            inputs, outputs = input_devices(), output_devices()
        except AudioUnavailableError as exc:
            log.warning("%s", exc)
            inputs, outputs = [], []
        dialog = SettingsDialog(self.settings, inputs, outputs, self)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.chosen()))
        dialog.open()
        self._settings_dialog = dialog
        return dialog

    def apply_settings(self, settings: Settings) -> None:
        try:
            save_settings(settings, self.paths.settings_file)
        except (OSError, SettingsError) as exc:
            self.statusBar().showMessage(f"Could not save the settings: {exc}", 15_000)
            return
        self.settings = settings
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.theme)
        self._follow_theme()
        self.player.device = settings.output_device
        self.clone_controller.settings = settings
        self.speak_controller.set_export_rate(settings.export_sample_rate)
        self.statusBar().showMessage("Settings saved.", 5_000)

    def remember_voice(self, voice: str) -> None:
        """Keep the voice used last in the settings, for the pickers at the next start."""
        self.speak_controller.last_voice = self.dub_controller.last_voice = voice
        if voice == self.settings.last_voice:
            return
        self.settings = dataclasses.replace(self.settings, last_voice=voice)
        self.clone_controller.settings = self.settings
        try:
            save_settings(self.settings, self.paths.settings_file)
        except (OSError, SettingsError) as exc:
            log.warning("could not save the last used voice: %s", exc)

    def _clone_status(self, text: str) -> None:
        self.clone_status.setText(text)
        self.clone_status.setVisible(bool(text))

    def _voice_saved(self, profile: object) -> None:
        self.speak_controller.refresh_voices()
        self.voices_controller.refresh()
        self.statusBar().showMessage(f"Saved the new voice to {profile}", 10_000)

    def _speak_with(self, profile: object) -> None:
        self.speak_controller.select_voice(profile)
        self.show_area(Area.SPEAK)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.clone_controller.shutdown()
        self.voices_controller.shutdown()
        self.speak_controller.shutdown()
        self.dub_controller.shutdown()
        for task in list(self._tasks):
            task.cancel()
            task.wait(5_000)
        super().closeEvent(event)
