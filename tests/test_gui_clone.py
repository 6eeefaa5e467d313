"""The record-and-clone wizard end to end, offscreen, with a simulated microphone."""

from __future__ import annotations

import gc
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from metavoice_app.core.adapt.profile import CONSENT_TEMPLATE
from metavoice_app.core.adapt.session import CloneSession
from metavoice_app.core.adapt.takes import features_path
from metavoice_app.core.adapt.wizard import Step
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.library import VoiceLibrary
from metavoice_app.core.profiles.mvoice import read_profile
from metavoice_app.core.settings import Settings, save_settings
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import Area, MainWindow

CONSENT, PROMPTS, REVIEW, ADAPT, DONE = (
    Step.CONSENT,
    Step.PROMPTS,
    Step.REVIEW,
    Step.ADAPT,
    Step.DONE,
)


class FakeMicrophone:
    """Replaces sounddevice.InputStream: delivers queued speech in 10 ms blocks, 5x faster
    than real time, then near-silence, until stopped (or 'unplugged')."""

    source = np.zeros(0, dtype=np.float32)
    unplug_after: float | None = None
    last: FakeMicrophone | None = None

    def __init__(
        self,
        samplerate: int,
        channels: int,
        dtype: str,
        device: object,
        callback,
        finished_callback,
    ) -> None:
        self.callback, self.finished = callback, finished_callback
        self.audio = FakeMicrophone.source
        self.delivered = 0
        self._running = False
        FakeMicrophone.last = self

    def start(self) -> None:
        self._running = True
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        rng = np.random.default_rng(0)
        while self._running:
            block = self.audio[self.delivered : self.delivered + 160]
            if len(block) < 160:
                block = np.concatenate([block, rng.normal(0, 1e-4, 160 - len(block))])
            self.callback(block.astype(np.float32)[:, None], 160, None, None)
            self.delivered += 160
            if (
                FakeMicrophone.unplug_after is not None
                and self.delivered >= FakeMicrophone.unplug_after * 16000
            ):
                self._running = False
                self.finished()
                return
            time.sleep(0.002)

    def stop(self) -> None:
        self._running = False

    def close(self) -> None:
        pass


@pytest.fixture
def microphone(monkeypatch: pytest.MonkeyPatch):
    import sounddevice

    monkeypatch.setattr(sounddevice, "InputStream", FakeMicrophone)
    FakeMicrophone.unplug_after = None
    return FakeMicrophone


@pytest.fixture
def wizard(qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path, microphone) -> MainWindow:
    save_settings(Settings(prompts_per_voice=3), app_paths.settings_file)
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    win.show()
    win.show_area(Area.CLONE)
    qtbot.waitUntil(lambda: win.engines.engine is not None, timeout=60_000)
    return win


def _say(qtbot: QtBot, microphone, audio: np.ndarray, toggle) -> None:
    """Start recording, let the fake microphone deliver ``audio``, stop."""
    microphone.source = audio
    toggle()
    qtbot.waitUntil(
        lambda: microphone.last is not None and microphone.last.delivered >= len(audio) + 3200,
        timeout=30_000,
    )
    toggle()


