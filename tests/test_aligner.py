from __future__ import annotations

import numpy as np
import pytest
import torch

from metavoice_app.core.model.aligner import (
    durations_to_attention,
    frame_labels,
    hard_durations,
    monotonic_alignment,
    phone_scores,
)


def _diagonal_log_attention(durations: list[int], sharpness: float = 8.0) -> np.ndarray:
    frames = sum(durations)
    owner = np.repeat(np.arange(len(durations)), durations)
    logits = np.full((frames, len(durations)), -sharpness)
    logits[np.arange(frames), owner] = 0.0
    return logits - np.log(np.exp(logits).sum(1, keepdims=True))


def test_mas_recovers_the_true_durations() -> None:
    truth = [3, 1, 7, 2, 5, 1, 4]
    assert monotonic_alignment(_diagonal_log_attention(truth)).tolist() == truth


def test_mas_gives_every_phone_a_frame_even_when_unlikely() -> None:
    log_attn = np.log(np.full((10, 4), 1e-6))
    log_attn[:, 0] = 0.0  # everything "wants" phone 0
    durations = monotonic_alignment(log_attn)
    assert durations.sum() == 10 and (durations >= 1).all()


def test_mas_refuses_too_few_frames() -> None:
    with pytest.raises(ValueError, match="cannot cover"):
        monotonic_alignment(np.zeros((3, 5)))


def test_hard_attention_matches_durations() -> None:
    durations = torch.tensor([[2, 3, 1, 0], [1, 1, 1, 1]])
    attention = durations_to_attention(durations, 6)
    assert attention.shape == (2, 6, 4)
    assert attention[0].sum(0).tolist() == [2, 3, 1, 0]
    assert attention[0].sum(1).tolist() == [1] * 6
    assert attention[1, 4:].sum() == 0  # past the end of a shorter utterance


def test_frame_labels_follow_the_durations() -> None:
    phones = torch.tensor([[5, 9, 7, 0]])
    durations = torch.tensor([[2, 1, 3, 0]])
    assert frame_labels(durations, phones, 8).tolist() == [[5, 5, 9, 7, 7, 7, 0, 0]]


def test_phone_scores_pick_each_text_phone_column() -> None:
    log_probs = torch.log_softmax(torch.randn(1, 6, 12), dim=-1)
    phones = torch.tensor([[3, 3, 11]])  # a repeated phone gets the same column twice
    scores = phone_scores(log_probs, phones)
    assert scores.shape == (1, 6, 3)
    assert torch.equal(scores[0, :, 0], log_probs[0, :, 3])
    assert torch.equal(scores[0, :, 1], log_probs[0, :, 3])
    assert torch.equal(scores[0, :, 2], log_probs[0, :, 11])


def test_hard_durations_read_the_best_path_per_utterance() -> None:
    truth = [4, 2, 5]
    scores = torch.from_numpy(_diagonal_log_attention(truth)).float()[None]
    lengths = (torch.tensor([3]), torch.tensor([11]))
    assert hard_durations(scores, *lengths).tolist() == [truth]


def test_force_align_on_real_speech(tiny_model_dir, tiny_corpus) -> None:
    from metavoice_app.core.model.checkpoint import load_model
    from metavoice_app.core.text.phones import phone_ids
    from metavoice_app.core.train.corpus.store import Corpus

    model, _ = load_model(tiny_model_dir)
    corpus = Corpus(tiny_corpus)
    speaker = corpus.speakers()[0]
    utt = speaker.utterances[0]
    feats = torch.from_numpy(corpus.features(speaker.id)[utt.id].astype(np.float32))[None]
    durations, confidence = model.force_align(torch.tensor([phone_ids(utt.phones)]), feats)
    assert int(durations.sum()) == utt.n_frames
    assert (durations >= 1).all()
    assert confidence <= 0.0


def test_align_benchmark_compares_with_engine_timings(tiny_model_dir, tiny_corpus) -> None:
    from metavoice_app.core.bench.align import run, to_markdown

    result = run(tiny_model_dir, tiny_corpus, utterances=2, threads=1)
    assert result.utterances == 2 and result.boundaries > 20
    assert 0 <= result.within_20ms <= result.within_50ms <= 1
    assert "mean boundary error" in to_markdown(result, "metavoice bench align")
    only = run(tiny_model_dir, tiny_corpus, utterances=2, threads=1, sources=("flite",))
    assert only.utterances == 2 and list(only.by_source) == ["flite"]
    assert "of flite" in to_markdown(only, "metavoice bench align --sources flite")
    with pytest.raises(ValueError, match="no utterances of festival"):
        run(tiny_model_dir, tiny_corpus, utterances=2, threads=1, sources=("festival",))
