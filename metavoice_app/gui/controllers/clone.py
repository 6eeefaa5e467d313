"""The record-and-clone wizard's behaviour: wiring :class:`CloneWizard` to the pages.

Microphone check, consent, prompts (each take written to disk as it is recorded and
checked at once), a review of every take with the voice's name, then adaptation in a
worker with a live loss curve, and the new voice saved to the library. Where each
button leads is the wizard state's business (``core/adapt/wizard.py``); this module
shows that state and runs the slow work in the background. The session lives on disk,
so an interrupted wizard resumes where it stopped.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QMessageBox

from metavoice_app.core.adapt.adapter import AdaptationError, AdaptStep
from metavoice_app.core.adapt.ahead import LearningAhead
from metavoice_app.core.adapt.clone import ClonedVoice, check_new_take, clone_voice
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.profile import CONSENT_TEMPLATE
from metavoice_app.core.adapt.prompts import pick_prompts
from metavoice_app.core.adapt.session import CloneSession
from metavoice_app.core.adapt.takes import load_takes, prepare_take, take_features
from metavoice_app.core.adapt.wizard import CloneWizard, Failure, Step, similarity_reading
from metavoice_app.core.audio.checks import TakeReport, check_take
from metavoice_app.core.audio.devices import AudioDevice, input_devices
from metavoice_app.core.audio.io import AudioFileError, load_audio
from metavoice_app.core.audio.recorder import Recorder, RecordingError
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.library import VoiceLibrary
from metavoice_app.core.profiles.mvoice import ProfileError
from metavoice_app.core.progress import Progress
from metavoice_app.core.settings import Settings
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.gui.controllers.sketch import SketchController
from metavoice_app.gui.engine_service import EngineService
from metavoice_app.gui.errors import show_error
from metavoice_app.gui.files import start_folder
from metavoice_app.gui.pages.clone import ClonePage, TakeRow
from metavoice_app.gui.player import Player, PlayToggle
from metavoice_app.gui.transcript_dialog import TranscriptDialog
from metavoice_app.gui.workers import Task, TaskContext

log = logging.getLogger(__name__)

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3)"


class CloneController(QObject):
    voice_saved = Signal(object)  # Path of the new profile
    speak_requested = Signal(object)  # Path of the profile to speak with
    status_changed = Signal(str)  # adaptation's progress, for the status bar on every page

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
        self.wizard = CloneWizard(
            lambda: CloneSession.new(
                self.paths.recordings_dir, pick_prompts(self.settings.prompts_per_voice)
            )
        )
        self.recorder: Recorder | None = None
        self.recording_for: str | None = None  # "test", "consent" or "prompt"
        self.tasks: list[Task] = []
        self.adapt_task: Task | None = None
        # The steps taken on the takes so far while the last sentence is read
        self.ahead: LearningAhead | None = None
        self._waiting_for_engine = False
        self._ahead_key: tuple[list[tuple[Path, str]], list[int]] | None = None
        self.confirm_box: QMessageBox | None = None
        self.cloned: ClonedVoice | None = None  # the voice this wizard made last
        # What the words-and-speaker check found per attempt, and the take each became
        self._problems: dict[Path, str] = {}
        self._accepted_from: dict[Path, str] = {}
        self.losses: list[tuple[int, float, float | None]] = []
        self.last_import_folder: Path | None = None
        # Imported recordings still waiting for their words, asked one at a time
        self._untranscribed: list[Path] = []
        self.transcript_dialog: TranscriptDialog | None = None
        self._row_toggles: list[PlayToggle] = []  # the review's Play buttons
        self._take_audio_cache: dict[tuple[Path, int], np.ndarray] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._refresh_meters)
        self.sketcher = SketchController(
            page.prompts.sketch_button,
            page.prompts.sketch_status,
            engines,
            player,
            self._sketch_recordings,
        )
        self._wire()

    @property
    def session(self) -> CloneSession | None:
        return self.wizard.session

    # Wiring ------------------------------------------------------------------------------
    def _wire(self) -> None:
        page = self.page
        page.microphone.test_button.toggled.connect(self._toggle_test)
        page.microphone.next_button.clicked.connect(self._start_session)
        page.microphone.import_button.clicked.connect(self._import_from_start)
        page.consent.name_edit.textChanged.connect(self._name_changed)
        page.consent.record_button.clicked.connect(self._toggle_consent)
        page.consent.confirm_button.clicked.connect(self.confirm_consent_in_writing)
        page.consent.next_button.clicked.connect(self._consent_next)
        prompts = page.prompts
        prompts.record_button.clicked.connect(self.toggle_prompt_recording)
        self.space = QShortcut(QKeySequence(Qt.Key.Key_Space), prompts)
        self.space.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.space.activated.connect(self.toggle_prompt_recording)
        # The wizard's own Play buttons read Stop while their play plays, and stop it
        self.attempt_toggle = PlayToggle(prompts.play_button, self.player)
        self.attempt_toggle.requested.connect(self._play_attempt)
        self.player.failed.connect(self.attempt_toggle.failure_reporter(prompts.verdict.setText))
        self.enter = QShortcut(QKeySequence(Qt.Key.Key_Return), prompts)
        self.enter_keypad = QShortcut(QKeySequence(Qt.Key.Key_Enter), prompts)
        for shortcut in (self.enter, self.enter_keypad):  # Enter accepts a good take
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self._enter_pressed)
        prompts.retake_button.clicked.connect(self._retake)
        prompts.accept_button.clicked.connect(self.accept_take)
        prompts.import_button.clicked.connect(self.import_files)
        page.review.name_edit.textChanged.connect(self._review_changed)
        page.review.create_button.clicked.connect(self.create_voice)
        page.adapt.cancel_button.clicked.connect(self.cancel_adaptation)
        page.adapt.retry_button.clicked.connect(self.retry)
        page.adapt.details_button.clicked.connect(self.show_failure_details)
        for back in (
            page.consent.back_button,
            prompts.back_button,
            page.review.back_button,
            page.adapt.back_button,
            page.done.back_button,
        ):
            back.clicked.connect(self.back)
        page.files_dropped.connect(self.add_files)
        self.player.failed.connect(self._review_play_failed)
        self.preview_toggle = PlayToggle(page.done.play_button, self.player, "Play the preview")
        self.preview_toggle.requested.connect(self._play_preview)
        self.player.failed.connect(self.preview_toggle.failure_reporter(self._report_play_problem))
        page.done.speak_button.clicked.connect(lambda: self.speak_requested.emit(self.profile))
        page.done.again_button.clicked.connect(self.start_over)
        page.start_over_button.clicked.connect(self.start_over)
        self.engines.ready.connect(self._engine_ready)
        self.engines.failed.connect(self._engine_failed)
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

    def _show(self) -> None:
        """Show the wizard's state: its step, and what that step needs filled in."""
        wizard, page = self.wizard, self.page
        step = wizard.step
        page.steps.setCurrentIndex(int(step))
        if step != Step.PROMPTS:  # its sketch is heard only there, where it can be stopped
            self.sketcher.refresh(False)
            self.sketcher.cancel()
        if step == Step.PROMPTS:
            self._show_prompt()
        elif step == Step.REVIEW:
            self._show_review()
        elif step == Step.ADAPT:
            adapt = page.adapt
            failure = wizard.failure
            adapt.cancel_button.setVisible(wizard.adapting)
            adapt.cancel_button.setEnabled(wizard.adapting)
            adapt.retry_button.setVisible(failure is not None)
            adapt.details_button.setVisible(failure is not None and bool(failure.details))
        for back in (
            page.consent.back_button,
            page.prompts.back_button,
            page.review.back_button,
            page.adapt.back_button,
            page.done.back_button,
        ):
            back.setEnabled(wizard.can_go_back)

    def back(self) -> None:
        self._stop_recorder(keep=False)
        self.page.prompts.set_recording(False)
        self.wizard.back()
        self._show()

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
            self.wizard.resume(session)
            self.page.show_banner(
                f"Resumed your unfinished recording from {session.created[:16].replace('T', ' ')}"
                f": {session.take_count} of {len(session.prompts)} sentences are recorded."
            )
            self.page.consent.name_edit.setText(session.speaker_name)
            self.page.consent.next_button.setEnabled(session.has_consent)
            self._show()

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
        return self.wizard.ensure_session()

    def _start_session(self) -> None:
        self._stop_recorder(keep=False)
        self.page.microphone.test_button.setChecked(False)
        self.wizard.begin()
        self._show()

    def _consent_next(self) -> None:
        self.wizard.consent_given()
        self._show()

    def start_over(self) -> None:
        """Start over, after asking when it would set recordings aside (they stay on disk)."""
        if not self.wizard.start_over_needs_confirmation:
            self._start_over_now()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Start over?",
            "Start a new voice from the beginning? The recordings made so far are set "
            "aside (they stay in the recordings folder) and this voice is not created.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.page,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.accepted.connect(self._start_over_now)
        self.confirm_box = box
        box.open()

    def _start_over_now(self) -> None:
        self._stop_recorder(keep=False)
        self._drop_ahead()
        self.sketcher.reset()
        if self.adapt_task is not None and self.adapt_task.is_running():
            self.adapt_task.cancel()
        self.wizard.start_over()
        self._take_audio_cache.clear()
        self.page.show_banner("")
        consent = self.page.consent
        consent.name_edit.clear()  # the next voice may be someone else's
        self.page.review.name_edit.clear()
        consent.next_button.setEnabled(False)
        consent.status.setText("Type your name, then press Record and read the sentence aloud.")
        self._show()

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
        if self.recording_for == "consent":
            self._stop_recorder(keep=False)
            step.record_button.setText("Record")
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
    def _show_prompt(self) -> None:
        session, index = self.wizard.session, self.wizard.prompt
        assert session is not None and index is not None
        prompts = self.page.prompts
        prompts.counter.setText(f"Sentence {index + 1} of {len(session.prompts)}")
        prompts.prompt.setText(session.prompts[index])
        redo = index in session.accepted
        prompts.verdict.setText(
            "Press Record (or Space), read the sentence, then press Stop."
            + (" Its earlier take is kept until you accept a new one." if redo else "")
        )
        prompts.verdict.setStyleSheet("")
        prompts.wave_curve.setData([], [])
        prompts.elapsed.setText("0.0 s")
        for button in (prompts.play_button, prompts.retake_button, prompts.accept_button):
            button.setEnabled(False)
        self.sketcher.refresh(self.recording_for is None)
        prompts.record_button.setFocus()

    def _sketch_recordings(self) -> list[tuple[Path, str]]:
        """The takes a first sketch is made from: those the voice would learn from now."""
        return [(take.path, take.text) for take in self.wizard.used_takes()]

    def toggle_prompt_recording(self) -> None:
        if self.wizard.step != Step.PROMPTS or self.session is None:
            return
        prompts = self.page.prompts
        if self.recording_for == "prompt":
            path = self._stop_recorder()
            prompts.set_recording(False)
            self.sketcher.refresh(True)
            if path is not None:
                self.wizard.recorded(path)
                prompts.verdict.setText("Checking the take…")
                self._check(path, self._take_checked)
            return
        index = self.wizard.prompt
        if index is None:
            return
        self.sketcher.refresh(False)
        self.sketcher.cancel("Sketch stopped for the recording; ask again after the take.")
        self.player.stop()
        if self._start_recorder(self.session.attempt_path(index), "prompt"):
            prompts.set_recording(True)
            prompts.verdict.setText("")
            for button in (prompts.play_button, prompts.retake_button, prompts.accept_button):
                button.setEnabled(False)
        else:
            self.sketcher.refresh(True)  # no recording after all: the sketch is offered again

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
        self.wizard.checked(report.ok)
        if report.ok:
            # Past 60 dB the "background" is digital silence (a noise gate, a virtual
            # device): a number like 106 dB reads as a fault, not as a clean room.
            background = (
                "over a silent background"
                if report.snr_db >= 60
                else f"{report.snr_db:.0f} dB above the background"
            )
            prompts.verdict.setText(
                f"Good take: {report.speech_seconds:.1f} s of speech, {background}."
            )
            prompts.verdict.setStyleSheet("color: #2a8a2a;")
        else:
            prompts.verdict.setText(" ".join(report.problems))
            prompts.verdict.setStyleSheet("color: #d04040;")
        prompts.play_button.setEnabled(True)
        prompts.retake_button.setEnabled(True)
        prompts.accept_button.setEnabled(report.ok)
        attempt, index = self.wizard.attempt, self.wizard.prompt
        if report.ok and attempt is not None and index is not None:
            self._check_words_and_speaker(attempt, index)

    def _check_words_and_speaker(self, attempt: Path, index: int) -> None:
        """Whether the take says its sentence and sounds like the other takes, in the
        background (it analyses the take, which adaptation then reuses); the verdict
        follows when it is done, and a take with a problem is left out unless kept."""
        engine, session = self.engines.engine, self.session
        if engine is None or session is None:
            return  # the model is still loading: the level checks stand alone
        text = session.prompts[index]
        others = [(t.path, t.text) for t in self.wizard.takes() if t.prompt != index]

        def work(_ctx: TaskContext) -> str:
            take = prepare_take(attempt, text)
            kept = [prepare_take(path, said) for path, said in others]
            return check_new_take(engine, take, kept).problem

        self._run(
            work,
            lambda problem: self._take_screened(attempt, str(problem)),
            lambda message: log.warning("could not check %s: %s", attempt, message),
        )

    def _take_screened(self, attempt: Path, problem: str) -> None:
        self._problems[attempt] = problem
        name = self._accepted_from.get(attempt)
        if name is not None and self.session is not None:  # accepted before the verdict
            self.session.set_problem(name, problem)
            self._learn_ahead()  # a take left out changes which are learned from
            if self.wizard.step == Step.REVIEW:
                self._show()
        elif attempt == self.wizard.attempt and problem:
            prompts = self.page.prompts
            prompts.verdict.setText(
                f"{problem} If you accept it anyway, it is left out unless you choose to "
                "use it in the review."
            )
            prompts.verdict.setStyleSheet("color: #d04040;")

    def _play_attempt(self) -> None:
        if self.wizard.attempt is not None:
            self._play_file(self.wizard.attempt, self.attempt_toggle)

    def _enter_pressed(self) -> None:
        if self.wizard.step == Step.PROMPTS and self.page.prompts.accept_button.isEnabled():
            self.accept_take()

    def _retake(self) -> None:
        self.wizard.retake()
        self._show()

    def accept_take(self) -> None:
        index, attempt = self.wizard.prompt, self.wizard.attempt
        kept = self.wizard.accept()
        if kept is not None and index is not None and self.session is not None:
            assert attempt is not None
            self._accepted_from[attempt] = kept.name
            if self._problems.get(attempt):
                self.session.set_problem(kept.name, self._problems[attempt])
            text = self.session.prompts[index]
            # Analysed now, while the next sentence is read, and cached beside the take,
            # so adaptation finds the features ready.
            self._run(
                lambda _ctx: take_features(prepare_take(kept, text), cache=True),
                lambda _features: self._learn_ahead(),
                lambda message: log.warning("could not analyse %s: %s", kept, message),
            )
        self._show()

    def import_files(self) -> None:
        folder = start_folder(self.paths, self.last_import_folder)
        names, _ = QFileDialog.getOpenFileNames(
            self.page, "Import recordings", str(folder), AUDIO_FILTER
        )
        if names:
            self.last_import_folder = Path(names[0]).parent
        self.add_files([Path(n) for n in names])

    def _import_from_start(self) -> None:
        self.wizard.begin()
        if self.wizard.step == Step.CONSENT:
            self.page.consent.status.setText(
                "Type the speaker's name, then record the consent sentence or confirm it in "
                "writing; import the audio files on the next page."
            )
        self._show()

    def add_files(self, files: list[Path]) -> None:
        """Add existing recordings; text comes from a same-stem .txt or, for each without
        one, from a transcript box with a Play button (:class:`TranscriptDialog`, one at a
        time). Never starts learning: with enough takes the wizard moves to the review."""
        session = self._ensure_session()
        for path in files:
            text_file = path.with_suffix(".txt")
            text = text_file.read_text(encoding="utf-8").strip() if text_file.exists() else ""
            if text:
                session.add_imported(path, text)
            else:
                self._untranscribed.append(path)
        if self.transcript_dialog is None:
            self._ask_next_transcript()

    def _ask_next_transcript(self) -> None:
        if not self._untranscribed:
            self.transcript_dialog = None
            self._imports_done()
            return
        path = self._untranscribed.pop(0)
        dialog = TranscriptDialog(path, self.player, self.page)
        dialog.accepted.connect(lambda: self._transcribed(path, dialog.text))
        dialog.finished.connect(lambda _result: self._ask_next_transcript())
        self.transcript_dialog = dialog
        dialog.open()

    def _transcribed(self, path: Path, text: str) -> None:
        if text:
            self._ensure_session().add_imported(path, text)

    def _imports_done(self) -> None:
        session = self._ensure_session()
        self.page.prompts.verdict.setText(f"{session.take_count} recordings so far.")
        if session.has_consent and self.wizard.step < Step.REVIEW:
            self.wizard.consent_given()
            self._show()
        elif self.wizard.step == Step.REVIEW:
            self._show()

    # Review ------------------------------------------------------------------------------
    def _show_review(self) -> None:
        session = self.session
        assert session is not None
        review = self.page.review
        takes = self.wizard.takes()
        rows, toggles = [], []
        for number, take in enumerate(takes, start=1):
            row = TakeRow(number, take.text, take.problem, take.kept, take.prompt is not None)
            toggle = PlayToggle(row.play_button, self.player)
            toggle.requested.connect(lambda p=take.path, t=toggle: self._play_file(p, t))
            toggles.append(toggle)
            row.wave.set_audio(self._take_audio(take.path))
            if take.prompt is not None:
                row.rerecord_button.clicked.connect(
                    lambda _c=False, i=take.prompt: self._rerecord(i)
                )
            row.remove_button.clicked.connect(lambda _c=False, n=take.name: self._remove(n))
            row.keep_box.toggled.connect(lambda on, n=take.name: self._keep(n, on))
            rows.append(row)
        review.set_rows(rows)
        self._row_toggles = toggles
        used = len(self.wizard.used_takes())
        left_out = len(takes) - used
        review.summary.setText(
            f"{len(takes)} takes recorded"
            + (f"; {left_out} left out because of a problem shown below" if left_out else "")
            + (
                ". This voice is made and saved; to make another, press Clone another "
                "voice on the next page."
                if self.wizard.created
                else ". Listen to them, record any again, then name the voice and create it."
            )
        )
        if not review.name_edit.text().strip():
            review.name_edit.setText(session.voice_name or session.speaker_name)
        self._review_changed()
        self._learn_ahead()  # a resumed session's takes too

    def _take_audio(self, path: Path) -> np.ndarray:
        """A take's audio for its waveform, read once per version of the file (the review
        is shown again after every change to it)."""
        try:
            key = (path, path.stat().st_mtime_ns)
            if key not in self._take_audio_cache:
                self._take_audio_cache = {
                    k: v for k, v in self._take_audio_cache.items() if k[0] != path
                }
                self._take_audio_cache[key] = load_audio(path)
            return self._take_audio_cache[key]
        except (AudioFileError, OSError) as exc:
            log.warning("cannot show the waveform of %s: %s", path, exc)
            return np.zeros(0, dtype=np.float32)

    def _review_changed(self) -> None:
        review, created = self.page.review, self.wizard.created
        review.create_button.setText("Next" if created else "Create voice")
        review.name_edit.setEnabled(not created)
        review.create_button.setEnabled(created or self.wizard.can_create(review.name_edit.text()))

    def _play_file(self, path: Path, toggle: PlayToggle) -> None:
        try:
            audio = load_audio(path)
        except (AudioFileError, OSError) as exc:
            self._report_play_problem(f"The take cannot be played: {exc}")
            return
        self.player.play(audio, 16000, owner=toggle)

    def _review_play_failed(self, message: str) -> None:
        if any(self.player.failed_owner is toggle for toggle in self._row_toggles):
            self._report_play_problem(message)

    def _report_play_problem(self, message: str) -> None:
        label = {
            Step.PROMPTS: self.page.prompts.verdict,
            Step.REVIEW: self.page.review.summary,
        }.get(self.wizard.step, self.page.done.play_problem)
        label.setText(message)
        label.setVisible(True)

    def _rerecord(self, prompt: int) -> None:
        self.wizard.rerecord(prompt)
        self._show()

    def _remove(self, name: str) -> None:
        if self.session is not None:
            self.session.remove(name)
        self._learn_ahead()
        self._show()

    def _keep(self, name: str, keep: bool) -> None:
        if self.session is not None:
            self.session.keep(name, keep)
        self._learn_ahead()
        self._show()

    # Learning ahead ----------------------------------------------------------------------
    def _learn_ahead(self) -> None:
        """Take adaptation's steps on the takes it will learn from, in the background,
        once they are known (every sentence but the last recorded): "Create voice" then
        takes them over and the person waits only for the rest (``core/adapt/ahead.py``).
        A head start on other takes than these is stopped; nothing is saved by it."""
        if self.wizard.adapting:
            return  # the head start is the pipeline's to take over, or already taken
        engine, session = self.engines.engine, self.session
        planned = None
        if engine is not None and session is not None:
            planned = self.wizard.takes_ahead()
        if planned is None:
            self._drop_ahead()
            return
        assert engine is not None
        try:  # a take recorded again keeps its name: its time tells the versions apart
            stamps = [take.path.stat().st_mtime_ns for take in planned]
        except OSError:
            self._drop_ahead()
            return
        recordings = [(take.path, take.text) for take in planned]
        key = (recordings, stamps)
        if self.ahead is not None and self._ahead_key == key:
            return
        self._drop_ahead()
        ahead = LearningAhead(engine, recordings, AdaptConfig(cache_features=True))
        self.ahead, self._ahead_key = ahead, key
        self._run(
            ahead.run,
            lambda steps: log.info("took %s steps ahead on %d takes", steps, len(recordings)),
            lambda message: log.warning("could not learn ahead: %s", message),
        )

    def _drop_ahead(self) -> None:
        if self.ahead is not None:
            self.ahead.stop()
        self.ahead, self._ahead_key = None, None

    # Adaptation --------------------------------------------------------------------------
    def create_voice(self) -> None:
        """The review's "Create voice" (its Next, once this session's voice is made)."""
        if self.wizard.created:
            self.wizard.return_to_done()
            self._show()
        elif self.wizard.create_voice(self.page.review.name_edit.text()):
            self._start_adaptation()

    def retry(self) -> None:
        if self.wizard.retry():
            self._start_adaptation()

    def _start_adaptation(self) -> None:
        step = self.page.adapt
        self._show()
        self.losses = []
        step.loss_curve.setData([], [])
        step.holdout_curve.setData([], [])
        step.progress.setValue(0)
        step.similarity.hide()
        step.similarity_meter.hide()
        engine = self.engines.engine
        if engine is None:
            if self.engines.problem:  # it failed to load: load it again, then carry on
                self.engines.problem = ""
                self.engines.start()
            self._waiting_for_engine = True
            step.status.setText(
                "Waiting for the speech model to load; learning starts as soon as it is ready."
            )
            self._set_status("Waiting for the speech model…")
            return
        self._waiting_for_engine = False
        self.adapt_task = self._adapt(engine)

    def _engine_ready(self, _engine: object) -> None:
        if self._waiting_for_engine and self.wizard.adapting:
            self._start_adaptation()
        else:
            self._learn_ahead()
        if self.wizard.step == Step.PROMPTS:
            self.sketcher.refresh(self.recording_for is None)

    def _engine_failed(self, message: str) -> None:
        if self._waiting_for_engine and self.wizard.adapting:
            self._waiting_for_engine = False
            self._adapt_failed(
                Failure(
                    f"The speech model could not be loaded: {message}. Your recordings are "
                    "kept; press Retry to load it again."
                )
            )

    def _adapt(self, engine: SpeechEngine) -> Task:
        session = self.session
        assert session is not None
        step = self.page.adapt
        step.device.setText(f"Learning on {engine.device.type.upper()}")
        config = AdaptConfig(cache_features=True)
        name = session.voice_name
        speaker = session.speaker_name or name
        consent_file = session.folder / session.consent_file if session.consent_file else None
        used = {take.name for take in self.wizard.used_takes()}
        ahead, self.ahead, self._ahead_key = self.ahead, None, None  # handed over once

        def work(ctx: TaskContext) -> ClonedVoice | Failure:
            takes, rejected = load_takes(session.takes_dir)
            if rejected:
                log.warning("takes skipped: %s", [(r.path.name, r.reason) for r in rejected])
            takes = [take for take in takes if take.path.name in used]
            try:
                return clone_voice(
                    engine,
                    takes,
                    name=name,
                    speaker_name=speaker,
                    consent_recording=consent_file,
                    destination=self.library.new_path,
                    config=config,
                    progress=ctx,
                    keep_takes_in=self.library,
                    ahead=ahead,
                )
            except (AdaptationError, ProfileError, OSError) as exc:  # said in plain words
                return Failure(f"Learning the voice failed: {exc}. Your recordings are kept.")

        task = Task(work)
        task.progressed.connect(self._adapt_progress)
        task.succeeded.connect(self._adapt_finished)
        task.failed.connect(
            lambda message, details: self._adapt_failed(
                Failure(f"Learning the voice failed: {message}. Your recordings are kept.", details)
            )
        )
        task.cancelled.connect(
            lambda: self._adapt_failed(
                Failure("Cancelled. Nothing was saved; your recordings are kept.", cancelled=True)
            )
        )
        step.status.setText("Learning your voice…")
        self._set_status("Learning the voice…")
        task.start()
        return task

    def _adapt_progress(self, report: Progress) -> None:
        """Show an adaptation step: the bar, the time left, the similarity meter and the
        loss curves, all from the step's own numbers (the report's detail)."""
        progress = report.detail
        assert isinstance(progress, AdaptStep)
        step = self.page.adapt
        step.progress.setValue(int(100 * report.fraction))
        step.status.setText(
            f"Step {progress.step} of {progress.steps}, about {progress.eta_seconds:.0f} s left."
        )
        self._set_status(
            f"Learning the voice: step {progress.step} of {progress.steps}, "
            f"about {progress.eta_seconds:.0f} s left"
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
        elif self._waiting_for_engine:
            self._waiting_for_engine = False
            self._adapt_failed(
                Failure("Cancelled. Nothing was saved; your recordings are kept.", cancelled=True)
            )

    def _adapt_finished(self, result: object) -> None:
        if isinstance(result, Failure):
            self._adapt_failed(result)
            return
        assert isinstance(result, ClonedVoice)
        self.cloned = result
        self.wizard.adapted(result.path)
        self.page.show_banner("")
        kept = (
            f" Note: {result.takes_problem}."
            if result.takes_problem
            else " Its recordings are kept with it, to re-create it when the model is updated."
        )
        self.page.done.message.setText(
            f"Your voice “{result.manifest.name}” is ready and saved in your "
            f"library. Listen to the preview, or start speaking.{kept}"
        )
        similarity = result.manifest.similarity
        self.page.done.similarity.setText(
            ""
            if similarity is None
            else f"Similarity to your takes: {similarity:.2f}, {similarity_reading(similarity)}."
        )
        self.page.done.similarity.setVisible(similarity is not None)
        self._set_status(f"The voice “{result.manifest.name}” is ready")
        self._show()
        self.voice_saved.emit(result.path)
        self._play_preview()

    def _adapt_failed(self, failure: Failure) -> None:
        """Every way adaptation can end without a voice comes here: the wizard keeps the
        failure, the page offers Retry and Back, and Details when there are details
        (shown at once for an unexpected error)."""
        self.wizard.failed(failure)
        self.page.adapt.status.setText(failure.message)
        self._set_status("Cancelled" if failure.cancelled else "Learning the voice failed")
        self._show()
        if failure.details:
            self.show_failure_details()

    def show_failure_details(self) -> None:
        failure = self.wizard.failure
        if failure is not None:
            show_error(self.page, "Cloning failed", failure.message, failure.details)

    def _set_status(self, text: str) -> None:
        self.status_changed.emit(text)

    @property
    def profile(self) -> Path | None:
        return self.wizard.profile

    def _play_preview(self) -> None:
        if self.cloned is not None:
            self.player.play(
                self.cloned.preview, self.cloned.preview_rate, owner=self.preview_toggle
            )

    def shutdown(self) -> None:
        self._stop_recorder(keep=False)
        self._drop_ahead()
        self.sketcher.shutdown()
        if self.adapt_task is not None and self.adapt_task.is_running():
            self.adapt_task.cancel()
            self.adapt_task.wait(10_000)
        for task in list(self.tasks):
            task.wait(5_000)
