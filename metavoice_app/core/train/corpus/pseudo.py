"""Pseudo-speakers: new voices made from a recorded or synthetic one.

Three knobs on the WORLD parameters change who a voice sounds like: F0 scale
(pitch), vocal-tract-length warping of the spectral envelope (formant scale,
the strongest cue to body size and sex), and speaking rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from metavoice_app.core.features.world import WorldParams


@dataclass(frozen=True)
class Transform:
    f0_scale: float = 1.0
    formant_scale: float = 1.0
    rate: float = 1.0

    def is_identity(self) -> bool:
        return self == Transform()

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def warp_envelope(sp: np.ndarray, formant_scale: float) -> np.ndarray:
    """Move formants by ``formant_scale`` (>1: shorter vocal tract, higher formants)."""
    if formant_scale == 1.0:
        return sp
    bins = sp.shape[1]
    source = np.clip(np.arange(bins) / formant_scale, 0, bins - 1)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, bins - 1)
    frac = source - low
    # Interpolate in the log domain so formant peaks keep their shape.
    log_sp = np.log(np.maximum(sp, 1e-16))
    return np.asarray(np.exp(log_sp[:, low] * (1 - frac) + log_sp[:, high] * frac))


def _retime(params: WorldParams, rate: float) -> WorldParams:
    if rate == 1.0:
        return params
    n_out = max(1, round(params.n_frames / rate))
    positions = np.linspace(0, params.n_frames - 1, n_out)
    nearest = np.rint(positions).astype(np.int64)
    return WorldParams(params.f0[nearest], params.sp[nearest], params.ap[nearest])


def apply(params: WorldParams, transform: Transform) -> WorldParams:
    """A new voice's parameters; the input is left unchanged."""
    out = WorldParams(
        params.f0 * transform.f0_scale, warp_envelope(params.sp, transform.formant_scale), params.ap
    )
    return _retime(out, transform.rate)


def sample_transforms(count: int, rng: np.random.Generator) -> list[Transform]:
    """``count`` distinct transforms; the first is the unmodified voice.

    F0 and formant scales are drawn together so that most pseudo-speakers stay
    plausible (a lower voice tends to have a longer vocal tract) with spread
    around that trend; rates stay within everyday speech.
    """
    transforms = [Transform()]
    while len(transforms) < count:
        size = rng.uniform(-1.0, 1.0)
        f0 = float(np.exp(0.28 * size + rng.normal(0, 0.07)))
        formant = float(np.exp(0.08 * size + rng.normal(0, 0.025)))
        rate = float(np.exp(rng.uniform(np.log(0.85), np.log(1.18))))
        transforms.append(Transform(round(f0, 3), round(formant, 3), round(rate, 3)))
    return transforms
