"""The ``.mvoice`` voice profile: a zip holding data only, validated before use.

    manifest.json        format version, name, base model id, adapted tensor names and
                         shapes, training recipe, creation date, consent record
    adapter.safetensors  the adapted parameters and the takes' exemplar tables (never pickle)
    preview.wav          a short sample of the voice
    takes.json, takeNN.flac, consent.wav
                         only in a profile exported with its takes (see :mod:`.takes`):
                         the recordings to learn the voice again for a new model

Profiles arrive from other people, so reading one trusts nothing: member names
are whitelisted (no folders, no path tricks), every member and the whole file
are size-capped (zip bombs included), the format version must be known, the
base model must be the one in use, and every tensor must have the name, shape
and type the manifest and the model expect, with finite values of a sane size. Only a
profile that carries its takes may be larger than :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import io
import json
import math
import uuid
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from metavoice_app.core.atomic import atomic_open
from metavoice_app.core.features.exemplars import ExemplarError, Exemplars, without_exemplars
from metavoice_app.core.features.postfilter import PostFilterError, VoiceDelivery
from metavoice_app.core.model.voice import factor_problem
from metavoice_app.core.profiles import takes as kept
from metavoice_app.core.profiles.takes import TakesError, VoiceTakes

FORMAT_VERSION = 1
SUFFIX = ".mvoice"
MANIFEST = "manifest.json"
ADAPTER = "adapter.safetensors"
PREVIEW = "preview.wav"
MEMBER_LIMITS = {MANIFEST: 256 * 1024, ADAPTER: 4 * 2**20, PREVIEW: 2 * 2**20}
MAX_FILE_BYTES = 8 * 2**20
MAX_FILE_WITH_TAKES_BYTES = MAX_FILE_BYTES + kept.MAX_TAKES_BYTES
MAX_VOICE_PRINT = 1024
MAX_NAME_CHARS = 80
# Parameters are floats; 8-bit integers only hold the exemplar tables' phone classes.
ALLOWED_DTYPES = {"F16": torch.float16, "F32": torch.float32, "U8": torch.uint8}
# A trained model's weights and speaker vectors stay within a few units (the bundled
# model's largest is about 11); a profile beyond this bound is damaged or hostile, and
# would be spoken as full-scale noise.
MAX_MAGNITUDE = 1e3


class ProfileError(ValueError):
    """A profile cannot be used; the message says what is wrong in plain words."""


@dataclass
class Consent:
    """Who agreed to have their voice cloned, and the sentence they read to say so."""

    speaker_name: str
    statement: str
    recorded_at: str
    recording_sha256: str = ""


@dataclass
class TensorSpec:
    name: str
    shape: list[int]
    dtype: str


@dataclass
class Manifest:
    name: str
    base_model_id: str
    tensors: list[TensorSpec]
    consent: Consent
    recipe: dict[str, Any] = field(default_factory=dict)
    takes: int = 0
    similarity: float | None = None
    # The speaker encoder's embedding of the takes: where the voice sits on the voice map.
    voice_print: list[float] | None = None
    # The person's pitch range, pace and voicing threshold, fitted to the takes
    # (VoiceDelivery's fields)
    delivery: dict[str, float] | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ProfileError("the manifest is not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ProfileError(
                f"profile format version {version!r} is not supported by this "
                f"version of MetaVoice Studio (it reads version {FORMAT_VERSION})"
            )
        try:
            tensors = [
                TensorSpec(str(t["name"]), [int(d) for d in t["shape"]], str(t["dtype"]))
                for t in data["tensors"]
            ]
            consent = Consent(**data["consent"])
            manifest = cls(
                name=str(data["name"]),
                base_model_id=str(data["base_model_id"]),
                tensors=tensors,
                consent=consent,
                recipe=dict(data.get("recipe", {})),
                takes=int(data.get("takes", 0)),
                similarity=None if data.get("similarity") is None else float(data["similarity"]),
                voice_print=None
                if data.get("voice_print") is None
                else [float(v) for v in data["voice_print"]],
                delivery=None if data.get("delivery") is None else dict(data["delivery"]),
                created=str(data["created"]),
                id=str(data["id"]),
                format_version=version,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"the manifest is incomplete or malformed ({exc})") from exc
        manifest.validate()
        return manifest

    def validate(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME_CHARS:
            raise ProfileError(f"a voice name must have 1 to {MAX_NAME_CHARS} characters")
        if any(ord(ch) < 32 for ch in self.name):
            raise ProfileError("the voice name holds control characters")
        if not self.tensors:
            raise ProfileError("the profile lists no adapted parameters")
        for spec in self.tensors:
            if spec.dtype not in ALLOWED_DTYPES:
                raise ProfileError(f"parameter {spec.name} has unsupported type {spec.dtype}")
        if not self.consent.speaker_name.strip() or not self.consent.statement.strip():
            raise ProfileError("the profile has no consent record")
        if self.voice_print is not None and (
            not 0 < len(self.voice_print) <= MAX_VOICE_PRINT
            or not all(math.isfinite(v) for v in self.voice_print)
        ):
            raise ProfileError(f"the voice print must be 1 to {MAX_VOICE_PRINT} finite numbers")
        self.voice_delivery()

    def voice_delivery(self) -> VoiceDelivery | None:
        """The voice's fitted delivery, checked (profiles from before it have none)."""
        if self.delivery is None:
            return None
        try:
            return VoiceDelivery.from_dict(self.delivery)
        except PostFilterError as exc:
            raise ProfileError(f"the voice's delivery is unusable: {exc}") from exc


