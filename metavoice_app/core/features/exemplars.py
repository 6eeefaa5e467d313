"""Exemplar refinement: the person's own spectral detail put back into a cloned voice.

A few adaptation steps move the model's voice towards the person, but its envelopes stay
the model's smooth average: injected into the person's real recordings, that smoothing
alone costs a tenth of the speaker similarity, and the adapted envelope misses the
person's timbre beyond it. The takes hold the real thing. After adapting, the voice says
each take's text as it speaks new text (its own durations, at the person's pace), and
every frame it makes is paired with the take's real frames by warping the two envelopes
onto each other; their difference (the *residual*) is what the model got wrong about
this person for that sound in that context. (Pairs made at the take's force-aligned
timing held another kind of frame than the ones the tables are searched with, and the
aligner often misplaces boundaries in real speech: they corrected clones less, see
docs/benchmarks.md, adapt-exemplar-pairs.)

At synthesis each frame the model makes looks up the take frames of the same phone
(stress ignored) whose predictions are nearest to its own (in the model's coded-envelope
space, so context and position within the phone are matched by what the model would
say, not by how the clone sounds) and adds most of the mean of their residuals, smoothed
over a few frames so neighbours chosen independently do not flicker. Sounds the takes never
said are left as the model makes them. Only the envelope shape (coefficients 1 and up)
is corrected; loudness, pitch and voicing stay the model's.

The tables are data (three arrays) stored in the profile beside the adapted parameters
and validated like them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from metavoice_app.core.features import world
from metavoice_app.core.text.phones import PHONES, base_phone

PREFIX = "exemplar."
CLASSES, PREDICTED, RESIDUAL = (PREFIX + n for n in ("classes", "predicted", "residual"))
# Coded-envelope coefficients that are matched and corrected (0, loudness, is not).
ENVELOPE = slice(1, world.N_MCEP)
N_ENVELOPE = world.N_MCEP - 1
# Two minutes of speech: far more than the wizard's takes give; larger tables are thinned.
MAX_FRAMES = 12_000
NEIGHBOURS = 16
SMOOTHING_FRAMES = 3
# How much of the residual is added. All of it gave the most likeness on the dev speakers
# (similarity 0.771 against 0.721 without) but cost naturalness and intelligibility (NISQA
# 2.17 against 2.42, WER 20 % against 15 %); 0.7, with the post-filter's envelope gains at
# strength 1.25, kept most of the likeness (0.764) for a small part of that cost (2.33,
# 16 %). docs/benchmarks.md has the table.
RESIDUAL_WEIGHT = 0.7
MAX_RESIDUAL = 50.0  # coded-envelope units; real residuals stay within a few

_CLASS_NAMES = sorted({base_phone(p) for p in PHONES})
# phone id -> phone class id (the phone without its stress)
PHONE_CLASS = np.array([_CLASS_NAMES.index(base_phone(p)) for p in PHONES], dtype=np.uint8)
# classes never corrected: padding, silence and short pauses
_NOT_SPEECH = {int(PHONE_CLASS[i]) for i in range(3)}


class ExemplarError(ValueError):
    """Stored exemplar tables that cannot be used; the message says why."""


@dataclass(frozen=True)
class Exemplars:
    """Take frames by phone class: the model's predicted envelope and the residual."""

    classes: npt.NDArray[np.uint8]  # (N,)
    predicted: npt.NDArray[np.float32]  # (N, N_ENVELOPE)
    residual: npt.NDArray[np.float32]  # (N, N_ENVELOPE)

    def __post_init__(self) -> None:
        n = len(self.classes)
        if self.classes.ndim != 1 or not 0 < n <= MAX_FRAMES:
            raise ExemplarError(f"exemplar tables must hold 1 to {MAX_FRAMES} frames")
        for name, table in (("predicted", self.predicted), ("residual", self.residual)):
            if table.shape != (n, N_ENVELOPE):
                raise ExemplarError(
                    f"exemplar {name} frames have shape {table.shape}, expected {(n, N_ENVELOPE)}"
                )
            if not np.isfinite(table).all() or float(np.abs(table).max()) > MAX_RESIDUAL:
                raise ExemplarError(f"exemplar {name} frames hold invalid or absurd values")
        if int(self.classes.max()) >= len(_CLASS_NAMES):
            raise ExemplarError("exemplar frames name a phone this model does not have")

    @property
    def frames(self) -> int:
        return len(self.classes)

    @classmethod
    def collect(
        cls,
        takes: Iterable[tuple[npt.NDArray[np.integer], np.ndarray, np.ndarray]],
    ) -> Exemplars | None:
        """Tables from (phone id of each frame, the voice's frames, the real frames paired
        with them) per take; None when the takes hold no speech frames."""
        classes, predicted, residual = [], [], []
        for frame_phones, said, real in takes:
            n = min(len(frame_phones), len(said), len(real))
            kind = PHONE_CLASS[np.asarray(frame_phones[:n])]
            speech = ~np.isin(kind, list(_NOT_SPEECH))
            classes.append(kind[speech])
            predicted.append(np.asarray(said[:n, ENVELOPE], np.float32)[speech])
            residual.append((real[:n, ENVELOPE] - said[:n, ENVELOPE]).astype(np.float32)[speech])
        if not classes or sum(len(c) for c in classes) == 0:
            return None
        every = math.ceil(sum(len(c) for c in classes) / MAX_FRAMES)
        return cls(
            np.concatenate(classes)[::every],
            np.concatenate(predicted)[::every],
            np.concatenate(residual)[::every],
        )

    def refine(
        self, frames: npt.NDArray[np.floating], frame_phones: npt.NDArray[np.integer]
    ) -> npt.NDArray[np.float64]:
        """One sentence's ``(T, FEATURE_DIM)`` model frames with the takes' residuals added;
        ``frame_phones`` is the phone id each frame belongs to."""
        out = np.array(frames, dtype=np.float64)
        kinds = PHONE_CLASS[np.asarray(frame_phones[: len(out)])]
        correction = np.zeros((len(out), N_ENVELOPE))
        for kind in np.unique(kinds):
            if int(kind) in _NOT_SPEECH:
                continue
            mine = np.flatnonzero(kinds == kind)
            theirs = np.flatnonzero(self.classes == kind)
            if theirs.size == 0:
                continue
            distance = ((out[mine, None, ENVELOPE] - self.predicted[None, theirs]) ** 2).sum(
                axis=-1
            )
            k = min(NEIGHBOURS, theirs.size)
            nearest = np.argpartition(distance, k - 1, axis=1)[:, :k]
            correction[mine] = self.residual[theirs[nearest]].mean(axis=1)
        if SMOOTHING_FRAMES > 1 and len(out) >= SMOOTHING_FRAMES:
            kernel = np.ones(SMOOTHING_FRAMES) / SMOOTHING_FRAMES
            correction = np.apply_along_axis(np.convolve, 0, correction, kernel, mode="same")
        out[:, ENVELOPE] += RESIDUAL_WEIGHT * correction
        return out

    def to_tensors(self) -> dict[str, torch.Tensor]:
        """The tables as a profile stores them (float16 frames)."""
        return {
            CLASSES: torch.from_numpy(self.classes.astype(np.uint8)),
            PREDICTED: torch.from_numpy(self.predicted).half(),
            RESIDUAL: torch.from_numpy(self.residual).half(),
        }

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, torch.Tensor]) -> Exemplars | None:
        """The tables among a profile's tensors (None for a profile without them); raises
        :class:`ExemplarError` for incomplete or malformed ones."""
        present = {k for k in tensors if k.startswith(PREFIX)}
        if not present:
            return None
        if present != {CLASSES, PREDICTED, RESIDUAL}:
            raise ExemplarError("the exemplar tables are incomplete or hold unknown parts")
        classes = tensors[CLASSES]
        if classes.dtype != torch.uint8:
            raise ExemplarError("exemplar phone classes must be 8-bit integers")
        return cls(
            classes.numpy().copy(),
            tensors[PREDICTED].float().numpy().copy(),
            tensors[RESIDUAL].float().numpy().copy(),
        )


def without_exemplars(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A profile's tensors less the exemplar tables: the model's adapted parameters."""
    return {k: v for k, v in tensors.items() if not k.startswith(PREFIX)}


def frame_phones(phones: torch.Tensor, durations: torch.Tensor) -> npt.NDArray[np.int64]:
    """The phone id of every frame of one sentence, from its ``(1, N)`` phones and
    durations."""
    return torch.repeat_interleave(phones[0], durations[0]).cpu().numpy()
