"""Word error rate, with both sides normalised the same way (numbers as words, no case)."""

from __future__ import annotations

import re

from metavoice_app.core.text.normalize import normalize


def words_of(text: str) -> list[str]:
    """Lower-case words of the normalised text, hyphenated numbers split, punctuation gone."""
    spoken = normalize(text).text.lower().replace("-", " ")
    return re.findall(r"[a-z']+", spoken)


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, 1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)
            )
        previous = current
    return previous[-1]


def word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Corpus-level WER of (reference, hypothesis) pairs: total edits / total reference words."""
    errors = total = 0
    for reference, hypothesis in pairs:
        ref, hyp = words_of(reference), words_of(hypothesis)
        errors += edit_distance(ref, hyp)
        total += len(ref)
    return errors / max(total, 1)
