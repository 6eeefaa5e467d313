"""The clone wizard's state, without Qt: which step is shown, which take is being
recorded, what Back, Retry and Start over do, and why the last attempt failed.

The controller in ``gui/controllers/clone.py`` only wires this to the pages and runs
the slow work in the background; every rule about where a button leads lives here, so
it is tested without a window. The recordings themselves live in a
:class:`~metavoice_app.core.adapt.session.CloneSession` on disk.

    MICROPHONE -> CONSENT -> PROMPTS (one sentence at a time) -> REVIEW -> ADAPT -> DONE

Back goes one step (one sentence) the other way from every step; nothing recorded is
ever dropped by moving around. Adaptation starts only from the review, by "Create
voice", and its failure or cancel leaves the wizard on ADAPT with Retry and Back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from metavoice_app.core.adapt.session import CloneSession


class Step(IntEnum):
    MICROPHONE = 0
    CONSENT = 1
    PROMPTS = 2
    REVIEW = 3
    ADAPT = 4
    DONE = 5


STEP_NAMES = ("Microphone", "Consent", "Sentences", "Review", "Learning", "Done")


@dataclass(frozen=True)
class Failure:
    """Why the last adaptation did not make a voice, in plain words; ``details`` holds
    the technical account (a traceback) for an unexpected error, empty otherwise."""

    message: str
    details: str = ""
    cancelled: bool = False


@dataclass(frozen=True)
class ReviewTake:
    """One take as the review lists it."""

    name: str  # file name in the session's takes folder
    path: Path
    text: str
    prompt: int | None  # the sentence it reads, None for an imported recording
    problem: str  # what the take checks found ("" when nothing)
    kept: bool  # the user chose to keep it despite the problem

    @property
    def used(self) -> bool:
        """Whether adaptation learns from it: takes with a problem are left out unless kept."""
        return not self.problem or self.kept


class CloneWizard:
    def __init__(self, new_session: Callable[[], CloneSession]) -> None:
        self._new_session = new_session
        self.session: CloneSession | None = None
        self.step = Step.MICROPHONE
        self.prompt: int | None = None  # the sentence shown on PROMPTS
        self.attempt: Path | None = None  # the recording being judged, on disk
        self.attempt_ok = False
        self.failure: Failure | None = None
        self.adapting = False
        self.profile: Path | None = None

    # Session ---------------------------------------------------------------------------
    def ensure_session(self) -> CloneSession:
        if self.session is None:
            self.session = self._new_session()
        return self.session

    def resume(self, session: CloneSession) -> None:
        """Carry on with an unfinished session where it stopped; never starts adapting
        (that waits for "Create voice", by which time the model has loaded)."""
        self.session = session
        self._after_consent() if session.has_consent else self._go(Step.CONSENT)

    @property
    def start_over_needs_confirmation(self) -> bool:
        """Whether starting over would set aside something the person recorded."""
        session = self.session
        return (
            session is not None
            and self.profile is None
            and (session.has_consent or session.take_count > 0)
        )

    def start_over(self) -> None:
        """A fresh wizard; the old session's files stay on disk (nothing is deleted)."""
        self.session, self.profile = None, None
        self.failure, self.adapting = None, False
        self._go(Step.MICROPHONE)

    # Moving ----------------------------------------------------------------------------
    def _go(self, step: Step, prompt: int | None = None) -> None:
        self.step, self.prompt = step, prompt
        self.attempt, self.attempt_ok = None, False

    def _after_consent(self) -> None:
        session = self.ensure_session()
        index = session.next_prompt()
        if index is None or session.take_count >= len(session.prompts):
            self._go(Step.REVIEW)
        else:
            self._go(Step.PROMPTS, index)

    def begin(self) -> None:
        """Microphone's Next: consent first, unless it is already given."""
        session = self.ensure_session()
        self._after_consent() if session.has_consent else self._go(Step.CONSENT)

    def consent_given(self) -> None:
        self._after_consent()

    @property
    def can_go_back(self) -> bool:
        return self.step != Step.MICROPHONE and not self.adapting

    def back(self) -> None:
        """One step back: the previous sentence on PROMPTS (its take is kept until it is
        recorded again), the last sentence from the review, the review from ADAPT and
        DONE."""
        if not self.can_go_back:
            return
        session = self.ensure_session()
        if self.step == Step.CONSENT:
            self._go(Step.MICROPHONE)
        elif self.step == Step.PROMPTS:
            if self.prompt:
                self._go(Step.PROMPTS, self.prompt - 1)
            else:
                self._go(Step.CONSENT)
        elif self.step == Step.REVIEW:
            self._go(Step.PROMPTS, len(session.prompts) - 1)
        else:  # ADAPT after a failure or cancel, or DONE
            self.failure = None
            self._go(Step.REVIEW)

    def rerecord(self, prompt: int) -> None:
        """From the review: record sentence ``prompt`` again."""
        self._go(Step.PROMPTS, prompt)

    # Takes -----------------------------------------------------------------------------
    def recorded(self, attempt: Path) -> None:
        self.attempt, self.attempt_ok = attempt, False

    def checked(self, ok: bool) -> None:
        self.attempt_ok = ok

    def retake(self) -> None:
        self.attempt, self.attempt_ok = None, False

    def accept(self) -> Path | None:
        """Keep the attempt as the take for the shown sentence; moves to the next
        sentence without a take, or to the review. Returns the take's path."""
        session = self.session
        if session is None or self.prompt is None or self.attempt is None or not self.attempt_ok:
            return None
        kept = session.accept(self.prompt, self.attempt)
        later = [
            i for i in range(self.prompt + 1, len(session.prompts)) if i not in session.accepted
        ]
        if later:
            self._go(Step.PROMPTS, later[0])
        else:
            self._after_consent()
        return kept

    def takes(self) -> list[ReviewTake]:
        session = self.session
        if session is None:
            return []
        entries: list[tuple[str, str, int | None]] = [
            (name, session.prompts[index], index)
            for index, name in sorted(session.accepted.items())
        ]
        entries += [(name, session.imported_text(name), None) for name in session.imported]
        return [
            ReviewTake(
                name,
                session.takes_dir / name,
                text,
                prompt,
                session.problems.get(name, ""),
                name in session.kept,
            )
            for name, text, prompt in entries
        ]

    def used_takes(self) -> list[ReviewTake]:
        return [take for take in self.takes() if take.used]

    def takes_ahead(self) -> list[ReviewTake] | None:
        """The takes adaptation will step on, when they are known before "Create voice":
        it learns from the used takes in file-name order and holds the last one out
        (:meth:`~metavoice_app.core.adapt.adapter.Adapter.split`), so once every sentence
        but the last has its take, the steps can be taken while the last one is read
        (:mod:`metavoice_app.core.adapt.ahead`). None while that is not known yet, or
        when there would be too few takes to hold one out. A guess that later proves
        wrong costs only the head start: the pipeline checks the takes it is given."""
        session = self.session
        if session is None or self.created:
            return None
        used = sorted(self.used_takes(), key=lambda take: take.name)
        missing = [i for i in range(len(session.prompts)) if i not in session.accepted]
        if not missing:
            support = used[:-1]
        elif len(missing) == 1 and all(take.name < session.take_name(missing[0]) for take in used):
            support = used  # the last sentence's take will be the one held out
        else:
            return None
        return support if len(support) >= 2 else None

    # Adaptation ------------------------------------------------------------------------
    @property
    def created(self) -> bool:
        """Whether this session has made its voice: Back from DONE shows the review again,
        but one session makes one voice (another is "Clone another voice")."""
        return self.profile is not None

    def can_create(self, name: str) -> bool:
        session = self.session
        return (
            self.step in (Step.REVIEW, Step.ADAPT)
            and not self.adapting
            and not self.created
            and session is not None
            and session.has_consent
            and bool(name.strip())
            and bool(self.used_takes())
        )

    def create_voice(self, name: str) -> bool:
        """ "Create voice" (or Retry): go to ADAPT; the caller then starts the work."""
        if not self.can_create(name):
            return False
        assert self.session is not None
        self.session.name_voice(name)
        self.failure, self.adapting = None, True
        self._go(Step.ADAPT)
        return True

    def return_to_done(self) -> None:
        """From the review of a session whose voice is made: back to DONE (the review's
        button leads there instead of making a second voice)."""
        if self.created and self.step == Step.REVIEW:
            self._go(Step.DONE)

    def retry(self) -> bool:
        session = self.session
        return session is not None and self.create_voice(session.voice_name)

    def failed(self, failure: Failure) -> None:
        """Adaptation ended without a voice; the wizard stays on ADAPT, offering Retry."""
        self.failure, self.adapting = failure, False

    def adapted(self, profile: Path) -> None:
        assert self.session is not None
        self.session.finish(profile)
        self.profile, self.adapting = profile, False
        self._go(Step.DONE)


def similarity_reading(similarity: float) -> str:
    """The final similarity in plain words: the speaker encoder's cosine between the
    takes and the voice. The bands come from the bundled model's encoder: on VCTK, one
    person's real takes scored 0.71 to 0.96 against their other takes, other people's
    0.47 at most."""
    if similarity >= 0.75:
        return "very close to your takes"
    if similarity >= 0.6:
        return "close to your takes; more or clearer takes may bring it closer"
    if similarity >= 0.45:
        return "recognisably like your takes, though not close; try more takes in a quiet room"
    return "not much like your takes; check the takes are all you, then try again"
