"""Serving corpus utterances to training as length-bucketed, padded batches.

All features are held in memory as float16 (a full corpus is a few hundred
MB), so batches cost no disk reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from metavoice_app.core.model.acoustic import Batch
from metavoice_app.core.text.phones import phone_ids
from metavoice_app.core.train.corpus.store import Corpus, Speaker, Utterance

MAX_UTTERANCE_FRAMES = 2000  # 20 s


MIN_REFERENCE_AGREEMENT = 0.9


def has_trusted_timings(utt: Utterance) -> bool:
    """Engine timings that cover exactly our labels and the whole recording."""
    return (
        utt.ref_durations is not None
        and (utt.ref_agreement or 0.0) >= MIN_REFERENCE_AGREEMENT
        and sum(utt.ref_durations) == utt.n_frames
    )


def known_durations(utt: Utterance) -> np.ndarray | None:
    """Engine timings where trusted, else a stored forced alignment, else None."""
    if has_trusted_timings(utt):
        return np.array(utt.ref_durations, dtype=np.int64)
    aligned = utt.aligned_durations
    if aligned is not None and len(aligned) == len(utt.phones) and sum(aligned) == utt.n_frames:
        return np.array(aligned, dtype=np.int64)
    return None


@dataclass(frozen=True)
class Item:
    speaker: int
    utterance_id: str
    phones: np.ndarray
    n_frames: int
    durations: np.ndarray | None  # engine timings or a forced alignment, frames per phone


class CorpusData:
    """The utterances of some speakers of a corpus, with their features in memory."""

    def __init__(
        self,
        corpus: Corpus,
        speakers: list[Speaker],
        max_frames: int = MAX_UTTERANCE_FRAMES,
    ) -> None:
        """Trusted engine timings, or stored forced alignments, serve as durations; the
        model force-aligns the rest itself."""
        self.speakers = speakers
        self.features: dict[str, np.ndarray] = {}
        self.items: list[Item] = []
        for index, speaker in enumerate(speakers):
            stored = corpus.features(speaker.id)
            for utt in speaker.utterances:
                ids = np.array(phone_ids(utt.phones), dtype=np.int64)
                # Alignment needs a frame per phone; very long clips would blow up memory.
                if not len(ids) < utt.n_frames <= max_frames:
                    continue
                self.features[utt.id] = stored[utt.id]
                durations = known_durations(utt)
                self.items.append(Item(index, utt.id, ids, utt.n_frames, durations))
        if not self.items:
            raise ValueError("the corpus has no usable utterances")

    @property
    def n_frames(self) -> int:
        return sum(item.n_frames for item in self.items)

    def split(self, holdout: int, seed: int = 0) -> tuple[list[int], list[int]]:
        """Indices for training and a fixed validation set of ``holdout`` utterances."""
        order = np.random.default_rng(seed).permutation(len(self.items))
        return sorted(order[holdout:].tolist()), sorted(order[:holdout].tolist())

    def feature_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        total = np.zeros(next(iter(self.features.values())).shape[1])
        squares = np.zeros_like(total)
        count = 0
        for feats in self.features.values():
            x = feats.astype(np.float64)
            total += x.sum(0)
            squares += (x**2).sum(0)
            count += len(x)
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean**2, 1e-8))
        return torch.from_numpy(mean).float(), torch.from_numpy(std).float()

    def batches(
        self, indices: list[int], max_batch_frames: int, rng: np.random.Generator
    ) -> Iterator[list[int]]:
        """One epoch of batches of similar length, in random order."""
        lengths = np.array([self.items[i].n_frames for i in indices], dtype=np.float64)
        noisy = lengths * rng.uniform(0.9, 1.1, size=len(lengths))
        ordered = [indices[i] for i in np.argsort(noisy)]
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0
        for index in ordered:
            longest_if_added = max(longest, self.items[index].n_frames)
            if current and longest_if_added * (len(current) + 1) > max_batch_frames:
                batches.append(current)
                current, longest_if_added = [], self.items[index].n_frames
            current.append(index)
            longest = longest_if_added
        if current:
            batches.append(current)
        for batch_index in rng.permutation(len(batches)):
            yield batches[batch_index]

    def collate(self, indices: list[int]) -> Batch:
        items = [self.items[i] for i in indices]
        max_phones = max(len(item.phones) for item in items)
        max_frames = max(item.n_frames for item in items)
        dim = self.features[items[0].utterance_id].shape[1]
        phones = torch.zeros(len(items), max_phones, dtype=torch.long)
        durations = torch.full((len(items), max_phones), -1, dtype=torch.long)
        features = torch.zeros(len(items), max_frames, dim)
        for row, item in enumerate(items):
            phones[row, : len(item.phones)] = torch.from_numpy(item.phones)
            if item.durations is not None:
                durations[row] = 0
                durations[row, : len(item.phones)] = torch.from_numpy(item.durations)
            features[row, : item.n_frames] = torch.from_numpy(
                self.features[item.utterance_id].astype(np.float32)
            )
        return Batch(
            phones=phones,
            phone_lengths=torch.tensor([len(item.phones) for item in items]),
            features=features,
            frame_lengths=torch.tensor([item.n_frames for item in items]),
            speakers=torch.tensor([item.speaker for item in items]),
            durations=durations,
        )
