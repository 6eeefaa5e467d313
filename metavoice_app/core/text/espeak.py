"""eSpeak NG: pronouncing words the lexicon lacks, and a speech source for the corpus.

The library and its data come inside the ``espeakng-loader`` wheel, so this
works offline on every platform. eSpeak returns IPA, which is mapped to the
ARPAbet phone set; it keeps global state, hence the lock.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from metavoice_app.core.text.phones import VOWELS

_IPA_TO_ARPABET = {
    # Diphthongs and r-coloured vowels first: longest match wins.
    "eɪ": "EY", "aɪ": "AY", "ɔɪ": "OY", "aʊ": "AW", "oʊ": "OW", "əʊ": "OW",
    "ɜː": "ER", "ɝ": "ER", "ɚ": "ER", "ɑː": "AA", "ɑ": "AA", "ɒ": "AA", "ɔː": "AO",
    "ɔ": "AO", "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɛ": "EH", "e": "EH",
    "ɪ": "IH", "ᵻ": "IH", "iː": "IY", "i": "IY", "ʊ": "UH", "uː": "UW", "u": "UW",
    "o": "OW", "a": "AA",
    "tʃ": "CH", "dʒ": "JH", "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G",
    "g": "G", "f": "F", "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH",
    "ʒ": "ZH", "h": "HH", "m": "M", "n": "N", "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R",
    "w": "W", "j": "Y", "ɾ": "T", "ʔ": "T", "x": "K",
}  # fmt: skip
_SYLLABIC = {"n̩": ["AH0", "N"], "l̩": ["AH0", "L"], "m̩": ["AH0", "M"]}
_LONGEST = max(len(k) for k in _IPA_TO_ARPABET)


def ipa_to_arpabet(ipa: str) -> list[str]:
    """Convert eSpeak's IPA (with ˈ/ˌ stress marks) to stressed ARPAbet."""
    phones: list[str] = []
    stress = "0"
    i = 0
    while i < len(ipa):
        ch = ipa[i]
        if ch == "ˈ":
            stress, i = "1", i + 1
            continue
        if ch == "ˌ":
            stress, i = "2", i + 1
            continue
        syllabic = ipa[i : i + 2]
        if syllabic in _SYLLABIC:
            phones += _SYLLABIC[syllabic]
            i += 2
            continue
        for size in range(_LONGEST, 0, -1):
            piece = ipa[i : i + size]
            if piece in _IPA_TO_ARPABET:
                phone = _IPA_TO_ARPABET[piece]
                if phone in VOWELS:
                    phone += "0" if phone == "AH" and piece == "ə" else stress
                    stress = "0"
                phones.append(phone)
                i += size
                break
        else:
            i += 1  # length marks, ties, spaces and anything unknown carry no phone
    return phones


class EspeakUnavailableError(RuntimeError):
    """eSpeak NG could not be loaded."""


_SAMPLERATE_EVENT = 8
_PHONEME_EVENT = 7
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class EspeakSpeech:
    """Audio from eSpeak NG with each phoneme's IPA name and start sample."""

    wav: npt.NDArray[np.int16]
    sample_rate: int
    phonemes: list[tuple[str, int]]


class EspeakEngine:
    """One process-wide eSpeak NG (it keeps global state), for G2P and for speech."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise EspeakUnavailableError("the espeakng-loader package is not installed") from exc
        self._lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        options = _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA
        self.sample_rate = self._lib.espeak_Initialize(2, 0, data, options)  # 2: synchronous
        if self.sample_rate <= 0:
            raise EspeakUnavailableError("eSpeak NG failed to initialise")
        self._lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self._lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        self._lock = threading.Lock()
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._phonemes: list[tuple[str, int]] = []
        self._callback = _Callback(self._on_audio)  # kept referenced: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)

    def _set_voice(self, voice: str) -> None:
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EspeakUnavailableError(f"eSpeak NG has no voice {voice!r}")

    def ipa(self, text: str, voice: str = "en-us") -> str:
        buffer = ctypes.c_char_p(text.encode("utf-8"))
        pointer = ctypes.pointer(buffer)
        parts = []
        with self._lock:
            self._set_voice(voice)
            while pointer.contents.value:
                result = self._lib.espeak_TextToPhonemes(pointer, 1, 0x02)  # UTF-8 in, IPA out
                if result is None:
                    break
                parts.append(result.decode("utf-8"))
        return " ".join(parts)

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        """eSpeak's synthesis callback: ``wav`` and ``events`` are ctypes pointers."""
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != 0:
            event = events[i]
            if event.type == _PHONEME_EVENT:
                self._phonemes.append((event.id.decode("utf-8", "replace"), int(event.sample)))
            i += 1
        return 0

    def speak(self, text: str, voice: str = "en-us") -> EspeakSpeech:
        """Synthesise ``text``; phoneme names are IPA, an empty name marks a pause."""
        data = text.encode("utf-8") + b"\0"
        with self._lock:
            self._set_voice(voice)
            self._chunks, self._phonemes = [], []
            self._lib.espeak_Synth(data, len(data), 0, 1, 0, 1, None, None)
            self._lib.espeak_Synchronize()
            wav = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return EspeakSpeech(wav, self.sample_rate, list(self._phonemes))


@lru_cache(maxsize=1)
def espeak_engine() -> EspeakEngine:
    return EspeakEngine()


def espeak_phones(word: str) -> list[str]:
    """ARPAbet for one word; raises :class:`EspeakUnavailableError` without eSpeak."""
    return ipa_to_arpabet(espeak_engine().ipa(word))