def _record_consent(wizard: MainWindow, qtbot: QtBot, microphone, flite_speech) -> None:
    page = wizard.clone_page
    qtbot.mouseClick(page.microphone.next_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == CONSENT
    page.consent.name_edit.setText("Ada Lovelace")
    assert "I, Ada Lovelace, agree" in page.consent.statement.text()
    speech = flite_speech(CONSENT_TEMPLATE.format(name="Ada Lovelace"), "slt")
    _say(qtbot, microphone, speech, page.consent.record_button.click)
    qtbot.waitUntil(page.consent.next_button.isEnabled, timeout=30_000)


def test_wizard_end_to_end(
    wizard: MainWindow, qtbot: QtBot, microphone, flite_speech, app_paths: AppPaths
) -> None:
    page = wizard.clone_page
    _record_consent(wizard, qtbot, microphone, flite_speech)
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == PROMPTS
    controller = wizard.clone_controller
    session = controller.session
    assert session is not None and len(session.prompts) == 3
    for index, prompt in enumerate(session.prompts):
        assert page.prompts.prompt.text() == prompt
        assert page.prompts.counter.text() == f"Sentence {index + 1} of 3"
        press_space = lambda: qtbot.keyClick(page.prompts.record_button, Qt.Key.Key_Space)  # noqa: E731
        _say(qtbot, microphone, flite_speech(prompt, "awb"), press_space)
        qtbot.waitUntil(page.prompts.accept_button.isEnabled, timeout=30_000)
        verdict = page.prompts.verdict.text()
        assert "Good take" in verdict
        # the fake microphone's background is near-digital silence: no absurd dB figure
        level = re.search(r"(\d+) dB above", verdict)
        assert "over a silent background" in verdict or (level and int(level[1]) < 60)
        # the take is on disk the moment it is recorded
        assert controller.wizard.attempt is not None and controller.wizard.attempt.exists()
        qtbot.keyClick(page.prompts.record_button, Qt.Key.Key_Return)  # Enter accepts it
        # analysed as it is accepted, and the analysis kept for adaptation
        take = session.takes_dir / f"{index + 1:02d}.wav"
        qtbot.waitUntil(features_path(take).exists, timeout=60_000)
    # the last take leads to the review, not straight into training; the steps on the
    # first two takes were begun while the last sentence was read
    assert page.steps.currentIndex() == REVIEW and controller.adapt_task is None
    assert controller.ahead is not None
    assert [path.name for path, _ in controller.ahead.recordings] == ["01.wav", "02.wav"]
    review = page.review
    assert len(review.rows) == 3 and review.name_edit.text() == "Ada Lovelace"
    review.name_edit.setText("Ada's voice")
    qtbot.mouseClick(review.create_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == ADAPT
    assert "CPU" in page.adapt.device.text()
    wizard.show_area(Area.SPEAK)  # progress is visible from every area
    qtbot.waitUntil(lambda: "step" in wizard.clone_status.text(), timeout=60_000)
    assert wizard.clone_status.isVisible()
    wizard.show_area(Area.CLONE)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == DONE, timeout=180_000)
    assert "ready" in wizard.clone_status.text()
    assert controller.losses and controller.losses[-1][0] == len(controller.losses)
    assert controller.cloned is not None and controller.cloned.voice.steps_ahead > 0
    assert page.adapt.similarity_meter.isHidden()  # this tiny model has no speaker encoder

    # files on disk: takes with transcripts, consent, the session record and the profile
    takes = sorted(p.name for p in session.takes_dir.iterdir())
    assert takes == [
        "01.txt",
        "01.wav",
        "01.wav.features.npy",
        "02.txt",
        "02.wav",
        "02.wav.features.npy",
        "03.txt",
        "03.wav",
        "03.wav.features.npy",
    ]
    assert (session.folder / "consent.wav").exists()
    saved = CloneSession.load(session.folder)
    assert saved.profile is not None and Path(saved.profile).exists()
    profiles = list(app_paths.voices_dir.glob("*.mvoice"))
    assert len(profiles) == 1
    manifest = read_profile(profiles[0]).manifest
    assert manifest.name == "Ada's voice" and manifest.takes == 3
    assert manifest.consent.speaker_name == "Ada Lovelace"
    assert manifest.consent.recording_sha256  # fingerprint of consent.wav
    # its takes and consent recording are kept with it, to re-create it for a new model
    kept = VoiceLibrary(app_paths.voices_dir).takes(manifest.id)
    assert kept is not None and [t.text for t in kept.takes] == session.prompts
    assert kept.consent_recording == (session.folder / "consent.wav").read_bytes()
    assert "recordings are kept with it" in page.done.message.text()
    # Back shows the review again, but it cannot make a second voice of this session
    qtbot.mouseClick(page.done.back_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == REVIEW
    assert review.create_button.text() == "Next" and not review.name_edit.isEnabled()
    qtbot.mouseClick(review.create_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == DONE and controller.adapt_task.is_running() is False
    assert len(list(app_paths.voices_dir.glob("*.mvoice"))) == 1

    qtbot.mouseClick(page.done.speak_button, Qt.MouseButton.LeftButton)
    assert wizard.current_area() is Area.SPEAK
    assert wizard.speak_page.voice_combo.currentData() == str(profiles[0])
    wizard.speak_page.text_edit.setPlainText("Now I speak in the cloned voice.")
    qtbot.mouseClick(wizard.speak_page.speak_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.speak_page.history.count() == 1, timeout=60_000)
    assert "Ada's voice" in wizard.speak_page.history.item(0).text()


def test_an_interrupted_session_resumes(
    qtbot: QtBot,
    app_paths: AppPaths,
    tiny_model_dir: Path,
    microphone,
    flite_speech,
    tmp_path: Path,
) -> None:
    import soundfile as sf

    session = CloneSession.new(
        app_paths.recordings_dir, ["One two three.", "Four five six.", "Seven eight nine."]
    )
    wav = tmp_path / "take.wav"
    sf.write(wav, flite_speech("One two three.", "awb"), 16000)
    session.set_consent("Grace Hopper", wav)
    session.accept(0, wav)
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    page = win.clone_page
    assert not page.banner.isHidden() and "1 of 3 sentences" in page.banner.text()
    assert page.steps.currentIndex() == PROMPTS
    assert page.prompts.prompt.text() == "Four five six."
    assert page.consent.name_edit.text() == "Grace Hopper"
    # Start over asks first: No keeps everything as it was
    controller = win.clone_controller
    qtbot.mouseClick(page.start_over_button, Qt.MouseButton.LeftButton)
    box = controller.confirm_box
    assert box is not None and box.isVisible() and "Start a new voice" in box.text()
    box.button(box.StandardButton.No).click()
    assert page.steps.currentIndex() == PROMPTS and controller.session is not None
    qtbot.mouseClick(page.start_over_button, Qt.MouseButton.LeftButton)
    box = controller.confirm_box
    assert box is not None
    box.button(box.StandardButton.Yes).click()
    assert page.banner.isHidden() and page.steps.currentIndex() == 0
    assert session.folder.exists()  # starting over never deletes recordings
    assert page.consent.name_edit.text() == ""  # the next voice may be someone else's


def _complete_session(app_paths: AppPaths, tmp_path: Path, flite_speech) -> CloneSession:
    session = CloneSession.new(app_paths.recordings_dir, ["a", "b", "c"])
    for wav in _three_takes(tmp_path, flite_speech):
        session.add_imported(wav, wav.with_suffix(".txt").read_text())
    session.set_consent("Ada", tmp_path / "0.wav")
    return session


def test_resuming_a_finished_recording_waits_for_the_model(
    qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path, flite_speech, tmp_path: Path
) -> None:
    _complete_session(app_paths, tmp_path, flite_speech)
    win = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_dir)
    qtbot.addWidget(win)
    page, controller = win.clone_page, win.clone_controller
    assert page.steps.currentIndex() == REVIEW  # nothing starts by itself
    assert win.engines.engine is None  # still loading
    qtbot.mouseClick(page.review.create_button, Qt.MouseButton.LeftButton)
    assert "Waiting for the speech model" in page.adapt.status.text()
    qtbot.waitUntil(lambda: page.steps.currentIndex() == DONE, timeout=180_000)
    assert controller.session is not None and controller.session.profile is not None


def test_a_model_that_failed_to_load_is_loaded_again_on_retry(
    qtbot: QtBot, app_paths: AppPaths, tiny_model_dir: Path, flite_speech, tmp_path: Path
) -> None:
    _complete_session(app_paths, tmp_path, flite_speech)
    missing = tmp_path / "no-model"
    win = create_main_window(app_paths, device_override="cpu", model_dir=missing)
    qtbot.addWidget(win)
    page = win.clone_page
    qtbot.mouseClick(page.review.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "could not be loaded" in page.adapt.status.text(), timeout=60_000)
    assert page.adapt.retry_button.isVisibleTo(page) and page.adapt.back_button.isEnabled()
    win.engines.model_dir = tiny_model_dir  # e.g. the model folder is back
    qtbot.mouseClick(page.adapt.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == DONE, timeout=180_000)


def test_back_on_every_step(wizard: MainWindow, qtbot: QtBot, flite_speech, tmp_path: Path) -> None:
    page = wizard.clone_page
    qtbot.mouseClick(page.microphone.next_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == CONSENT
    qtbot.mouseClick(page.consent.back_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == Step.MICROPHONE
    qtbot.mouseClick(page.microphone.import_button, Qt.MouseButton.LeftButton)
    page.consent.name_edit.setText("Ada")
    qtbot.mouseClick(page.consent.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == PROMPTS
    qtbot.mouseClick(page.prompts.back_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == CONSENT
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    wizard.clone_controller.add_files(_three_takes(tmp_path, flite_speech))
    assert page.steps.currentIndex() == REVIEW
    qtbot.mouseClick(page.review.back_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == PROMPTS
    assert page.prompts.prompt.text() == wizard.clone_controller.session.prompts[-1]


def test_the_review_removes_and_re_records_takes(
    wizard: MainWindow, qtbot: QtBot, flite_speech, tmp_path: Path
) -> None:
    page, controller = wizard.clone_page, wizard.clone_controller
    session = _complete_session(wizard.clone_controller.paths, tmp_path, flite_speech)
    controller.wizard.resume(session)
    controller._show()
    assert page.steps.currentIndex() == REVIEW and len(page.review.rows) == 3
    assert page.review.rows[0].rerecord_button.isHidden()  # imported: no sentence to read
    qtbot.mouseClick(page.review.rows[1].remove_button, Qt.MouseButton.LeftButton)
    assert len(page.review.rows) == 2 and len(session.imported) == 2
    page.review.name_edit.clear()
    assert not page.review.create_button.isEnabled()  # a voice needs a name


def test_bad_takes_cannot_be_accepted(
    wizard: MainWindow, qtbot: QtBot, microphone, flite_speech
) -> None:
    page = wizard.clone_page
    _record_consent(wizard, qtbot, microphone, flite_speech)
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    _say(qtbot, microphone, np.zeros(16000, dtype=np.float32), page.prompts.record_button.click)
    qtbot.waitUntil(lambda: "silent" in page.prompts.verdict.text(), timeout=30_000)
    assert not page.prompts.accept_button.isEnabled()
    assert page.prompts.retake_button.isEnabled()


def test_unplugged_microphone_discards_only_that_take(
    wizard: MainWindow, qtbot: QtBot, microphone, flite_speech
) -> None:
    page = wizard.clone_page
    _record_consent(wizard, qtbot, microphone, flite_speech)
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    session = wizard.clone_controller.session
    assert session is not None
    microphone.unplug_after = 0.5
    microphone.source = flite_speech(session.prompts[0], "awb")
    page.prompts.record_button.click()
    qtbot.waitUntil(lambda: wizard.clone_controller.recorder is None, timeout=30_000)
    assert "unplugged" in page.prompts.verdict.text()
    assert "discarded" in page.prompts.verdict.text()
    assert not list(session.attempts_dir.glob("prompt*.wav*"))
    assert (session.folder / "consent.wav").exists()


def test_cancelling_adaptation_keeps_recordings_and_offers_retry(
    wizard: MainWindow, qtbot: QtBot, flite_speech, app_paths: AppPaths, tmp_path: Path
) -> None:
    controller, page = wizard.clone_controller, wizard.clone_page
    session = _complete_session(app_paths, tmp_path, flite_speech)
    controller.wizard.resume(session)
    controller._show()
    controller.create_voice()
    controller.cancel_adaptation()
    qtbot.waitUntil(lambda: "Cancelled" in page.adapt.status.text(), timeout=60_000)
    assert not list(app_paths.voices_dir.glob("*.mvoice"))
    assert len(list(session.takes_dir.glob("*.wav"))) == 3
    assert page.adapt.retry_button.isVisibleTo(page) and page.adapt.back_button.isEnabled()
    qtbot.mouseClick(page.adapt.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == DONE, timeout=180_000)
    assert len(list(app_paths.voices_dir.glob("*.mvoice"))) == 1


def _three_takes(tmp_path: Path, flite_speech) -> list[Path]:
    import soundfile as sf

    files = []
    for index, line in enumerate(
        [
            "The birch canoe slid on the smooth planks.",
            "Glue the sheet to the dark blue background.",
            "It is easy to tell the depth of a well.",
        ]
    ):
        wav = tmp_path / f"{index}.wav"
        sf.write(wav, flite_speech(line, "awb"), 16000)
        wav.with_suffix(".txt").write_text(line)
        files.append(wav)
    return files


def test_dropped_files_become_takes_and_the_gui_stays_responsive(
    wizard: MainWindow, qtbot: QtBot, flite_speech, tmp_path: Path, app_paths: AppPaths
) -> None:
    from PySide6.QtCore import QElapsedTimer, QMimeData, QPointF, QTimer, QUrl
    from PySide6.QtGui import QDropEvent

    controller = wizard.clone_controller
    files = _three_takes(tmp_path, flite_speech)
    consent = tmp_path / "consent.wav"
    consent.write_bytes(files[0].read_bytes())
    controller._ensure_session().set_consent("Ada", consent)
    # Earlier tests leave a large heap whose full garbage collection alone can pause every
    # thread for a few hundred ms; the app freezes its startup heap the same way.
    gc.collect()
    gc.freeze()
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    beat = QTimer()
    beat.setInterval(10)
    beat.timeout.connect(lambda: gaps.append(clock.restart()))
    beat.start()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    wizard.clone_page.dropEvent(event)
    page = wizard.clone_page
    assert page.steps.currentIndex() == REVIEW  # an import never starts learning by itself
    assert controller.adapt_task is None
    qtbot.mouseClick(page.review.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.clone_page.steps.currentIndex() == DONE, timeout=180_000)
    beat.stop()
    gc.unfreeze()
    session = controller.session
    assert session is not None and len(session.imported) == 3
    assert len(list(app_paths.voices_dir.glob("*.mvoice"))) == 1
    # Adapting on the GUI thread would stall it for seconds (the tiny model's steps alone
    # take over a second); a busy 2-core machine stretches the page change at the end
    # (library reread, preview) to 60-150 ms, which is not what this guards.
    assert max(gaps[1:]) < 300, f"event loop stalled for {max(gaps[1:])} ms during adaptation"


def test_unexpected_failures_show_details(
    wizard: MainWindow,
    qtbot: QtBot,
    flite_speech,
    app_paths: AppPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from metavoice_app.core.adapt.adapter import Adapter

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(Adapter, "finish", broken)  # a bug deep inside adaptation
    controller, page = wizard.clone_controller, wizard.clone_page
    controller.wizard.resume(_complete_session(app_paths, tmp_path, flite_speech))
    controller._show()
    qtbot.mouseClick(page.review.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: any(w.isVisible() for w in wizard.findChildren(QMessageBox)), timeout=60_000
    )
    boxes = [w for w in wizard.findChildren(QMessageBox) if w.isVisible()]
    assert "boom" in boxes[0].text()
    assert "Traceback" in boxes[0].detailedText()
    assert "recordings are kept" in page.adapt.status.text()
    assert page.adapt.details_button.isVisibleTo(page) and page.adapt.retry_button.isVisibleTo(page)


def test_without_a_microphone_consent_can_be_confirmed_in_writing(
    wizard: MainWindow, qtbot: QtBot, flite_speech, tmp_path: Path, app_paths: AppPaths
) -> None:
    page = wizard.clone_page
    qtbot.mouseClick(page.microphone.import_button, Qt.MouseButton.LeftButton)
    assert page.steps.currentIndex() == CONSENT
    assert "<b>2. Consent</b>" in page.step_label.text()
    page.consent.name_edit.setText("Grace Hopper")
    qtbot.mouseClick(page.consent.confirm_button, Qt.MouseButton.LeftButton)
    assert page.consent.next_button.isEnabled()
    wizard.clone_controller.add_files(_three_takes(tmp_path, flite_speech))
    assert page.steps.currentIndex() == REVIEW
    qtbot.mouseClick(page.review.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == DONE, timeout=180_000)
    [profile] = app_paths.voices_dir.glob("*.mvoice")
    consent = read_profile(profile).manifest.consent
    assert consent.speaker_name == "Grace Hopper" and consent.recording_sha256 == ""


def test_the_similarity_meter_shows_the_encoders_estimate(wizard: MainWindow) -> None:
    from metavoice_app.core.adapt.adapter import AdaptStep
    from metavoice_app.core.progress import Progress

    controller, step = wizard.clone_controller, wizard.clone_page.adapt
    controller.losses = []
    controller._adapt_progress(Progress(0.2, "step 4 of 20", AdaptStep(4, 20, 1.5, None, 10.0)))
    assert step.similarity_meter.isHidden() and step.progress.value() == 20
    controller._adapt_progress(
        Progress(0.25, "step 5 of 20", AdaptStep(5, 20, 1.4, 1.6, 9.0, similarity=0.734))
    )
    assert not step.similarity_meter.isHidden() and step.similarity_meter.value() == 73
    assert "0.73" in step.similarity.text() and step.progress.value() == 25
    assert controller.losses == [(4, 1.5, None), (5, 1.4, 1.6)]  # the loss curves' points


def test_the_wizards_play_buttons_show_stop_and_stop(
    wizard: MainWindow,
    qtbot: QtBot,
    flite_speech,
    app_paths: AppPaths,
    tmp_path: Path,
    silent_speakers: None,
) -> None:
    controller, page = wizard.clone_controller, wizard.clone_page
    controller.wizard.resume(_complete_session(app_paths, tmp_path, flite_speech))
    controller._show()
    first = page.review.rows[0].play_button
    for row in page.review.rows:  # each take shows its waveform
        assert len(row.wave.peaks) == 160 and row.wave.peaks.max() > 0.1
        assert row.wave.peaks.min() < row.wave.peaks.max() / 2  # its shape, not a block
    first.click()
    assert wizard.player.playing and first.text() == "Stop"
    second = page.review.rows[1].play_button
    second.click()  # another take takes the player
    assert first.text() == "Play" and second.text() == "Stop"
    second.click()
    assert not wizard.player.playing and second.text() == "Play"
    controller.wizard.rerecord(0)  # the first sentence, recorded again
    controller._show()
    assert page.steps.currentIndex() == PROMPTS
    controller.wizard.recorded(tmp_path / "0.wav")  # an attempt, as if just recorded
    page.prompts.play_button.setEnabled(True)
    page.prompts.play_button.click()
    assert wizard.player.playing and page.prompts.play_button.text() == "Stop"
    page.prompts.play_button.click()
    assert not wizard.player.playing and page.prompts.play_button.text() == "Play"


def test_import_starts_in_the_users_folder_and_asks_for_missing_words_with_play(
    wizard: MainWindow,
    qtbot: QtBot,
    flite_speech,
    app_paths: AppPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    silent_speakers: None,
) -> None:
    import soundfile as sf
    from PySide6.QtWidgets import QFileDialog

    controller, page = wizard.clone_controller, wizard.clone_page
    qtbot.mouseClick(page.microphone.import_button, Qt.MouseButton.LeftButton)
    page.consent.name_edit.setText("Ada")
    qtbot.mouseClick(page.consent.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    bare = []
    for index, line in enumerate(["One small step.", "Two large leaps."]):
        bare.append(tmp_path / f"bare{index}.wav")
        sf.write(bare[-1], flite_speech(line, "awb"), 16000)
    seen: list[str] = []

    def choose(_parent: object, _caption: str, folder: str, _filter: str = ""):
        seen.append(folder)
        return [str(p) for p in bare], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(choose))
    monkeypatch.chdir(tmp_path / "..")  # not where the dialog starts
    page.prompts.import_button.click()
    assert seen == [str(app_paths.exports_dir)]
    dialog = controller.transcript_dialog
    assert dialog is not None and dialog.isVisible() and "bare0.wav" in dialog.prompt.text()
    assert not dialog.add_button.isEnabled()
    dialog.play_button.click()  # listen while typing
    assert wizard.player.playing and dialog.play_button.text() == "Stop"
    dialog.text_edit.setText("One small step.")
    dialog.add_button.click()
    assert not wizard.player.playing  # closing the box stops its play
    second = controller.transcript_dialog
    assert second is not None and second is not dialog and "bare1.wav" in second.prompt.text()
    second.skip_button.click()
    assert controller.transcript_dialog is None
    session = controller.session
    assert session is not None and len(session.imported) == 1
    assert session.imported_text(session.imported[0]) == "One small step."
    page.prompts.import_button.click()  # the next import starts where the last one was
    assert seen[-1] == str(tmp_path)
    controller.transcript_dialog.skip_button.click()
    controller.transcript_dialog.skip_button.click()


def test_a_first_sketch_of_the_voice_is_heard_while_recording(
    wizard: MainWindow, qtbot: QtBot, microphone, flite_speech, silent_speakers: None
) -> None:
    page, controller = wizard.clone_page, wizard.clone_controller
    _record_consent(wizard, qtbot, microphone, flite_speech)
    qtbot.mouseClick(page.consent.next_button, Qt.MouseButton.LeftButton)
    prompts, sketcher = page.prompts, controller.sketcher
    button, status = prompts.sketch_button, prompts.sketch_status
    session = controller.session
    assert session is not None
    assert not button.isEnabled()  # no take to make it from yet

    def record(index: int) -> None:
        microphone.source = flite_speech(session.prompts[index], "awb")
        prompts.record_button.click()
        assert not button.isEnabled()  # none while a take is recorded
        qtbot.waitUntil(
            lambda: microphone.last.delivered >= len(microphone.source) + 3200, timeout=30_000
        )
        prompts.record_button.click()
        qtbot.waitUntil(prompts.accept_button.isEnabled, timeout=30_000)

    record(0)
    assert not button.isEnabled()  # the take is not accepted yet
    prompts.accept_button.click()
    qtbot.waitUntil(button.isEnabled, timeout=30_000)
    button.click()
    assert "Making a first sketch from 1 take" in status.text()
    assert button.isEnabled() and button.text() == "Cancel sketch"  # it can be cancelled
    qtbot.waitUntil(lambda: sketcher.sketch is not None and wizard.player.playing, timeout=60_000)
    first = sketcher.sketch
    assert first is not None and first.takes == 1
    assert "A first sketch from 1 take" in status.text()
    qtbot.waitUntil(lambda: sketcher.task is None, timeout=10_000)
    assert button.text() == "Stop"
    button.click()
    assert not wizard.player.playing and button.text() == "Hear a first sketch"
    button.click()  # the same takes: the same sketch, played at once
    assert wizard.player.playing and sketcher.task is None and sketcher.sketch is first

    # recording the next sentence stops the sketch, and a new take makes the old one stale
    record(1)
    assert not wizard.player.playing
    prompts.accept_button.click()
    qtbot.waitUntil(button.isEnabled, timeout=30_000)
    assert "The last sketch was from 1 take" in status.text() and "from 2 takes" in status.text()
    # a sketch being made is cancelled by its button, and by recording; none replaces the first
    button.click()
    assert sketcher.task is not None
    button.click()
    assert status.text() == "Sketch cancelled."
    assert button.text() == "Hear a first sketch" and not button.isEnabled()  # stopping
    qtbot.waitUntil(lambda: sketcher.task is None, timeout=60_000)
    assert sketcher.sketch is first and not wizard.player.playing
    assert button.text() == "Hear a first sketch" and button.isEnabled()
    button.click()
    assert sketcher.task is not None
    microphone.source = flite_speech(session.prompts[2], "awb")
    prompts.record_button.click()
    assert "Sketch stopped for the recording" in status.text()
    assert button.text() == "Hear a first sketch" and not button.isEnabled()
    qtbot.waitUntil(lambda: sketcher.task is None, timeout=60_000)
    assert sketcher.sketch is first and not wizard.player.playing
    qtbot.waitUntil(
        lambda: microphone.last.delivered >= len(microphone.source) + 3200, timeout=30_000
    )
    prompts.record_button.click()
    qtbot.waitUntil(prompts.accept_button.isEnabled, timeout=30_000)
    # a sketch still being made when the last take is accepted is not heard on the review
    button.click()
    assert sketcher.task is not None
    prompts.accept_button.click()
    assert page.steps.currentIndex() == REVIEW
    qtbot.waitUntil(lambda: sketcher.task is None, timeout=60_000)
    qtbot.wait(200)
    assert not wizard.player.playing
    assert sorted(p.name for p in session.takes_dir.glob("*.wav")) == [
        "01.wav",
        "02.wav",
        "03.wav",
    ]
    # starting over sets the takes aside: their sketch is forgotten with them
    controller._start_over_now()
    assert sketcher.sketch is None and status.text() == ""