@dataclass
class Profile:
    manifest: Manifest
    tensors: dict[str, torch.Tensor]
    preview: np.ndarray
    preview_rate: int
    takes: VoiceTakes | None = None  # only in a profile exported with its takes


def _dtype_name(tensor: torch.Tensor) -> str:
    for name, dtype in ALLOWED_DTYPES.items():
        if tensor.dtype == dtype:
            return name
    raise ProfileError(f"tensors must be float16, float32 or uint8, not {tensor.dtype}")


def save_profile(
    path: Path,
    manifest: Manifest,
    tensors: dict[str, torch.Tensor],
    preview: np.ndarray,
    preview_rate: int,
    takes: VoiceTakes | None = None,
) -> None:
    """Write a profile atomically; the manifest's tensor list is filled from ``tensors``.
    With ``takes``, the profile carries the recordings the voice was learned from."""
    manifest.tensors = [
        TensorSpec(name, list(t.shape), _dtype_name(t)) for name, t in sorted(tensors.items())
    ]
    manifest.validate()
    wav = io.BytesIO()
    sf.write(
        wav, np.asarray(preview, dtype=np.float32), preview_rate, format="WAV", subtype="PCM_16"
    )
    members = {
        MANIFEST: manifest.to_json().encode("utf-8"),
        ADAPTER: save_tensors({k: v.contiguous().cpu() for k, v in tensors.items()}),
        PREVIEW: wav.getvalue(),
    }
    for name, data in members.items():
        if len(data) > MEMBER_LIMITS[name]:
            raise ProfileError(
                f"{name} would be {len(data)} bytes, over its {MEMBER_LIMITS[name]}-byte limit"
            )
    if takes is not None:
        try:
            members.update(kept.encode(takes))
        except TakesError as exc:
            raise ProfileError(f"the takes cannot be kept with the profile: {exc}") from exc
    with atomic_open(path) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _read_members(path: Path) -> dict[str, bytes]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ProfileError(f"{path.name}: cannot be read ({exc})") from exc
    too_large = ProfileError(
        f"{path.name} is {size / 2**20:.1f} MB; profiles are at most "
        f"{MAX_FILE_BYTES // 2**20} MB ({MAX_FILE_WITH_TAKES_BYTES // 2**20} MB with their takes)"
    )
    if size > MAX_FILE_WITH_TAKES_BYTES:
        raise too_large
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProfileError(
            f"{path.name} is not a MetaVoice profile (not a valid zip file)"
        ) from exc
    members: dict[str, bytes] = {}
    with archive:
        infos = archive.infolist()
        if size > MAX_FILE_BYTES and kept.INDEX not in {info.filename for info in infos}:
            raise too_large  # the larger cap is for profiles that carry their takes only
        for info in infos:
            name = info.filename
            if name in MEMBER_LIMITS:
                limit = MEMBER_LIMITS[name]
            elif kept.is_takes_member(name):
                limit = kept.member_limit(name)
            else:
                raise ProfileError(
                    f"{path.name} holds an unexpected file {name!r}; profiles "
                    "contain only manifest.json, adapter.safetensors and "
                    "preview.wav (and, exported with them, the voice's takes)"
                )
            if name in members:
                raise ProfileError(f"{path.name} holds {name} twice")
            if info.file_size > limit:
                raise ProfileError(
                    f"{name} in {path.name} is too large ({info.file_size} bytes, limit {limit})"
                )
            try:
                with archive.open(info) as member:
                    data = member.read(limit + 1)
            except (
                RuntimeError,
                NotImplementedError,
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
            ) as exc:  # encrypted, odd compression, bad CRC, truncated
                raise ProfileError(f"{name} in {path.name} cannot be read ({exc})") from exc
            if len(data) > limit:  # the header lied about the size
                raise ProfileError(f"{name} in {path.name} is larger than it claims")
            members[name] = data
    missing = [name for name in MEMBER_LIMITS if name not in members]
    if missing:
        raise ProfileError(f"{path.name} is incomplete: {', '.join(missing)} missing")
    return members


