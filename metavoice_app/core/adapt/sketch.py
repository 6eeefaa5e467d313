"""A first sketch of a new voice from the takes recorded so far, before any learning.

The model's starting voice for the takes (the voice memory's blend of the known voices
nearest them, where the model starts from its memory), read with the takes' own frames as
exemplars, already sounds much like the person: from 5 takes it scored 0.760 similarity on
the VCTK dev speakers, level with the 10 steps the wizard takes from the meta-learned start
(docs/benchmarks.md, adapt-start). So the wizard lets the person hear it while they are
still recording, and they know early whether their takes are giving the voice they want.

The sketch takes no gradient step and saves nothing: it is audio held in memory. The
takes' analysis is cached beside them as at accept, so the voice made later reuses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metavoice_app.core.adapt.adapter import AdaptationError
from metavoice_app.core.adapt.clone import learn_voice
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import prepare_take, take_features
from metavoice_app.core.progress import NO_PROGRESS, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

SKETCH_TEXT = "Here is a first sketch of my voice, from the sentences I have read so far."


@dataclass(frozen=True)
class Sketch:
    takes: int  # how many takes it was made from
    audio: np.ndarray  # float32 mono
    sample_rate: int


def sketch_voice(
    engine: SpeechEngine,
    recordings: Sequence[tuple[Path, str]],
    text: str = SKETCH_TEXT,
    progress: ProgressSink = NO_PROGRESS,
) -> Sketch:
    """``text`` in the voice the takes give before adaptation's first step.

    Takes that fail the recording checks are left out. Raises :class:`AdaptationError`
    when none is left, and :class:`~metavoice_app.core.progress.Cancelled` when ``progress`` is
    cancelled (checked between the takes, and as the text is spoken).
    """
    takes = []
    for index, (path, words) in enumerate(recordings):
        progress.report(index / (len(recordings) + 1), "Listening to your takes…")
        take = prepare_take(path, words)
        if take.report.ok:  # the wizard accepts only these; an imported file may not be
            take.features = take_features(take, cache=True)
            takes.append(take)
    if not takes:
        raise AdaptationError("none of the takes has usable speech to sketch a voice from")
    progress.report(len(recordings) / (len(recordings) + 1), "Sketching your voice…")
    voice = learn_voice(
        engine, takes, AdaptConfig(steps=0, holdout=False, similarity_every=0, cache_features=True)
    )
    handle = engine.voice_from_tensors("sketch", voice.tensors, voice.delivery)
    spoken = engine.speak(text, voice=handle, progress=progress)
    return Sketch(len(takes), spoken.audio, spoken.sample_rate)
