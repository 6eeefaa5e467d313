"""Training the speaker encoder on every corpus speaker with the GE2E loss.

A batch is ``speakers x crops`` 1.6 s windows; crops may come from one long
clip, so speakers with a single recording (most LibriSpeech ones) still take
part. Some crops have their spectral envelope smoothed in time: the acoustic
model's predictions are smoother than analysed speech, and the similarity meter
compares the two, so the encoder must judge the voice, not the smoothness.
Resumable; exports ``encoder.safetensors`` with its config.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save

from metavoice_app.core.atomic import atomic_open, atomic_write_bytes, atomic_write_text
from metavoice_app.core.features.world import N_MCEP
from metavoice_app.core.speaker.encoder import (
    WINDOW,
    EncoderConfig,
    SpeakerEncoder,
    encoder_inputs,
    ge2e_loss,
)
from metavoice_app.core.train.corpus.store import Corpus

log = logging.getLogger(__name__)

STATE = "encoder_state.pt"
WEIGHTS = "encoder.safetensors"
CONFIG = "encoder.json"


@dataclass
class EncoderTrainConfig:
    corpus: Path
    out: Path
    steps: int = 20_000
    speakers_per_batch: int = 32
    crops_per_speaker: int = 6
    learning_rate: float = 1e-3
    smoothing: float = 0.5  # share of crops whose envelope is smoothed in time
    max_minutes: float | None = None
    checkpoint_minutes: float = 5.0
    seed: int = 0
    threads: int | None = None


SMOOTHING_WIDTHS = (3, 5, 7)  # frames


def smooth(frames: np.ndarray, width: int) -> np.ndarray:
    """Moving average over time (edges repeated), for ``(frames, dims)``."""
    half = width // 2
    padded = np.pad(frames, ((half, half), (0, 0)), mode="edge")
    return np.mean([padded[k : k + len(frames)] for k in range(width)], axis=0)


class CropBank:
    """Encoder inputs of every speaker with enough audio, for random 1.6 s crops."""

    def __init__(self, corpus: Corpus, min_windows: int) -> None:
        self.inputs: list[list[np.ndarray]] = []
        self.names: list[str] = []
        for speaker in corpus.speakers():
            features = corpus.features(speaker.id)
            clips = [
                encoder_inputs(features[u.id].astype(np.float32))
                for u in speaker.utterances
                if u.n_frames >= WINDOW
            ]
            if sum(len(c) for c in clips) >= min_windows * WINDOW:
                self.inputs.append(clips)
                self.names.append(speaker.id)
        if len(self.inputs) < 2:
            raise ValueError("the corpus needs at least two speakers with enough audio")

    def stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        stacked = np.concatenate([c for clips in self.inputs for c in clips])
        return torch.from_numpy(stacked.mean(0)), torch.from_numpy(stacked.std(0) + 1e-3)

    def batch(
        self, speakers: int, crops: int, rng: np.random.Generator, smoothing: float = 0.0
    ) -> torch.Tensor:
        chosen = rng.choice(len(self.inputs), size=min(speakers, len(self.inputs)), replace=False)
        out = np.zeros((len(chosen), crops, WINDOW, self.inputs[0][0].shape[1]), np.float32)
        for row, index in enumerate(chosen):
            clips = self.inputs[index]
            weights = np.array([len(c) - WINDOW + 1 for c in clips], dtype=np.float64)
            for column in range(crops):
                clip = clips[int(rng.choice(len(clips), p=weights / weights.sum()))]
                start = int(rng.integers(0, len(clip) - WINDOW + 1))
                out[row, column] = clip[start : start + WINDOW]
                if rng.random() < smoothing:
                    out[row, column, :, :N_MCEP] = smooth(
                        out[row, column, :, :N_MCEP], int(rng.choice(SMOOTHING_WIDTHS))
                    )
        return torch.from_numpy(out)


def equal_error_rate(embeddings: np.ndarray, labels: np.ndarray) -> float:
    """EER of same-vs-different speaker decisions by cosine over all pairs."""
    scores = embeddings @ embeddings.T
    upper = np.triu_indices(len(labels), k=1)
    same = (labels[:, None] == labels[None, :])[upper]
    values = scores[upper]
    best = 1.0
    for threshold in np.unique(values):
        false_accept = np.mean(values[~same] >= threshold) if (~same).any() else 0.0
        false_reject = np.mean(values[same] < threshold) if same.any() else 0.0
        best = min(best, max(false_accept, false_reject))
    return float(best)


def save_encoder(encoder: SpeakerEncoder, folder: Path, info: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous().cpu() for k, v in encoder.state_dict().items()}
    atomic_write_bytes(folder / WEIGHTS, save(state))
    atomic_write_text(
        folder / CONFIG,
        json.dumps({"config": encoder.config.to_dict(), "training": info}, indent=1) + "\n",
    )


def load_encoder(folder: Path) -> SpeakerEncoder:
    data = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    encoder = SpeakerEncoder(EncoderConfig(**data["config"]))
    encoder.load_state_dict(load_file(str(folder / WEIGHTS)))
    return encoder.eval()


def train_encoder(
    config: EncoderTrainConfig, report: Callable[[int, float], None] | None = None
) -> SpeakerEncoder:
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    bank = CropBank(Corpus(config.corpus), config.crops_per_speaker)
    encoder = SpeakerEncoder()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=config.learning_rate)
    step = 0
    state_path = config.out / STATE
    if state_path.exists():
        state = torch.load(state_path, weights_only=True)
        encoder.load_state_dict(state["encoder"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
    else:
        mean, std = bank.stats()
        encoder.input_mean.copy_(mean)
        encoder.input_std.copy_(std)
    rng = np.random.default_rng(config.seed + step)
    started = last_save = time.monotonic()
    loss_value = float("nan")

    def checkpoint() -> None:
        config.out.mkdir(parents=True, exist_ok=True)
        with atomic_open(state_path) as handle:
            torch.save(
                {
                    "encoder": encoder.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                },
                handle,
            )
        save_encoder(
            encoder,
            config.out,
            {"steps": step, "final_loss": round(loss_value, 4), "speakers": len(bank.names)},
        )

    encoder.train()
    while step < config.steps:
        batch = bank.batch(
            config.speakers_per_batch, config.crops_per_speaker, rng, config.smoothing
        )
        speakers, crops = batch.shape[:2]
        embeddings = encoder(batch.reshape(speakers * crops, WINDOW, -1))
        loss = ge2e_loss(encoder, embeddings.reshape(speakers, crops, -1))
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(encoder.parameters(), 3.0)
        optimizer.step()
        step += 1
        loss_value = float(loss.detach())
        if report is not None and step % 10 == 0:
            report(step, loss_value)
        if time.monotonic() - last_save > config.checkpoint_minutes * 60:
            checkpoint()
            last_save = time.monotonic()
        if config.max_minutes is not None and time.monotonic() - started > config.max_minutes * 60:
            break
    checkpoint()
    return encoder.eval()
