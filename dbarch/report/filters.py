"""Jinja filters for the documents: numbers in human units, and text made safe for its context.

The quantity formats are the spec's own (`dbarch.spec.quantities`), so a document quotes a
volume, rate or duration the way the engineer wrote it.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment

from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

_UNITS = (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
_EXPONENT = re.compile(r"\b\d+(?:\.\d+)?e[+-]\d+")


def _plain(text: str) -> str:
    """Three significant digits print 999.7 as `1e+03`; a reader wants `1000`."""
    return _EXPONENT.sub(lambda m: f"{float(m.group()):.0f}", text)


def duration(seconds: float | None) -> str:
    """Seconds as the spec writes them (`24h`, `20ms`); uneven values in their largest unit."""
    if seconds is None:
        return "—"
    if seconds == 0:
        return "0 s"
    text = human_duration(seconds)
    if "e" not in text:
        return text
    # human_duration prints uneven values such as 15768 s in exponent form; a reader wants 4.38h.
    unit, size = next((u, s) for u, s in _UNITS if seconds >= s)
    return _plain(f"{seconds / size:.3g}{unit}")


def count(n: float | None) -> str:
    """2000000 → 2M."""
    return "—" if n is None else _plain(human_count(round(n) if n >= 1 else n))


def rate(per_second: float | None) -> str:
    """200 → 200/s; 0.5 → 30/min."""
    return "—" if per_second is None else _plain(human_rate(per_second))


def size(n: float | None) -> str:
    """Bytes in binary units: 1536 → 1.5 KiB; 1000 GiB rather than 1e+03 GiB."""
    return "—" if n is None else _plain(human_bytes(n))


def pct(fraction: float) -> str:
    """0.925 → 92%."""
    return f"{fraction:.0%}"


def signed(x: float) -> str:
    """A score contribution with its sign: +3, -1.5."""
    return f"{x:+.3g}"


def cell(value: Any) -> str:
    """Text made safe for a Markdown table cell: pipes escaped, newlines folded."""
    return str(value).replace("|", "\\|").replace("\n", " ").strip()


def quoted(value: Any) -> str:
    """Text made safe inside a Mermaid double-quoted label."""
    return str(value).replace('"', "'").replace("\n", " ")


def install(env: Environment) -> None:
    """Register every filter on `env`."""
    env.filters.update(
        duration=duration, count=count, rate=rate, size=size, pct=pct, signed=signed,
        cell=cell, quoted=quoted,
    )
