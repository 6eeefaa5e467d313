"""A model folder's ``config.json``: the one place that reads, checks and writes it.

    format, model settings, phone set, feature layout   what the weights were made for
    voices, default_voice, model_id                     the training speakers; the weights' hash
    training                                            how the model was trained (the card's facts)
    synthesis                                           post-filter, real voices' delivery, its fit
    speaker_encoder, voice_memory                       the attached encoder and voice memory

Training, post-filter fitting, attaching an encoder and choosing the default voice each
change a part of this file; they all go through :class:`ModelFolder`, which checks the
whole description on every read and write (a folder is never left with a config the app
refuses) and writes atomically. Keys it does not know are kept as written, so an older
app version rewriting a newer model's config loses nothing. The weights are
:mod:`metavoice_app.core.model.checkpoint`'s.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from metavoice_app.core.atomic import atomic_write_text
from metavoice_app.core.features.postfilter import PostFilter, PostFilterError, VoiceDelivery
from metavoice_app.core.features.world import FEATURE_LAYOUT, FRAME_PERIOD_MS, SAMPLE_RATE
from metavoice_app.core.model.config import ModelConfig
from metavoice_app.core.text.phones import PHONES

if TYPE_CHECKING:  # reading a config needs no torch
    import torch

MODEL_FORMAT = 1
CONFIG = "config.json"
# The bundled model's config, 527 voices and their delivery, is under 100 kB.
MAX_CONFIG_BYTES = 4 * 2**20
_HEADER_KEYS = ("format", "phones", "sample_rate", "frame_period_ms", "feature_layout")
_DESCRIPTION_KEYS = ("model", "voices", "default_voice", "model_id", "training")
_PART_KEYS = ("synthesis", "speaker_encoder", "voice_memory")


class ModelLoadError(RuntimeError):
    """The model folder cannot be used; the message says why."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ModelLoadError(message)


@dataclass(frozen=True)
class Voice:
    """A training speaker the model can speak as without any recordings."""

    id: str
    source: str
    real: bool
    sex: str | None = None


def _fits(kind: object, value: object) -> bool:
    """Whether a stored value is of an optional field's type (JSON has no int/float split,
    so a whole number is a float too; booleans are not numbers here)."""
    if kind == dict[str, Any] | None:
        return isinstance(value, dict)
    if kind == str | None:
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) if kind == int | None else math.isfinite(value)


@dataclass(frozen=True)
class TrainingRecord:
    """How a model was trained, as the model card tells it. Every fact is optional: base
    training writes the first group, meta-training adds the second, and older models
    lack some."""

    steps: int | None = None
    epochs: int | None = None
    hours: float | None = None
    device: str | None = None
    best_validation_loss: float | None = None
    utterances: int | None = None
    minutes_of_speech: float | None = None
    # where new voices start: "meta:ALGORITHM" after meta-training, else the average voice
    init: str | None = None
    meta_steps: int | None = None
    meta_hours: float | None = None
    meta_ranks: int | None = None
    # the meta-training settings as recorded; a dict because records from before a
    # setting existed lack it, and the adapter reads that absence (no inner optimizer
    # recorded: plain SGD)
    meta: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # facts this version does not know

    def to_dict(self) -> dict[str, Any]:
        facts = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "extra" and getattr(self, f.name) is not None
        }
        return {**self.extra, **facts}

    @classmethod
    def from_dict(cls, data: object) -> TrainingRecord:
        """Parse a stored record; raises ``ValueError`` naming a fact of the wrong type."""
        if not isinstance(data, dict):
            raise ValueError("the training record is not a JSON object")
        hints = get_type_hints(cls)
        facts: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            value = data.get(f.name)
            if f.name == "extra" or value is None:
                continue
            if not _fits(hints[f.name], value):
                raise ValueError(f"training fact {f.name!r} holds {value!r}")
            facts[f.name] = float(value) if hints[f.name] == float | None else value
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**facts, extra={k: v for k, v in data.items() if k not in known})


