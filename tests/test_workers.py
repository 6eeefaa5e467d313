from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from metavoice_app.core.progress import Progress
from metavoice_app.gui.workers import Task, TaskContext


def test_task_runs_off_the_gui_thread_and_reports(qtbot: QtBot) -> None:
    seen: dict[str, object] = {}

    def work(ctx: TaskContext) -> str:
        seen["thread"] = threading.current_thread()
        for step in range(3):
            ctx.report((step + 1) / 3, f"step {step + 1}", detail=step)
        return "result"

    task = Task(work)
    progress: list[Progress] = []
    task.progressed.connect(progress.append)
    with (
        qtbot.waitSignal(task.finished, timeout=10_000),
        qtbot.waitSignal(task.succeeded, timeout=10_000) as blocker,
    ):
        task.start()
    assert blocker.args == ["result"]
    assert seen["thread"] is not threading.main_thread()
    qtbot.waitUntil(lambda: len(progress) == 3)
    assert progress[-1] == Progress(1.0, "step 3", 2)


def test_cancel_stops_at_the_next_progress_report(qtbot: QtBot) -> None:
    started = threading.Event()
    steps: list[int] = []

    def work(ctx: TaskContext) -> None:
        started.set()
        for step in range(10_000):
            ctx.report(step / 10_000)
            steps.append(step)
            threading.Event().wait(0.001)

    task = Task(work)
    succeeded: list[object] = []
    task.succeeded.connect(succeeded.append)
    with qtbot.waitSignal(task.cancelled, timeout=10_000):
        task.start()
        assert started.wait(5)
        task.cancel()
    assert task.wait()
    assert not succeeded
    assert len(steps) < 10_000


def test_errors_arrive_as_a_message_with_details(qtbot: QtBot) -> None:
    def work(_ctx: TaskContext) -> None:
        raise ValueError("the take is silent")

    task = Task(work)
    with qtbot.waitSignal(task.failed, timeout=10_000) as blocker:
        task.start()
    message, details = blocker.args
    assert message == "the take is silent"
    assert "Traceback" in details and "ValueError" in details
    assert task.wait()


def test_a_dropped_task_finishes_safely(qtbot: QtBot) -> None:
    """Losing the last reference to a running task must not destroy its thread."""
    release = threading.Event()
    results: list[object] = []

    def work(_ctx: TaskContext) -> int:
        release.wait(5)
        return 42

    task = Task(work)
    task.succeeded.connect(results.append)
    task.start()
    del task
    import gc

    gc.collect()
    release.set()
    qtbot.waitUntil(lambda: results == [42], timeout=10_000)
    qtbot.waitUntil(lambda: not Task._running, timeout=10_000)


def test_wait_returns_without_the_event_loop(qtbot: QtBot) -> None:
    """Closing the window waits for tasks with the event loop blocked: that must not hang."""
    task = Task(lambda _ctx: 1)
    task.start()
    assert task.wait(5_000)
