"""Normalisation never fails in an unexpected way, and canonical values stay canonical."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.intel.normalise import InvalidIndicator, guess_indicator, normalise
from garrison.intel.types import IndicatorType

PIECES = st.sampled_from(
    [
        "hxxp://",
        "https://",
        "[.]",
        "(dot)",
        ".",
        "/",
        ":",
        "@",
        "[at]",
        "%",
        "%2e",
        "..",
        "bộ-y-tế",
        "vn",
        "203.0.113.5",
        "2001:db8::",
        "/24",
        "?",
        "#",
        "xn--",
        "-",
        "_",
        " ",
        "AS",
        "+84",
        "0912",
        "d41d8cd98f00b204e9800998ecf8427e",
        "\x00",
        "\u200b",
        "Ⅷ",
    ]
)
TEXTS = st.one_of(st.text(max_size=80), st.lists(PIECES, max_size=12).map("".join))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(IndicatorType)), TEXTS)
def test_normalise_is_total_and_idempotent(kind: IndicatorType, text: str) -> None:
    try:
        key = normalise(kind, text)
    except InvalidIndicator:
        return
    assert normalise(key.type, key.value) == key


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_guess_is_total(text: str) -> None:
    try:
        key = guess_indicator(text)
    except InvalidIndicator:
        return
    assert normalise(key.type, key.value) == key
