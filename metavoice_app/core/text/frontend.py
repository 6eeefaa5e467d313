"""The text front end's single entry point: raw user text in, phone sentences out."""

from __future__ import annotations

from dataclasses import dataclass, field

from metavoice_app.core.text.g2p import G2P, PhoneSequence
from metavoice_app.core.text.normalize import normalize, split_sentences
from metavoice_app.core.text.phones import PAUSES

MAX_TEXT_CHARS = 20_000


class TextError(ValueError):
    """The text cannot be spoken; the message says why in plain words."""


@dataclass
class PreparedText:
    sentences: list[PhoneSequence]
    warnings: list[str] = field(default_factory=list)


class TextFrontend:
    """Normalise, split and phonemise; shared by corpus labelling and synthesis."""

    def __init__(self, g2p: G2P | None = None) -> None:
        self.g2p = g2p or G2P()

    def prepare(self, text: str) -> PreparedText:
        if not text or not text.strip():
            raise TextError("There is no text to speak.")
        if len(text) > MAX_TEXT_CHARS:
            raise TextError(
                f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,} "
                "per request. Split it into parts, or use a script file with one line per clip."
            )
        normalized = normalize(text)
        sentences = [self.g2p.sentence(s) for s in split_sentences(normalized.text)]
        sentences = [s for s in sentences if s.is_speakable()]
        if not sentences:
            reason = " ".join(normalized.warnings) or "It holds no letters or numbers."
            raise TextError(f"Nothing in this text can be spoken in English. {reason}")
        return PreparedText(sentences, normalized.warnings)


def utterance_labels(text: str, frontend: TextFrontend) -> tuple[tuple[str, ...], list[str]]:
    """Phones of a whole (possibly multi-sentence) utterance, pauses merged, and the word
    each phone belongs to ("" for pauses)."""
    phones: list[str] = []
    words: list[str] = []
    for sentence in frontend.prepare(text).sentences:
        for phone, owner in zip(sentence.phones, sentence.word_of_phone, strict=True):
            if phones and phone in PAUSES and phones[-1] in PAUSES:
                continue
            phones.append(phone)
            words.append(sentence.words[owner].word if owner >= 0 else "")
    return tuple(phones), words


def utterance_phones(text: str, frontend: TextFrontend) -> tuple[str, ...]:
    """Phones of a whole (possibly multi-sentence) utterance, pauses merged."""
    return utterance_labels(text, frontend)[0]
