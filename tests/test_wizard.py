"""The clone wizard's state (core/adapt/wizard.py): where every button leads, without Qt."""

from __future__ import annotations

from pathlib import Path

import pytest

from metavoice_app.core.adapt.session import CloneSession
from metavoice_app.core.adapt.wizard import CloneWizard, Failure, Step, similarity_reading

PROMPTS = ["One two three.", "Four five six.", "Seven eight nine."]


@pytest.fixture
def wizard(tmp_path: Path) -> CloneWizard:
    return CloneWizard(lambda: CloneSession.new(tmp_path / "recordings", PROMPTS))


def _recording(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(b"RIFF" + name.encode())
    return path


def _record_all(wizard: CloneWizard, tmp_path: Path) -> None:
    wizard.begin()
    assert wizard.session is not None
    wizard.session.confirm_consent_in_writing("Ada")
    wizard.consent_given()
    for index in range(len(PROMPTS)):
        assert wizard.step == Step.PROMPTS and wizard.prompt == index
        wizard.recorded(_recording(tmp_path, f"a{index}.wav"))
        wizard.checked(True)
        assert wizard.accept() is not None


def test_the_last_take_leads_to_the_review_not_to_training(
    wizard: CloneWizard, tmp_path: Path
) -> None:
    _record_all(wizard, tmp_path)
    assert wizard.step == Step.REVIEW and not wizard.adapting
    assert [t.prompt for t in wizard.takes()] == [0, 1, 2]
    assert wizard.create_voice("Ada's voice")
    assert wizard.step == Step.ADAPT and wizard.adapting
    assert wizard.session is not None and wizard.session.voice_name == "Ada's voice"


def test_back_from_every_step(wizard: CloneWizard, tmp_path: Path) -> None:
    assert not wizard.can_go_back  # the first step
    _record_all(wizard, tmp_path)
    wizard.back()
    assert (wizard.step, wizard.prompt) == (Step.PROMPTS, 2)
    wizard.back()
    wizard.back()
    assert (wizard.step, wizard.prompt) == (Step.PROMPTS, 0)
    wizard.back()
    assert wizard.step == Step.CONSENT
    wizard.back()
    assert wizard.step == Step.MICROPHONE
    assert wizard.session is not None and wizard.session.take_count == 3  # nothing dropped
    wizard.begin()  # consent is given and every take recorded: straight to the review
    assert wizard.step == Step.REVIEW
    wizard.create_voice("v")
    assert not wizard.can_go_back  # while learning, Cancel comes first
    wizard.failed(Failure("Cancelled.", cancelled=True))
    wizard.back()
    assert wizard.step == Step.REVIEW and wizard.failure is None
    wizard.create_voice("v")
    wizard.adapted(tmp_path / "v.mvoice")
    wizard.back()
    assert wizard.step == Step.REVIEW
    # the review is shown again, but this session's voice is made: no second profile
    assert not wizard.can_create("v") and not wizard.create_voice("v")
    assert wizard.step == Step.REVIEW and not wizard.adapting
    wizard.return_to_done()
    assert wizard.step == Step.DONE


def test_retry_after_a_failure_or_cancel(wizard: CloneWizard, tmp_path: Path) -> None:
    _record_all(wizard, tmp_path)
    wizard.create_voice("Ada")
    wizard.failed(Failure("The speech model is not loaded.", "details"))
    assert wizard.step == Step.ADAPT and wizard.failure is not None and not wizard.adapting
    assert wizard.retry() and wizard.adapting and wizard.failure is None
    wizard.failed(Failure("Cancelled.", cancelled=True))
    assert wizard.retry()


def test_re_recording_from_the_review_returns_to_it(wizard: CloneWizard, tmp_path: Path) -> None:
    _record_all(wizard, tmp_path)
    wizard.rerecord(1)
    assert (wizard.step, wizard.prompt) == (Step.PROMPTS, 1)
    wizard.recorded(_recording(tmp_path, "again.wav"))
    wizard.checked(True)
    wizard.accept()
    assert wizard.step == Step.REVIEW
    assert wizard.session is not None
    assert (wizard.session.takes_dir / "02.wav").read_bytes().endswith(b"again.wav")


def test_removing_a_take_asks_for_its_sentence_again(wizard: CloneWizard, tmp_path: Path) -> None:
    _record_all(wizard, tmp_path)
    session = wizard.session
    assert session is not None
    session.remove("02.wav")
    assert [t.name for t in wizard.takes()] == ["01.wav", "03.wav"]
    assert list(session.attempts_dir.glob("removed-*-02.wav"))  # moved aside, not deleted
    wizard.begin()
    assert (wizard.step, wizard.prompt) == (Step.PROMPTS, 1)


def test_takes_with_a_problem_are_left_out_unless_kept(wizard: CloneWizard, tmp_path: Path) -> None:
    _record_all(wizard, tmp_path)
    session = wizard.session
    assert session is not None
    session.set_problem("02.wav", "The words do not match the sentence.")
    assert [t.name for t in wizard.used_takes()] == ["01.wav", "03.wav"]
    session.keep("02.wav")
    assert len(wizard.used_takes()) == 3
    reloaded = CloneSession.load(session.folder)
    assert reloaded.problems == {"02.wav": "The words do not match the sentence."}
    assert reloaded.kept == ["02.wav"]


def test_a_voice_needs_a_name_consent_and_a_usable_take(
    wizard: CloneWizard, tmp_path: Path
) -> None:
    _record_all(wizard, tmp_path)
    assert not wizard.create_voice("   ")
    session = wizard.session
    assert session is not None
    for take in wizard.takes():
        session.set_problem(take.name, "Another speaker.")
    assert not wizard.can_create("Ada")


def test_start_over_asks_only_when_something_would_be_set_aside(
    wizard: CloneWizard, tmp_path: Path
) -> None:
    assert not wizard.start_over_needs_confirmation
    wizard.begin()
    assert not wizard.start_over_needs_confirmation  # an empty session
    _record_all(wizard, tmp_path)
    assert wizard.start_over_needs_confirmation
    folder = wizard.session.folder if wizard.session else None
    wizard.start_over()
    assert wizard.session is None and wizard.step == Step.MICROPHONE
    assert folder is not None and folder.exists()


def test_resuming_a_complete_session_opens_the_review(tmp_path: Path) -> None:
    session = CloneSession.new(tmp_path / "recordings", PROMPTS)
    session.confirm_consent_in_writing("Ada")
    for index in range(3):
        session.accept(index, _recording(tmp_path, f"{index}.wav"))
    wizard = CloneWizard(lambda: CloneSession.new(tmp_path / "other", PROMPTS))
    wizard.resume(CloneSession.load(session.folder))
    assert wizard.step == Step.REVIEW and not wizard.adapting


def test_imported_take_numbers_are_not_reused_after_a_removal(tmp_path: Path) -> None:
    session = CloneSession.new(tmp_path / "recordings", PROMPTS)
    for name in ("x.wav", "y.wav"):
        session.add_imported(_recording(tmp_path, name), name)
    session.remove("import01.wav")
    third = session.add_imported(_recording(tmp_path, "z.wav"), "z")
    assert third.name == "import03.wav" and session.imported_text("import02.wav") == "y.wav"


def test_the_similarity_reading_is_in_plain_words() -> None:
    assert "very close" in similarity_reading(0.9)
    assert "not much like" in similarity_reading(0.1)


def test_the_takes_learned_ahead_are_those_adaptation_will_step_on(tmp_path: Path) -> None:
    """Adaptation learns from the used takes in file order and holds the last one out."""
    sentences = [f"Sentence number {n}." for n in range(5)]
    wizard = CloneWizard(lambda: CloneSession.new(tmp_path / "five", sentences))
    wizard.begin()
    assert wizard.session is not None
    wizard.session.confirm_consent_in_writing("Ada")
    wizard.consent_given()

    def names() -> list[str] | None:
        ahead = wizard.takes_ahead()
        return None if ahead is None else [take.name for take in ahead]

    for index in range(4):
        assert names() is None  # two sentences or more still to read
        wizard.recorded(_recording(tmp_path, f"a{index}.wav"))
        wizard.checked(True)
        wizard.accept()
    # the last sentence's take will sort last and be held out: learn from these four
    assert names() == ["01.wav", "02.wav", "03.wav", "04.wav"]
    wizard.recorded(_recording(tmp_path, "a4.wav"))
    wizard.checked(True)
    wizard.accept()
    assert wizard.step == Step.REVIEW
    assert names() == ["01.wav", "02.wav", "03.wav", "04.wav"]
    session = wizard.session
    session.set_problem("02.wav", "It does not say its sentence.")  # left out ...
    assert names() == ["01.wav", "03.wav", "04.wav"]
    session.keep("02.wav")  # ... unless kept
    assert names() == ["01.wav", "02.wav", "03.wav", "04.wav"]
    session.add_imported(_recording(tmp_path, "extra.wav"), "An imported take.")
    assert names() == ["01.wav", "02.wav", "03.wav", "04.wav", "05.wav"]
    session.remove("03.wav")  # sentence 3 is asked again: it will sort before the import
    assert names() is None


def test_nothing_is_learned_ahead_without_a_take_to_hold_out(tmp_path: Path) -> None:
    wizard = CloneWizard(lambda: CloneSession.new(tmp_path / "two", PROMPTS[:2]))
    wizard.begin()
    assert wizard.session is not None
    wizard.session.confirm_consent_in_writing("Ada")
    wizard.consent_given()
    for index in range(2):
        wizard.recorded(_recording(tmp_path, f"a{index}.wav"))
        wizard.checked(True)
        wizard.accept()
    assert wizard.step == Step.REVIEW and wizard.takes_ahead() is None
