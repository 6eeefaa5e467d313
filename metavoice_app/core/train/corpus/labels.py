"""Reference phone timings from the speech engines, mapped onto the app's own phones.

flite and festival label with lower-case ARPAbet (``ax`` for schwa, ``pau`` for
silence) and give each segment's end time; eSpeak gives IPA names and start
samples. The corpus is labelled by the app's front end (so training and
synthesis share one phone set); the engine timings are aligned to those phones
by edit distance and kept as reference durations, e.g. to measure the aligner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metavoice_app.core.features.world import FRAME_PERIOD_MS
from metavoice_app.core.text.espeak import ipa_to_arpabet
from metavoice_app.core.text.phones import PAUSES, base_phone

PAUSE = "pau"
_ENGINE_ALIASES = {"ax": "AH", "axr": "ER", "h#": PAUSE, "sil": PAUSE, "ssil": PAUSE}


@dataclass(frozen=True)
class Segment:
    """One engine phone (stress-free ARPAbet or ``pau``) with start and end in seconds."""

    phone: str
    start: float
    end: float


def segments_from_end_times(labels: list[tuple[str, float]]) -> list[Segment]:
    """flite ``-psdur`` / festival ``.segs`` style: (phone, end time)."""
    segments = []
    start = 0.0
    for name, end in labels:
        phone = _ENGINE_ALIASES.get(name.lower(), name.upper())
        if phone.upper() == "PAU":
            phone = PAUSE
        segments.append(Segment(phone, start, end))
        start = end
    return segments


def segments_from_espeak(
    phonemes: list[tuple[str, int]], n_samples: int, sample_rate: int
) -> list[Segment]:
    """eSpeak phoneme events (IPA name, start sample) to segments; a diphthong or
    syllabic consonant that maps to two phones shares its time equally."""
    segments: list[Segment] = []
    starts = [s for _, s in phonemes] + [n_samples]
    for (name, start), end in zip(phonemes, starts[1:], strict=True):
        t0, t1 = start / sample_rate, max(end, start) / sample_rate
        phones = [base_phone(p) for p in ipa_to_arpabet(name)] or [PAUSE]
        step = (t1 - t0) / len(phones)
        segments += [Segment(p, t0 + i * step, t0 + (i + 1) * step) for i, p in enumerate(phones)]
    return segments


def _same(ours: str, theirs: str) -> bool:
    return (ours in PAUSES and theirs == PAUSE) or base_phone(ours) == theirs


def _substitution_cost(ours: str, theirs: str) -> float:
    """0 for the same phone; 1.5 for another phone (cheaper than dropping one and
    inserting another); 2.5 for a pause against speech, which should never pair."""
    if _same(ours, theirs):
        return 0.0
    if (ours in PAUSES) != (theirs == PAUSE):
        return 2.5
    return 1.5


def align_to_phones(
    phones: tuple[str, ...], segments: list[Segment], n_frames: int
) -> tuple[np.ndarray, float]:
    """Frame durations for ``phones`` from engine ``segments``, and the share of our
    speech phones that matched an engine phone exactly (1.0: identical sequences).

    Our phones that align to nothing get the time of their neighbours' gap (zero for
    a pause the engine did not make); engine segments with no partner are merged
    into the neighbouring phone.
    """
    n, m = len(phones), len(segments)
    cost = np.zeros((n + 1, m + 1))
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = _substitution_cost(phones[i - 1], segments[j - 1].phone)
            cost[i, j] = min(cost[i - 1, j - 1] + sub, cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    # Backtrack: for each of our phones, the engine segments it owns.
    owner = [-1] * m
    matched = 0
    i, j = n, m
    while i > 0 and j > 0:
        sub = _substitution_cost(phones[i - 1], segments[j - 1].phone)
        if cost[i, j] == cost[i - 1, j - 1] + sub:
            owner[j - 1] = i - 1
            matched += int(sub == 0.0 and phones[i - 1] not in PAUSES)
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i, j - 1] + 1:
            j -= 1
        else:
            i -= 1
    # Unowned engine segments join the previous owned one (or the first phone).
    last = 0
    for k in range(m):
        if owner[k] < 0:
            owner[k] = last
        last = owner[k]
    ends = np.zeros(n)
    for k, seg in enumerate(segments):
        ends[owner[k]] = max(ends[owner[k]], seg.end)
    ends = np.maximum.accumulate(ends)
    boundaries = np.rint(ends / (FRAME_PERIOD_MS / 1000.0)).astype(np.int64)
    boundaries[-1] = n_frames
    boundaries = np.minimum(boundaries, n_frames)
    durations = np.diff(np.concatenate([[0], boundaries]))
    speech = sum(p not in PAUSES for p in phones)
    return durations.astype(np.int64), matched / max(speech, 1)
