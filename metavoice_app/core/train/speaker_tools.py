"""Putting a speaker encoder and its voice memory into a model folder.

    MODEL/speaker_encoder.safetensors   the GE2E encoder (config in config.json)
    MODEL/voice_memory.safetensors      prototypes: encoder space -> this model's voices,
                                        and each training voice's embedding (the voice map)

Training-time only (it reads the corpus); the app loads what this writes with
:func:`metavoice_app.core.speaker.bundle.load_tools`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save

from metavoice_app.core.atomic import atomic_write_bytes
from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.model.folder import ModelFolder, VoiceMemoryRecord
from metavoice_app.core.speaker.bundle import ENCODER_FILE, MEMORY_FILE, VOICE_PRINTS
from metavoice_app.core.speaker.memory import VoiceMemory
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.speaker_encoder import load_encoder

UTTERANCES_PER_SPEAKER = 8


def attach(
    model_dir: Path,
    encoder_dir: Path,
    corpus_dir: Path,
    prototypes: int = 64,
    memory_start: bool = True,
) -> None:
    """Embed the model's training speakers and fit the voice memory to its voices."""
    model, info = load_model(model_dir)
    encoder = load_encoder(encoder_dir)
    corpus = Corpus(corpus_dir)
    by_id = {s.id: s for s in corpus.speakers()}
    embeddings, vectors, ids = [], [], []
    for index, voice in enumerate(info.voices):
        speaker = by_id.get(voice.id)
        if speaker is None:
            continue
        features = corpus.features(speaker.id)
        chosen = [
            features[u.id].astype(np.float32) for u in speaker.utterances[:UTTERANCES_PER_SPEAKER]
        ]
        embeddings.append(encoder.voice_print(chosen))
        vectors.append(model.speaker_embedding.weight[index].detach())
        ids.append(voice.id)
    if len(embeddings) < 2:
        raise ValueError("the corpus holds fewer than two of the model's voices")
    memory = VoiceMemory.fit(
        torch.from_numpy(np.stack(embeddings)).float(),
        torch.stack(vectors).float(),
        prototypes=prototypes,
    )
    atomic_write_bytes(
        model_dir / ENCODER_FILE, save({k: v.contiguous() for k, v in encoder.state_dict().items()})
    )
    state = {k: v.detach().contiguous() for k, v in memory.state_dict().items()}
    state[VOICE_PRINTS] = torch.from_numpy(np.stack(embeddings)).float()
    atomic_write_bytes(model_dir / MEMORY_FILE, save(state))
    record = VoiceMemoryRecord(int(memory.keys.shape[0]), len(embeddings), tuple(ids), memory_start)
    ModelFolder(model_dir).set_speaker_tools(encoder.config.to_dict(), record)
