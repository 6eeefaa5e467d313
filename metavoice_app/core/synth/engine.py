"""The speech engine: the one object the CLI and the GUI use to speak text.

It loads a model folder (the bundled one by default), prepares text with the
front end, runs the acoustic model sentence by sentence, vocodes with WORLD
and joins the sentences with short pauses.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.adapt.adapter import SPEAKER, allowed_shapes, with_voice
from metavoice_app.core.device import resolve_device
from metavoice_app.core.features import world
from metavoice_app.core.features.postfilter import PostFilter
from metavoice_app.core.model.acoustic import AcousticModel, Controls
from metavoice_app.core.model.checkpoint import ModelInfo, ModelLoadError, load_model
from metavoice_app.core.paths import resources_dir
from metavoice_app.core.profiles.mvoice import SUFFIX, ProfileError, read_profile
from metavoice_app.core.speaker.bundle import SpeakerTools, load_tools
from metavoice_app.core.text.frontend import PreparedText, TextFrontend

log = logging.getLogger(__name__)

SENTENCE_GAP_S = 0.15

# (fraction done, message) -> None; raise inside to cancel.
ProgressFn = Callable[[float, str], None]


def bundled_model_dir() -> Path:
    return resources_dir() / "models" / "base"


class VoiceNotFoundError(KeyError):
    """The requested voice is not one the model knows."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class VoiceHandle:
    """A voice ready to speak: the model to run (the base model, or a copy carrying a
    profile's adapted parameters) and the speaker vector."""

    name: str
    model: AcousticModel
    speaker: torch.Tensor  # (1, speaker_dim)


@dataclass
class SpeechResult:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    sentences: list[str]
    warnings: list[str] = field(default_factory=list)
    seconds_to_make: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


class SpeechEngine:
    """Speaks text in any of the model's voices (or a given speaker vector)."""

    def __init__(self, model_dir: Path | None = None, device: str = "auto") -> None:
        self.model_dir = model_dir or bundled_model_dir()
        self.device = resolve_device(device)
        if not (self.model_dir / "config.json").exists():
            raise ModelLoadError(
                f"No speech model at {self.model_dir}. The bundled model may be missing from "
                "this installation; give another model folder with --model."
            )
        self.model: AcousticModel
        self.info: ModelInfo
        self.model, self.info = load_model(self.model_dir, self.device)
        # What corrects the model's frames before vocoding; the model folder's own, which a
        # benchmark may swap to compare variants.
        self.postfilter: PostFilter = self.info.postfilter
        self.frontend = TextFrontend()
        self._profiles: dict[tuple[str, int], VoiceHandle] = {}
        self._tools: tuple[SpeakerTools | None] | None = None

    @property
    def sample_rate(self) -> int:
        return world.SAMPLE_RATE

    @property
    def speaker_tools(self) -> SpeakerTools | None:
        """The model folder's speaker encoder and voice memory, loaded on first use."""
        if self._tools is None:
            self._tools = (load_tools(self.model_dir),)
        return self._tools[0]

    def loaded_speaker_tools(self) -> SpeakerTools | None:
        """The speaker tools if already loaded, without touching the disk (GUI thread)."""
        return None if self._tools is None else self._tools[0]

    def voice_ids(self) -> list[str]:
        return [v.id for v in self.info.voices]

    def voice_choices(self, voices_dir: Path) -> list[tuple[str, str]]:
        """(label, voice) for pickers: the library's profiles made for this model first,
        then the built-in voices. Each voice is a string that :meth:`voice` accepts."""
        from metavoice_app.core.profiles.library import VoiceLibrary

        choices = [
            (f"{entry.manifest.name} (your voice)", str(entry.path))
            for entry in VoiceLibrary(voices_dir).entries()
            if entry.manifest is not None and entry.manifest.base_model_id == self.info.model_id
        ]
        choices += [
            (f"{v.id} ({'real' if v.real else 'synthetic'} voice)", v.id) for v in self.info.voices
        ]
        return choices

    def voice(self, voice: str | Path | None = None) -> VoiceHandle:
        """A built-in voice by id (the default when ``None``) or a ``.mvoice`` profile file."""
        if voice is not None and (isinstance(voice, Path) or str(voice).endswith(SUFFIX)):
            path = Path(voice)
            key = (str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)
            if key not in self._profiles:  # one profile cached: bounded memory, fast reuse
                if not path.exists():
                    raise VoiceNotFoundError(f"no voice profile at {path}")
                profile = read_profile(path, self.info.model_id, allowed_shapes(self.model))
                self._profiles = {
                    key: self.voice_from_tensors(profile.manifest.name, profile.tensors)
                }
            return self._profiles[key]
        voice_id = str(voice) if voice is not None else None
        return VoiceHandle(
            voice_id or self.info.default_voice, self.model, self.speaker_vector(voice_id)
        )

    def voice_from_tensors(self, name: str, tensors: dict[str, torch.Tensor]) -> VoiceHandle:
        """A voice from adapted parameters (a profile's, or fresh from adaptation)."""
        if SPEAKER not in tensors:
            raise ProfileError(f"voice {name!r} has no speaker vector; it cannot be used")
        model = with_voice(self.model, tensors)
        return VoiceHandle(name, model, tensors[SPEAKER].float().to(self.device)[None])

    def speaker_vector(self, voice: str | None = None) -> torch.Tensor:
        """The embedding of a built-in voice (the default voice when ``None``)."""
        voice_id = voice or self.info.default_voice
        try:
            index = self.info.voice_index(voice_id)
        except KeyError:
            raise VoiceNotFoundError(
                f"unknown voice {voice_id!r}; list the voices with `metavoice synth --list-voices`"
            ) from None
        return self.model.speaker_vectors(torch.tensor([index], device=self.device))

    def speak(
        self,
        text: str,
        voice: str | Path | VoiceHandle | None = None,
        controls: Controls | None = None,
        progress: ProgressFn | None = None,
    ) -> SpeechResult:
        """Speech for ``text``; raises ``TextError`` for text that cannot be spoken."""
        started = time.perf_counter()
        prepared: PreparedText = self.frontend.prepare(text)
        handle = voice if isinstance(voice, VoiceHandle) else self.voice(voice)
        gap = np.zeros(int(SENTENCE_GAP_S * self.sample_rate), dtype=np.float32)
        # The post-filter's duration scale slows the model to its speakers' real pace.
        asked = controls or Controls()
        paced = dataclasses.replace(asked, speed=asked.speed / self.postfilter.duration_scale)
        pieces: list[np.ndarray] = []
        count = len(prepared.sentences)
        for index, sentence in enumerate(prepared.sentences):
            if progress is not None:
                progress(index / count, f"sentence {index + 1} of {count}")
            ids = torch.tensor([sentence.ids], device=self.device)
            features = handle.model.synthesize(ids, handle.speaker, paced)
            pieces += [self.postfilter.vocode(features.float().cpu().numpy()), gap]
        if progress is not None:
            progress(1.0, "done")
        audio = np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)
        return SpeechResult(
            audio,
            self.sample_rate,
            [s.text for s in prepared.sentences],
            prepared.warnings,
            time.perf_counter() - started,
        )
