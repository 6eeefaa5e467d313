"""Forced alignment of the corpus utterances that have no trusted engine timings.

Real speakers come with text but no phone timings. Aligning them once, with
the aligner trained on the engine-timed speakers, lets the acoustic model
train on exact alignments for every speaker (and skip the aligner at every
training step). Alignments are stored in each speaker's record with the id of
the model that made them, so a better aligner can simply realign.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from metavoice_app.core.model.acoustic import AcousticModel
from metavoice_app.core.text.phones import phone_ids
from metavoice_app.core.train.corpus.store import Corpus, Utterance
from metavoice_app.core.train.data import has_trusted_timings

log = logging.getLogger(__name__)


@dataclass
class AlignReport:
    speakers: int = 0
    aligned: int = 0
    rejected: int = 0
    awaiting_split: int = 0  # long-clip speakers left for `train split` first


def align_utterance(
    model: AcousticModel, utt: Utterance, features: np.ndarray
) -> tuple[np.ndarray, float]:
    """Forced alignment of a stored utterance: frames per phone and the path confidence."""
    device = next(model.parameters()).device
    phones = torch.tensor([phone_ids(utt.phones)], device=device)
    frames = torch.from_numpy(features.astype(np.float32))[None].to(device)
    durations, confidence = model.force_align(phones, frames)
    return durations.cpu().numpy(), confidence


def needs_alignment(utt: Utterance) -> bool:
    return not has_trusted_timings(utt) and len(utt.phones) < utt.n_frames


def align_corpus(
    corpus: Corpus,
    model: AcousticModel,
    model_id: str,
    min_confidence: float,
    progress: Callable[[int, int, str], None] | None = None,
) -> AlignReport:
    """Align every utterance that needs it; a speaker's record is rewritten once, atomically."""
    report = AlignReport()
    speakers = []
    for speaker in corpus.speakers():
        if not any(needs_alignment(u) for u in speaker.utterances):
            continue
        if speaker.awaits_split:
            report.awaiting_split += 1  # its clips are about to be cut into new utterances
            continue
        speakers.append(speaker)
    for done, speaker in enumerate(speakers, 1):
        features = corpus.features(speaker.id)
        confidences = []
        for utt in speaker.utterances:
            if not needs_alignment(utt):
                continue
            durations, confidence = align_utterance(model, utt, features[utt.id])
            confidences.append(confidence)
            if confidence < min_confidence:
                utt.aligned_durations, utt.aligned_by = None, None
                report.rejected += 1
                continue
            utt.aligned_durations = [int(d) for d in durations]
            utt.aligned_by = model_id
            report.aligned += 1
        corpus.update_speaker(speaker)
        report.speakers += 1
        if progress is not None:
            progress(
                done,
                len(speakers),
                f"{speaker.id}: mean path log-probability {np.mean(confidences):.2f}",
            )
    return report
