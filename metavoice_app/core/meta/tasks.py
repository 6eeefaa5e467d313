"""Episodes for meta-learning: a task is one speaker, split into support and query sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metavoice_app.core.train.data import CorpusData


@dataclass(frozen=True)
class Task:
    speaker: int
    support: list[int]
    query: list[int]


class TaskSampler:
    """Draws speakers with enough utterances and splits their utterances at random."""

    def __init__(self, data: CorpusData, indices: list[int], support: int, query: int) -> None:
        by_speaker: dict[int, list[int]] = {}
        for index in indices:
            by_speaker.setdefault(data.items[index].speaker, []).append(index)
        self.support, self.query = support, query
        self.speakers = {s: u for s, u in by_speaker.items() if len(u) >= support + query}
        if not self.speakers:
            raise ValueError(f"no speaker has the {support + query} utterances a task needs")
        self.order = sorted(self.speakers)

    def sample(self, rng: np.random.Generator) -> Task:
        speaker = self.order[int(rng.integers(len(self.order)))]
        chosen = rng.choice(self.speakers[speaker], self.support + self.query, replace=False)
        return Task(
            speaker,
            sorted(chosen[: self.support].tolist()),
            sorted(chosen[self.support :].tolist()),
        )
