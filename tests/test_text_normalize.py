from __future__ import annotations

import pytest

from metavoice_app.core.text.normalize import MAX_WORDS_PER_CHUNK, normalize, split_sentences


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Dr. Smith paid $5.50.", "Doctor Smith paid five dollars and fifty cents."),
        ("It costs $1.", "It costs one dollar."),
        ("$0.99", "ninety-nine cents"),
        ("£2 million", "two million pounds"),
        ("€3.05", "three euros and five cents"),
        (
            "It rose 12.5% in 1984, to 1,234 units.",
            "It rose twelve point five percent in nineteen eighty-four, to one thousand two "
            "hundred thirty-four units.",
        ),
        ("on 12/25/2020", "on December twenty-fifth, twenty twenty"),
        ("on Jan. 5th", "on January fifth"),
        ("the 2nd and 23rd", "the second and twenty-third"),
        ("Meet at 9:05 am", "Meet at nine oh five A M"),
        ("It is 10:00.", "It is ten o'clock."),
        ("at 3:30 p.m. Then we left.", "at three thirty P M. Then we left."),
        ("pages 10-20", "pages ten to twenty"),
        ("Call 555-1234 now", "Call five five five one two three four, now"),
        ("1/2 cup", "one half cup"),
        ("-4 degrees", "minus four degrees"),
        ("5 km in 20 mins", "five kilometres in twenty minutes"),
        ("salt & pepper", "salt and pepper"),
        ("The U.S. team", "The U S team"),
        ("e.g. this", "for example this"),
        ("Mr. and Mrs. Jones vs. St. Louis", "Mister and Missus Jones versus Saint Louis"),
        ("“Quoted” — dashed…", "Quoted, dashed..."),
        ("Café naïve résumé", "Cafe naive resume"),
        ("No. 5", "number five"),
    ],
)
def test_written_forms_become_words(written: str, spoken: str) -> None:
    result = normalize(written)
    assert result.text == spoken
    assert result.warnings == []


def test_other_scripts_are_removed_and_reported() -> None:
    result = normalize("Привет hello 你好")
    assert result.text == "hello"
    assert len(result.warnings) == 1
    assert "cannot read" in result.warnings[0]


def test_emoji_are_removed_and_reported() -> None:
    result = normalize("great 😀 news")
    assert result.text == "great news"
    assert "emoji" in result.warnings[0]


def test_output_holds_only_speakable_characters() -> None:
    text = normalize("Weird: <tags> {braces} [1] ^caret^ | pipe \\ back 100°").text
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.,!?;:- ")


def test_sentences_are_split_at_end_punctuation() -> None:
    assert split_sentences("One. Two! Three? Four") == ["One.", "Two!", "Three?", "Four"]


def test_long_sentences_are_chunked() -> None:
    text = ", ".join(["this is a clause"] * 60) + "."
    chunks = split_sentences(text)
    assert len(chunks) > 1
    assert all(len(c.split()) <= MAX_WORDS_PER_CHUNK for c in chunks)
    assert " ".join(chunks).split() == text.split()
