"""Learning ahead: the wizard's steps on the takes already recorded, taken while the
person reads the last sentence.

Adaptation holds the last take out to judge its steps (:class:`~.adapter.HoldoutMonitor`),
so the steps themselves need only the takes before it. Once all but the last sentence
have their takes, the wizard starts those steps in the background; when "Create voice" is
pressed the pipeline takes them over (:meth:`LearningAhead.take_over`), judges each on
the last take and finishes the voice. The person then waits only for that finish, not for
the steps, which were most of the wait (docs/benchmarks.md, adapt-ahead). The voice is the
same as without a head start: if the takes learned from are not the ones learned ahead
(a take recorded again, removed or kept in the review, another model), the head start is
dropped and the steps are taken as usual.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from metavoice_app.core.adapt.adapter import Adapter, SupportSteps
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import Take, prepare_take
from metavoice_app.core.progress import NO_PROGRESS, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine


def same_takes(ours: list[Take], theirs: list[Take]) -> bool:
    """Whether two lists hold the same recordings saying the same words, in order."""
    return len(ours) == len(theirs) and all(
        a.path == b.path and a.text == b.text and np.array_equal(a.audio, b.audio)
        for a, b in zip(ours, theirs, strict=True)
    )


class LearningAhead:
    """One head start on the steps: made on the GUI thread, :meth:`run` in a worker,
    :meth:`take_over` from the pipeline that makes the voice (any thread)."""

    def __init__(
        self, engine: SpeechEngine, recordings: list[tuple[Path, str]], config: AdaptConfig
    ) -> None:
        self.engine = engine
        self.model = engine.model
        self.recordings = recordings  # (file, its words) of each support take
        self.config = config
        self.support: list[Take] = []  # the takes as loaded to learn from
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._steps: SupportSteps | None = None

    def run(self, progress: ProgressSink = NO_PROGRESS) -> int:
        """Load and analyse the support takes and take the steps until they are all taken, the
        head start is taken over or ``progress`` is cancelled (between steps; raises
        :class:`~metavoice_app.core.progress.Cancelled`). Returns the steps taken."""
        with self._lock:
            if self._stop.is_set():
                return 0
            if self._steps is None:
                self.support = [prepare_take(path, text) for path, text in self.recordings]
                adapter = Adapter(
                    self.model, self.engine.info, self.config, self.engine.speaker_tools
                )
                self._steps = adapter.begin(self.support)
            self._steps.advance(self._stop, progress)
            return self._steps.done

    def stop(self) -> None:
        """Stop taking steps after the current one (what was done stays for a take-over)."""
        self._stop.set()

    def take_over(
        self, engine: SpeechEngine, support: list[Take], config: AdaptConfig
    ) -> SupportSteps | None:
        """Stop the steps (waiting for the one under way) and hand them over if they were
        taken on ``support`` with ``config`` on this engine's model; else None. A head
        start is handed over once."""
        self._stop.set()
        with self._lock:
            steps, self._steps = self._steps, None
        same = (
            steps is not None
            and engine is self.engine
            and engine.model is self.model
            and config == self.config
            and same_takes(support, self.support)
        )
        return steps if same else None
