"""Learning ahead (core/adapt/ahead.py): steps taken before the held-out take exists make
the same voice as steps taken with it at hand, on the tiny real model."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from metavoice_app.core.adapt.adapter import AdaptStep
from metavoice_app.core.adapt.ahead import LearningAhead
from metavoice_app.core.adapt.clone import learn_voice
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import Take, load_takes
from metavoice_app.core.progress import Cancelled, Progress, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "Rice is often served in round bowls.",
]
# patience 2 stops the run early once the held-out take stops improving, which the
# replay must reproduce step for step
CONFIG = AdaptConfig(steps=6, patience=2, seed=1)


@pytest.fixture(scope="module")
def engine(tiny_model_dir: Path) -> SpeechEngine:
    return SpeechEngine(tiny_model_dir, device="cpu")


@pytest.fixture(scope="module")
def takes(tmp_path_factory: pytest.TempPathFactory, flite_speech) -> list[Take]:
    folder = tmp_path_factory.mktemp("ahead-takes")
    for index, line in enumerate(LINES):
        sf.write(folder / f"{index:02d}.wav", flite_speech(line, "awb"), 16000)
        (folder / f"{index:02d}.txt").write_text(line, encoding="utf-8")
    found, rejected = load_takes(folder)
    assert not rejected
    return found


def _recordings(takes: list[Take]) -> list[tuple[Path, str]]:
    return [(take.path, take.text) for take in takes]


def _assert_same_voice(a, b) -> None:
    assert a.steps == b.steps and a.holdout_loss == b.holdout_loss
    assert a.final_loss == b.final_loss and a.delivery == b.delivery
    assert set(a.tensors) == set(b.tensors)
    for name, tensor in a.tensors.items():
        assert torch.equal(tensor, b.tensors[name]), name


def _curve(reports: list[Progress]) -> list[tuple[int, float, float | None]]:
    """Each step's losses as the wizard draws them."""
    steps = [p.detail for p in reports if isinstance(p.detail, AdaptStep)]
    return [(step.step, step.loss, step.holdout_loss) for step in steps]


@pytest.fixture(scope="module")
def straight(engine: SpeechEngine, takes: list[Take]):
    reports: list[Progress] = []
    voice = learn_voice(engine, takes, CONFIG, ProgressSink(reports.append))
    voice.curve = _curve(reports)  # type: ignore[attr-defined]
    return voice


def test_steps_taken_ahead_make_the_same_voice(
    engine: SpeechEngine, takes: list[Take], straight
) -> None:
    ahead = LearningAhead(engine, _recordings(takes[:-1]), CONFIG)
    assert ahead.run() == CONFIG.steps  # every step, before the last take exists
    reports: list[Progress] = []
    voice = learn_voice(engine, takes, CONFIG, ProgressSink(reports.append), ahead=ahead)
    _assert_same_voice(voice, straight)
    assert voice.steps_ahead == straight.steps and straight.steps_ahead == 0
    # every step judged on the held-out take as it was after that step
    assert _curve(reports) == straight.curve
    assert len({held for _, _, held in straight.curve}) == len(straight.curve)
    # nothing is left to take, so no time is promised for it
    assert all(p.detail.eta_seconds == 0 for p in reports if isinstance(p.detail, AdaptStep))
    # handed over once: a second voice from the same head start takes its own steps
    assert ahead.take_over(engine, ahead.support, CONFIG) is None


class StepWatch(ProgressSink):
    """Hears the head start check in before each step: calls ``then`` before step ``at``."""

    def __init__(self, at: int, then) -> None:
        super().__init__()
        self.at, self.then, self.checks = at, then, 0

    def check_cancelled(self) -> None:
        self.checks += 1
        if self.checks == self.at:
            self.then()
        super().check_cancelled()


def test_a_head_start_stopped_part_way_is_carried_on(
    engine: SpeechEngine, takes: list[Take], straight
) -> None:
    ahead = LearningAhead(engine, _recordings(takes[:-1]), CONFIG)
    assert ahead.run(StepWatch(3, ahead.stop)) == 2
    reports: list[Progress] = []
    voice = learn_voice(engine, takes, CONFIG, ProgressSink(reports.append), ahead=ahead)
    _assert_same_voice(voice, straight)
    assert voice.steps_ahead == 2
    assert _curve(reports) == straight.curve


def test_a_head_start_on_other_takes_is_not_used(
    engine: SpeechEngine, takes: list[Take], straight, tmp_path: Path
) -> None:
    # the same file names and words, one of them recorded again before "Create voice"
    ahead = LearningAhead(engine, _recordings(takes[:-1]), CONFIG)
    ahead.run()
    again = [Take(t.path, t.text, t.audio.copy(), t.report) for t in takes]
    again[1].audio = np.roll(again[1].audio, 800)
    assert ahead.take_over(engine, again[:-1], CONFIG) is None
    other = LearningAhead(engine, _recordings(takes[:-1]), CONFIG)
    other.run()
    assert other.take_over(engine, takes[:-1], AdaptConfig(steps=6, patience=3)) is None
    fresh = LearningAhead(engine, _recordings(takes[:-1]), CONFIG)
    fresh.run()
    # and a voice made with a head start that does not fit is made from scratch
    _assert_same_voice(learn_voice(engine, takes, CONFIG, ahead=other), straight)
    assert fresh.take_over(engine, takes[:-1], CONFIG) is not None


def test_a_take_over_waits_for_the_step_under_way(engine: SpeechEngine, takes: list[Take]) -> None:
    config = AdaptConfig(steps=200, patience=200)
    ahead = LearningAhead(engine, _recordings(takes[:-1]), config)
    stepped = threading.Event()
    worker = threading.Thread(target=ahead.run, args=(StepWatch(2, stepped.set),))
    worker.start()
    assert stepped.wait(60)  # one step taken, the next one under way
    steps = ahead.take_over(engine, ahead.support, config)
    assert not worker.is_alive()  # it waited for the step under way, then stopped
    worker.join()
    assert steps is not None and 0 < steps.done < 200 and len(steps.states) == steps.done + 1


def test_a_cancelled_head_start_raises_between_steps(
    engine: SpeechEngine, takes: list[Take]
) -> None:
    sink = ProgressSink()
    sink.cancel()
    ahead = LearningAhead(engine, _recordings(takes[:-1]), CONFIG)
    with pytest.raises(Cancelled):
        ahead.run(sink)
