"""A model folder's speaker encoder and voice memory, loaded for the app.

    MODEL/speaker_encoder.safetensors   the GE2E encoder (config in config.json)
    MODEL/voice_memory.safetensors      prototypes: encoder space -> this model's voices,
                                        and each training voice's embedding (the voice map)

Both are optional. When present, and unless attached with ``memory_start=False``,
adaptation starts each new voice from the memory's blend of known voices for the
takes' embedding instead of from the model's single (meta-learned) starting vector;
which start is better is measured by ``bench adapt``. Putting them there is
training's job (:mod:`metavoice_app.core.train.speaker_tools`); this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from metavoice_app.core.model.folder import ModelFolder
from metavoice_app.core.speaker.encoder import EncoderConfig, SpeakerEncoder
from metavoice_app.core.speaker.memory import VoiceMemory

ENCODER_FILE = "speaker_encoder.safetensors"
MEMORY_FILE = "voice_memory.safetensors"
VOICE_PRINTS = "voice_prints"


@dataclass
class SpeakerTools:
    encoder: SpeakerEncoder
    memory: VoiceMemory
    voice_prints: dict[str, np.ndarray]  # training voice id -> unit embedding
    memory_start: bool = True  # adaptation starts from the memory's blend

    def voice_print(self, features: list[np.ndarray]) -> np.ndarray:
        """One unit embedding for a voice from its takes' ``(frames, 43)`` features."""
        return self.encoder.voice_print(features)

    @torch.no_grad()
    def starting_vector(self, voice_print: np.ndarray) -> torch.Tensor:
        """Where adaptation starts for a voice with this embedding."""
        return self.memory(torch.from_numpy(voice_print).float()[None])[0]

    def similarity(self, voice_print: np.ndarray, features: np.ndarray) -> float:
        """Cosine between a voice's embedding and that of some (synthesised) features."""
        return float(voice_print @ self.encoder.embed(features))


def load_tools(model_dir: Path) -> SpeakerTools | None:
    """The encoder and memory of a model folder, or None if it has none."""
    info = ModelFolder(model_dir).read()
    record, encoder_config = info.voice_memory, info.speaker_encoder
    if record is None or encoder_config is None or not (model_dir / MEMORY_FILE).exists():
        return None
    encoder = SpeakerEncoder(EncoderConfig(**encoder_config))
    encoder.load_state_dict(load_file(str(model_dir / ENCODER_FILE)))
    state = load_file(str(model_dir / MEMORY_FILE))
    prints = state.pop(VOICE_PRINTS, None)
    memory = VoiceMemory(state["keys"].shape[0], state["keys"].shape[1], state["values"].shape[1])
    memory.load_state_dict(state)
    ids = record.voices
    voice_prints = (
        {str(i): p.numpy() for i, p in zip(ids, prints, strict=True)}
        if prints is not None and len(ids) == len(prints)
        else {}
    )
    return SpeakerTools(encoder.eval(), memory.eval(), voice_prints, record.start)
