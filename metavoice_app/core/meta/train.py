"""Meta-training: episodes of speakers from the corpus, resumable, on one or many ranks.

Launched plainly it runs in one process; launched by torchrun it joins the
process group (gloo on CPU, nccl on CUDA), each rank draws its own share of
the meta-batch's tasks, and rank 0 writes the checkpoints and the model.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from metavoice_app.core.atomic import atomic_open
from metavoice_app.core.device import resolve_device
from metavoice_app.core.meta.algorithms import MetaLearner
from metavoice_app.core.meta.config import MetaTrainConfig
from metavoice_app.core.meta.tasks import TaskSampler
from metavoice_app.core.model.checkpoint import load_model, save_model
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.data import CorpusData

log = logging.getLogger(__name__)

STATE_FILE = "meta_state.pt"
MODEL_DIR = "model"


@dataclass
class MetaReport:
    step: int
    steps: int
    query_before: float
    query_after: float
    seconds_per_step: float


def _distributed(device: torch.device) -> tuple[int, int]:
    """Join the process group when launched by torchrun; (rank, world size)."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _to(batch_pair: tuple, device: torch.device) -> tuple:  # type: ignore[type-arg]
    return tuple(b.to(device) for b in batch_pair)


def train_meta(config: MetaTrainConfig, report: Callable[[MetaReport], None] | None = None) -> Path:
    """Run (or resume) meta-training; returns the exported model folder."""
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    created_group = not dist.is_initialized()
    rank, world = _distributed(device)
    created_group = created_group and dist.is_initialized()
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", rank % torch.cuda.device_count())
    torch.manual_seed(config.seed)
    model, info = load_model(config.init, device)
    # Evaluation mode, as the app's adapter runs: no dropout in the inner loop or the
    # query loss, so the start is learned for the steps actually taken (and attention runs
    # its fused kernel, about a third faster on CPU).
    model.eval()
    corpus = Corpus(config.corpus)
    data = CorpusData(corpus, corpus.speakers())
    sampler = TaskSampler(
        data, list(range(len(data.items))), config.support, config.query, config.real_fraction
    )
    learner = MetaLearner(model, config.meta)
    step, seconds = 0, 0.0
    state_path = config.out / STATE_FILE
    if state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        learner.load_state(state["learner"])
        step, seconds = int(state["step"]), float(state["seconds"])
        log.info("resumed meta-training at step %d", step)
    per_rank = max(1, math.ceil(config.meta.tasks_per_step / world))
    rng = np.random.default_rng(config.seed + 1000 * rank + step)
    started = last_save = time.monotonic()

    def save() -> None:
        nonlocal last_save
        if rank == 0:
            config.out.mkdir(parents=True, exist_ok=True)
            with atomic_open(state_path) as handle:
                torch.save(
                    {
                        "model": model.state_dict(),
                        "learner": learner.state(),
                        "step": step,
                        "seconds": seconds,  # callers add the time since the last save
                    },
                    handle,
                )
        last_save = time.monotonic()

    exported = config.out / MODEL_DIR
    try:
        while step < config.steps:
            tick = time.monotonic()
            tasks = []
            for _ in range(per_rank):
                task = sampler.sample(rng)
                tasks.append(_to((data.collate(task.support), data.collate(task.query)), device))
            stats = learner.step(tasks)
            step += 1
            if report is not None and rank == 0:
                report(
                    MetaReport(
                        step,
                        config.steps,
                        stats["query_before"],
                        stats["query_after"],
                        time.monotonic() - tick,
                    )
                )
            if time.monotonic() - last_save > config.checkpoint_minutes * 60:
                seconds += time.monotonic() - last_save
                save()
            out_of_time = (
                config.max_minutes is not None
                and time.monotonic() - started > config.max_minutes * 60
            )
            if world > 1:  # every rank must leave together, or the others wait forever
                flag = torch.tensor([float(out_of_time)], device=device)
                dist.broadcast(flag, 0)
                out_of_time = bool(flag.item())
            if out_of_time:
                break
    finally:
        seconds += time.monotonic() - last_save
        save()
        if rank == 0:
            training = replace(
                info.training,
                init=f"meta:{config.meta.algorithm}",
                meta_steps=step,
                meta_hours=round(seconds / 3600, 2),
                meta_ranks=world,
                meta=asdict(config.meta),
            )
            save_model(
                model,
                exported,
                info.voices,
                info.default_voice,
                training,
                inner_rates={n: r.detach() for n, r in learner.learned_rates().items()},
            )
        if dist.is_initialized():
            dist.barrier()
            if created_group:
                # Left alive, gloo's threads can abort the process at exit
                # ("terminate called without an active exception").
                dist.destroy_process_group()
    return exported
