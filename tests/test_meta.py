"""Meta-learning on the tiny real model and corpus: every algorithm, and DDP with 2 processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from metavoice_app.core.adapt.adapter import SPEAKER_INIT
from metavoice_app.core.meta.algorithms import ALGORITHMS, OUTER_PARAMS, MetaConfig, MetaLearner
from metavoice_app.core.meta.tasks import TaskSampler
from metavoice_app.core.model.checkpoint import load_model, read_info
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.data import CorpusData


@pytest.fixture(scope="module")
def data(tiny_corpus: Path) -> CorpusData:
    corpus = Corpus(tiny_corpus)
    return CorpusData(corpus, corpus.speakers())


def _tasks(data: CorpusData, count: int = 2, seed: int = 0):
    sampler = TaskSampler(data, list(range(len(data.items))), support=2, query=1)
    rng = np.random.default_rng(seed)
    tasks = [sampler.sample(rng) for _ in range(count)]
    return [(data.collate(t.support), data.collate(t.query)) for t in tasks]


def test_tasks_split_one_speakers_utterances(data: CorpusData) -> None:
    sampler = TaskSampler(data, list(range(len(data.items))), support=2, query=1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        task = sampler.sample(rng)
        assert not set(task.support) & set(task.query)
        assert {data.items[i].speaker for i in task.support + task.query} == {task.speaker}
    two_each: dict[int, list[int]] = {}
    for index, item in enumerate(data.items):
        if len(two_each.setdefault(item.speaker, [])) < 2:
            two_each[item.speaker].append(index)
    with pytest.raises(ValueError, match="utterances a task needs"):
        TaskSampler(data, [i for u in two_each.values() for i in u], support=5, query=5)


def test_speakers_with_few_utterances_give_smaller_tasks(data: CorpusData) -> None:
    three: dict[int, list[int]] = {}
    for index, item in enumerate(data.items):
        if len(three.setdefault(item.speaker, [])) < 3:
            three[item.speaker].append(index)
    sampler = TaskSampler(data, [i for u in three.values() for i in u], support=5, query=3)
    task = sampler.sample(np.random.default_rng(0))
    assert (len(task.support), len(task.query)) == (2, 1)


def test_a_share_of_tasks_comes_from_real_speakers(tiny_corpus: Path) -> None:
    corpus = Corpus(tiny_corpus)
    data = CorpusData(corpus, corpus.speakers())
    indices = list(range(len(data.items)))
    with pytest.raises(ValueError, match="no real speaker"):
        TaskSampler(data, indices, 2, 1, real_fraction=0.5)
    data.speakers[1].real = True
    sampler = TaskSampler(data, indices, 2, 1, real_fraction=1.0)
    rng = np.random.default_rng(0)
    assert {sampler.sample(rng).speaker for _ in range(20)} == {1}
    mixed = TaskSampler(data, indices, 2, 1, real_fraction=0.5)
    drawn = [mixed.sample(rng).speaker for _ in range(400)]
    share = drawn.count(1) / len(drawn)
    uniform = 1 / len(mixed.order)
    assert abs(share - (0.5 + 0.5 * uniform)) < 0.08


def test_the_inner_loop_fits_the_support_set(tiny_model_dir: Path, data: CorpusData) -> None:
    model, _ = load_model(tiny_model_dir)
    learner = MetaLearner(model, MetaConfig(inner_steps=5, inner_lr=5e-3, inner_speaker_lr=0.1))
    support, _ = _tasks(data, 1)[0]
    params = dict(model.named_parameters()) | dict(model.named_buffers())
    before = float(learner.loss(params, support).detach())
    after = float(learner.loss(learner.adapt(support, create_graph=False), support).detach())
    assert after < before


@pytest.mark.parametrize("outer_params", OUTER_PARAMS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_updates_the_initialisation(
    algorithm: str, outer_params: str, tiny_model_dir: Path, data: CorpusData
) -> None:
    """Every algorithm moves the start; with ``adapted`` the shared weights stay
    bit-identical, with ``start`` every weight but the start does."""
    torch.manual_seed(0)
    model, _ = load_model(tiny_model_dir)
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    config = MetaConfig(
        algorithm=algorithm, inner_steps=2, outer_lr=1e-3, outer_params=outer_params
    )
    learner = MetaLearner(model, config)
    log_lrs = {n: p.detach().clone() for n, p in learner.log_lrs.items()}
    stats = learner.step(_tasks(data))
    assert np.isfinite(stats["query_before"]) and np.isfinite(stats["query_after"])
    now = dict(model.named_parameters())
    assert not torch.equal(now[SPEAKER_INIT], start[SPEAKER_INIT])
    adapted_moved = any(not torch.equal(now[n], start[n]) for n in learner.names)
    assert adapted_moved == (outer_params != "start")
    if outer_params == "all":
        assert not torch.equal(now["encoder.0.conv1.weight"], start["encoder.0.conv1.weight"])
    else:
        kept = learner.fast_names if outer_params == "adapted" else [SPEAKER_INIT]
        assert all(torch.equal(now[n], start[n]) for n in now if n not in kept)
    if algorithm == "metasgd":
        assert any(not torch.equal(learner.log_lrs[n], v) for n, v in log_lrs.items())


def test_start_weight_adds_the_unadapted_query_loss(tiny_model_dir: Path, data: CorpusData) -> None:
    """With no inner steps the adapted point is the start, so weight 1 doubles the gradient."""
    grads = {}
    tasks = _tasks(data)
    for start_weight in (0.0, 1.0):
        model, _ = load_model(tiny_model_dir)
        config = MetaConfig(
            inner_steps=0, start_weight=start_weight, outer_params="adapted", inner_optimizer="sgd"
        )
        learner = MetaLearner(model, config)
        learner.accumulate(tasks)
        grads[start_weight] = {
            n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None
        }
    assert set(grads[1.0]) == set(grads[0.0]) and SPEAKER_INIT in grads[0.0]
    for name, grad in grads[0.0].items():
        torch.testing.assert_close(grads[1.0][name], 2 * grad)


def test_unknown_outer_params_are_refused() -> None:
    with pytest.raises(ValueError, match="outer_params"):
        MetaConfig(outer_params="decoder")
    with pytest.raises(ValueError, match="start_weight"):
        MetaConfig(start_weight=-1.0)


def test_second_order_maml_differs_from_first_order(tiny_model_dir: Path, data: CorpusData) -> None:
    """Compare the meta-gradients (Adam's first step is sign-like, so updates would not tell)."""
    grads = {}
    for algorithm in ("maml", "fomaml"):
        model, _ = load_model(tiny_model_dir)
        config = MetaConfig(algorithm=algorithm, inner_steps=3, inner_optimizer="sgd")
        MetaLearner(model, config).step(_tasks(data))
        assert model.speaker_init.grad is not None
        grads[algorithm] = model.speaker_init.grad.clone()
    assert torch.isfinite(grads["maml"]).all()
    assert not torch.allclose(grads["maml"], grads["fomaml"])
    cosine = torch.nn.functional.cosine_similarity(grads["maml"], grads["fomaml"], dim=0)
    assert cosine > 0  # first order approximates the same direction


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_distributed_meta_training_on_two_cpu_processes(
    tiny_model_dir: Path, tiny_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "meta"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(_free_port()),
        "-m",
        "metavoice_app",
        "train",
        "meta",
        "--corpus",
        str(tiny_corpus),
        "--init",
        str(tiny_model_dir),
        "--out",
        str(out),
        "--steps",
        "2",
        "--tasks",
        "2",
        "--support",
        "2",
        "--query",
        "1",
        "--inner-steps",
        "1",
        "--real-fraction",
        "0",  # the tiny corpus has engine voices only
        "--device",
        "cpu",
        "--threads",
        "1",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    training = json.loads((out / "model" / "config.json").read_text())["training"]
    assert training["meta_ranks"] == 2 and training["meta_steps"] == 2
    assert training["init"] == "meta:fomaml"
    assert read_info(out / "model").model_id != read_info(tiny_model_dir).model_id
    # resuming continues from the saved step
    resume = [
        *command[: command.index("--steps") + 1],
        "3",
        *command[command.index("--steps") + 2 :],
    ]
    resume[resume.index("--master_port") + 1] = str(_free_port())
    again = subprocess.run(resume, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    state = torch.load(out / "meta_state.pt", weights_only=True)
    assert state["step"] == 3


def test_second_order_algorithms_need_plain_gradient_steps() -> None:
    assert MetaConfig(algorithm="fomaml").inner_optimizer == "adam"
    assert MetaConfig(algorithm="maml").inner_optimizer == "sgd"
    with pytest.raises(ValueError, match="sgd inner optimizer"):
        MetaConfig(algorithm="metasgd", inner_optimizer="adam")


def test_meta_sgd_rates_ship_with_the_model_and_are_checked(
    tiny_model_dir: Path, data: CorpusData, tmp_path: Path
) -> None:
    from safetensors.torch import load_file, save_file

    from metavoice_app.core.model.checkpoint import INNER_RATE, WEIGHTS, ModelLoadError, save_model

    model, info = load_model(tiny_model_dir)
    learner = MetaLearner(model, MetaConfig(algorithm="metasgd", inner_steps=1, outer_lr=1e-2))
    learner.step(_tasks(data))
    rates = learner.learned_rates()
    folder = tmp_path / "metasgd"
    save_model(model, folder, info.voices, info.default_voice, info.training, inner_rates=rates)
    _, loaded = load_model(folder)
    assert set(loaded.inner_rates) == set(rates) and SPEAKER_INIT in loaded.inner_rates
    for name, rate in rates.items():
        torch.testing.assert_close(loaded.inner_rates[name], rate.detach())
    # A negative step size, or one for no weight of the model, is refused.
    state = load_file(str(folder / WEIGHTS))
    for bad_name, bad_value in (
        (INNER_RATE + SPEAKER_INIT, -state[INNER_RATE + SPEAKER_INIT]),
        (INNER_RATE + "decoder.nowhere", torch.ones(3)),
    ):
        broken = tmp_path / "broken"
        broken.mkdir(exist_ok=True)
        save_file({**state, bad_name: bad_value}, str(broken / WEIGHTS))
        config = json.loads((folder / "config.json").read_text())
        config["model_id"] = ""
        (broken / "config.json").write_text(json.dumps(config))
        with pytest.raises(ModelLoadError, match="learned step size"):
            load_model(broken)


def test_meta_training_saves_the_time_it_spent(
    tiny_model_dir: Path, tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Budgets are compared by the saved seconds, so each second must count once."""
    import itertools
    import types

    from metavoice_app.core.meta import train as meta_train

    clock = itertools.count(0, 100)  # every reading of the clock is 100 s after the last
    monkeypatch.setattr(meta_train, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    config = meta_train.MetaTrainConfig(
        corpus=tiny_corpus,
        init=tiny_model_dir,
        out=tmp_path / "meta",
        meta=MetaConfig(inner_steps=1, tasks_per_step=1),
        steps=3,
        support=2,
        query=1,
        real_fraction=0.0,
        device="cpu",
    )
    exported = meta_train.train_meta(config)
    saved = torch.load(tmp_path / "meta" / meta_train.STATE_FILE, weights_only=True)["seconds"]
    assert saved >= 300
    meta_hours = read_info(exported).training.meta_hours
    assert meta_hours is not None and abs(saved - meta_hours * 3600) <= 18


def test_train_meta_takes_its_choices_and_defaults_from_the_settings() -> None:
    import argparse
    import dataclasses

    from metavoice_app.cli import build_parser
    from metavoice_app.core.adapt.config import INNER_OPTIMIZERS, PARAM_SETS

    parser = build_parser()
    args = parser.parse_args(["train", "meta", "--corpus", "c", "--init", "i", "--out", "o"])
    dest = {"tasks_per_step": "tasks"}
    given = {
        f.name: getattr(args, dest.get(f.name, f.name))
        for f in dataclasses.fields(MetaConfig)
        if hasattr(args, dest.get(f.name, f.name))
    }
    assert len(given) == len(dataclasses.fields(MetaConfig)) - 1  # inner_speaker_lr is fixed
    assert MetaConfig(**given) == MetaConfig()
    assert given["inner_optimizer"] is None  # chosen by the algorithm, as the help says

    def subparser(parent: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
        [action] = [a for a in parent._actions if isinstance(a, argparse._SubParsersAction)]
        return action.choices[name]

    options = {a.dest: a for a in subparser(subparser(parser, "train"), "meta")._actions}
    assert tuple(options["algorithm"].choices) == ALGORITHMS
    assert tuple(options["outer_params"].choices) == OUTER_PARAMS
    assert tuple(options["params"].choices) == PARAM_SETS
    assert tuple(options["inner_optimizer"].choices) == INNER_OPTIMIZERS