@dataclass(frozen=True)
class VoiceMemoryRecord:
    """What the attached voice memory holds (its tensors are in ``voice_memory.safetensors``)."""

    prototypes: int
    speakers: int
    voices: tuple[str, ...] = ()  # the training voices whose voice prints it stores, in order
    start: bool = True  # adaptation starts from the memory's blend of known voices

    def to_dict(self) -> dict[str, Any]:
        return {
            "prototypes": self.prototypes,
            "speakers": self.speakers,
            "voices": list(self.voices),
            "start": self.start,
        }

    @classmethod
    def from_dict(cls, data: object) -> VoiceMemoryRecord:
        if not isinstance(data, dict):
            raise ValueError("'voice_memory' is not a JSON object")
        counts = (data.get("prototypes"), data.get("speakers"))
        if not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in counts):
            raise ValueError("the voice memory's prototype and speaker counts must be positive")
        voices = data.get("voices", [])
        if not (isinstance(voices, list) and all(isinstance(v, str) for v in voices)):
            raise ValueError("the voice memory's voice list is not a list of voice ids")
        start = data.get("start", True)
        if not isinstance(start, bool):
            raise ValueError("the voice memory's 'start' is not true or false")
        return cls(int(counts[0] or 0), int(counts[1] or 0), tuple(voices), start)


def _encoder_config(data: object) -> dict[str, int]:
    """The attached speaker encoder's settings: sizes, all positive whole numbers."""
    if not (
        isinstance(data, dict)
        and data
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in data.values())
    ):
        raise ValueError("'speaker_encoder' must map its settings to positive whole numbers")
    return {str(k): int(v) for k, v in data.items()}


@dataclass
class ModelInfo:
    """Everything ``config.json`` says about a model, checked."""

    config: ModelConfig
    voices: list[Voice]
    default_voice: str
    model_id: str  # sha256 of the weights: profiles are tied to it
    training: TrainingRecord = field(default_factory=TrainingRecord)
    # Meta-SGD's learned inner-loop step sizes, by parameter name (and speaker_init); these
    # live in the weights file and are filled in by ``load_model``
    inner_rates: dict[str, torch.Tensor] = field(default_factory=dict)
    # Corrections applied to the frames before vocoding (fitted after training), the
    # real voices' own pitch range and pace by voice id, and how they were fitted
    postfilter: PostFilter = field(default_factory=PostFilter)
    voice_delivery: dict[str, VoiceDelivery] = field(default_factory=dict)
    postfilter_fit: dict[str, Any] = field(default_factory=dict)
    speaker_encoder: dict[str, int] | None = None
    voice_memory: VoiceMemoryRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    def voice_index(self, voice_id: str) -> int:
        for index, voice in enumerate(self.voices):
            if voice.id == voice_id:
                return index
        raise KeyError(voice_id)

    def check(self, where: object = "the model") -> None:
        """Raise :class:`ModelLoadError` unless the parts agree with each other."""
        _expect(
            len(self.voices) == self.config.n_speakers,
            f"{where}: the voice list does not match the model",
        )
        ids = {v.id for v in self.voices}
        _expect(len(ids) == len(self.voices), f"{where}: the voice list repeats a voice")
        _expect(
            self.default_voice in ids,
            f"{where}: default voice {self.default_voice!r} is not listed",
        )
        unknown = set(self.voice_delivery) - ids
        _expect(
            not unknown,
            f"{where}: the post-filter names voices the model lacks: {sorted(unknown)[:3]}",
        )
        if self.voice_memory is not None:
            unknown = set(self.voice_memory.voices) - ids
            _expect(
                not unknown,
                f"{where}: the voice memory names voices the model lacks: {sorted(unknown)[:3]}",
            )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self.extra,
            "format": MODEL_FORMAT,
            "model": self.config.to_dict(),
            "phones": list(PHONES),
            "sample_rate": SAMPLE_RATE,
            "frame_period_ms": FRAME_PERIOD_MS,
            "feature_layout": FEATURE_LAYOUT,
            "voices": [dataclasses.asdict(v) for v in self.voices],
            "default_voice": self.default_voice,
            "model_id": self.model_id,
            "training": self.training.to_dict(),
        }
        if not (
            self.postfilter.is_identity and not self.voice_delivery and not self.postfilter_fit
        ):
            data["synthesis"] = {
                "postfilter": self.postfilter.to_dict(),
                "voices": {k: v.to_dict() for k, v in sorted(self.voice_delivery.items())},
                "fitted": self.postfilter_fit,
            }
        if self.speaker_encoder is not None:
            data["speaker_encoder"] = dict(self.speaker_encoder)
        if self.voice_memory is not None:
            data["voice_memory"] = self.voice_memory.to_dict()
        return data


