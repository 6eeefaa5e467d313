from __future__ import annotations

import pytest

from metavoice_app.core.text import numbers


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (101, "one hundred one"),
        (1000, "one thousand"),
        (1_234_567, "one million two hundred thirty-four thousand five hundred sixty-seven"),
        (-12, "minus twelve"),
    ],
)
def test_cardinal(value: int, words: str) -> None:
    assert numbers.cardinal(value) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (5, "fifth"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty-first"),
        (100, "one hundredth"),
        (103, "one hundred third"),
    ],
)
def test_ordinal(value: int, words: str) -> None:
    assert numbers.ordinal(value) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1984, "nineteen eighty-four"),
        (2005, "two thousand five"),
        (2010, "twenty ten"),
        (1900, "nineteen hundred"),
        (1805, "eighteen oh five"),
        (999, "nine hundred ninety-nine"),
    ],
)
def test_year(value: int, words: str) -> None:
    assert numbers.year(value) == words


def test_decimal_and_digits() -> None:
    assert numbers.decimal("3.14") == "three point one four"
    assert numbers.digits("0451") == "zero four five one"


def test_huge_numbers_are_read_digit_by_digit() -> None:
    assert numbers.cardinal(10**16) == "one" + " zero" * 16
