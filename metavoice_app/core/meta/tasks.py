"""Episodes for meta-learning: a task is one speaker, split into support and query sets.

The app adapts to real people, so real speakers must be well represented among the
tasks, not only the many engine pseudo-speakers. Two things see to that:

- speakers with fewer utterances than a full task still take part, with a smaller
  support set (at least ``MIN_SUPPORT``) and at least one query; most LibriSpeech
  speakers have only three or four pieces of speech;
- ``real_fraction`` of the tasks (when given) are drawn from real speakers, whatever
  their share of the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metavoice_app.core.train.data import CorpusData

MIN_SUPPORT = 2


@dataclass(frozen=True)
class Task:
    speaker: int
    support: list[int]
    query: list[int]


class TaskSampler:
    """Draws speakers with enough utterances and splits their utterances at random."""

    def __init__(
        self,
        data: CorpusData,
        indices: list[int],
        support: int,
        query: int,
        real_fraction: float | None = None,
    ) -> None:
        by_speaker: dict[int, list[int]] = {}
        for index in indices:
            by_speaker.setdefault(data.items[index].speaker, []).append(index)
        self.support, self.query = support, query
        needed = min(support, MIN_SUPPORT) + 1
        self.speakers = {s: u for s, u in by_speaker.items() if len(u) >= needed}
        if not self.speakers:
            raise ValueError(f"no speaker has the {needed} utterances a task needs")
        self.order = sorted(self.speakers)
        self.real = [s for s in self.order if data.speakers[s].real]
        if real_fraction is not None and not 0.0 <= real_fraction <= 1.0:
            raise ValueError("the share of real speakers must be between 0 and 1")
        if real_fraction and not self.real:
            raise ValueError("the corpus has no real speaker with enough utterances for a task")
        self.real_fraction = real_fraction

    def sample(self, rng: np.random.Generator) -> Task:
        pool = self.order
        if self.real_fraction is not None and rng.random() < self.real_fraction:
            pool = self.real
        speaker = pool[int(rng.integers(len(pool)))]
        utterances = self.speakers[speaker]
        query = min(self.query, max(1, len(utterances) - self.support))
        support = min(self.support, len(utterances) - query)
        chosen = rng.choice(utterances, support + query, replace=False)
        return Task(
            speaker,
            sorted(chosen[:support].tolist()),
            sorted(chosen[support:].tolist()),
        )