class ModelFolder:
    """A model folder's description on disk. ``read`` checks everything; each change is a
    read, a checked edit and one atomic write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config_path = path / CONFIG

    def exists(self) -> bool:
        return self.config_path.is_file()

    def read_header(self) -> dict[str, Any]:
        """The raw config, checked only for what every model version shares (format,
        phones, features): enough to warm-start training from an older layout."""
        path = self.config_path
        _expect(path.is_file(), f"{self.path} is not a model folder (no {CONFIG})")
        try:
            size = path.stat().st_size
            _expect(
                size <= MAX_CONFIG_BYTES,
                f"{path} is {size / 2**20:.0f} MB, over the {MAX_CONFIG_BYTES // 2**20} MB limit",
            )
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{path} is unreadable: {exc}") from exc
        _expect(isinstance(data, dict), f"{path} does not hold a JSON object")
        _expect(
            data.get("format") == MODEL_FORMAT,
            f"model format {data.get('format')!r} is not supported (expected {MODEL_FORMAT})",
        )
        _expect(data.get("phones") == list(PHONES), "the model was trained with another phone set")
        _expect(
            data.get("sample_rate") == SAMPLE_RATE and data.get("feature_layout") == FEATURE_LAYOUT,
            "the model was trained on other acoustic features",
        )
        return dict(data)

    def voice_ids(self) -> list[str]:
        """The voices' ids, read leniently (see :meth:`read_header`)."""
        try:
            return [str(v["id"]) for v in self.read_header()["voices"]]
        except (KeyError, TypeError) as exc:
            raise ModelLoadError(f"{self.config_path} has a malformed voice list: {exc}") from exc

    def read(self) -> ModelInfo:
        """The whole description, checked; no weights are read."""
        data = self.read_header()
        path = self.config_path
        try:
            config = ModelConfig.from_dict(data["model"])
            voices = [Voice(**v) for v in data["voices"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{path} has a malformed model description: {exc}") from exc
        synthesis = data.get("synthesis", {})
        _expect(isinstance(synthesis, dict), f"{path}: 'synthesis' is not a JSON object")
        try:
            postfilter = PostFilter.from_dict(synthesis.get("postfilter", {}))
            stored = synthesis.get("voices", {})
            _expect(isinstance(stored, dict), f"{path}: 'synthesis.voices' is not a JSON object")
            delivery = {str(k): VoiceDelivery.from_dict(v) for k, v in stored.items()}
        except PostFilterError as exc:
            raise ModelLoadError(f"{path} has an unusable post-filter: {exc}") from exc
        fitted = synthesis.get("fitted", {})
        _expect(isinstance(fitted, dict), f"{path}: 'synthesis.fitted' is not a JSON object")
        try:
            training = TrainingRecord.from_dict(data.get("training", {}))
            encoder = data.get("speaker_encoder")
            memory = data.get("voice_memory")
            info = ModelInfo(
                config,
                voices,
                str(data.get("default_voice", voices[0].id if voices else "")),
                str(data.get("model_id", "")),
                training,
                postfilter=postfilter,
                voice_delivery=delivery,
                postfilter_fit=dict(fitted),
                speaker_encoder=None if encoder is None else _encoder_config(encoder),
                voice_memory=None if memory is None else VoiceMemoryRecord.from_dict(memory),
                extra={
                    k: v
                    for k, v in data.items()
                    if k not in (*_HEADER_KEYS, *_DESCRIPTION_KEYS, *_PART_KEYS)
                },
            )
        except ValueError as exc:
            raise ModelLoadError(f"{path}: {exc}") from exc
        info.check(path)
        return info

    def write(self, info: ModelInfo) -> None:
        """Store a description, checked first, atomically."""
        info.check(self.config_path)
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, json.dumps(info.to_dict(), indent=1) + "\n")

    def set_default_voice(self, voice: str) -> None:
        """Make one of the model's voices the one the app starts with."""
        info = self.read()
        _expect(voice in {v.id for v in info.voices}, f"{voice!r} is not one of the model's voices")
        info.default_voice = voice
        self.write(info)

    def set_synthesis(
        self,
        postfilter: PostFilter,
        fitted: dict[str, Any],
        voices: dict[str, VoiceDelivery] | None = None,
    ) -> None:
        """Store a post-filter, the voices' own delivery and how they were fitted. The
        weights, and so the model id that voices are tied to, stay as they are."""
        info = self.read()
        info.postfilter, info.postfilter_fit = postfilter, dict(fitted)
        info.voice_delivery = dict(voices or {})
        self.write(info)

    def set_speaker_tools(self, encoder: dict[str, int], memory: VoiceMemoryRecord) -> None:
        """Record an attached speaker encoder and voice memory (their tensors are written
        beside the config by the caller, before this)."""
        info = self.read()
        info.speaker_encoder, info.voice_memory = _encoder_config(encoder), memory
        self.write(info)
