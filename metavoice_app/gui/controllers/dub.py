"""The Dub area's behaviour: load cues, map voices, preview, render in a worker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem

from metavoice_app.core.audio.export import ExportOptions, format_for, write_audio
from metavoice_app.core.dubbing.cues import Cue, SubtitleError, read_cues
from metavoice_app.core.dubbing.render import DubResult, render
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.progress import Progress
from metavoice_app.core.synth.engine import SpeechEngine, VoiceHandle
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.errors import show_error
from metavoice_app.gui.files import start_folder
from metavoice_app.gui.pages.dub import FIT_COLUMN, DubPage
from metavoice_app.gui.player import Player, PlayToggle
from metavoice_app.gui.widgets.voicepicker import VoicePicker
from metavoice_app.gui.workers import Task, TaskContext

SUBTITLE_FILTER = "Subtitles and scripts (*.srt *.vtt *.txt)"
MAIN = "Main voice"
# Orange, half transparent: stands out on the light and the dark theme alike.
OVERFLOW_COLOR = QColor(230, 130, 60, 110)


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


class DubController(QObject):
    voice_used = Signal(str)  # the main voice of a render: remembered for the next start

    def __init__(
        self,
        page: DubPage,
        engines: EngineService,
        paths: AppPaths,
        player: Player,
        last_voice: str | None = None,
    ) -> None:
        """``last_voice``: the voice used last (kept in the settings) is the main voice."""
        super().__init__(page)
        self.page = page
        self.engines = engines
        self.paths = paths
        self.player = player
        self.cues: list[Cue] = []
        self.source: Path | None = None
        self.last_voice = last_voice
        self.voice_combos: dict[str | None, VoicePicker] = {}
        self.task: Task | None = None
        self.output: Path | None = None
        page.open_button.clicked.connect(self._ask_open)
        self.preview_toggle = PlayToggle(page.preview_button, player, "Preview cue")
        self.preview_toggle.requested.connect(self.preview)
        self.mix_toggle = PlayToggle(page.play_mix_button, player, "Play mix")
        self.mix_toggle.requested.connect(self.play_mix)
        self.result: DubResult | None = None
        for toggle in (self.preview_toggle, self.mix_toggle):
            player.failed.connect(toggle.failure_reporter(page.status.setText))
        page.render_button.clicked.connect(self._ask_render)
        page.cancel_button.clicked.connect(self.cancel)
        page.open_folder_button.clicked.connect(self._open_folder)
        page.cue_table.itemSelectionChanged.connect(
            lambda: page.preview_button.setEnabled(
                self._selected() is not None and self.engines.engine is not None
            )
        )

    # Loading ------------------------------------------------------------------------------
    def _ask_open(self) -> None:
        folder = start_folder(self.paths, self.source.parent if self.source else None)
        name, _ = QFileDialog.getOpenFileName(
            self.page, "Open subtitles or script", str(folder), SUBTITLE_FILTER
        )
        if name:
            self.load(Path(name))

    def load(self, path: Path) -> bool:
        try:
            cues = read_cues(path)
        except SubtitleError as exc:
            self.page.status.setText(str(exc))
            return False
        self.cues, self.source = cues, path
        table = self.page.cue_table
        table.setRowCount(len(cues))
        for row, cue in enumerate(cues):
            for column, text in enumerate(
                (str(cue.number), _time(cue.start), _time(cue.end), cue.voice or MAIN, cue.text)
            ):
                table.setItem(row, column, QTableWidgetItem(text))
            table.setItem(row, FIT_COLUMN, QTableWidgetItem(""))
        self.result = None
        self.page.play_mix_button.setEnabled(False)
        self.page.empty_label.setVisible(False)
        table.setVisible(True)
        self.page.file_label.setText(f"{path.name}: {len(cues)} cues")
        self._build_voice_pickers()
        self.page.render_button.setEnabled(self.engines.engine is not None)
        self.page.status.setText("Choose a voice for each name, then render.")
        return True

    def _build_voice_pickers(self) -> None:
        form = self.page.voice_form
        while form.rowCount():
            form.removeRow(0)
        self.voice_combos = {}
        engine = self.engines.engine
        if engine is None:
            return
        names: list[str | None] = [None, *sorted({c.voice for c in self.cues if c.voice})]
        choices = engine.voice_choices(self.paths.voices_dir)
        # Each name starts with a different unmodified engine voice (the clearest ones);
        # the main voice is the model's default.
        distinct = [
            data
            for _, data in choices
            if data.endswith("-00")
            and not data.startswith("espeak")
            and data != engine.info.default_voice
        ]
        known = {data for _, data in choices}
        main = self.last_voice if self.last_voice in known else engine.info.default_voice
        for index, name in enumerate(names):
            combo = VoicePicker(f"Voice for {name or 'untagged cues'}")
            default = main
            if index > 0 and distinct:
                default = distinct[(index - 1) % len(distinct)]
            combo.set_choices(choices, default)
            form.addRow(f"{name or MAIN}:", combo)
            self.voice_combos[name] = combo

    def _voices(self, engine: SpeechEngine) -> dict[str | None, VoiceHandle]:
        voices = {}
        for name, combo in self.voice_combos.items():
            voices[name] = engine.voice(str(combo.currentData()))
        return voices

    def _selected(self) -> Cue | None:
        rows = self.page.cue_table.selectionModel().selectedRows()
        return self.cues[rows[0].row()] if rows and rows[0].row() < len(self.cues) else None

    # Preview and render -------------------------------------------------------------------
    def preview(self) -> Task | None:
        cue, engine = self._selected(), self.engines.engine
        if cue is None or engine is None:
            return None
        voices = self._voices(engine)

        def work(_ctx: TaskContext) -> DubResult:
            single = Cue(cue.number, cue.text, 0.0, cue.slot, cue.voice)
            return render([single], engine, voices)

        task = Task(work)
        task.succeeded.connect(
            lambda result: self.player.play(
                result.cues[0].audio, result.sample_rate, owner=self.preview_toggle
            )
        )
        task.failed.connect(
            lambda message, _d: self.page.status.setText(f"Could not preview: {message}")
        )
        task.start()
        self.task = task
        return task

    def _ask_render(self) -> None:
        if self.source is None:
            return
        folder = start_folder(self.paths, self.output.parent if self.output else None)
        suggested = folder / f"{self.source.stem}-dub.wav"
        name, _ = QFileDialog.getSaveFileName(
            self.page, "Render dub", str(suggested), "WAV (*.wav);;FLAC (*.flac);;MP3 (*.mp3)"
        )
        if name:
            self.render_to(Path(name))

    def render_to(self, out: Path) -> Task | None:
        engine = self.engines.engine
        if engine is None or not self.cues:
            return None
        voices = self._voices(engine)
        main_voice = self.voice_combos[None].voice()
        if main_voice is not None:
            self.last_voice = main_voice
            self.voice_used.emit(main_voice)
        cues = list(self.cues)
        stems = out.with_name(out.stem + "-stems")

        def work(ctx: TaskContext) -> DubResult:
            result = render(cues, engine, voices, progress=ctx)
            ctx.check_cancelled()  # a cancel while mixing: nothing is written
            main = voices[None].name
            write_audio(
                out,
                result.track,
                result.sample_rate,
                ExportOptions(format_for(out), 48000, main, title=out.stem),
            )
            for cue in result.cues:
                write_audio(
                    stems / f"{cue.number:04d}.wav",
                    cue.audio,
                    result.sample_rate,
                    ExportOptions("wav", 48000, cue.voice, title=cue.text[:120]),
                )
            result.write_cue_sheet(out.with_suffix(".csv"))
            return result

        task = Task(work)
        task.progressed.connect(self._progress)
        task.succeeded.connect(lambda result: self._rendered(out, result))
        task.failed.connect(self._failed)
        task.cancelled.connect(lambda: self._finished("Cancelled; nothing was written."))
        self.page.cancel_button.setEnabled(True)
        self.page.render_button.setEnabled(False)
        self.page.progress.setFormat("%p%")
        self.task = task
        task.start()
        return task

    def _progress(self, progress: Progress) -> None:
        self.page.progress.setValue(int(100 * progress.fraction))
        self.page.status.setText(f"Rendering {progress.message}…")

    def _rendered(self, out: Path, result: DubResult) -> None:
        self.output, self.result = out, result
        self.page.open_folder_button.setEnabled(True)
        self.page.play_mix_button.setEnabled(True)
        self._show_fit(result)
        self._finished(
            f"Saved {out.name}, its stems and cue sheet. " + result.report().replace("\n", " ")
        )
        self.page.progress.setValue(100)
        self.page.progress.setFormat("Done")

    def _show_fit(self, result: DubResult) -> None:
        """Mark each cue that runs past its slot: the row is highlighted, its Fit cell
        says by how much, and its tooltip carries the whole message and text."""
        rows = {cue.number: row for row, cue in enumerate(self.cues)}
        table = self.page.cue_table
        for cue in result.cues:
            row = rows.get(cue.number)
            if row is None:
                continue
            fit = table.item(row, FIT_COLUMN)
            assert fit is not None  # load() fills every cell
            fit.setText(f"+{cue.overflow:.2f} s" if cue.overflows else "fits")
            tip = f"{cue.overflow_note()}:\n{cue.text}" if cue.overflows else ""
            for column in range(table.columnCount()):
                item = table.item(row, column)
                if item is None:
                    continue
                item.setBackground(QBrush(OVERFLOW_COLOR) if cue.overflows else QBrush())
                item.setToolTip(tip or item.text())

    def play_mix(self) -> None:
        if self.result is not None:
            self.player.play(self.result.track, self.result.sample_rate, owner=self.mix_toggle)

    def _failed(self, message: str, details: str) -> None:
        self._finished(f"Rendering failed: {message}")
        show_error(self.page, "Dubbing failed", f"Rendering failed: {message}", details)

    def _finished(self, message: str) -> None:
        self.page.progress.setValue(0)
        self.page.cancel_button.setEnabled(False)
        self.page.render_button.setEnabled(bool(self.cues))
        self.page.status.setText(message)

    def cancel(self) -> None:
        if self.task is not None and self.task.is_running():
            self.task.cancel()

    def _open_folder(self) -> None:
        if self.output is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.output.parent)))

    def engine_ready(self) -> None:
        if self.cues:
            self._build_voice_pickers()
            self.page.render_button.setEnabled(True)

    def shutdown(self) -> None:
        if self.task is not None and self.task.is_running():
            self.task.cancel()
            self.task.wait(10_000)
