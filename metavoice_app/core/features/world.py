"""WORLD analysis, feature coding and synthesis at 16 kHz with 10 ms frames.

The model predicts a 43-dimensional frame vector (see :data:`FEATURE_LAYOUT`):
40 coded spectral-envelope coefficients (mel-cepstrum-like, from pyworld's
``code_spectral_envelope``), continuous log-F0, a voicing flag and one band of
coded aperiodicity. WORLD re-synthesis keeps a speaker's identity about as
well as the original recording, which is what voice cloning needs most.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

with warnings.catch_warnings():
    # pyworld imports pkg_resources, which warns on recent setuptools.
    warnings.simplefilter("ignore", UserWarning)
    import pyworld

SAMPLE_RATE = 16000
FRAME_PERIOD_MS = 10.0
HOP_LENGTH = 160
FFT_SIZE = 1024
N_MCEP = 40
F0_FLOOR = 55.0
F0_CEIL = 700.0
RECORDING_F0 = "harvest"
"""F0 method for real recordings whose frames the model learns from or is matched to:
the envelope follows the F0 it is analysed with, and ``dio``'s frames re-synthesise 0.2-0.35
NISQA-TTS below ``harvest``'s (docs/benchmarks.md, the frame's costs), so every real frame
a model or its refiner learns from, or a voice is adapted to, is analysed one way."""

# Samples at the end of a render of the first frames that the frames after them would
# still change: WORLD places each pulse's response half an FFT window before the pulse, so
# the last ~660 samples of a partial render differ from the whole one's. One window is kept
# back, a margin over that (tests check the pieces join to the whole render exactly).
SETTLING_SAMPLES = FFT_SIZE
# The first piece of a growing render, and how much longer each later partial render is:
# 60 frames are 0.6 s of speech made in a few tens of milliseconds, and a render three
# times as long takes a fraction of the time the piece before it plays.
FIRST_PIECE_FRAMES = 60
PIECE_GROWTH = 3

MCEP = slice(0, N_MCEP)
LF0 = N_MCEP
VUV = N_MCEP + 1
BAP = N_MCEP + 2
FEATURE_DIM = N_MCEP + 3
FEATURE_LAYOUT = {"mcep": [0, N_MCEP], "lf0": [LF0, LF0 + 1], "vuv": [VUV, VUV + 1],
                  "bap": [BAP, BAP + 1]}  # fmt: skip

FloatArray = npt.NDArray[np.float64]


@dataclass
class WorldParams:
    """Raw WORLD parameters: F0 (Hz, 0 when unvoiced), spectral envelope, aperiodicity."""

    f0: FloatArray
    sp: FloatArray
    ap: FloatArray

    @property
    def n_frames(self) -> int:
        return int(self.f0.shape[0])


def pitch(
    wav: npt.NDArray[np.floating],
    f0_method: str = "harvest",
    f0_floor: float = F0_FLOOR,
    f0_ceil: float = F0_CEIL,
) -> tuple[FloatArray, FloatArray]:
    """F0 (0 where unvoiced) and frame times of 16 kHz mono audio, without the spectral
    analysis (which takes most of :func:`analyze`'s time), for measures that need only
    the pitch. ``harvest`` is robust on real recordings; ``dio`` is about ten times
    faster and good enough for clean synthetic speech."""
    x = np.ascontiguousarray(wav, dtype=np.float64)
    if f0_method == "harvest":
        f0, t = pyworld.harvest(
            x, SAMPLE_RATE, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=FRAME_PERIOD_MS
        )
    elif f0_method == "dio":
        f0, t = pyworld.dio(
            x, SAMPLE_RATE, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=FRAME_PERIOD_MS
        )
        f0 = pyworld.stonemask(x, f0, t, SAMPLE_RATE)
    else:
        raise ValueError(f"unknown F0 method {f0_method!r}")
    return f0, t


def analyze(
    wav: npt.NDArray[np.floating],
    f0_method: str = "harvest",
    f0_floor: float = F0_FLOOR,
    f0_ceil: float = F0_CEIL,
) -> WorldParams:
    """Analyse 16 kHz mono audio: F0 by :func:`pitch`, then the envelope and aperiodicity."""
    x = np.ascontiguousarray(wav, dtype=np.float64)
    f0, t = pitch(x, f0_method, f0_floor, f0_ceil)
    sp = pyworld.cheaptrick(x, f0, t, SAMPLE_RATE, fft_size=FFT_SIZE)
    ap = pyworld.d4c(x, f0, t, SAMPLE_RATE, fft_size=FFT_SIZE)
    return WorldParams(f0, sp, ap)


def _interpolate_lf0(f0: FloatArray) -> tuple[FloatArray, FloatArray]:
    voiced = f0 > 0
    lf0 = np.zeros_like(f0)
    if not voiced.any():
        return lf0 + np.log(100.0), voiced.astype(np.float64)
    idx = np.flatnonzero(voiced)
    lf0 = np.interp(np.arange(len(f0)), idx, np.log(f0[idx]))
    return lf0, voiced.astype(np.float64)


def encode(params: WorldParams) -> npt.NDArray[np.float32]:
    """WORLD parameters to the model's ``(frames, 43)`` feature matrix."""
    # pyworld needs C-contiguous float64; warped or re-timed envelopes may not be.
    sp = np.ascontiguousarray(np.maximum(params.sp, 1e-16), dtype=np.float64)
    ap = np.ascontiguousarray(np.clip(params.ap, 1e-6, 1.0), dtype=np.float64)
    mcep = pyworld.code_spectral_envelope(sp, SAMPLE_RATE, N_MCEP)
    bap = pyworld.code_aperiodicity(ap, SAMPLE_RATE)
    lf0, vuv = _interpolate_lf0(params.f0)
    feats = np.concatenate([mcep, lf0[:, None], vuv[:, None], bap[:, :1]], axis=1)
    return feats.astype(np.float32)


def recording_features(wav: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """A real recording's ``(frames, 43)`` features, analysed as every real frame the
    model learns from or is compared with is (:data:`RECORDING_F0`): one place, so a take,
    a refiner pair and a benchmark reference cannot drift apart."""
    return encode(analyze(wav, RECORDING_F0))


def decode(feats: npt.NDArray[np.floating], vuv_threshold: float = 0.5) -> WorldParams:
    """The model's feature matrix back to WORLD parameters."""
    x = np.ascontiguousarray(feats, dtype=np.float64)
    sp = pyworld.decode_spectral_envelope(np.ascontiguousarray(x[:, MCEP]), SAMPLE_RATE, FFT_SIZE)
    ap = pyworld.decode_aperiodicity(
        np.ascontiguousarray(np.minimum(x[:, BAP : BAP + 1], 0.0)), SAMPLE_RATE, FFT_SIZE
    )
    f0 = np.where(x[:, VUV] > vuv_threshold, np.exp(x[:, LF0]), 0.0)
    return WorldParams(f0, sp, ap)


def synthesize(params: WorldParams) -> npt.NDArray[np.float32]:
    """WORLD parameters to 16 kHz audio in [-1, 1]."""
    wav = pyworld.synthesize(
        np.ascontiguousarray(params.f0),
        np.ascontiguousarray(params.sp),
        np.ascontiguousarray(params.ap),
        SAMPLE_RATE,
        FRAME_PERIOD_MS,
    )
    return np.asarray(np.clip(wav, -1.0, 1.0), dtype=np.float32)


def synthesize_growing(params: WorldParams) -> Iterator[tuple[npt.NDArray[np.float32], bool]]:
    """:func:`synthesize`'s audio in pieces that join to exactly it, each with whether it
    is the last, the first after rendering only the first :data:`FIRST_PIECE_FRAMES`.

    WORLD's synthesis is deterministic and runs forward in time, so a render of the first
    frames equals the whole render up to :data:`SETTLING_SAMPLES` before its end: playback
    can start after a fraction of the work (first audio sooner), at the cost of rendering
    the start again, and nothing at the joins is approximated or cross-faded.
    """
    total = params.n_frames
    done = 0
    frames = FIRST_PIECE_FRAMES
    while frames < total:
        head = synthesize(WorldParams(params.f0[:frames], params.sp[:frames], params.ap[:frames]))
        settled = len(head) - SETTLING_SAMPLES
        if settled > done:
            yield head[done:settled], False
            done = settled
        frames *= PIECE_GROWTH
    yield synthesize(params)[done:], True
