"""Training the multi-speaker base model: resumable, time-budgeted, CPU or CUDA.

State (model, optimiser, step, data order) is checkpointed every few minutes
and on interruption, so training can run across many short sessions. The best
weights by validation loss are exported as a model folder after each check.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import torch

from metavoice_app.core.atomic import atomic_open
from metavoice_app.core.device import resolve_device
from metavoice_app.core.model.acoustic import AcousticModel, Batch
from metavoice_app.core.model.checkpoint import Voice, read_weights, save_model
from metavoice_app.core.model.config import ModelConfig
from metavoice_app.core.model.folder import TrainingRecord
from metavoice_app.core.train.config import TrainConfig
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.data import CorpusData

log = logging.getLogger(__name__)

STATE_FILE = "train_state.pt"
BEST_DIR = "best"
VALIDATION_LOSSES = ("features", "vuv", "duration", "pitch", "energy")


@dataclass
class StepReport:
    step: int
    steps: int
    losses: dict[str, float]
    frames_per_second: float
    validation: float | None = None


Report = Callable[[StepReport], None]


def _learning_rate(config: TrainConfig, step: int) -> float:
    warm = max(1, config.warmup_steps)
    return config.learning_rate * min((step + 1) / warm, math.sqrt(warm / (step + 1)))


def _voices(corpus_speakers: list[Any]) -> list[Voice]:
    return [Voice(s.id, s.source, s.real, s.sex) for s in corpus_speakers]


def pick_default_voice(voices: list[Voice]) -> str:
    """A real, untransformed speaker if there is one: the most natural voice to start with."""
    for voice in voices:
        if voice.real and voice.source == "vcc2016" and "-p" not in voice.id:
            return voice.id
    return voices[0].id


class Trainer:
    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device)
        corpus = Corpus(config.corpus)
        speakers = [
            s
            for s in corpus.speakers()
            if s.voice not in config.exclude and s.source not in config.exclude
        ]
        self.data = CorpusData(corpus, speakers)
        self.train_idx, self.valid_idx = self.data.split(
            min(config.holdout, len(self.data.items) // 10)
        )
        if config.parts == "aligner":  # it learns only where timings are known
            self.train_idx = [i for i in self.train_idx if self.data.items[i].durations is not None]
            self.valid_idx = [i for i in self.valid_idx if self.data.items[i].durations is not None]
        self.voices = _voices(speakers)
        model_config = ModelConfig(**{**config.model.to_dict(), "n_speakers": len(speakers)})
        torch.manual_seed(config.seed)
        self.model = AcousticModel(model_config).to(self.device)
        self.optimizer = self._new_optimizer()
        self.step = 0
        self.epoch = 0
        self.best = math.inf
        self.history: list[dict[str, float]] = []
        self.seconds = 0.0
        self._stop = False
        if not self._resume():
            if config.init_from is not None:
                self._warm_start(config.init_from)
            else:
                mean, std = self.data.feature_stats()
                self.model.set_feature_stats(mean.to(self.device), std.to(self.device))
        log.info(
            "training on %s: %d speakers, %d utterances (%.0f min), %d parameters",
            self.device,
            len(speakers),
            len(self.data.items),
            self.data.n_frames / 6000,
            sum(p.numel() for p in self.model.parameters()),
        )

    # Checkpoints ---------------------------------------------------------------------------
    def _state_path(self) -> Path:
        return self.config.out / STATE_FILE

    def _resume(self) -> bool:
        path = self._state_path()
        if not path.exists():
            return False
        state = torch.load(path, map_location=self.device, weights_only=True)
        if state["voices"] != [v.id for v in self.voices]:
            raise RuntimeError(f"{path} was trained on other speakers; use another --out")
        model_state = state["model"]
        if "speaker_init" not in model_state:  # state saved before the meta initialisation
            model_state["speaker_init"] = model_state["speaker_embedding.weight"].mean(0)
            self.model.load_state_dict(model_state)
            self.optimizer = self._new_optimizer()
            log.warning("optimiser state reset: the model gained a parameter")
        else:
            self.model.load_state_dict(model_state)
            self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch, self.best = state["step"], state["epoch"], state["best"]
        self.seconds = state.get("seconds", 0.0)
        self.history = list(state.get("history", []))
        log.info(
            "resumed at step %d (epoch %d, best validation %.4f)", self.step, self.epoch, self.best
        )
        return True

    def _new_optimizer(self) -> torch.optim.Optimizer:
        module = self.model.aligner if self.config.parts == "aligner" else self.model
        return torch.optim.AdamW(
            module.parameters(), lr=self.config.learning_rate, betas=(0.9, 0.98), weight_decay=1e-6
        )

    def _warm_start(self, folder: Path) -> None:
        """Take an exported model's weights wherever name and shape still fit (layers that
        changed start fresh). Speakers are matched by id; speakers new to this corpus start
        from the mean of the known embeddings."""
        state, voices = read_weights(folder)
        old_table = state.pop("speaker_embedding.weight")
        known = {voice_id: i for i, voice_id in enumerate(voices)}
        table = old_table.mean(0, keepdim=True).repeat(len(self.voices), 1)
        for index, voice in enumerate(self.voices):
            if voice.id in known:
                table[index] = old_table[known[voice.id]]
        state["speaker_embedding.weight"] = table
        own = self.model.state_dict()
        fitting = {
            k: v.to(own[k].dtype) for k, v in state.items() if k in own and v.shape == own[k].shape
        }
        fresh = sorted(set(own) - set(fitting))
        self.model.load_state_dict(fitting, strict=False)
        matched = sum(v.id in known for v in self.voices)
        log.info("warm start from %s: %d of %d speakers known", folder, matched, len(self.voices))
        if fresh:
            log.info("layers starting fresh: %s", ", ".join(fresh))

    def save_state(self) -> None:
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "best": self.best,
            "seconds": self.seconds,
            "history": self.history,
            "voices": [v.id for v in self.voices],
            "config": {k: str(v) for k, v in asdict(self.config).items()},
        }
        self.config.out.mkdir(parents=True, exist_ok=True)
        with atomic_open(self._state_path()) as handle:
            torch.save(state, handle)

    def export(self, folder: Path) -> str:
        if self.config.parts == "all":
            # Ordinary training starts new voices from the average voice; training only the
            # aligner keeps whatever start the model had (perhaps a meta-learned one).
            with torch.no_grad():
                self.model.speaker_init.copy_(self.model.speaker_embedding.weight.mean(0))
        training = TrainingRecord(
            steps=self.step,
            epochs=self.epoch,
            hours=round(self.seconds / 3600, 2),
            device=str(self.device),
            best_validation_loss=round(self.best, 4),
            utterances=len(self.data.items),
            minutes_of_speech=round(self.data.n_frames / 6000, 1),
        )
        return save_model(
            self.model, folder, self.voices, pick_default_voice(self.voices), training
        )

    # Training ------------------------------------------------------------------------------
    def validate(self) -> float:
        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for indices in self.data.batches(
                self.valid_idx, self.config.batch_frames, np.random.default_rng(0)
            ):
                batch = self.data.collate(indices).to(self.device)
                if self.config.parts == "aligner":
                    loss = float(self.model.aligner_loss(batch))
                else:
                    losses = self.model.losses(batch)
                    loss = sum(float(losses[k]) for k in VALIDATION_LOSSES)
                total += loss * len(indices)
                count += len(indices)
        self.model.train()
        return total / max(count, 1)

    def _train_step(self, batch: Batch) -> dict[str, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = _learning_rate(self.config, self.step)
        if self.config.parts == "aligner":
            losses = {"align": self.model.aligner_loss(batch)}
        else:
            losses = self.model.losses(batch)
        total = sum(losses.values())
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()  # type: ignore[union-attr]
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return {k: float(v.detach()) for k, v in losses.items()}

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %d: stopping after this step", signum)
        self._stop = True

    def run(self, report: Report | None = None) -> None:
        config = self.config
        previous = signal.signal(signal.SIGTERM, self._request_stop)
        started = time.monotonic()
        last_save = started
        frames, window_start = 0, time.monotonic()
        try:
            self.model.train()
            while self.step < config.steps and not self._stop:
                rng = np.random.default_rng(config.seed + self.epoch)
                for indices in self.data.batches(self.train_idx, config.batch_frames, rng):
                    batch = self.data.collate(indices)
                    losses = self._train_step(batch.to(self.device))
                    self.step += 1
                    frames += int(batch.frame_lengths.sum())
                    now = time.monotonic()
                    validation = None
                    if self.step % config.validate_every == 0:
                        validation = self.validate()
                        self.history.append({"step": self.step, "validation": validation})
                        if validation < self.best:
                            self.best = validation
                            self.export(config.out / BEST_DIR)
                    if report is not None and (self.step % 10 == 0 or validation is not None):
                        rate = frames / max(now - window_start, 1e-6)
                        report(StepReport(self.step, config.steps, losses, rate, validation))
                        frames, window_start = 0, now
                    if now - last_save > config.checkpoint_minutes * 60:
                        self.seconds += now - last_save
                        last_save = now
                        self.save_state()
                    out_of_time = (
                        config.max_minutes is not None and now - started > config.max_minutes * 60
                    )
                    if self.step >= config.steps or self._stop or out_of_time:
                        self._stop = self._stop or out_of_time
                        break
                else:
                    self.epoch += 1
        finally:
            self.seconds += time.monotonic() - last_save
            self.save_state()
            signal.signal(signal.SIGTERM, previous)
