"""Forced alignment of corpus utterances that have no engine timings (real speakers)."""

from __future__ import annotations

import shutil
from pathlib import Path

from metavoice_app.core.model.checkpoint import load_model
from metavoice_app.core.train.corpus.align import align_corpus, needs_alignment
from metavoice_app.core.train.corpus.store import Corpus
from metavoice_app.core.train.data import CorpusData


def _corpus_with_an_untimed_speaker(tiny_corpus: Path, tmp_path: Path) -> tuple[Corpus, str]:
    """A copy of the tiny corpus in which one speaker lost its engine timings, as a real
    speaker's recordings come."""
    root = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, root)
    corpus = Corpus(root)
    speaker = corpus.speakers()[0]
    for utt in speaker.utterances:
        utt.ref_durations, utt.ref_agreement = None, None
    corpus.update_speaker(speaker)
    return corpus, speaker.id


def test_untimed_utterances_get_stored_alignments(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    corpus, untimed = _corpus_with_an_untimed_speaker(tiny_corpus, tmp_path)
    before = CorpusData(corpus, corpus.speakers())
    assert sum(item.durations is None for item in before.items) == 3
    model, info = load_model(tiny_model_dir)
    report = align_corpus(corpus, model, info.model_id, min_confidence=-1e9)
    assert (report.speakers, report.aligned, report.rejected) == (1, 3, 0)
    speaker = next(s for s in corpus.speakers() if s.id == untimed)
    for utt in speaker.utterances:
        assert utt.aligned_by == info.model_id
        assert utt.aligned_durations is not None
        assert sum(utt.aligned_durations) == utt.n_frames
        assert len(utt.aligned_durations) == len(utt.phones) and min(utt.aligned_durations) >= 1
        assert not needs_alignment(utt) or utt.ref_durations is None
    after = CorpusData(corpus, corpus.speakers())
    assert all(item.durations is not None for item in after.items)
    # The engine-timed speaker was left alone.
    other = next(s for s in corpus.speakers() if s.id != untimed)
    assert all(u.aligned_durations is None for u in other.utterances)


def test_implausible_alignments_are_left_out(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    corpus, untimed = _corpus_with_an_untimed_speaker(tiny_corpus, tmp_path)
    model, info = load_model(tiny_model_dir)
    report = align_corpus(corpus, model, info.model_id, min_confidence=1.0)  # nothing passes
    assert (report.aligned, report.rejected) == (0, 3)
    speaker = next(s for s in corpus.speakers() if s.id == untimed)
    assert all(u.aligned_durations is None for u in speaker.utterances)
    data = CorpusData(corpus, corpus.speakers())
    assert sum(item.durations is None for item in data.items) == 3


def test_long_clip_speakers_wait_for_their_split(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    corpus, untimed = _corpus_with_an_untimed_speaker(tiny_corpus, tmp_path)
    speaker = next(s for s in corpus.speakers() if s.id == untimed)
    speaker.source = "librispeech"  # as built: whole clips, not yet split at pauses
    corpus.update_speaker(speaker)
    model, info = load_model(tiny_model_dir)
    report = align_corpus(corpus, model, info.model_id, min_confidence=-1e9)
    assert (report.aligned, report.awaiting_split) == (0, 1)
