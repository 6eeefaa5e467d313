"""How a long action reports how far it is and learns that it should stop.

Speaking, cloning a voice and rendering a dub take seconds to minutes. The GUI shows
a bar and a Cancel button, the command line prints a line now and then, a benchmark
wants neither; the action itself should not care which. So each takes one
:class:`ProgressSink` and calls :meth:`~ProgressSink.report` as it goes, which is
also where a cancel takes effect, and :meth:`~ProgressSink.check_cancelled` where it
must stop but has nothing to say (before writing its result). Both raise
:class:`Cancelled`, the one exception that means "the user asked to stop", and only
whoever made the sink catches it. An action given :data:`NO_PROGRESS` reports to
nobody and is never cancelled.

No Qt here: the GUI's task context is a sink whose reports become signals.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final


class Cancelled(Exception):  # noqa: N818 - reads as "raise Cancelled"
    """Raised inside a long action at its next report or check once its sink was
    cancelled. The action leaves nothing half-written behind; what it finished before
    (the sentences already spoken) is the caller's to keep."""


@dataclass(frozen=True)
class Progress:
    """One report: how far the action is (0 to 1), what it is doing now, and what its
    own display needs beyond that (adaptation's step, losses and similarity)."""

    fraction: float
    message: str = ""
    detail: object = None


class ProgressSink:
    """Where one run of one long action reports, and how it is told to stop.

    Fractions are kept within 0 to 1 and never go back: a report below an earlier one
    (or NaN) carries the earlier fraction, so a bar never jumps backwards whatever the
    action's arithmetic. One sink serves one run; a sink that has seen the end of one
    action would hold the next one's bar at full. :meth:`cancel` may be called from
    any thread; reports come from the thread doing the work.
    """

    def __init__(self, on_report: Callable[[Progress], None] | None = None) -> None:
        self._on_report = on_report
        self._cancel = threading.Event()
        self._fraction = 0.0

    @property
    def watched(self) -> bool:
        """Whether anyone reads the reports: work done only to be reported (the
        adapter's similarity estimate) is skipped when nobody does."""
        return self._on_report is not None

    @property
    def fraction(self) -> float:
        """The fraction last reported (0 before any report)."""
        return self._fraction

    def report(self, fraction: float, message: str = "", detail: object = None) -> None:
        """Say how far the action is; raises :class:`Cancelled` instead once cancelled."""
        self.check_cancelled()
        if not math.isnan(fraction):
            self._fraction = min(max(fraction, self._fraction), 1.0)
        if self._on_report is not None:
            self._on_report(Progress(self._fraction, message, detail))

    def cancel(self) -> None:
        """Ask the action to stop at its next report or check."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the action was asked to stop."""
        if self._cancel.is_set():
            raise Cancelled


class _Unwatched(ProgressSink):
    """The sink of callers that neither watch nor cancel. It is shared by all of them,
    so it keeps no fraction and refuses to be cancelled (that would stop every action
    given it, from then on)."""

    def report(self, fraction: float, message: str = "", detail: object = None) -> None:
        pass

    def cancel(self) -> None:
        raise TypeError(
            "NO_PROGRESS cannot be cancelled; give the action a ProgressSink of its own"
        )


NO_PROGRESS: Final[ProgressSink] = _Unwatched()
