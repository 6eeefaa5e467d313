"""Putting a speaker encoder and its voice memory into a model folder.

    MODEL/speaker_encoder.safetensors   the GE2E encoder (config in config.json)
    MODEL/voice_memory.safetensors      prototypes: encoder space -> this model's voices,
                                        and each training voice's embedding (the voice map)

Training-time only (it reads the corpus, or a folder's stored voice prints); the app
loads what this writes with :func:`metavoice_app.core.speaker.bundle.load_tools`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save

from metavoice_app.core.atomic import atomic_write_bytes
from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.model.folder import ModelFolder, VoiceMemoryRecord
from metavoice_app.core.speaker.bundle import ENCODER_FILE, MEMORY_FILE, VOICE_PRINTS, load_tools
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
    atomic_write_bytes(
        model_dir / ENCODER_FILE, save({k: v.contiguous() for k, v in encoder.state_dict().items()})
    )
    _store_memory(
        model_dir, encoder.config.to_dict(), embeddings, vectors, ids, prototypes, memory_start
    )


def refit_memory(
    model_dir: Path, leave_out: set[str], memory_start: bool
) -> tuple[VoiceMemoryRecord, list[str]]:
    """Fit a model folder's voice memory again from its stored voice prints, without the
    voices in ``leave_out``; returns the record and the voices left out. When none of
    them is in the memory, nothing is written (a second run is a no-op).

    The memory of a model trained before a speaker was held out can be made honest for
    that speaker without the corpus: the prints are already in the folder, and each
    voice's value is the model's own speaker vector. The weights, and so the model id
    and every saved voice, are untouched.
    """
    tools = load_tools(model_dir)
    if tools is None or not tools.voice_prints:
        raise ValueError(f"{model_dir} has no voice memory with stored voice prints to refit")
    model, info = load_model(model_dir)
    dropped = [v for v in tools.voice_prints if v in leave_out]
    if not dropped and info.voice_memory is not None:
        return info.voice_memory, []
    index = {voice.id: i for i, voice in enumerate(info.voices)}
    kept = [v for v in tools.voice_prints if v not in leave_out and v in index]
    if not kept:
        raise ValueError("no voice would remain in the voice memory")
    prints = [tools.voice_prints[v] for v in kept]
    vectors = [model.speaker_embedding.weight[index[v]].detach() for v in kept]
    prototypes = int(tools.memory.keys.shape[0])
    encoder = tools.encoder.config.to_dict()
    record = _store_memory(model_dir, encoder, prints, vectors, kept, prototypes, memory_start)
    return record, dropped


def _store_memory(
    model_dir: Path,
    encoder: dict[str, int],
    embeddings: Sequence[np.ndarray],
    vectors: list[torch.Tensor],
    ids: list[str],
    prototypes: int,
    memory_start: bool,
) -> VoiceMemoryRecord:
    """Fit the memory to these voices and write it, with their prints, into the folder."""
    stacked = torch.from_numpy(np.stack(embeddings)).float()
    memory = VoiceMemory.fit(stacked, torch.stack(vectors).float(), prototypes=prototypes)
    state = {k: v.detach().contiguous() for k, v in memory.state_dict().items()}
    state[VOICE_PRINTS] = stacked.contiguous()
    atomic_write_bytes(model_dir / MEMORY_FILE, save(state))
    record = VoiceMemoryRecord(int(memory.keys.shape[0]), len(ids), tuple(ids), memory_start)
    ModelFolder(model_dir).set_speaker_tools(encoder, record)
    return record
