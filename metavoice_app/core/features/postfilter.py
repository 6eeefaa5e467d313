"""Synthesis-time corrections of the acoustic model's measured biases, applied to its
frames before WORLD turns them into sound.

A model trained with a frame-wise L1 loss predicts the average of what it has seen, so
its envelopes vary far less within a sentence than real speech does (the high
coefficients, which carry fine spectral detail and sibilants, by a factor of 10 to 100
in variance) and its pitch moves in a narrower range. Injected into real recordings,
that over-smoothing alone takes a naturalness judge from 3.2 to 2.3. The classic remedy
of statistical parametric synthesis is a global-variance post-filter: each coefficient's
deviation from the sentence's mean is scaled by a gain fitted, per coefficient, as the
ratio of real to predicted within-sentence spread on real speakers' recordings
(:mod:`metavoice_app.core.train.postfilter` fits it; the model folder stores it, so a
retrained model gets its own). ``strength`` raises the gains to a power: 1 restores the
real spread, more sharpens further, 0 turns the envelope correction off. The same record
widens the pitch range, sets the voicing threshold and slows the phone durations, each
fitted so the model's delivery matches the real speakers', and gives every speech sound
a minimum length: the model clips short consonants to a frame or two, which a listener
(and a recogniser) loses.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from metavoice_app.core.features import world

MAX_GAIN = 50.0
MAX_STRENGTH = 3.0
PITCH_RANGE_LIMITS = (0.25, 4.0)
DURATION_SCALE_LIMITS = (0.5, 2.0)
MAX_PHONE_FRAMES = 12  # a floor of 120 ms would stretch most sounds, not only the clipped
# A voice's own voicing threshold, fitted to its speaker's voiced share, stays within
# these: outside them a few clips' measurement, not the voice, would be deciding. At 0.98
# the default voice stayed 7 points more voiced than its speaker; 0.99 brought it within 4
# at the same naturalness, and 0.995 (within 1) cost 0.14 NISQA-TTS (tuning slice,
# docs/benchmarks.md).
VOICING_LIMITS = (0.3, 0.99)
# The envelope gains' strength for voices refined by exemplars, whose residuals restore
# part of the spread: on the dev speakers (docs/benchmarks.md) 1 gave the most likeness and
# 1.5 the most naturalness; 1.25 with most of the residual balances the two.
EXEMPLAR_STRENGTH = 1.25


class PostFilterError(ValueError):
    """A stored post-filter that cannot be used; the message says which value."""


@dataclass(frozen=True)
class PostFilter:
    """What is done to the model's frames before vocoding (the identity by default)."""

    # Per coded-envelope coefficient 1..N_MCEP-1 (coefficient 0 is loudness, left alone);
    # empty means no envelope correction.
    envelope_gain: tuple[float, ...] = ()
    strength: float = 1.0
    # Scale of log-F0 around the sentence's voiced mean (1 = as predicted).
    pitch_range: float = 1.0
    # A frame is voiced where the model's voicing probability exceeds this.
    voicing_threshold: float = 0.5
    # Phone durations are multiplied by this before decoding (>1 is slower): the model
    # speaks faster than the real speakers it learned from. The engine applies it.
    duration_scale: float = 1.0
    # Every speech sound lasts at least this many 10 ms frames at normal speed (fewer
    # when the listener asks for faster speech; 1 = as predicted). The engine applies it.
    min_phone_frames: int = 1

    def __post_init__(self) -> None:
        gains = self.envelope_gain
        if gains and len(gains) != world.N_MCEP - 1:
            raise PostFilterError(
                f"envelope_gain has {len(gains)} values; this model's frames need "
                f"{world.N_MCEP - 1}"
            )
        if not all(math.isfinite(g) and 0.0 < g <= MAX_GAIN for g in gains):
            raise PostFilterError(f"envelope_gain values must be in (0, {MAX_GAIN:g}]")
        if not (math.isfinite(self.strength) and 0.0 <= self.strength <= MAX_STRENGTH):
            raise PostFilterError(f"strength must be between 0 and {MAX_STRENGTH:g}")
        low, high = PITCH_RANGE_LIMITS
        if not (math.isfinite(self.pitch_range) and low <= self.pitch_range <= high):
            raise PostFilterError(f"pitch_range must be between {low:g} and {high:g}")
        if not (math.isfinite(self.voicing_threshold) and 0.0 < self.voicing_threshold < 1.0):
            raise PostFilterError("voicing_threshold must be strictly between 0 and 1")
        low, high = DURATION_SCALE_LIMITS
        if not (math.isfinite(self.duration_scale) and low <= self.duration_scale <= high):
            raise PostFilterError(f"duration_scale must be between {low:g} and {high:g}")
        if not (
            isinstance(self.min_phone_frames, int)
            and 1 <= self.min_phone_frames <= MAX_PHONE_FRAMES
        ):
            raise PostFilterError(
                f"min_phone_frames must be a whole number from 1 to {MAX_PHONE_FRAMES}"
            )

    def phone_floor(self, speed: float) -> int:
        """The fewest frames a speech sound gets when the listener asks for ``speed``
        (2 = twice as fast): the floor shrinks with faster speech so that it does not
        hold the speed control back."""
        return max(1, round(self.min_phone_frames / speed))

    @property
    def is_identity(self) -> bool:
        return (
            (not self.envelope_gain or self.strength == 0.0)
            and self.pitch_range == 1.0
            and self.voicing_threshold == 0.5
            and self.duration_scale == 1.0
            and self.min_phone_frames == 1
        )

    def apply(self, features: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """One sentence's ``(frames, 43)`` frames, corrected (a new array)."""
        out = np.array(features, dtype=np.float64)
        if out.shape[0] == 0:
            return out
        if self.envelope_gain and self.strength > 0.0:
            gain = np.asarray(self.envelope_gain) ** self.strength
            envelope = out[:, 1 : world.N_MCEP]
            mean = envelope.mean(axis=0)
            out[:, 1 : world.N_MCEP] = mean + (envelope - mean) * gain
        if self.pitch_range != 1.0:
            voiced = out[:, world.VUV] > self.voicing_threshold
            if voiced.any():
                centre = out[voiced, world.LF0].mean()
                out[:, world.LF0] = centre + (out[:, world.LF0] - centre) * self.pitch_range
        return out

    def vocode(self, features: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        """One sentence's frames to audio, through the corrections."""
        return world.synthesize(self._world_params(features))

    def vocode_growing(
        self, features: npt.NDArray[np.floating]
    ) -> Iterator[tuple[npt.NDArray[np.float32], bool]]:
        """:meth:`vocode`'s audio in pieces that join to exactly it, the first made after a
        fraction of the work (see :func:`world.synthesize_growing`)."""
        return world.synthesize_growing(self._world_params(features))

    def _world_params(self, features: npt.NDArray[np.floating]) -> world.WorldParams:
        """One sentence's frames, corrected, as WORLD parameters at this voicing threshold."""
        return world.decode(self.apply(features), self.voicing_threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "envelope_gain": [round(g, 5) for g in self.envelope_gain],
            "strength": self.strength,
            "pitch_range": self.pitch_range,
            "voicing_threshold": self.voicing_threshold,
            "duration_scale": self.duration_scale,
            "min_phone_frames": self.min_phone_frames,
        }

    def for_voice(self, delivery: VoiceDelivery | None, exemplars: bool = False) -> PostFilter:
        """This post-filter with a voice's own pitch range, pace and (where fitted)
        voicing threshold, fitted to its speaker's recordings or the person's takes, in
        place of the model's averages; for a voice refined by its takes' exemplars (whose
        real residuals restore much of the envelope's spread), the envelope gains at most
        at :data:`EXEMPLAR_STRENGTH`."""
        voiced = self
        if delivery is not None:
            voiced = dataclasses.replace(
                voiced, pitch_range=delivery.pitch_range, duration_scale=delivery.duration_scale
            )
            if delivery.voicing_threshold is not None:
                voiced = dataclasses.replace(voiced, voicing_threshold=delivery.voicing_threshold)
        if exemplars and voiced.strength > EXEMPLAR_STRENGTH:
            voiced = dataclasses.replace(voiced, strength=EXEMPLAR_STRENGTH)
        return voiced

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PostFilter:
        """Parse a stored post-filter; raises :class:`PostFilterError` naming the problem."""
        if not isinstance(data, Mapping):
            raise PostFilterError("the post-filter is not a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise PostFilterError(f"unknown post-filter settings: {sorted(unknown)}")
        try:
            gains = tuple(float(g) for g in data.get("envelope_gain", ()))
            return cls(
                envelope_gain=gains,
                strength=float(data.get("strength", 1.0)),
                pitch_range=float(data.get("pitch_range", 1.0)),
                voicing_threshold=float(data.get("voicing_threshold", 0.5)),
                duration_scale=float(data.get("duration_scale", 1.0)),
                min_phone_frames=_whole(data.get("min_phone_frames", 1), "min_phone_frames"),
            )
        except PostFilterError:
            raise
        except (TypeError, ValueError) as exc:
            raise PostFilterError(
                f"the post-filter holds a value that is not a number: {exc}"
            ) from exc


def _whole(value: Any, name: str) -> int:
    """A stored whole number (JSON may hold it as 3 or 3.0, never as 3.5 or text)."""
    number = float(value)
    if not number.is_integer():
        raise PostFilterError(f"{name} must be a whole number, not {value!r}")
    return int(number)


@dataclass(frozen=True)
class VoiceDelivery:
    """A voice's delivery, fitted to its speaker's recordings or the person's takes: how
    much wider than the model's their pitch moves, how much slower than its predicted
    durations they speak, and, where fitted, the voicing threshold at which the model's
    speech in this voice is voiced as often as theirs (speakers differ by 15 points in
    voiced share, so one threshold for all left some voices buzzing through their
    unvoiced sounds). A profile or the model folder carries it; the model's post-filter
    supplies the rest."""

    pitch_range: float = 1.0
    duration_scale: float = 1.0
    voicing_threshold: float | None = None  # None: the model's

    def __post_init__(self) -> None:
        PostFilter(pitch_range=self.pitch_range, duration_scale=self.duration_scale)
        if self.voicing_threshold is not None:
            low, high = VOICING_LIMITS
            if not (
                math.isfinite(self.voicing_threshold) and low <= self.voicing_threshold <= high
            ):
                raise PostFilterError(
                    f"a voice's voicing_threshold must be between {low:g} and {high:g}"
                )

    @classmethod
    def measured(
        cls, pitch_ratio: float, pace_ratio: float, voicing_threshold: float | None = None
    ) -> VoiceDelivery:
        """A delivery from measured values, kept within what the post-filter allows (a
        measurement on a few noisy clips can fall outside)."""
        return cls(
            float(np.clip(pitch_ratio, *PITCH_RANGE_LIMITS)),
            float(np.clip(pace_ratio, *DURATION_SCALE_LIMITS)),
            None
            if voicing_threshold is None
            else float(np.clip(voicing_threshold, *VOICING_LIMITS)),
        )

    def to_dict(self) -> dict[str, float]:
        stored = {"pitch_range": self.pitch_range, "duration_scale": self.duration_scale}
        if self.voicing_threshold is not None:
            stored["voicing_threshold"] = self.voicing_threshold
        return stored

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoiceDelivery:
        fields = {"pitch_range", "duration_scale", "voicing_threshold"}
        if not isinstance(data, Mapping) or set(data) - fields:
            raise PostFilterError(
                "a voice's delivery holds pitch_range, duration_scale and voicing_threshold only"
            )
        try:
            threshold = data.get("voicing_threshold")
            return cls(
                float(data.get("pitch_range", 1.0)),
                float(data.get("duration_scale", 1.0)),
                None if threshold is None else float(threshold),
            )
        except PostFilterError:
            raise
        except (TypeError, ValueError) as exc:
            raise PostFilterError(f"a voice's delivery is not numeric: {exc}") from exc
