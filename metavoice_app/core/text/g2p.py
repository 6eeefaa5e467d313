"""Grapheme-to-phoneme conversion of normalised sentences.

Lookup order for a word: the CMU lexicon; a possessive of a lexicon word;
spelling out short all-capital initialisms; eSpeak NG for anything else; and,
only if eSpeak is missing, spelling the word letter by letter.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from metavoice_app.core.text.espeak import EspeakUnavailableError, espeak_phones
from metavoice_app.core.text.lexicon import LETTER_NAMES, lexicon
from metavoice_app.core.text.phones import PAUSES, PHONE_TO_ID, SHORT_PAUSE, SILENCE, base_phone

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|[.,!?;:]")
_PAUSE_PUNCTUATION = frozenset(",;:")
_VOICELESS = {"P", "T", "K", "F", "TH"}
_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}


@dataclass(frozen=True)
class WordPronunciation:
    word: str
    phones: tuple[str, ...]
    source: str  # "lexicon", "possessive", "spelled" or "espeak"


@dataclass(frozen=True)
class PhoneSequence:
    """One sentence as phones, with the word each phone belongs to (-1 for pauses)."""

    text: str
    phones: tuple[str, ...]
    word_of_phone: tuple[int, ...]
    words: tuple[WordPronunciation, ...]

    @property
    def ids(self) -> list[int]:
        return [PHONE_TO_ID[p] for p in self.phones]

    def is_speakable(self) -> bool:
        return any(p not in PAUSES for p in self.phones)


def _spell(word: str) -> tuple[str, ...]:
    return tuple(p for ch in word.upper() if ch in LETTER_NAMES for p in LETTER_NAMES[ch])


def _possessive(base: tuple[str, ...]) -> tuple[str, ...]:
    last = base_phone(base[-1])
    if last in _SIBILANTS:
        return (*base, "IH0", "Z")
    return (*base, "S" if last in _VOICELESS else "Z")


class G2P:
    """Pronounces words and sentences; caches words it had to work out."""

    def __init__(self, use_espeak: bool = True) -> None:
        self._use_espeak = use_espeak
        self._cache: dict[str, WordPronunciation] = {}

    def word(self, token: str) -> WordPronunciation:
        cached = self._cache.get(token)
        if cached is None:
            cached = self._cache[token] = self._pronounce(token)
        return cached

    def _pronounce(self, token: str) -> WordPronunciation:
        lex = lexicon()
        key = token.lower().strip("'")
        if key in lex and not (token.isupper() and len(token) > 1 and len(token) <= 3):
            return WordPronunciation(token, tuple(lex[key]), "lexicon")
        for suffix in ("'s", "'"):
            stem = key.removesuffix(suffix)
            if stem != key and stem in lex:
                return WordPronunciation(token, _possessive(tuple(lex[stem])), "possessive")
        if len(key) == 1 or (token.isupper() and len(token) <= 5):
            return WordPronunciation(token, _spell(key), "spelled")
        if key in lex:
            return WordPronunciation(token, tuple(lex[key]), "lexicon")
        if self._use_espeak:
            try:
                phones = tuple(p for p in espeak_phones(key) if p in PHONE_TO_ID)
                if phones:
                    return WordPronunciation(token, phones, "espeak")
            except (EspeakUnavailableError, OSError) as exc:
                log.warning("eSpeak NG unavailable (%s); spelling %r", exc, token)
                self._use_espeak = False
        return WordPronunciation(token, _spell(key), "spelled")

    def sentence(self, text: str) -> PhoneSequence:
        """Phones for a normalised sentence, framed by silences; commas give short pauses."""
        phones: list[str] = [SILENCE]
        owner: list[int] = [-1]
        words: list[WordPronunciation] = []
        for token in _TOKEN.findall(text):
            if token in _PAUSE_PUNCTUATION or token in ".!?":
                pause = SHORT_PAUSE if token in _PAUSE_PUNCTUATION else SILENCE
                if phones[-1] not in PAUSES:
                    phones.append(pause)
                    owner.append(-1)
                continue
            pron = self.word(token)
            if not pron.phones:
                continue
            words.append(pron)
            phones += pron.phones
            owner += [len(words) - 1] * len(pron.phones)
        if phones[-1] in PAUSES:
            phones[-1] = SILENCE
        else:
            phones.append(SILENCE)
            owner.append(-1)
        return PhoneSequence(text, tuple(phones), tuple(owner), tuple(words))
