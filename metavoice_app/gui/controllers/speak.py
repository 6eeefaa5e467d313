"""The Speak area's behaviour: synthesis in a worker, playback, history and export.

Speech is made sentence by sentence: each sentence reaches the GUI thread as soon as
it is made and is appended to the playing audio, so long text starts playing after
its first sentence. Stop keeps the sentences already made as a clip in the history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QListWidgetItem

from metavoice_app.core.audio.export import ExportOptions, format_for, write_audio
from metavoice_app.core.features.mel import log_mel, mel_frequencies
from metavoice_app.core.features.world import FRAME_PERIOD_MS
from metavoice_app.core.model.acoustic import Controls
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.progress import Cancelled, Progress
from metavoice_app.core.synth.engine import SpeechEngine, SpeechPiece, SpeechStream
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.errors import show_error
from metavoice_app.gui.files import start_folder
from metavoice_app.gui.pages.speak import SpeakPage
from metavoice_app.gui.player import Player, PlayToggle
from metavoice_app.gui.workers import Task, TaskContext

log = logging.getLogger(__name__)

EXPORT_FILTER = "WAV (*.wav);;FLAC (*.flac);;OGG Opus (*.ogg);;MP3 (*.mp3)"


@dataclass
class Clip:
    text: str
    voice: str
    audio: np.ndarray
    sample_rate: int
    mel_db: np.ndarray
    made: int  # sentences in the clip
    total: int  # sentences in the text: more than made when Stop ended the synthesis
    warnings: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def stopped(self) -> bool:
        return self.made < self.total

    def label(self) -> str:
        text = self.text if len(self.text) <= 48 else self.text[:47] + "…"
        part = f", stopped after {self.made} of {self.total} sentences" if self.stopped else ""
        return f"{text}  ({self.voice}, {self.duration:.1f} s{part})"


def _make_sentences(stream: SpeechStream, ctx: TaskContext) -> None:
    """Make every sentence, handing each piece to the GUI thread (``Task.reported``) as
    soon as it is made. A cancel takes effect between pieces and keeps the sentences
    already finished (in ``stream.made``); with none finished yet, the task is cancelled
    as usual."""

    def report() -> None:
        fraction, message = stream.progress
        ctx.report(0.9 * fraction, message)

    try:
        report()
        for piece in stream:
            ctx.send(piece)
            report()
        ctx.report(0.95, "drawing the spectrogram")
    except Cancelled:
        if not stream.made:
            raise


class SpeakController(QObject):
    voice_used = Signal(str)  # a voice was spoken with: remembered for the next start

    def __init__(
        self,
        page: SpeakPage,
        engines: EngineService,
        paths: AppPaths,
        player: Player,
        default_rate: int = 48000,
        last_voice: str | None = None,
    ) -> None:
        """``last_voice``: the voice spoken with last (kept in the settings), chosen
        again when it is still there."""
        super().__init__(page)
        self.page = page
        self.engines = engines
        self.paths = paths
        self.player = player
        self.last_voice = last_voice
        self.clips: list[Clip] = []
        self.current: Clip | None = None
        self.synthesis: Task | None = None
        # Whether the synthesis's sentences still go to the player as they arrive: Stop, or
        # playing or selecting another clip, takes the player back and ends that.
        self._live = False
        self.export_task: Task | None = None
        self.set_export_rate(default_rate)

        engines.ready.connect(self._engine_ready)
        engines.failed.connect(
            lambda message: page.show_status(
                f"The speech model could not be loaded: {message}", error=True
            )
        )
        page.speak_button.clicked.connect(self.speak)
        for shortcut in page.speak_shortcuts:
            shortcut.activated.connect(self.speak)
        page.stop_button.clicked.connect(self.stop)
        self.play_toggle = PlayToggle(page.play_button, player)
        self.play_toggle.requested.connect(self.play_selected)
        page.export_button.clicked.connect(self.ask_export)
        page.history.currentRowChanged.connect(self._select)
        page.history.itemDoubleClicked.connect(lambda _item: self.play_selected())
        page.view.seek_requested.connect(self._seek)
        player.position_changed.connect(page.view.set_playhead)
        player.started.connect(lambda: page.stop_button.setEnabled(True))
        player.stopped.connect(self._playback_stopped)
        player.failed.connect(
            self.play_toggle.failure_reporter(lambda message: page.show_status(message, error=True))
        )

    def set_export_rate(self, rate: int) -> None:
        index = self.page.export_rate.findData(rate)
        self.page.export_rate.setCurrentIndex(max(index, 0))

    # Engine ------------------------------------------------------------------------------
    def _engine_ready(self, engine: SpeechEngine) -> None:
        self.refresh_voices()
        self.page.speak_button.setEnabled(True)
        self.page.show_status(f"Ready. {len(engine.info.voices)} built-in voices.")

    def refresh_voices(self) -> None:
        """Your voices (library profiles made for this model) first, then the built-in ones."""
        engine = self.engines.engine
        if engine is None:
            return
        combo = self.page.voice_combo
        choices = engine.voice_choices(self.paths.voices_dir)
        known = {voice for _, voice in choices}
        # Strings, not Paths: findData compares wrapped Python objects by identity.
        wanted = next(
            (v for v in (combo.voice(), self.last_voice) if v in known), engine.info.default_voice
        )
        combo.set_choices(choices, wanted)

    def select_voice(self, voice: object) -> None:
        self.refresh_voices()
        index = self.page.voice_combo.findData(str(voice))
        if index >= 0:
            self.page.voice_combo.setCurrentIndex(index)

    # Synthesis ---------------------------------------------------------------------------
    def speak(self) -> Task | None:
        engine = self.engines.engine
        text = self.page.text_edit.toPlainText()
        if engine is None:
            self.page.show_status("The speech model is still loading…")
            return None
        if not text.strip():
            self.page.show_status("Type some text to speak first.", error=True)
            return None
        if self.synthesis is not None and self.synthesis.is_running():
            self.synthesis.cancel()
        self.player.stop()
        combo = self.page.voice_combo
        voice = str(combo.currentData())
        voice_name = combo.itemText(combo.currentIndex()).rsplit(" (", 1)[0]
        self.last_voice = voice
        self.voice_used.emit(voice)
        controls = Controls(
            speed=self.page.speed_value(),
            pitch_semitones=self.page.pitch_value(),
            energy=self.page.energy_value(),
        )

        def work(ctx: TaskContext) -> Clip:
            stream = engine.speak_stream(text, voice=voice, controls=controls)
            _make_sentences(stream, ctx)
            result = stream.result()
            return Clip(
                text,
                voice_name,
                result.audio,
                result.sample_rate,
                log_mel(result.audio),
                len(stream.made),
                stream.count,
                result.warnings,
            )

        task = Task(work)
        task.progressed.connect(self._while_current(task, self._progress))
        task.reported.connect(self._while_current(task, self._piece_made))
        task.succeeded.connect(self._while_current(task, self._spoken))
        task.failed.connect(self._while_current(task, self._failed))
        task.cancelled.connect(self._while_current(task, lambda: self._finish("Stopped.")))
        self.synthesis = task
        self._live = True
        self.page.stop_button.setEnabled(True)
        self.page.progress.setValue(0)
        self.page.show_status("Speaking…")
        task.start()
        return task

    def _while_current(self, task: Task, slot: Callable[..., None]) -> Callable[..., None]:
        """``slot``, ignored once a newer Speak has replaced ``task``: the replaced
        synthesis's late sentences and result must not touch the player, history or status."""

        def guarded(*args: object) -> None:
            if task is self.synthesis:
                slot(*args)

        return guarded

    def _piece_made(self, piece: SpeechPiece) -> None:
        """Play the first piece at once and append each later one to the playing audio."""
        if not self._live:
            return
        if piece.index == 0 and piece.first:
            self._clear_selection()  # the view and playhead would otherwise show the old clip
            self.player.play(piece.audio, piece.sample_rate, growing=True, owner=self.play_toggle)
        else:
            self.player.append(piece.spaced())

    def _clear_selection(self) -> None:
        self.current = None
        self.page.history.setCurrentRow(-1)
        self.page.view.clear()
        self.page.play_button.setEnabled(False)
        self.page.export_button.setEnabled(False)

    def _progress(self, progress: Progress) -> None:
        self.page.progress.setValue(int(100 * progress.fraction))
        if progress.message:
            self.page.show_status(f"Speaking: {progress.message}…")

    def _failed(self, message: str, details: str) -> None:
        self._live = False
        self.player.complete()  # the sentences already playing end; no more will come
        self._finish(message, error=True)
        if "TextError" not in details:  # bad text is explained in the status line
            show_error(
                self.page, "Speaking failed", f"The text could not be spoken: {message}", details
            )

    def _finish(self, message: str, error: bool = False) -> None:
        self.page.progress.setValue(0)
        self.page.stop_button.setEnabled(self.player.playing)
        self.page.show_status(message, error=error)

    def _spoken(self, clip: Clip) -> None:
        """Add the clip to the history and show it. A player still playing its sentences
        carries on over the same samples: the clip is those sentences, joined as played."""
        if self._live and self.player.growing:
            self.player.complete()
            self.current = clip  # so that selecting it below does not stop its playback
        self._live = False
        self.clips.append(clip)
        item = QListWidgetItem(clip.label())
        item.setToolTip(clip.text)
        self.page.history.addItem(item)
        self.page.history.setCurrentRow(self.page.history.count() - 1)
        note = " ".join(clip.warnings)
        if clip.stopped:
            summary = (
                f"Stopped after sentence {clip.made} of {clip.total}: the finished "
                f"{clip.duration:.1f} s are kept in the history."
            )
        else:
            summary = f"{clip.duration:.1f} s of speech."
        self._finish(summary + (f" Note: {note}" if note else ""))

    # Playback ----------------------------------------------------------------------------
    def _select(self, row: int) -> None:
        if not 0 <= row < len(self.clips):
            return
        if self.clips[row] is not self.current:
            self._live = False
            self.player.stop()
            self.current = self.clips[row]
        self.page.view.show_audio(
            self.current.audio,
            self.current.sample_rate,
            self.current.mel_db,
            mel_frequencies(),
            FRAME_PERIOD_MS / 1000,
        )
        self.page.play_button.setEnabled(True)
        self.page.export_button.setEnabled(True)

    def play_selected(self, start: float = 0.0) -> None:
        if self.current is not None:
            self._live = False
            self.player.play(
                self.current.audio, self.current.sample_rate, start, owner=self.play_toggle
            )

    def _seek(self, seconds: float) -> None:
        if self.player.playing:
            self.player.seek(seconds)
        else:
            self.play_selected(seconds)

    def stop(self) -> None:
        """Stop playback and the synthesis; what it has made arrives as a history clip."""
        self._live = False
        if self.synthesis is not None and self.synthesis.is_running():
            self.synthesis.cancel()
            self.page.show_status("Stopping after the sentence being made…")
        self.player.stop()

    def _playback_stopped(self) -> None:
        running = self.synthesis is not None and self.synthesis.is_running()
        self.page.stop_button.setEnabled(running)

    # Export ------------------------------------------------------------------------------
    def ask_export(self) -> None:
        if self.current is None:
            return
        folder = start_folder(self.paths)
        suggested = folder / f"metavoice-{time.strftime('%Y%m%d-%H%M%S')}.wav"
        name, _ = QFileDialog.getSaveFileName(
            self.page, "Export audio", str(suggested), EXPORT_FILTER
        )
        if name:
            self.export(Path(name))

    def export(self, path: Path) -> Task | None:
        clip = self.current
        if clip is None:
            return None
        if not path.suffix:
            path = path.with_suffix(".wav")
        rate = int(self.page.export_rate.currentData())

        def work(_ctx: TaskContext) -> Path:
            options = ExportOptions(format_for(path), rate, clip.voice, title=clip.text[:120])
            write_audio(path, clip.audio, clip.sample_rate, options)
            return path

        task = Task(work)
        task.succeeded.connect(lambda p: self.page.show_status(f"Saved {p}"))
        task.failed.connect(
            lambda message, _d: self.page.show_status(f"Could not export: {message}", error=True)
        )
        self.export_task = task
        task.start()
        return task

    def shutdown(self) -> None:
        self.stop()
        for task in (self.synthesis, self.export_task):
            if task is not None and task.is_running():
                task.wait(5_000)
