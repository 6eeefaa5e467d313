"""The record-and-clone wizard's behaviour.

Microphone check, consent, prompts (each take written to disk as it is
recorded and checked at once), then adaptation in a worker with a live loss
curve, and the new voice saved to the library. The session lives on disk, so
an interrupted wizard resumes where it stopped.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QInputDialog

from metavoice_app.core.adapt.adapter import AdaptationCancelled, AdaptConfig, AdaptProgress
from metavoice_app.core.adapt.clone import ClonedVoice, clone_voice
from metavoice_app.core.adapt.profile import CONSENT_TEMPLATE
from metavoice_app.core.adapt.prompts import pick_prompts
from metavoice_app.core.adapt.session import CloneSession
from metavoice_app.core.adapt.takes import load_takes, prepare_take, take_features
from metavoice_app.core.audio.checks import TakeReport, check_take
from metavoice_app.core.audio.devices import AudioDevice, input_devices
from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.audio.recorder import Recorder, RecordingError
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.library import VoiceLibrary
from metavoice_app.core.profiles.mvoice import read_profile
from metavoice_app.core.settings import Settings
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.errors import show_error
from metavoice_app.gui.pages.clone import ClonePage
from metavoice_app.gui.player import Player
from metavoice_app.gui.workers import Cancelled, Task, TaskContext

log = logging.getLogger(__name__)

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3)"
MICROPHONE, CONSENT, PROMPTS, ADAPT, DONE = range(5)


class CloneController(QObject):
    voice_saved = Signal(object)  # Path of the new profile
    speak_requested = Signal(object)  # Path of the profile to speak with

    def __init__(
        self,
        page: ClonePage,
        engines: EngineService,
        paths: AppPaths,
        settings: Settings,
        player: Player,
        recorder_factory: Callable[[int | str | None], Recorder] = Recorder,
    ) -> None:
        super().__init__(page)
        self.page = page
        self.engines = engines
        self.paths = paths
        self.settings = settings
        self.player = player
        self.recorder_factory = recorder_factory
        self.library = VoiceLibrary(paths.voices_dir)
        self.session: CloneSession | None = None
        self.recorder: Recorder | None = None
        self.recording_for: str | None = None  # "test", "consent" or "prompt"
        self.attempt: Path | None = None
        self.attempt_ok = False
        self.profile: Path | None = None
        self.tasks: list[Task] = []
        self.adapt_task: Task | None = None
        self.losses: list[tuple[int, float, float | None]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._refresh_meters)
        self._wire()

    # Wiring ------------------------------------------------------------------------------
    def _wire(self) -> None:
        page = self.page
        page.microphone.test_button.toggled.connect(self._toggle_test)
        page.microphone.next_button.clicked.connect(self._start_session)
        page.microphone.import_button.clicked.connect(self._import_from_start)
        page.consent.name_edit.textChanged.connect(self._name_changed)
        page.consent.record_button.clicked.connect(self._toggle_consent)
        page.consent.confirm_button.clicked.connect(self.confirm_consent_in_writing)
        page.consent.next_button.clicked.connect(self._show_next_prompt)
        prompts = page.prompts
        prompts.record_button.clicked.connect(self.toggle_prompt_recording)
        self.space = QShortcut(QKeySequence(Qt.Key.Key_Space), prompts)
        self.space.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.space.activated.connect(self.toggle_prompt_recording)
        prompts.play_button.clicked.connect(self._play_attempt)
        prompts.retake_button.clicked.connect(self._retake)
        prompts.accept_button.clicked.connect(self.accept_take)
        prompts.import_button.clicked.connect(self.import_files)
        page.adapt.cancel_button.clicked.connect(self.cancel_adaptation)
        page.files_dropped.connect(self.add_files)
        page.done.play_button.clicked.connect(self._play_preview)
        page.done.speak_button.clicked.connect(lambda: self.speak_requested.emit(self.profile))
        page.done.again_button.clicked.connect(self.start_over)
        page.start_over_button.clicked.connect(self.start_over)
        self._name_changed("")

    def _run(
        self,
        fn: Callable[[TaskContext], object],
        done: Callable[[object], None],
        failed: Callable[[str], None],
    ) -> Task:
        task = Task(fn)
        task.succeeded.connect(done)
        task.failed.connect(lambda message, _details: failed(message))
        self.tasks.append(task)
        task.finished.connect(lambda: self.tasks.remove(task))
        task.start()
        return task

    # Start -------------------------------------------------------------------------------
    def activate(self) -> None:
        """Called once when the app starts: list microphones, resume an unfinished session."""
        self._run(
            lambda _ctx: input_devices(),
            self._devices_found,
            lambda message: self._devices_found([], message),
        )
        session = CloneSession.unfinished(self.paths.recordings_dir)
        if session is not None and (session.has_consent or session.take_count):
            self.session = session
            self.page.show_banner(
                f"Resumed your unfinished recording from {session.created[:16].replace('T', ' ')}"
                f": {session.take_count} of {len(session.prompts)} sentences are recorded."
            )
            self.page.consent.name_edit.setText(session.speaker_name)
            self._show_next_prompt()

    def _devices_found(self, devices: object, problem: str = "") -> None:
        combo = self.page.microphone.device_combo
        combo.clear()
        found = devices if isinstance(devices, list) else []
        for device in found:
            assert isinstance(device, AudioDevice)
            combo.addItem(f"{device.name} ({device.host_api})", device.index)
            if device.name == self.settings.input_device:
                combo.setCurrentIndex(combo.count() - 1)
        if not found:
            combo.setPlaceholderText("No microphone found")
            reason = f" ({problem})" if problem else ""
            self.page.microphone.status.setText(
                f"No microphone was found{reason}. You can still clone a voice from audio "
                "files: use the button below."
            )
        self.page.microphone.test_button.setEnabled(bool(found))

    def _device(self) -> int | str | None:
        """The microphone chosen here, else the one in Settings, else the system default."""
        data = self.page.microphone.device_combo.currentData()
        return int(data) if data is not None else self.settings.input_device

    def _ensure_session(self) -> CloneSession:
        if self.session is None:
            self.session = CloneSession.new(
                self.paths.recordings_dir, pick_prompts(self.settings.prompts_per_voice)
            )
        return self.session

    def _start_session(self) -> None:
        self._stop_recorder(keep=False)
        self.page.microphone.test_button.setChecked(False)
        session = self._ensure_session()
        self.page.steps.setCurrentIndex(PROMPTS if session.has_consent else CONSENT)
        if session.has_consent:
            self._show_next_prompt()

    def start_over(self) -> None:
        self._stop_recorder(keep=False)
        self.session, self.profile, self.attempt = None, None, None
        self.page.show_banner("")
        self.page.consent.next_button.setEnabled(False)
        self.page.consent.status.setText(
            "Type your name, then press Record and read the sentence aloud."
        )
        self.page.steps.setCurrentIndex(MICROPHONE)

    # Recording ---------------------------------------------------------------------------
    def _start_recorder(self, path: Path, purpose: str) -> bool:
        recorder = self.recorder_factory(self._device())
        try:
            recorder.start(path)
        except RecordingError as exc:
            self._recording_failed(str(exc), purpose)
            return False
        self.recorder, self.recording_for = recorder, purpose
        self._timer.start()
        return True

    def _stop_recorder(self, keep: bool = True) -> Path | None:
        recorder, purpose = self.recorder, self.recording_for
        self.recorder, self.recording_for = None, None
        self._timer.stop()
        if recorder is None:
            return None
        if not keep:
            recorder.cancel()
            return None
        try:
            return recorder.stop()
        except RecordingError as exc:
            self._recording_failed(str(exc), purpose or "")
            return None

    def _recording_failed(self, message: str, purpose: str) -> None:
        log.warning("recording failed: %s", message)
        target = {"consent": self.page.consent.status, "prompt": self.page.prompts.verdict}
        target.get(purpose, self.page.microphone.status).setText(message)
        self.page.prompts.set_recording(False)
        self.page.consent.record_button.setText("Record")

    def _refresh_meters(self) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        if recorder.error:
            self._stop_recorder()
            return
        level = int(100 * min(1.0, recorder.level))
        if self.recording_for == "test":
            self.page.microphone.level.setValue(level)
        elif self.recording_for == "prompt":
            prompts = self.page.prompts
            prompts.level.setValue(level)
            prompts.elapsed.setText(f"{recorder.seconds:.1f} s")
            recent = recorder.recent()[::16]
            prompts.wave_curve.setData(np.arange(len(recent)), recent)

    def _toggle_test(self, on: bool) -> None:
        if on:
            path = Path(tempfile.gettempdir()) / "metavoice-mic-test.wav"
            if not self._start_recorder(path, "test"):
                self.page.microphone.test_button.setChecked(False)
        else:
            self._stop_recorder(keep=False)
            self.page.microphone.level.setValue(0)

    # Consent -----------------------------------------------------------------------------
    def _name_changed(self, name: str) -> None:
        shown = name.strip() or "YOUR NAME"
        self.page.consent.statement.setText(f"“{CONSENT_TEMPLATE.format(name=shown)}”")
        self.page.consent.record_button.setEnabled(bool(name.strip()))
        self.page.consent.confirm_button.setEnabled(bool(name.strip()))

    def _toggle_consent(self) -> None:
        step = self.page.consent
        session = self._ensure_session()
        if self.recording_for == "consent":
            path = self._stop_recorder()
            step.record_button.setText("Record")
            if path is not None:
                recorded = path
                self._check(recorded, lambda report: self._consent_checked(recorded, report))
            return
        path = session.attempts_dir / "consent-attempt.wav"
        if self._start_recorder(path, "consent"):
            step.record_button.setText("Stop")
            step.status.setText("● Recording: read the sentence above, then press Stop.")

    def confirm_consent_in_writing(self) -> None:
        step = self.page.consent
        self._ensure_session().confirm_consent_in_writing(step.name_edit.text())
        step.status.setText("Consent confirmed in writing. Thank you.")
        step.next_button.setEnabled(True)

    def _consent_checked(self, path: Path, report: TakeReport) -> None:
        step = self.page.consent
        if not report.ok:
            step.status.setText(" ".join(report.problems) + " Please record it again.")
            return
        assert self.session is not None
        self.session.set_consent(step.name_edit.text(), path)
        step.status.setText("Consent recorded. Thank you.")
        step.next_button.setEnabled(True)

    # Prompts -----------------------------------------------------------------------------
    def _show_next_prompt(self) -> None:
        session = self._ensure_session()
        index = session.next_prompt()
        if index is None or session.take_count >= len(session.prompts):
            self.start_adaptation()
            return
        prompts = self.page.prompts
        prompts.counter.setText(f"Sentence {index + 1} of {len(session.prompts)}")
        prompts.prompt.setText(session.prompts[index])
        prompts.verdict.setText("Press Record (or Space), read the sentence, then press Stop.")
        prompts.wave_curve.setData([], [])
        prompts.elapsed.setText("0.0 s")
        for button in (prompts.play_button, prompts.retake_button, prompts.accept_button):
            button.setEnabled(False)
        self.attempt, self.attempt_ok = None, False
        self.page.steps.setCurrentIndex(PROMPTS)
        prompts.record_button.setFocus()

    def toggle_prompt_recording(self) -> None:
        if self.page.steps.currentIndex() != PROMPTS or self.session is None:
            return
        prompts = self.page.prompts
        if self.recording_for == "prompt":
            path = self._stop_recorder()
            prompts.set_recording(False)
            if path is not None:
                self.attempt = path
                prompts.verdict.setText("Checking the take…")
                self._check(path, self._take_checked)
            return
        index = self.session.next_prompt()
        if index is None:
            return
        self.player.stop()
        if self._start_recorder(self.session.attempt_path(index), "prompt"):
            prompts.set_recording(True)
            prompts.verdict.setText("")
            for button in (prompts.play_button, prompts.retake_button, prompts.accept_button):
                button.setEnabled(False)

    def _check(self, path: Path, then: Callable[[TakeReport], None]) -> None:
        self._run(
            lambda _ctx: check_take(load_audio(path)),
            lambda report: then(report),  # type: ignore[arg-type]
            lambda message: self.page.prompts.verdict.setText(
                f"The take could not be read: {message}"
            ),
        )

    def _take_checked(self, report: TakeReport) -> None:
        prompts = self.page.prompts
        self.attempt_ok = report.ok
        if report.ok:
            prompts.verdict.setText(
                f"Good take: {report.speech_seconds:.1f} s of speech, "
                f"{report.snr_db:.0f} dB above the background."
            )
            prompts.verdict.setStyleSheet("color: #2a8a2a;")
        else:
            prompts.verdict.setText(" ".join(report.problems))
            prompts.verdict.setStyleSheet("color: #d04040;")
        prompts.play_button.setEnabled(True)
        prompts.retake_button.setEnabled(True)
        prompts.accept_button.setEnabled(report.ok)

    def _play_attempt(self) -> None:
        if self.attempt is not None:
            self.player.play(load_audio(self.attempt), 16000)

    def _retake(self) -> None:
        self.attempt, self.attempt_ok = None, False
        self._show_next_prompt()

    def accept_take(self) -> None:
        if self.session is None or self.attempt is None or not self.attempt_ok:
            return
        index = self.session.next_prompt()
        if index is not None:
            kept = self.session.accept(index, self.attempt)
            text = self.session.prompts[index]
            # Analyse now, while the next sentence is read, so cloning starts at once.
            self._run(
                lambda _ctx: take_features(prepare_take(kept, text)),
                lambda _features: None,
                lambda message: log.warning("could not analyse %s: %s", kept, message),
            )
        self._show_next_prompt()

    def import_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self.page, "Import recordings", "", AUDIO_FILTER)
        self.add_files([Path(n) for n in names])

    def _import_from_start(self) -> None:
        self._ensure_session()
        self.page.steps.setCurrentIndex(CONSENT)
        self.page.consent.status.setText(
            "Type the speaker's name, then record the consent sentence or confirm it in "
            "writing; import the audio files on the next page."
        )

    def add_files(self, files: list[Path]) -> None:
        """Add existing recordings; text comes from a same-stem .txt or is asked for."""
        session = self._ensure_session()
        for path in files:
            text_file = path.with_suffix(".txt")
            text = text_file.read_text(encoding="utf-8").strip() if text_file.exists() else ""
            if not text:
                text, ok = QInputDialog.getText(
                    self.page, "Transcript", f"What is said in {path.name}?"
                )
                if not ok or not text.strip():
                    continue
            session.add_imported(path, text)
        self.page.prompts.verdict.setText(f"{session.take_count} recordings so far.")
        if session.take_count >= len(session.prompts) and session.has_consent:
            self.start_adaptation()

    # Adaptation --------------------------------------------------------------------------
    def start_adaptation(self) -> Task | None:
        session = self.session
        engine = self.engines.engine
        step = self.page.adapt
        self.page.steps.setCurrentIndex(ADAPT)
        self.losses = []
        step.loss_curve.setData([], [])
        step.holdout_curve.setData([], [])
        step.progress.setValue(0)
        step.similarity.hide()
        step.similarity_meter.hide()
        step.cancel_button.setEnabled(True)
        if session is None:
            return None
        if engine is None:
            step.status.setText(
                "The speech model is not loaded"
                + (f": {self.engines.problem}" if self.engines.problem else "")
                + ". Your recordings are kept; try again later."
            )
            return None
        step.device.setText(f"Learning on {engine.device.type.upper()}")
        config = AdaptConfig(steps=20, cache_features=True)
        name = session.speaker_name or "My voice"
        consent_file = session.folder / session.consent_file if session.consent_file else None

        def work(ctx: TaskContext) -> ClonedVoice:
            takes, rejected = load_takes(session.takes_dir)
            if rejected:
                log.warning("takes skipped: %s", [(r.path.name, r.reason) for r in rejected])

            def progress(p: AdaptProgress) -> None:
                ctx.send(p)
                ctx.progress(p.step / p.steps, f"step {p.step} of {p.steps}")

            try:
                return clone_voice(
                    engine,
                    takes,
                    name=name,
                    speaker_name=name,
                    consent_recording=consent_file,
                    destination=self.library.new_path,
                    config=config,
                    progress=progress,
                    cancelled=lambda: ctx.cancelled,
                )
            except AdaptationCancelled:
                raise Cancelled from None

        task = Task(work)
        task.reported.connect(self._adapt_progress)
        task.succeeded.connect(self._adapted)
        task.failed.connect(
            lambda message, _d: self._adapt_failed(
                f"Learning the voice failed: {message}. Your recordings are kept."
            )
        )
        task.cancelled.connect(
            lambda: self._adapt_failed("Cancelled. Nothing was saved; your recordings are kept.")
        )
        self.adapt_task = task
        step.status.setText("Learning your voice…")
        task.start()
        return task

    def _adapt_progress(self, progress: object) -> None:
        assert isinstance(progress, AdaptProgress)
        step = self.page.adapt
        step.progress.setValue(int(100 * progress.step / progress.steps))
        step.status.setText(
            f"Step {progress.step} of {progress.steps}, about {progress.eta_seconds:.0f} s left."
        )
        if progress.similarity is not None:
            step.similarity.setText(
                f"Similarity to your takes: {progress.similarity:.2f} "
                "(speaker-encoder cosine; 1.00 would be identical)"
            )
            step.similarity_meter.setValue(round(100 * max(0.0, progress.similarity)))
            step.similarity.show()
            step.similarity_meter.show()
        self.losses.append((progress.step, progress.loss, progress.holdout_loss))
        steps = [s for s, _, _ in self.losses]
        step.loss_curve.setData(steps, [loss for _, loss, _ in self.losses])
        held = [(s, h) for s, _, h in self.losses if h is not None]
        if held:
            step.holdout_curve.setData([s for s, _ in held], [h for _, h in held])

    def cancel_adaptation(self) -> None:
        if self.adapt_task is not None and self.adapt_task.is_running():
            self.adapt_task.cancel()
            self.page.adapt.cancel_button.setEnabled(False)
            self.page.adapt.status.setText("Cancelling…")

    def _adapt_crashed(self, message: str, details: str) -> None:
        text = f"Learning the voice failed: {message}. Your recordings are kept."
        self._adapt_failed(text)
        show_error(self.page, "Cloning failed", text, details)

    def _adapt_failed(self, message: str) -> None:
        self.page.adapt.status.setText(message)
        self.page.adapt.cancel_button.setEnabled(False)

    def _adapted(self, cloned: object) -> None:
        assert isinstance(cloned, ClonedVoice) and self.session is not None
        profile = cloned.path
        self.profile = profile
        self.session.finish(profile)
        self.page.show_banner("")
        name = cloned.manifest.name
        self.page.done.message.setText(
            f"Your voice “{name}” is ready and saved in your "
            "library. Listen to the preview, or start speaking."
        )
        self.page.steps.setCurrentIndex(DONE)
        self.voice_saved.emit(profile)
        self._play_preview()

    def _play_preview(self) -> None:
        if self.profile is not None:
            preview = read_profile(self.profile)
            self.player.play(preview.preview, preview.preview_rate)

    def shutdown(self) -> None:
        self._stop_recorder(keep=False)
        if self.adapt_task is not None and self.adapt_task.is_running():
            self.adapt_task.cancel()
            self.adapt_task.wait(10_000)
        for task in list(self.tasks):
            task.wait(5_000)
