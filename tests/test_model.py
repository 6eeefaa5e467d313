from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from metavoice_app.core.features.world import LF0
from metavoice_app.core.model.acoustic import AcousticModel, Controls
from metavoice_app.core.model.config import ModelConfig
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.data import CorpusData


@pytest.fixture
def data(tiny_corpus: Path) -> CorpusData:
    corpus = Corpus(tiny_corpus)
    return CorpusData(corpus, corpus.speakers())


def _model(data: CorpusData) -> AcousticModel:
    torch.manual_seed(0)
    model = AcousticModel(ModelConfig.tiny(n_speakers=len(data.speakers)))
    model.set_feature_stats(*data.feature_stats())
    return model


def test_batches_cover_every_item_once_within_the_frame_budget(data: CorpusData) -> None:
    indices = list(range(len(data.items)))
    batches = list(data.batches(indices, 1200, np.random.default_rng(0)))
    assert sorted(i for b in batches for i in b) == indices
    for batch in batches:
        longest = max(data.items[i].n_frames for i in batch)
        assert longest * len(batch) <= 1200 or len(batch) == 1
    collated = data.collate(batches[0])
    assert collated.features.shape[0] == len(batches[0])
    assert int(collated.frame_lengths.max()) == collated.features.shape[1]


def test_training_reduces_the_loss_on_real_speech(data: CorpusData) -> None:
    model = _model(data)
    batch = data.collate(list(range(len(data.items))))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(100):
        losses = model.losses(batch)
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        first = first if first is not None else {k: float(v.detach()) for k, v in losses.items()}
    final = {k: float(v.detach()) for k, v in model.losses(batch).items()}
    assert all(math.isfinite(v) for v in final.values())
    assert final["features"] < 0.8 * first["features"]
    assert final["duration"] < first["duration"]
    assert final["align"] < first["align"]


def test_controls_change_speed_pitch_and_energy(data: CorpusData) -> None:
    model = _model(data).eval()
    phones = torch.from_numpy(data.items[0].phones)[None]
    speaker = model.speaker_vectors(torch.tensor([0]))
    durations = torch.full_like(phones, 6)
    plain = model.synthesize(phones, speaker, durations=durations)
    assert plain.shape == (6 * phones.shape[1], model.config.feature_dim)
    higher = model.synthesize(phones, speaker, Controls(pitch_semitones=12), durations=durations)
    assert torch.allclose(higher[:, LF0] - plain[:, LF0], torch.tensor(math.log(2.0)), atol=1e-4)
    louder = model.synthesize(phones, speaker, Controls(energy=2.0), durations=durations)
    assert not torch.allclose(louder, plain)
    slow = model.predict_durations(phones, speaker, speed=0.5)
    fast = model.predict_durations(phones, speaker, speed=2.0)
    assert int(slow.sum()) >= int(fast.sum())
    with pytest.raises(ValueError, match="speed"):
        model.synthesize(phones, speaker, Controls(speed=0))


def test_every_sound_gets_a_frame(data: CorpusData) -> None:
    model = _model(data).eval()
    phones = torch.from_numpy(data.items[0].phones)[None]
    durations = model.predict_durations(phones, model.speaker_vectors(torch.tensor([1])), 8.0)
    speech = phones > 2
    assert (durations[speech] >= 1).all()


def test_reference_durations_drive_the_decoder(data: CorpusData) -> None:
    """Engine timings, where trusted, replace the aligner's durations in training."""
    assert all(item.durations is not None for item in data.items)
    batch = data.collate([0, 1])
    assert batch.durations is not None
    for row, index in enumerate([0, 1]):
        item = data.items[index]
        assert int(batch.durations[row].clamp(min=0).sum()) == item.n_frames
    model = _model(data)
    with_reference = model.losses(batch)
    batch.durations = None
    with_aligner = model.losses(batch)
    assert not torch.isclose(with_reference["features"], with_aligner["features"])


def test_engine_timings_teach_the_aligner_to_find_boundaries(data: CorpusData) -> None:
    """Trained on known timings, forced alignment lands near the true phone boundaries."""
    model = _model(data)
    batch = data.collate(list(range(len(data.items))))
    assert batch.durations is not None

    def boundary_error() -> float:
        _, found = model.align(batch)
        errors = []
        for row in range(found.shape[0]):
            n = int(batch.phone_lengths[row])
            truth = batch.durations[row, :n].cumsum(0)[:-1]
            errors.append((found[row, :n].cumsum(0)[:-1] - truth).abs().float().mean())
        return float(torch.stack(errors).mean())

    optimizer = torch.optim.Adam(model.aligner.parameters(), lr=1e-2)
    first_loss, first_error = float(model.aligner_loss(batch).detach()), boundary_error()
    for _ in range(60):
        loss = model.aligner_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    assert float(model.aligner_loss(batch).detach()) < 0.5 * first_loss
    assert boundary_error() < 0.5 * first_error
    batch.durations = None  # nothing known: nothing to learn from
    assert float(model.aligner_loss(batch)) == 0.0


def test_precomputed_phone_encodings_give_the_same_losses(data: CorpusData) -> None:
    """Adaptation computes the text encoder once per batch: the losses (and so every
    step) must be those of the full model."""
    from metavoice_app.core.model.acoustic import padding_mask

    model = _model(data).eval()
    batch = data.collate(list(range(len(data.items))))
    speaker = model.speaker_vectors(batch.speakers)
    encoded = model.phone_encodings(
        batch.phones, padding_mask(batch.phone_lengths, batch.phones.shape[1])
    )
    full = model.losses(batch, speaker=speaker, align=False)
    cached = model.losses(batch, speaker=speaker, align=False, encoded=encoded)
    for name, value in full.items():
        torch.testing.assert_close(cached[name], value)
    # encodings of other phones change the losses: the argument is used, not ignored
    other = model.losses(batch, speaker=speaker, align=False, encoded=encoded.flip(1))
    assert not torch.allclose(other["features"], full["features"])
