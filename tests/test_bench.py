from __future__ import annotations

from pathlib import Path

import pytest

from metavoice_app.core.bench.report import update_section
from metavoice_app.core.bench.wer import edit_distance, word_error_rate, words_of


def test_words_are_normalised_the_same_on_both_sides() -> None:
    assert words_of("6 spoons, Mr. Bob!") == ["six", "spoons", "mister", "bob"]
    assert words_of("twenty-one") == ["twenty", "one"]


def test_word_error_rate() -> None:
    assert word_error_rate([("six spoons of snow", "6 spoons of snow")]) == 0.0
    assert word_error_rate([("a b c d", "a x c")]) == pytest.approx(2 / 4)
    assert word_error_rate([("a b", "a b"), ("c d", "")]) == pytest.approx(2 / 4)
    assert edit_distance([], ["a"]) == 1


def test_report_sections_are_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    update_section(path, "tts", "first run\n")
    update_section(path, "adapt", "adaptation\n")
    update_section(path, "tts", "second run\n")
    text = path.read_text()
    assert "first run" not in text and text.count("second run") == 1
    assert text.index("second run") < text.index("adaptation")
    assert text.startswith("# Benchmarks")
