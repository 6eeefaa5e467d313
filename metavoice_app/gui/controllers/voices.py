"""The Voices area's behaviour: list, preview, rename, duplicate, delete with undo,
import and export of ``.mvoice`` profiles, and re-creating a voice made for another
model from its kept takes. Every change goes through VoiceLibrary, which writes
atomically and deletes to a trash folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QTableWidgetItem

from metavoice_app.core.adapt.adapter import AdaptationError
from metavoice_app.core.adapt.clone import ClonedVoice, recreate_voice
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.recordings import unfinished_recordings
from metavoice_app.core.model.voice import allowed_shapes
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.library import Entry, VoiceLibrary
from metavoice_app.core.profiles.mvoice import ProfileError, read_profile
from metavoice_app.core.progress import Progress
from metavoice_app.core.speaker.voicemap import layout
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.errors import show_error
from metavoice_app.gui.files import start_folder
from metavoice_app.gui.pages.voices import VoicesPage
from metavoice_app.gui.player import Player, PlayToggle
from metavoice_app.gui.recordings_dialog import RecordingsDialog
from metavoice_app.gui.workers import Task, TaskContext

PROFILE_FILTER = "MetaVoice voice (*.mvoice)"


class VoicesController(QObject):
    changed = Signal()  # the library changed: other areas refresh their voice lists
    speak_requested = Signal(object)  # Path

    def __init__(
        self,
        page: VoicesPage,
        paths: AppPaths,
        engines: EngineService,
        player: Player,
        recording_in_use: Callable[[], Path | None] = lambda: None,
    ) -> None:
        """``recording_in_use``: the clone session folder the wizard holds, never offered
        for removal."""
        super().__init__(page)
        self.paths = paths
        self.recording_in_use = recording_in_use
        self.last_folder: Path | None = None  # where the last import or export went
        self.page = page
        self.library = VoiceLibrary(paths.voices_dir)
        self.engines = engines
        self.player = player
        self.entries: list[Entry] = []
        self._map_rows: list[int] = []  # the table row of each of your voices on the map
        # Deleted profiles, newest last, as they lie in the library's trash: each undo
        # restores one. The trash is a folder in the library, so it outlives the app.
        self.trashed: list[Path] = []
        self.rebuild_task: Task | None = None
        self.rebuild_config = AdaptConfig()  # as the wizard learns a voice
        page.table.itemSelectionChanged.connect(self._selection_changed)
        page.table.itemDoubleClicked.connect(lambda _item: self.play_preview())
        self.play_toggle = PlayToggle(page.play_button, player, "Play preview")
        self.play_toggle.requested.connect(self.play_preview)
        player.failed.connect(self.play_toggle.failure_reporter(self._report))
        page.speak_button.clicked.connect(self._speak)
        page.rename_button.clicked.connect(self._ask_rename)
        page.duplicate_button.clicked.connect(self.duplicate)
        page.delete_button.clicked.connect(self.delete)
        page.undo_button.clicked.connect(self.undo_delete)
        page.delete_shortcut.activated.connect(self.delete)
        page.undo_shortcut.activated.connect(self.undo_delete)
        page.export_button.clicked.connect(self._ask_export)
        page.import_button.clicked.connect(self._ask_import)
        page.voice_map.profile_clicked.connect(self._map_clicked)
        page.recordings_button.clicked.connect(self.show_recordings)
        page.rebuild_button.clicked.connect(self.rebuild)
        page.cancel_rebuild_button.clicked.connect(self.cancel_rebuild)
        engines.ready.connect(lambda _engine: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.entries = self.library.entries()
        table = self.page.table
        table.setRowCount(len(self.entries))
        model_id = self.engines.engine.info.model_id if self.engines.engine else None
        for row, entry in enumerate(self.entries):
            m = entry.manifest
            if m is None:
                cells = [entry.path.name, "", "", "", f"unusable: {entry.problem}"]
            else:
                base = "this model"
                if model_id is None:  # still loading: nothing to compare with yet
                    base = m.base_model_id[:8]
                elif m.base_model_id != model_id:
                    base = (
                        f"another model ({m.base_model_id[:8]}): re-create it"
                        if entry.takes_kept
                        else f"another model ({m.base_model_id[:8]}), no takes to re-create it"
                    )
                elif self._before_refiner(entry):
                    base = (
                        "this model, before its new refiner: re-create it"
                        if entry.takes_kept
                        else "this model, before its new refiner"
                    )
                similarity = "" if m.similarity is None else f"{m.similarity:.2f}"
                cells = [m.name, m.created[:10], str(m.takes), similarity, base]
            for column, text in enumerate(cells):
                table.setItem(row, column, QTableWidgetItem(text))
        has_voices = bool(self.entries)
        self.page.empty_label.setVisible(not has_voices)
        self.page.table.setVisible(has_voices)
        self._selection_changed()
        self._draw_map()
        self._count_recordings()

    def _count_recordings(self) -> None:
        leftover = unfinished_recordings(self.paths.recordings_dir, self.recording_in_use())
        button = self.page.recordings_button
        button.setText(f"Unfinished recordings ({len(leftover)})…")
        button.setVisible(bool(leftover))

    def show_recordings(self) -> RecordingsDialog:
        dialog = RecordingsDialog(self.paths.recordings_dir, self.recording_in_use(), self.page)
        dialog.finished.connect(lambda _result: self._count_recordings())
        dialog.open()
        return dialog

    def _draw_map(self) -> None:
        """Place the training voices and the cloned voices of this model by their
        speaker-encoder embeddings (tools are loaded with the engine, off this thread)."""
        engine = self.engines.engine
        tools = engine.loaded_speaker_tools() if engine is not None else None
        page = self.page
        if engine is None or tools is None or not tools.voice_prints:
            page.voice_map.hide()
            page.map_caption.setText(
                "The voice map needs a model with a speaker encoder." if engine is not None else ""
            )
            return
        prints = {f"training:{k}": v for k, v in tools.voice_prints.items()}
        width = len(next(iter(prints.values())))
        names: dict[str, str] = {}
        for index, entry in enumerate(self.entries):
            m = entry.manifest
            if (
                m is not None
                and m.voice_print is not None
                and len(m.voice_print) == width
                and m.base_model_id == engine.info.model_id
            ):
                prints[f"profile:{index}"] = np.asarray(m.voice_print, dtype=np.float32)
                names[f"profile:{index}"] = m.name
        places = layout(prints)
        real = {v.id: v.real for v in engine.info.voices}
        page.voice_map.show_voices(
            [
                (*places[k], real.get(k.removeprefix("training:"), False))
                for k in places
                if k not in names
            ],
            [(*places[k], names[k]) for k in names],
        )
        self._map_rows = [int(k.removeprefix("profile:")) for k in names]
        page.voice_map.show()
        page.map_caption.setText(
            f"Voice map: {len(names)} of your voices among {len(tools.voice_prints)} training "
            "voices; near points sound alike to the speaker encoder."
        )

    def _map_clicked(self, index: int) -> None:
        if 0 <= index < len(self._map_rows):
            self.page.table.selectRow(self._map_rows[index])

    def selected(self) -> Entry | None:
        rows = self.page.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.entries):
            return None
        return self.entries[rows[0].row()]

    def select(self, path: Path) -> None:
        for row, entry in enumerate(self.entries):
            if entry.path == path:
                self.page.table.selectRow(row)

    def _for_another_model(self, entry: Entry | None) -> bool:
        engine = self.engines.engine
        return (
            entry is not None
            and entry.manifest is not None
            and engine is not None
            and entry.manifest.base_model_id != engine.info.model_id
        )

    def _before_refiner(self, entry: Entry | None) -> bool:
        """A voice of this model made before its envelope refiner was trained again: it
        speaks, without the refiner, and re-creating it brings the refiner back."""
        engine = self.engines.engine
        return (
            entry is not None
            and entry.manifest is not None
            and engine is not None
            and entry.manifest.base_model_id == engine.info.model_id
            and engine.misses_its_refiner(entry.manifest.recipe)
        )

    def _recreatable(self, entry: Entry | None) -> bool:
        return self._for_another_model(entry) or self._before_refiner(entry)

    def _selection_changed(self) -> None:
        """Enable what the selected voice allows: a voice made for another model can be
        previewed, exported and re-created, not spoken with; one made before the model's
        refiner speaks and can be re-created; nothing changes the library while a voice is
        being re-created."""
        page = self.page
        entry = self.selected()
        usable = entry is not None and entry.manifest is not None
        busy = self.rebuild_task is not None
        for button in page.selection_buttons:
            button.setEnabled(usable and not busy)
        page.play_button.setEnabled(usable)
        page.delete_button.setEnabled(entry is not None and not busy)
        foreign = self._for_another_model(entry)
        page.speak_button.setEnabled(usable and not foreign and not busy)
        takes = entry is not None and entry.takes_kept
        page.export_takes_box.setEnabled(usable and takes and not busy)
        if not takes:
            page.export_takes_box.setChecked(False)
        stale = self._recreatable(entry)
        page.rebuild_button.setVisible(stale or busy)
        page.rebuild_button.setEnabled(stale and takes and not busy)
        page.rebuild_button.setToolTip(
            "Learn this voice again on the speech model in use, from the recordings kept "
            "with it; the old profile goes to the library's trash"
            if takes
            else "This voice was made for another speech model, or before its refiner, and "
            "has no recordings kept with it: clone it again from its recordings"
        )

    def _report(self, text: str) -> None:
        self.page.status.setText(text)

    def _changed(self, message: str) -> None:
        self.refresh()
        self._report(message)
        self.changed.emit()

    # Actions --------------------------------------------------------------------------
    def play_preview(self) -> None:
        entry = self.selected()
        if entry is None or entry.manifest is None:
            return
        try:
            profile = read_profile(entry.path)
        except ProfileError as exc:
            self._report(f"Could not play the preview: {exc}")
            return
        self.player.play(profile.preview, profile.preview_rate, owner=self.play_toggle)

    def _speak(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.speak_requested.emit(entry.path)

    def _ask_rename(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        name, ok = QInputDialog.getText(self.page, "Rename voice", "New name:", text=entry.name)
        if ok:
            self.rename(entry, name)

    def rename(self, entry: Entry, name: str) -> None:
        try:
            target = self.library.rename(entry.path, name)
        except ProfileError as exc:
            self._report(f"Could not rename: {exc}")
            return
        self._changed(f"Renamed to “{name.strip()}”.")
        self.select(target)

    def duplicate(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        try:
            target = self.library.duplicate(entry.path, f"{entry.name} (copy)")
        except ProfileError as exc:
            self._report(f"Could not duplicate: {exc}")
            return
        self._changed(f"Made a copy of “{entry.name}”.")
        self.select(target)

    def delete(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        try:
            self.trashed.append(self.library.delete(entry.path))
        except OSError as exc:
            self._report(f"Could not delete “{entry.name}”: {exc}")
            return
        self.page.undo_button.setVisible(True)
        self._changed(f"Deleted “{entry.name}”. Ctrl+Z brings it back.")

    def undo_delete(self) -> None:
        if not self.trashed:
            return
        try:
            restored = self.library.restore(self.trashed[-1])
        except (ProfileError, OSError) as exc:
            self._report(f"Could not restore: {exc}")
            return
        self.trashed.pop()
        self.page.undo_button.setVisible(bool(self.trashed))
        self._changed("Restored.")
        self.select(restored)
        entry = self.selected()
        if entry is not None:
            self._report(f"Restored “{entry.name}”.")

    def _ask_export(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        folder = start_folder(self.paths, self.last_folder)
        name, _ = QFileDialog.getSaveFileName(
            self.page, "Export voice", str(folder / entry.path.name), PROFILE_FILTER
        )
        if name:
            self.last_folder = Path(name).parent
            self.export(entry, Path(name))

    def export(self, entry: Entry, destination: Path) -> None:
        with_takes = self.page.export_takes_box.isChecked() and entry.takes_kept
        try:
            target = self.library.export(entry.path, destination, with_takes)
        except (ProfileError, OSError) as exc:
            self._report(f"Could not export: {exc}")
            return
        self._report(f"Exported to {target}" + (" with its recordings" if with_takes else ""))

    def _ask_import(self) -> None:
        folder = start_folder(self.paths, self.last_folder)
        names, _ = QFileDialog.getOpenFileNames(
            self.page, "Import voices", str(folder), PROFILE_FILTER
        )
        for name in names:
            self.last_folder = Path(name).parent
            self.import_file(Path(name))

    def import_file(self, path: Path) -> None:
        """Add a profile to the library once it is checked against the loaded model; before
        the model is loaded nothing can be checked, so nothing is imported."""
        engine = self.engines.engine
        if engine is None:
            self._report(
                f"Could not import {path.name}: the speech model is not loaded yet, so the "
                "voice cannot be checked against it. Try again in a moment."
            )
            return
        try:
            target = self.library.add(path, engine.info.model_id, allowed_shapes(engine.model))
        except (ProfileError, OSError) as exc:
            self._report(f"Could not import {path.name}: {exc}")
            return
        self._changed(f"Imported “{read_profile(target).manifest.name}”.")
        self.select(target)

    # Re-creating a voice for this model -----------------------------------------------
    def rebuild(self) -> Task | None:
        """Learn the selected voice, made for another model, again on this one from its
        kept takes, in the background with progress and Cancel."""
        entry, engine = self.selected(), self.engines.engine
        if engine is None or self.rebuild_task is not None or not self._recreatable(entry):
            return None
        assert entry is not None
        path, name = entry.path, entry.name

        def work(ctx: TaskContext) -> ClonedVoice | str:
            try:
                return recreate_voice(engine, self.library, path, self.rebuild_config, ctx)
            except (AdaptationError, ProfileError, OSError) as exc:  # said in plain words
                return f"Could not re-create “{name}”: {exc}"

        task = Task(work)
        task.progressed.connect(self._rebuild_progress)
        task.succeeded.connect(self._rebuilt)
        task.failed.connect(
            lambda message, details: self._rebuild_ended(
                f"Could not re-create “{name}”: {message}", details
            )
        )
        task.cancelled.connect(lambda: self._rebuild_ended(f"Cancelled; “{name}” is unchanged."))
        self.rebuild_task = task
        page = self.page
        page.rebuild_progress.setValue(0)
        page.rebuild_progress.setVisible(True)
        page.cancel_rebuild_button.setVisible(True)
        page.cancel_rebuild_button.setEnabled(True)
        self._report(f"Re-creating “{name}” for this model from its recordings…")
        self._selection_changed()
        task.start()
        return task

    def _rebuild_progress(self, progress: Progress) -> None:
        self.page.rebuild_progress.setValue(round(100 * progress.fraction))
        self._report(f"Re-creating the voice: {progress.message}")

    def cancel_rebuild(self) -> None:
        if self.rebuild_task is not None:
            self.rebuild_task.cancel()
            self.page.cancel_rebuild_button.setEnabled(False)
            self._report("Cancelling…")

    def _rebuilt(self, result: object) -> None:
        if isinstance(result, str):
            self._rebuild_ended(result)
            return
        assert isinstance(result, ClonedVoice)
        similarity = result.manifest.similarity
        said = "" if similarity is None else f" (similarity to its takes {similarity:.2f})"
        self._rebuild_ended(
            f"Re-created “{result.manifest.name}” for this model{said}. The old profile is "
            "in the library's trash."
        )
        self.changed.emit()
        self.select(result.path)

    def _rebuild_ended(self, message: str, details: str = "") -> None:
        self.rebuild_task = None
        page = self.page
        page.rebuild_progress.setVisible(False)
        page.cancel_rebuild_button.setVisible(False)
        self.refresh()
        self._report(message)
        if details:
            show_error(self.page, "Re-creating the voice failed", message, details)

    def shutdown(self) -> None:
        if self.rebuild_task is not None:
            self.rebuild_task.cancel()
            self.rebuild_task.wait(10_000)
