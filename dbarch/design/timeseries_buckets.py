"""Time buckets in SQL: flooring a timestamp to a window, PostgreSQL interval literals, window
names and the parsing of an aggregate's measure.

Small string helpers every part of the time-series design writes SQL with (the rollups, the
native PostgreSQL and TimescaleDB files, the section); kept apart so none of those imports
another for them.
"""

from __future__ import annotations

import re

from dbarch.spec.quantities import human_duration

# date_bin's origin: a Monday at UTC midnight, so 1d and 7d buckets line up with date_trunc.
ORIGIN = "TIMESTAMPTZ '2000-01-03 00:00:00+00'"


def bucket_sql(window: float, expr: str) -> str:
    """The SQL that floors `expr` to its window: date_bin for whole-second windows under a
    month (PostgreSQL 14+), date_trunc by month beyond (date_bin takes no months)."""
    if window >= 28 * 86400:
        return f"date_trunc('month', {expr}, 'UTC')"
    return f"date_bin(INTERVAL '{_interval(window)}', {expr}, {ORIGIN})"


def _interval(seconds: float) -> str:
    """A PostgreSQL interval literal body: `5 minutes`, `1 hour`, `7 days`."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{int(seconds)} seconds"


def _window_name(seconds: float) -> str:
    return human_duration(seconds).replace(" ", "")


def _measure(measure: str | None) -> tuple[str, str | None]:
    """`avg(value)` → ("avg", "value"); `count` → ("count", None)."""
    m = re.fullmatch(r"\s*(\w+)\s*\(\s*(\w+|\*)?\s*\)\s*", measure or "count")
    if not m:
        return "count", None
    fn, col = m.group(1).lower(), m.group(2)
    return fn, (None if col in (None, "*") else col)
