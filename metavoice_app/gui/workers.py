"""Running engine calls on a background QThread.

Every long operation in the app (device probing, adaptation, synthesis,
rendering) goes through :class:`Task`: the GUI thread only receives signals,
so it never blocks. A task gets a :class:`TaskContext`, the core's
:class:`~metavoice_app.core.progress.ProgressSink` whose reports arrive as the
``progressed`` signal and whose Cancel is the task's; the engine's long actions take
it as it is.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from metavoice_app.core.progress import Cancelled, Progress, ProgressSink

log = logging.getLogger(__name__)


class TaskContext(ProgressSink):
    """Handed to the task function: progress reports (each also the point where a
    cancel takes effect), cancellation, and :meth:`send` for anything else the GUI
    thread should have as it is made."""

    def __init__(self, report: Callable[[Progress], None], send: Callable[[object], None]) -> None:
        super().__init__(report)
        self._send = send

    def send(self, payload: object) -> None:
        """Hand any value to the GUI thread (arrives as ``Task.reported``)."""
        self._send(payload)


class _Runner(QObject):
    progressed = Signal(object)  # Progress
    reported = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, fn: Callable[[TaskContext], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.context = TaskContext(self.progressed.emit, self.reported.emit)

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self.context)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:
            log.exception("background task failed")
            self.failed.emit(str(exc) or type(exc).__name__, traceback.format_exc())
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()


class Task(QObject):
    """A function run once on its own QThread, reporting back through signals.

    Signals arrive on the thread that created the task (the GUI thread):
    ``progressed(Progress)``, then exactly one of
    ``succeeded(result)``, ``failed(message, details)`` or ``cancelled()``,
    then ``finished()`` once the thread has stopped.

    A started task holds a reference to itself until its thread has stopped:
    destroying a running QThread aborts the whole process, so a caller that
    drops its reference early must not be able to cause that. For the same
    reason a task has no Qt parent: a parent would delete it (and its running
    thread) when a window closes, whatever Python still holds.
    """

    _running: ClassVar[set[Task]] = set()

    progressed = Signal(object)  # Progress
    reported = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[[TaskContext], Any]) -> None:
        super().__init__()
        self._thread = QThread()
        self._runner = _Runner(fn)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progressed.connect(self.progressed)
        self._runner.reported.connect(self.reported)
        self._runner.succeeded.connect(self.succeeded)
        self._runner.failed.connect(self.failed)
        self._runner.cancelled.connect(self.cancelled)
        # Direct: quit() is thread-safe, and a queued call would never arrive while the
        # GUI thread sits in wait() (closing the window), which would then time out.
        self._runner.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        Task._running.add(self)
        self._thread.start()

    def _on_thread_finished(self) -> None:
        Task._running.discard(self)
        self.finished.emit()

    def cancel(self) -> None:
        """Ask the task to stop at its next progress report or check."""
        self._runner.context.cancel()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @classmethod
    def wait_all(cls, timeout_ms: int = 10_000) -> bool:
        """Cancel and wait for every running task (at exit: a live QThread aborts Python)."""
        for task in list(cls._running):
            task.cancel()
        return all(task.wait(timeout_ms) for task in list(cls._running))

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the thread ends; for shutdown only, never during normal use."""
        return self._thread.wait(timeout_ms)
