from __future__ import annotations

import pytest

from metavoice_app.core.text.espeak import ipa_to_arpabet
from metavoice_app.core.text.frontend import MAX_TEXT_CHARS, TextError, TextFrontend
from metavoice_app.core.text.g2p import G2P
from metavoice_app.core.text.phones import PHONE_TO_ID, PHONES, SHORT_PAUSE, SILENCE


@pytest.fixture(scope="module")
def g2p() -> G2P:
    return G2P()


def test_phone_set_is_stable() -> None:
    assert PHONES[:3] == ("<pad>", "sil", "sp")
    assert len(PHONES) == 3 + 24 + 15 * 3
    assert len(set(PHONES)) == len(PHONES)


def test_lexicon_words(g2p: G2P) -> None:
    word = g2p.word("hello")
    assert word.phones == ("HH", "AH0", "L", "OW1")
    assert word.source == "lexicon"


def test_possessives_follow_the_last_sound(g2p: G2P) -> None:
    # None of these possessives is in the lexicon itself; their stems are.
    assert g2p.word("myth's").phones[-1] == "S"
    assert g2p.word("stove's").phones[-1] == "Z"
    sketch = g2p.word("sketch's")
    assert sketch.source == "possessive"
    assert sketch.phones[-2:] == ("IH0", "Z")


def test_initialisms_are_spelled(g2p: G2P) -> None:
    word = g2p.word("BBC")
    assert word.source == "spelled"
    assert word.phones == ("B", "IY1", "B", "IY1", "S", "IY1")


def test_unknown_words_get_a_pronunciation(g2p: G2P) -> None:
    word = g2p.word("zorblaxian")
    assert word.source == "espeak"
    assert word.phones[0] == "Z"
    assert all(p in PHONE_TO_ID for p in word.phones)


def test_without_espeak_unknown_words_are_spelled() -> None:
    word = G2P(use_espeak=False).word("zorblaxian")
    assert word.source == "spelled"


def test_ipa_mapping_keeps_stress() -> None:
    assert ipa_to_arpabet("həlˈoʊ") == ["HH", "AH0", "L", "OW1"]
    assert ipa_to_arpabet("bˈʌtən̩") == ["B", "AH1", "T", "AH0", "AH0", "N"]


def test_sentences_are_framed_by_silence_with_comma_pauses(g2p: G2P) -> None:
    seq = g2p.sentence("Hello, world!")
    assert seq.phones[0] == SILENCE and seq.phones[-1] == SILENCE
    assert SHORT_PAUSE in seq.phones
    assert [w.word for w in seq.words] == ["Hello", "world"]
    assert len(seq.word_of_phone) == len(seq.phones)
    assert seq.ids == [PHONE_TO_ID[p] for p in seq.phones]


@pytest.mark.parametrize("text", ["", "   \n\t", "😀😀", "Привет мир", "...", "!!!"])
def test_unspeakable_text_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(TextError) as error:
        TextFrontend().prepare(text)
    assert str(error.value)


def test_foreign_text_error_names_the_problem() -> None:
    with pytest.raises(TextError, match="cannot read"):
        TextFrontend().prepare("Привет мир")


def test_huge_text_is_refused_with_the_limit() -> None:
    with pytest.raises(TextError, match="20,000"):
        TextFrontend().prepare("word " * (MAX_TEXT_CHARS // 4))


def test_paragraphs_become_sentences_in_order() -> None:
    paragraph = " ".join(f"This is sentence number {i}." for i in range(1, 31))
    prepared = TextFrontend().prepare(paragraph)
    assert len(prepared.sentences) == 30
    assert prepared.sentences[0].text == "This is sentence number one."
    assert prepared.sentences[-1].text == "This is sentence number thirty."


def test_mixed_text_speaks_the_english_and_warns() -> None:
    prepared = TextFrontend().prepare("Hello 😀 there")
    assert [w.word for w in prepared.sentences[0].words] == ["Hello", "there"]
    assert prepared.warnings
