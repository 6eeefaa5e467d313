"""The phone inventory shared by the corpus, the model and synthesis.

ARPAbet (the CMU Pronouncing Dictionary's set) with vowel stress 0/1/2, plus
``sil`` (silence at utterance edges and sentence breaks) and ``sp`` (a short
pause at commas and the like, which may last zero frames). The order is part
of a trained model's contract: never reorder, only append.
"""

from __future__ import annotations

PAD = "<pad>"
SILENCE = "sil"
SHORT_PAUSE = "sp"

CONSONANTS = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG",
    "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
VOWELS = (
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
)  # fmt: skip

PHONES: tuple[str, ...] = (
    PAD,
    SILENCE,
    SHORT_PAUSE,
    *CONSONANTS,
    *(f"{vowel}{stress}" for vowel in VOWELS for stress in "012"),
)
PHONE_TO_ID: dict[str, int] = {phone: index for index, phone in enumerate(PHONES)}
PAUSES = frozenset({SILENCE, SHORT_PAUSE})


def phone_ids(phones: list[str]) -> list[int]:
    """Map phones to ids; raises ``KeyError`` naming an unknown phone."""
    try:
        return [PHONE_TO_ID[p] for p in phones]
    except KeyError as exc:
        raise KeyError(f"phone {exc.args[0]!r} is not in the phone set") from None


def base_phone(phone: str) -> str:
    """The phone without its stress digit (``AH0`` -> ``AH``)."""
    return phone.rstrip("012")
