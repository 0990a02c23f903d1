"""Human quantities in specs: counts (`2M`), growth (`40%/year`), rates (`200/s`), durations.

Each parser accepts what an engineer writes on a whiteboard and returns a plain number, so the
rest of dbarch computes with floats and never re-parses text.
"""

from __future__ import annotations

import math
import re

_SUFFIX = {"": 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9, "G": 1e9, "T": 1e12}
_NUMBER = r"(\d+(?:\.\d+)?)\s*([kKmMbBGT]?)"

_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 7 * 86400,
    "week": 7 * 86400,
    "mo": 30 * 86400,
    "month": 30 * 86400,
    "y": 365 * 86400,
    "year": 365 * 86400,
}
_UNIT = "|".join(sorted(_SECONDS, key=len, reverse=True))
# `/s` and `per second` read the same; the patterns are exported to JSON Schema, so they keep to
# the regex syntax ECMAScript shares with Python (no named groups).
_PER = r"\s*(?:/|\bper\b)\s*"

COUNT_PATTERN = rf"^\s*{_NUMBER}\s*$"
RATE_PATTERN = rf"^\s*{_NUMBER}{_PER}({_UNIT})s?\s*$"
DURATION_PATTERN = rf"^\s*(\d+(?:\.\d+)?)\s*({_UNIT})s?\s*$"
GROWTH_PATTERN = rf"^\s*(?:(\d+(?:\.\d+)?)\s*%|{_NUMBER}){_PER}(year|yr|y|month|mo)\s*$"


def _number(value: int | float, what: str) -> float:
    """A bare number from YAML, refused when it cannot be a quantity (negative, inf, nan)."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"expected {what}, got {value!r}: it must be a finite number >= 0")
    return float(value)


def parse_count(value: object) -> int:
    """`2M` → 2000000, `500k` → 500000, `1.5B`, plain integers."""
    if isinstance(value, bool):
        raise ValueError("expected a count such as 500k or 2M")
    if isinstance(value, int | float):
        return round(_number(value, "a count such as 500k or 2M"))
    m = re.match(COUNT_PATTERN, str(value))
    if not m:
        raise ValueError(f"expected a count such as 500k or 2M, got {value!r}")
    return int(float(m.group(1)) * _SUFFIX[m.group(2)])


def parse_rate(value: object) -> float:
    """A rate per second: `200/s`, `5k/min`, `3M/day`; a bare number is per second."""
    if isinstance(value, bool):
        raise ValueError("expected a rate such as 200/s or 5k/min")
    if isinstance(value, int | float):
        return _number(value, "a rate such as 200/s or 5k/min")
    m = re.match(RATE_PATTERN, str(value))
    if not m:
        raise ValueError(f"expected a rate such as 200/s, 5k/min or 3M/day, got {value!r}")
    return float(m.group(1)) * _SUFFIX[m.group(2)] / _SECONDS[m.group(3)]


def parse_duration(value: object) -> float:
    """A duration in seconds: `20ms`, `30s`, `24h`, `90d`, `7y`; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 20ms, 24h or 30d")
    if isinstance(value, int | float):
        return _number(value, "a duration such as 20ms, 24h or 30d")
    m = re.match(DURATION_PATTERN, str(value))
    if not m:
        raise ValueError(f"expected a duration such as 20ms, 24h or 30d, got {value!r}")
    return float(m.group(1)) * _SECONDS[m.group(2)]


def parse_growth(value: object) -> tuple[float, float]:
    """Growth per year as (fraction, absolute): `40%/year` → (0.4, 0), `5M/year` → (0, 5e6)."""
    if isinstance(value, bool):
        raise ValueError("expected growth such as 40%/year or 5M/year")
    if isinstance(value, int | float):
        return (0.0, _number(value, "growth such as 40%/year or 5M/year"))
    m = re.match(GROWTH_PATTERN, str(value))
    if not m:
        raise ValueError(f"expected growth such as 40%/year or 5M/year, got {value!r}")
    per_year = 12 if m.group(4) in ("month", "mo") else 1
    if m.group(1) is not None:
        monthly_or_yearly = float(m.group(1)) / 100
        # Compounded: 3%/month is 42.6%/year, not 36%.
        return ((1 + monthly_or_yearly) ** per_year - 1 if per_year > 1 else monthly_or_yearly, 0.0)
    return (0.0, float(m.group(2)) * _SUFFIX[m.group(3)] * per_year)


def human_count(n: float) -> str:
    """2000000 → `2M`, 1500 → `1.5k`: the inverse of parse_count, for documents."""
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:.3g}" if n != int(n) else str(int(n))


def human_rate(per_second: float) -> str:
    """0.5 → `30/min`, 200 → `200/s`."""
    if per_second >= 1 or per_second == 0:
        return f"{human_count(per_second)}/s"
    if per_second * 60 >= 1:
        return f"{human_count(per_second * 60)}/min"
    if per_second * 3600 >= 1:
        return f"{human_count(per_second * 3600)}/h"
    return f"{human_count(per_second * 86400)}/day"


def human_duration(seconds: float) -> str:
    """86400 → `24h`, 0.02 → `20ms`."""
    if seconds < 1:
        return f"{seconds * 1000:.3g}ms"
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and (seconds / size == int(seconds / size) or unit in ("y", "d")):
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.3g}s"


def human_bytes(n: float) -> str:
    """1536 → `1.5 KiB`."""
    for unit, size in (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20),
                       ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


_BYTE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20,
               "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
               "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}


def parse_bytes(value: object) -> int:
    """A size: `2GB`, `500 MB`, `1.5GiB`, `800k`, plain bytes. Units are binary (1 GB = 2^30
    bytes), as PostgreSQL's own size settings and pg_size_pretty count them."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$", str(value))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _BYTE_UNITS:
        raise ValueError(f"expected a size such as 500MB or 2GB, got {value!r}")
    return int(float(m.group(1)) * _BYTE_UNITS[unit])
