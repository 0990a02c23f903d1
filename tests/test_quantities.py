"""Quantities as engineers write them: each text → the number dbarch computes with, or refused.

The same regexes are published in the spec's JSON Schema, so each table also checks that an
editor accepts exactly what the loader accepts.
"""

from __future__ import annotations

import math
import re

import pytest

from dbarch.spec import quantities as q

DAY = 86400.0
YEAR = 365 * DAY

COUNTS = [
    ("500", 500), ("500k", 500_000), ("500K", 500_000), ("2M", 2_000_000), ("2m", 2_000_000),
    ("1.5B", 1_500_000_000), ("3G", 3_000_000_000), ("1T", 10**12), (" 2 M ", 2_000_000),
    (0, 0), (42, 42), (2.6, 3), (1e6, 1_000_000),
]
RATES = [
    ("200/s", 200.0), ("200 / s", 200.0), ("200/sec", 200.0), ("200/second", 200.0),
    ("5k/min", 5000 / 60), ("90/minute", 1.5), ("3M/day", 3e6 / DAY), ("36/h", 0.01),
    ("36/hour", 0.01), ("36/hr", 0.01), ("1/min", 1 / 60), ("7/week", 1 / DAY),
    ("300 per second", 300.0), ("12 per hour", 12 / 3600), ("2/ms", 2000.0), (25, 25.0),
    (0.5, 0.5),
]
DURATIONS = [
    ("20ms", 0.02), ("30s", 30.0), ("30 sec", 30.0), ("5m", 300.0), ("5min", 300.0),
    ("5 minutes", 300.0), ("24h", 86400.0), ("2 hours", 7200.0), ("1.5h", 5400.0),
    ("90d", 90 * DAY), ("3 days", 3 * DAY), ("2w", 14 * DAY), ("1mo", 30 * DAY),
    ("6 months", 180 * DAY), ("7y", 7 * YEAR), ("1 year", YEAR), (45, 45.0), (0.25, 0.25),
]
GROWTHS = [
    ("40%/year", (0.4, 0.0)), ("40% per year", (0.4, 0.0)), ("10%/y", (0.1, 0.0)),
    ("10%/yr", (0.1, 0.0)), ("3%/month", (1.03**12 - 1, 0.0)), ("3%/mo", (1.03**12 - 1, 0.0)),
    ("5M/year", (0.0, 5e6)), ("100k/month", (0.0, 1.2e6)), ("2B per year", (0.0, 2e9)),
    (0, (0.0, 0.0)), (1000, (0.0, 1000.0)),
]
GARBAGE = ["", "lots", "2 million", "-5", "5x", "1.2.3", "M", "k5", "20 parsecs",
           "40%", "/s", "5/fortnight", "1e6/s", "five/s"]


@pytest.mark.parametrize(("text", "expected"), COUNTS)
def test_count(text: str | float, expected: int) -> None:
    assert q.parse_count(text) == expected


@pytest.mark.parametrize(("text", "expected"), RATES)
def test_rate_per_second(text: str | float, expected: float) -> None:
    assert q.parse_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_duration_in_seconds(text: str | float, expected: float) -> None:
    assert q.parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize(("text", "expected"), GROWTHS)
def test_growth_per_year(text: str | float, expected: tuple[float, float]) -> None:
    assert q.parse_growth(text) == pytest.approx(expected)


def test_monthly_growth_compounds() -> None:
    # 3% a month is 42.6% a year, not 36%: growth compounds.
    fraction, _ = q.parse_growth("3%/month")
    assert fraction == pytest.approx(0.4258, abs=1e-4)


PARSERS = [
    (q.parse_count, q.COUNT_PATTERN), (q.parse_rate, q.RATE_PATTERN),
    (q.parse_duration, q.DURATION_PATTERN), (q.parse_growth, q.GROWTH_PATTERN),
]


@pytest.mark.parametrize("text", GARBAGE)
@pytest.mark.parametrize(("parse", "pattern"), PARSERS, ids=["count", "rate", "duration", "growth"])
def test_garbage_is_refused_with_an_example(parse, pattern, text: str) -> None:  # type: ignore[no-untyped-def]
    assert re.search(pattern, text) is None  # the JSON Schema refuses it too
    with pytest.raises(ValueError, match=r"expected .* such as"):
        parse(text)


def test_bare_number_text_is_only_a_count() -> None:
    # `rate: 200` (a YAML number) is per second; the text "200" lacks its unit.
    assert q.parse_count("200") == 200
    for parse in (q.parse_rate, q.parse_duration, q.parse_growth):
        with pytest.raises(ValueError):
            parse("200")


@pytest.mark.parametrize("value", [-1, -0.5, math.inf, math.nan, True, False])
@pytest.mark.parametrize(("parse", "pattern"), PARSERS, ids=["count", "rate", "duration", "growth"])
def test_numbers_that_cannot_be_quantities(parse, pattern, value: float) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="expected"):
        parse(value)


@pytest.mark.parametrize(
    ("pattern", "table"),
    [(q.COUNT_PATTERN, COUNTS), (q.RATE_PATTERN, RATES), (q.DURATION_PATTERN, DURATIONS),
     (q.GROWTH_PATTERN, GROWTHS)],
    ids=["count", "rate", "duration", "growth"],
)
def test_json_schema_patterns_accept_every_text_form(pattern: str, table: list) -> None:  # type: ignore[type-arg]
    # JSON Schema's `pattern` is searched, not matched; ours are anchored, so both agree.
    for text, _ in table:
        if isinstance(text, str):
            assert re.search(pattern, text), text


@pytest.mark.parametrize(
    ("n", "text"),
    [(2_000_000, "2M"), (1500, "1.5k"), (500, "500"), (1.5e9, "1.5B"), (0, "0")],
)
def test_human_count_inverts_parse_count(n: float, text: str) -> None:
    assert q.human_count(n) == text
    assert q.parse_count(text) == n


@pytest.mark.parametrize(
    ("seconds", "text"), [(86400, "1d"), (0.02, "20ms"), (3600, "1h"), (90, "90s")],
)
def test_human_duration_round_trips(seconds: float, text: str) -> None:
    assert q.human_duration(seconds) == text
    assert q.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("per_second", "text"), [(200, "200/s"), (0.5, "30/min"), (0, "0/s")])
def test_human_rate_round_trips(per_second: float, text: str) -> None:
    assert q.human_rate(per_second) == text
    assert q.parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize(("n", "expected"), [
    (1536, "1.5 KiB"),
    (200 * 2**30, "200 GiB"),
    (7.04 * 2**40, "7.04 TiB"),
    (2700 * 2**40, "2.64 PiB"),   # object storage at 100x: not "2700 TiB"
    (3 * 2**50, "3 PiB"),
])
def test_bytes_take_the_largest_binary_unit(n: float, expected: str) -> None:
    assert q.human_bytes(n) == expected
