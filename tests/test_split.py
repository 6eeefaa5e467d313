from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.text.frontend import TextFrontend
from metavoice_app.core.text.phones import PAUSES, SILENCE
from metavoice_app.core.train.corpus.split import (
    SplitConfig,
    cut_points,
    split_speaker,
    split_utterance,
)
from metavoice_app.core.train.corpus.store import Corpus, Utterance


def test_cuts_fall_in_long_pauses_with_pieces_in_bounds() -> None:
    phones = ("sil", "AA1", "sp", "B", "sil", "K", "sp", "D", "sil")
    durations = np.array([10, 150, 30, 150, 5, 150, 20, 150, 10])
    config = SplitConfig(min_pause_frames=12, min_piece_frames=100)
    assert cut_points(phones, durations, config) == [2, 6]  # the 5-frame pause is too short


def test_pieces_cover_the_clip_and_start_and_end_in_silence() -> None:
    phones = ["sil", "AA1", "sp", "B", "sp", "K", "sil"]
    durations = np.array([10, 150, 30, 150, 30, 150, 10])
    utt = Utterance("u", "a b k", phones, int(durations.sum()), "machine")
    feats = np.arange(durations.sum() * 2, dtype=np.float32).reshape(-1, 2)
    words = ["", "a", "", "b", "", "k", ""]
    pieces = split_utterance(
        utt, feats, durations, words, SplitConfig(min_pause_frames=12, min_piece_frames=100)
    )
    assert [p.text for p, _ in pieces] == ["a", "b", "k"]
    assert sum(p.n_frames for p, _ in pieces) == utt.n_frames
    assert np.array_equal(np.concatenate([f for _, f in pieces]), feats)
    for piece, piece_feats in pieces:
        assert piece.phones[0] == SILENCE and piece.phones[-1] == SILENCE
        assert len(piece_feats) == piece.n_frames
        assert sum(p not in PAUSES for p in piece.phones) == 1


def test_split_speaker_with_a_real_aligner(tiny_corpus: Path, tiny_model_dir: Path) -> None:
    corpus = Corpus(tiny_corpus)
    speaker = corpus.speakers()[0]
    model, info = load_model(tiny_model_dir)
    loose = SplitConfig(
        min_clip_frames=100, min_pause_frames=1, min_piece_frames=50, min_confidence=-1e9
    )
    features = corpus.features(speaker.id)
    split, pieces = split_speaker(speaker, features, model, info.model_id, TextFrontend(), loose)
    assert split.split_by == info.model_id
    assert sum(u.n_frames for u in split.utterances) == speaker.n_frames
    assert all(pieces[u.id].shape[0] == u.n_frames for u in split.utterances)
    strict = dataclasses.replace(loose, min_confidence=0.5)  # no path scores above 0
    none_kept, _ = split_speaker(speaker, features, model, info.model_id, TextFrontend(), strict)
    assert none_kept.utterances == []
    assert set(none_kept.dropped) == {u.id for u in speaker.utterances}
    assert all("alignment failed" in why for why in none_kept.dropped.values())
