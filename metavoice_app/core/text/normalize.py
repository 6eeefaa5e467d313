"""Turning written English into speakable words.

Numbers, dates, times, currency, percentages, abbreviations and symbols become
words; typographic characters become plain ones; characters the English voice
cannot say (other scripts, emoji) are removed and reported, never silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from metavoice_app.core.text import numbers

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_ABBREV = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}

_ABBREVIATIONS = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Dr.": "Doctor", "Prof.": "Professor",
    "Jr.": "Junior", "Sr.": "Senior", "St.": "Saint", "Mt.": "Mount", "Ft.": "Fort",
    "Gen.": "General", "Capt.": "Captain", "Lt.": "Lieutenant", "Sgt.": "Sergeant",
    "Gov.": "Governor", "Rev.": "Reverend", "vs.": "versus", "etc.": "et cetera",
    "e.g.": "for example", "i.e.": "that is", "approx.": "approximately", "Inc.": "Incorporated",
    "Ltd.": "Limited", "Co.": "Company", "Corp.": "Corporation", "Dept.": "Department",
    "Ave.": "Avenue", "Rd.": "Road", "Blvd.": "Boulevard", "min.": "minutes", "sec.": "seconds",
}  # fmt: skip
_UNITS = {
    "km": "kilometres", "kg": "kilograms", "cm": "centimetres", "mm": "millimetres",
    "mph": "miles per hour", "km/h": "kilometres per hour", "kph": "kilometres per hour",
    "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ft": "feet", "hrs": "hours",
    "hr": "hours", "mins": "minutes", "ms": "milliseconds", "GB": "gigabytes",
    "MB": "megabytes", "KB": "kilobytes", "kHz": "kilohertz", "Hz": "hertz", "MHz": "megahertz",
    "GHz": "gigahertz", "mg": "milligrams", "ml": "millilitres", "kW": "kilowatts",
}  # fmt: skip
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}
_SYMBOLS = {
    "&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "#": " number ",
    "°": " degrees ", "×": " times ", "÷": " divided by ", "~": " about ", "<": " less than ",
    ">": " more than ",
}  # fmt: skip
_PUNCT_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": ", ", "\u2014": ", ", "\u2212": "-", "\u2026": "...", "\u00a0": " ",
})  # fmt: skip
_FRACTIONS = {(1, 2): "one half", (1, 4): "one quarter", (3, 4): "three quarters"}

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_SCALE_WORDS = r"(?:\s?(thousand|million|billion|trillion|[kKmMbB])\b)?"
_SCALE_LETTERS = {"k": "thousand", "m": "million", "b": "billion"}


@dataclass
class NormalizedText:
    """Speakable text and what was changed or dropped to get it."""

    text: str
    warnings: list[str] = field(default_factory=list)


def _number(text: str) -> str:
    clean = text.replace(",", "")
    if "." in clean:
        return numbers.decimal(clean)
    value = int(clean)
    if len(clean) > 1 and clean.startswith("0"):
        return numbers.digits(clean)
    if "," not in text and 1100 <= value <= 2099:
        return numbers.year(value)
    if len(clean) > 9 and "," not in text:
        return numbers.digits(clean)
    return numbers.cardinal(value)


def _currency(match: re.Match[str]) -> str:
    symbol, amount, scale = match.group(1), match.group(2), match.group(3)
    one, many, sub_one, sub_many = _CURRENCIES[symbol]
    clean = amount.replace(",", "")
    if scale:
        scale_word = _SCALE_LETTERS.get(scale.lower(), scale) if len(scale) == 1 else scale
        return f" {_number(amount)} {scale_word} {many} "
    whole_text, _, cents_text = clean.partition(".")
    whole = int(whole_text or "0")
    words = (
        [f"{numbers.cardinal(whole)} {one if whole == 1 else many}"]
        if whole or not cents_text
        else []
    )
    if cents_text:
        cents = int((cents_text + "0")[:2])
        if cents:
            words.append(f"{numbers.cardinal(cents)} {sub_one if cents == 1 else sub_many}")
    return " " + " and ".join(words) + " "


def _time(match: re.Match[str]) -> str:
    hour, minute, meridiem = int(match.group(1)), int(match.group(2)), match.group(3)
    if minute == 0:
        words = f"{numbers.cardinal(hour)} o'clock" if not meridiem else numbers.cardinal(hour)
    elif minute < 10:
        words = f"{numbers.cardinal(hour)} oh {numbers.cardinal(minute)}"
    else:
        words = f"{numbers.cardinal(hour)} {numbers.cardinal(minute)}"
    if meridiem:
        words += " " + " ".join(meridiem.replace(".", "").upper())
        if _ends_sentence(match):
            words += "."
    return f" {words} "


def _numeric_date(match: re.Match[str]) -> str:
    month, day, year_text = int(match.group(1)), int(match.group(2)), match.group(3)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0).replace("/", " slash ")
    year_value = int(year_text)
    if len(year_text) == 2:
        year_value += 2000 if year_value < 50 else 1900
    return f" {MONTHS[month - 1]} {numbers.ordinal(day)}, {numbers.year(year_value)} "


def _month_day(match: re.Match[str]) -> str:
    month = _MONTH_ABBREV.get(match.group(1)[:4].lower().rstrip("."), match.group(1))
    if month not in MONTHS:
        month = _MONTH_ABBREV.get(match.group(1)[:3].lower(), match.group(1))
    return f"{month} {numbers.ordinal(int(match.group(2)))}"


def _fraction(match: re.Match[str]) -> str:
    top, bottom = int(match.group(1)), int(match.group(2))
    if (top, bottom) in _FRACTIONS:
        return f" {_FRACTIONS[top, bottom]} "
    return f" {numbers.cardinal(top)} over {numbers.cardinal(bottom)} "


def _ends_sentence(match: re.Match[str]) -> bool:
    """Whether the period a match swallowed also ended the sentence."""
    rest = match.string[match.end() :]
    return match.group(0).endswith(".") and (not rest.strip() or rest.lstrip()[:1].isupper())


def _initialism(match: re.Match[str]) -> str:
    letters = " ".join(ch.upper() for ch in match.group(0) if ch.isalpha())
    return f" {letters}{'.' if _ends_sentence(match) else ''} "


_RULES: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"\b(?:[A-Za-z]\.){2,}(?![A-Za-z])"), _initialism),
    (re.compile(r"([$£€¥])\s?(" + _NUM + r")" + _SCALE_WORDS), _currency),
    (re.compile(r"(" + _NUM + r")\s?%"), lambda m: f" {_number(m.group(1))} percent "),
    (re.compile(r"\b(\d{1,2}):(\d{2})\s*([aApP]\.?[mM]\.?)?(?![\d:])"), _time),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"), _numeric_date),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})\b"), _fraction),
    (
        re.compile(
            r"\b(" + "|".join(MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
            r"\s+(\d{1,2})(?:st|nd|rd|th)?\b"
        ),
        _month_day,
    ),
    (
        re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE),
        lambda m: numbers.ordinal(int(m.group(1))),
    ),
    (
        re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[-. ])?\b\d{3}-\d{4}\b"),
        lambda m: f" {numbers.digits(m.group(0))}, ",
    ),
    (
        re.compile(r"\b(\d+)\s?-\s?(\d+)\b"),
        lambda m: f"{_number(m.group(1))} to {_number(m.group(2))}",
    ),
    (re.compile(r"(?<![\w.])-(\d)"), lambda m: f"minus {m.group(1)}"),
    (
        re.compile(
            r"("
            + _NUM
            + r")\s?("
            + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
            + r")\b"
        ),
        lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}",
    ),
    (re.compile(r"\bNo\.\s?(?=\d)"), lambda _m: "number "),
    (re.compile(_NUM), lambda m: f" {_number(m.group(0))} "),
]


def _replace_abbreviations(text: str) -> str:
    for abbreviation, expansion in _ABBREVIATIONS.items():
        pattern = r"(?<![\w.])" + re.escape(abbreviation)
        text = re.sub(pattern, expansion, text)
    return text


def _drop_unsayable(text: str, warnings: list[str]) -> str:
    """Strip accents from Latin letters; remove and report other scripts and emoji."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    foreign: set[str] = set()
    symbols: set[str] = set()
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Mn":
            continue
        if ch.isascii() or ch in _SYMBOLS or ch in _CURRENCIES:
            kept.append(ch)
        elif category.startswith("L"):
            foreign.add(ch)
            kept.append(" ")
        elif category.startswith(("Z", "P")):
            kept.append(" ")
        else:
            symbols.add(ch)
            kept.append(" ")
    if foreign:
        sample = "".join(sorted(foreign)[:10])
        warnings.append(
            f"Skipped {len(foreign)} kind(s) of letters this English voice cannot read: {sample}"
        )
    if symbols:
        sample = " ".join(sorted(symbols)[:10])
        warnings.append(f"Skipped symbols or emoji that have no spoken form: {sample}")
    return "".join(kept)


def normalize(text: str) -> NormalizedText:
    """Expand written forms into words; the result holds letters, spaces and ``.,!?;:'-``."""
    warnings: list[str] = []
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_MAP)
    text = _drop_unsayable(text, warnings)
    text = _replace_abbreviations(text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)  # type: ignore[call-overload]
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    text = re.sub(r"[()\[\]{}\"]", ", ", text)
    text = re.sub(r"[^A-Za-z'.,!?;:\- ]", " ", text)
    text = re.sub(r"\s+([.,!?;:])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]+\s*([.!?])", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    return NormalizedText(text, warnings)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z'\"])")
MAX_WORDS_PER_CHUNK = 40


def split_sentences(text: str) -> list[str]:
    """Split normalised text into sentences, and over-long sentences at commas or by length."""
    chunks: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence.split()) <= MAX_WORDS_PER_CHUNK:
            chunks.append(sentence)
            continue
        current: list[str] = []
        for word in sentence.split():
            current.append(word)
            at_clause_end = word.endswith((",", ";", ":")) and len(current) >= 12
            if at_clause_end or len(current) >= MAX_WORDS_PER_CHUNK:
                chunks.append(" ".join(current))
                current = []
        if current:
            chunks.append(" ".join(current))
    return chunks
