from __future__ import annotations

import numpy as np
import pytest

from metavoice_app.core.features import world
from metavoice_app.core.features.mel import N_MELS, log_mel, mel_frequencies
from metavoice_app.core.train.corpus import pseudo


def _mcd(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    diff = a[:n, 1 : world.N_MCEP] - b[:n, 1 : world.N_MCEP]
    return float(np.mean(np.sqrt(np.sum(diff**2, axis=1))))


@pytest.fixture(scope="module")
def speech(flite_speech) -> np.ndarray:
    return flite_speech("The quick brown fox jumps over the lazy dog.")


def test_feature_matrix_layout(speech: np.ndarray) -> None:
    feats = world.encode(world.analyze(speech, "dio"))
    assert feats.shape == (len(speech) // world.HOP_LENGTH + 1, world.FEATURE_DIM)
    assert feats.dtype == np.float32
    assert np.isfinite(feats).all()
    vuv = feats[:, world.VUV]
    assert set(np.unique(vuv)) <= {0.0, 1.0}
    assert 0.3 < vuv.mean() < 0.95
    voiced_f0 = np.exp(feats[vuv > 0, world.LF0])
    assert 120 < np.median(voiced_f0) < 300  # slt is a female voice


def test_feature_coding_is_faithful(speech: np.ndarray) -> None:
    params = world.analyze(speech, "dio")
    decoded = world.decode(world.encode(params))
    error_db = np.abs(10 * np.log10(params.sp) - 10 * np.log10(decoded.sp))
    assert float(error_db.mean()) < 1.5
    assert np.array_equal(decoded.f0 > 0, params.f0 > 0)


def test_vocoding_round_trip_stays_closer_than_another_voice(speech: np.ndarray) -> None:
    params = world.analyze(speech, "dio")
    feats = world.encode(params)
    audio = world.synthesize(world.decode(feats))
    assert abs(len(audio) - len(speech)) < world.HOP_LENGTH * 2
    assert np.abs(audio).max() <= 1.0
    again = world.encode(world.analyze(audio, "dio"))
    other_voice = world.encode(pseudo.apply(params, pseudo.Transform(formant_scale=1.08)))
    assert _mcd(feats, again) < 0.8 * _mcd(feats, other_voice)


@pytest.mark.parametrize("seconds", [0.3, 1.5, 7.0])
def test_growing_render_joins_to_the_whole_render_exactly(
    speech: np.ndarray, seconds: float
) -> None:
    """Playback starts on the first piece, so the pieces must be the whole render's own
    samples: a join that differed would click wherever a sentence was split."""
    params = world.analyze(speech, "dio")
    frames = int(seconds * 1000 / world.FRAME_PERIOD_MS)
    reps = -(-frames // params.n_frames)  # long speech: the clip said several times over
    sliced = world.WorldParams(
        *(
            np.tile(x, (reps,) + (1,) * (x.ndim - 1))[:frames]
            for x in (params.f0, params.sp, params.ap)
        )
    )
    pieces = list(world.synthesize_growing(sliced))
    assert [last for _, last in pieces] == [False] * (len(pieces) - 1) + [True]
    assert all(len(audio) > 0 for audio, _ in pieces)
    if frames > 2 * world.FIRST_PIECE_FRAMES:  # the first piece comes after part of the work
        assert len(pieces) >= 2
        assert len(pieces[0][0]) < world.FIRST_PIECE_FRAMES * world.HOP_LENGTH
    else:
        assert len(pieces) <= 2
    joined = np.concatenate([audio for audio, _ in pieces])
    assert np.array_equal(joined, world.synthesize(sliced))


def test_harvest_and_dio_agree_on_clean_speech(speech: np.ndarray) -> None:
    a = world.encode(world.analyze(speech, "dio"))
    b = world.encode(world.analyze(speech, "harvest"))
    both = (a[:, world.VUV] > 0) & (b[:, world.VUV] > 0)
    cents = 1200 * np.abs(a[both, world.LF0] - b[both, world.LF0]) / np.log(2)
    assert np.median(cents) < 50


def test_unknown_f0_method_is_refused(speech: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown F0 method"):
        world.analyze(speech, "yin")


def test_log_mel_for_display(speech: np.ndarray) -> None:
    mel = log_mel(speech)
    assert mel.shape == (len(speech) // world.HOP_LENGTH + 1, N_MELS)
    assert mel.max() - mel.min() <= 80.0 + 1e-3
    freqs = mel_frequencies()
    assert len(freqs) == N_MELS and np.all(np.diff(freqs) > 0) and freqs[-1] < 8000
    # speech energy sits below 4 kHz far more than above
    low, high = mel[:, freqs < 4000].mean(), mel[:, freqs > 6000].mean()
    assert low > high


def test_log_mel_of_very_short_audio() -> None:
    assert log_mel(np.zeros(10, dtype=np.float32)).shape[1] == N_MELS


def test_pseudo_speaker_transforms(speech: np.ndarray) -> None:
    params = world.analyze(speech, "dio")
    higher = pseudo.apply(params, pseudo.Transform(f0_scale=1.5))
    voiced = params.f0 > 0
    assert np.allclose(higher.f0[voiced], params.f0[voiced] * 1.5)
    faster = pseudo.apply(params, pseudo.Transform(rate=1.25))
    assert faster.n_frames == round(params.n_frames / 1.25)
    bins = np.arange(params.sp.shape[1])

    def centroid(sp: np.ndarray) -> float:
        return float((sp * bins).sum() / sp.sum())

    shorter_tract = pseudo.apply(params, pseudo.Transform(formant_scale=1.15))
    assert centroid(shorter_tract.sp) > centroid(params.sp)
    assert params.f0 is not higher.f0  # the input is left alone


def test_sampled_transforms_are_plausible() -> None:
    transforms = pseudo.sample_transforms(50, np.random.default_rng(0))
    assert transforms[0].is_identity()
    assert len(set(transforms)) == 50
    assert all(0.55 < t.f0_scale < 1.8 and 0.8 < t.formant_scale < 1.25 for t in transforms)
    assert all(0.85 <= t.rate <= 1.18 for t in transforms)
