"""Splitting long real recordings at pauses, with the model's aligner.

A LibriSpeech speaker often has a single 10-20 s clip, but meta-learning
needs several utterances per speaker (a support set and a query set). The
aligner finds where each phone is; clips are cut in the middle of long pauses
into 2-8 s pieces. A clip whose alignment is implausible (the transcript,
made by speech recognition, probably does not match the audio) is dropped,
and the reason is kept in the speaker's record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metavoice_app.core.model.acoustic import AcousticModel
from metavoice_app.core.text.frontend import TextFrontend, utterance_labels
from metavoice_app.core.text.phones import PAUSES, SILENCE
from metavoice_app.core.train.corpus.align import align_utterance
from metavoice_app.core.train.corpus.store import Corpus, Speaker, Utterance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitConfig:
    min_clip_frames: int = 600  # only clips longer than 6 s are split
    min_pause_frames: int = 12  # cut only in pauses of 120 ms or more
    min_piece_frames: int = 200
    min_confidence: float = -4.0  # mean log-probability of the alignment path


@dataclass
class SplitReport:
    speakers: int = 0
    clips: int = 0
    pieces: int = 0
    dropped: int = 0


def cut_points(phones: tuple[str, ...], durations: np.ndarray, config: SplitConfig) -> list[int]:
    """Indices of pause phones to cut in, greedily, keeping pieces within bounds."""
    ends = np.cumsum(durations)
    starts = ends - durations
    total = int(ends[-1])
    cuts: list[int] = []
    piece_start = 0
    for i in range(1, len(phones) - 1):
        if phones[i] not in PAUSES or durations[i] < config.min_pause_frames:
            continue
        middle = int(starts[i] + durations[i] // 2)
        if (
            middle - piece_start >= config.min_piece_frames
            and total - middle >= config.min_piece_frames
        ):
            cuts.append(i)
            piece_start = middle
    return cuts


def split_utterance(
    utt: Utterance,
    feats: np.ndarray,
    durations: np.ndarray,
    words: list[str],
    config: SplitConfig,
) -> list[tuple[Utterance, np.ndarray]]:
    """Pieces of one clip; each starts and ends in silence, halves of the cut pause."""
    phones = tuple(utt.phones)
    cuts = cut_points(phones, durations, config)
    if not cuts:
        return [(utt, feats)]
    ends = np.cumsum(durations)
    starts = ends - durations
    pieces = []
    first_phone, first_frame = 0, 0
    for number, cut in enumerate([*cuts, None]):
        if cut is None:
            last_phone, last_frame = len(phones) - 1, int(ends[-1])
            piece_phones = list(phones[first_phone:])
        else:
            last_phone, last_frame = cut, int(starts[cut] + durations[cut] // 2)
            piece_phones = [*phones[first_phone:cut], SILENCE]
        if first_phone > 0:
            piece_phones[0] = SILENCE
        text = " ".join(dict.fromkeys(w for w in words[first_phone : last_phone + 1] if w))
        piece = Utterance(
            f"{utt.id}-{number}",
            text,
            piece_phones,
            last_frame - first_frame,
            utt.transcript,
            source_file=utt.source_file,
        )
        pieces.append((piece, feats[first_frame:last_frame]))
        if cut is not None:
            first_phone, first_frame = cut, last_frame
    return pieces


def split_speaker(
    speaker: Speaker,
    features: dict[str, np.ndarray],
    model: AcousticModel,
    model_id: str,
    frontend: TextFrontend,
    config: SplitConfig,
) -> tuple[Speaker, dict[str, np.ndarray]]:
    kept: list[Utterance] = []
    kept_features: dict[str, np.ndarray] = {}
    dropped = dict(speaker.dropped)
    for utt in speaker.utterances:
        feats = features[utt.id]
        durations, confidence = align_utterance(model, utt, feats)
        if confidence < config.min_confidence:
            dropped[utt.id] = (
                f"alignment failed (confidence {confidence:.2f} < {config.min_confidence})"
            )
            continue
        if utt.n_frames <= config.min_clip_frames:
            kept.append(utt)
            kept_features[utt.id] = feats
            continue
        phones, words = utterance_labels(utt.text, frontend)
        if list(phones) != utt.phones:
            words = [""] * len(utt.phones)
        for piece, piece_feats in split_utterance(utt, feats, durations, words, config):
            kept.append(piece)
            kept_features[piece.id] = piece_feats
    result = Speaker(
        speaker.id,
        speaker.source,
        speaker.voice,
        speaker.real,
        speaker.transform,
        speaker.sex,
        kept,
        split_by=model_id,
        dropped=dropped,
    )
    return result, kept_features


def split_corpus(
    corpus: Corpus,
    model: AcousticModel,
    model_id: str,
    config: SplitConfig | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SplitReport:
    """Split every not-yet-split real long-clip speaker; safe to interrupt and rerun."""
    config = config or SplitConfig()
    frontend = TextFrontend()
    report = SplitReport()
    todo = [s for s in corpus.speakers() if s.awaits_split]
    for number, speaker in enumerate(todo, 1):
        before = len(speaker.utterances)
        original = corpus.features(speaker.id)
        updated, features = split_speaker(speaker, original, model, model_id, frontend, config)
        report.speakers += 1
        report.clips += before
        report.pieces += len(updated.utterances)
        report.dropped += len(updated.dropped) - len(speaker.dropped)
        if updated.utterances:
            # The old clips stay in the features file: if we stop between writing it and
            # the speaker's JSON, the old JSON still finds everything it names.
            corpus.write_speaker(updated, {**original, **features})
        else:
            corpus.remove_speaker(speaker.id)
            log.warning("%s: every clip failed to align; speaker removed", speaker.id)
        if progress is not None:
            progress(
                number,
                len(todo),
                f"{speaker.id}: {before} clips -> {len(updated.utterances)} pieces",
            )
    return report
