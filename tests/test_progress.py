"""The one progress/cancel protocol of long actions (``core/progress.py``)."""

from __future__ import annotations

import threading

import pytest

from metavoice_app.core.progress import NO_PROGRESS, Cancelled, Progress, ProgressSink


def test_reports_arrive_with_their_message_and_detail() -> None:
    seen: list[Progress] = []
    sink = ProgressSink(seen.append)
    sink.report(0.25, "step 1 of 4", detail={"loss": 1.5})
    sink.report(0.5)
    assert seen == [Progress(0.25, "step 1 of 4", {"loss": 1.5}), Progress(0.5, "", None)]
    assert sink.fraction == 0.5 and sink.watched and not ProgressSink().watched


def test_fractions_are_clamped_and_never_go_back() -> None:
    seen: list[Progress] = []
    sink = ProgressSink(seen.append)
    for fraction in (-0.5, 0.4, 0.2, float("nan"), 0.9, 7.0, 0.95):
        sink.report(fraction, str(fraction))
    assert [p.fraction for p in seen] == [0.0, 0.4, 0.4, 0.4, 0.9, 1.0, 1.0]
    assert [p.message for p in seen][2] == "0.2"  # the message is still the new one


def test_cancel_raises_the_one_exception_at_the_next_report_or_check() -> None:
    seen: list[Progress] = []
    sink = ProgressSink(seen.append)
    sink.report(0.1)
    sink.check_cancelled()  # not cancelled yet: nothing happens
    sink.cancel()
    assert sink.cancelled
    with pytest.raises(Cancelled):
        sink.check_cancelled()
    with pytest.raises(Cancelled):
        sink.report(0.2, "never seen")
    assert seen == [Progress(0.1)]  # a cancelled report reaches nobody
    assert sink.fraction == 0.1


def test_cancel_from_another_thread_stops_a_running_action() -> None:
    sink = ProgressSink()
    started = threading.Event()
    steps: list[int] = []
    outcome: list[BaseException] = []

    def action() -> None:
        try:
            for step in range(100_000):
                started.set()
                sink.report(step / 100_000)
                steps.append(step)
                threading.Event().wait(0.0005)
        except Cancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=action)
    worker.start()
    assert started.wait(5)
    sink.cancel()
    worker.join(10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    assert len(steps) < 100_000


def test_the_null_sink_reports_to_nobody_and_cannot_be_cancelled() -> None:
    NO_PROGRESS.report(0.7, "ignored")
    NO_PROGRESS.check_cancelled()
    assert not NO_PROGRESS.watched and NO_PROGRESS.fraction == 0.0
    with pytest.raises(TypeError, match="cannot be cancelled"):
        NO_PROGRESS.cancel()
    NO_PROGRESS.check_cancelled()  # still not cancelled, for every later caller