def read_profile(
    path: Path,
    base_model_id: str | None = None,
    expected_shapes: dict[str, tuple[int, ...]] | None = None,
) -> Profile:
    """Load and validate a profile; with ``base_model_id``/``expected_shapes`` it must also
    fit the model in use (see :func:`check_fits`)."""
    members = _read_members(path)
    try:
        manifest = Manifest.from_json(members[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"{path.name}: the manifest is not valid JSON") from exc
    if base_model_id is not None:  # told before anything else is read: the likeliest problem
        _check_model(manifest, base_model_id)
    try:
        tensors = load_tensors(members[ADAPTER])
    except Exception as exc:  # safetensors reports bad data with several exception types
        raise ProfileError(f"{path.name}: the adapted parameters are damaged ({exc})") from exc
    listed = {spec.name: spec for spec in manifest.tensors}
    if set(tensors) != set(listed):
        raise ProfileError(f"{path.name}: the parameters do not match the manifest")
    for name, tensor in tensors.items():
        spec = listed[name]
        if list(tensor.shape) != spec.shape or tensor.dtype != ALLOWED_DTYPES[spec.dtype]:
            raise ProfileError(
                f"{path.name}: parameter {name} is not the shape or type the manifest says"
            )
        if not torch.isfinite(tensor).all():
            raise ProfileError(f"{path.name}: parameter {name} holds invalid numbers")
        peak = float(tensor.abs().max()) if tensor.numel() else 0.0
        if peak > MAX_MAGNITUDE:
            raise ProfileError(
                f"{path.name}: parameter {name} holds values up to {peak:.3g}, far beyond "
                f"what a voice uses (at most {MAX_MAGNITUDE:g}); the profile is damaged"
            )
    try:
        Exemplars.from_tensors(tensors)
    except ExemplarError as exc:
        raise ProfileError(f"{path.name}: {exc}") from exc
    if any(not tensor.is_floating_point() for tensor in without_exemplars(tensors).values()):
        raise ProfileError(f"{path.name}: the adapted parameters must be floating point")
    try:
        preview, rate = sf.read(io.BytesIO(members[PREVIEW]), dtype="float32")
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ProfileError(f"{path.name}: the preview audio is damaged") from exc
    if preview.ndim != 1:
        raise ProfileError(f"{path.name}: the preview must be mono")
    takes = None
    if kept.INDEX in members:
        try:
            takes = kept.decode({n: d for n, d in members.items() if kept.is_takes_member(n)})
        except TakesError as exc:
            raise ProfileError(f"{path.name}: its takes are unusable: {exc}") from exc
    elif any(kept.is_takes_member(name) for name in members):
        raise ProfileError(f"{path.name}: it holds takes without their {kept.INDEX}")
    profile = Profile(manifest, tensors, preview, rate, takes)
    if expected_shapes is not None:
        check_fits(profile, manifest.base_model_id, expected_shapes, path.name)
    return profile


def _check_model(manifest: Manifest, base_model_id: str) -> None:
    if manifest.base_model_id != base_model_id:
        raise ProfileError(
            f"'{manifest.name}' was made for another speech model ({manifest.base_model_id[:12]}"
            f"), not the one in use ({base_model_id[:12]}); it cannot be used here"
        )


def check_fits(
    profile: Profile,
    base_model_id: str,
    expected_shapes: dict[str, tuple[int, ...]],
    source: str = "the profile",
) -> None:
    """Whether a profile read without a model can be used on this one: made for it, with
    parameters it has, of the shapes it has."""
    _check_model(profile.manifest, base_model_id)
    problem = factor_problem(profile.tensors)
    if problem is not None:
        raise ProfileError(f"{source}: {problem}")
    for name, tensor in without_exemplars(profile.tensors).items():
        if name not in expected_shapes:
            raise ProfileError(f"{source}: parameter {name} does not exist in this model")
        if tuple(tensor.shape) != tuple(expected_shapes[name]):
            raise ProfileError(
                f"{source}: parameter {name} has shape "
                f"{tuple(tensor.shape)}, the model needs "
                f"{tuple(expected_shapes[name])}"
            )
