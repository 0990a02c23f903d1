"""Jinja filters for the documents: numbers in human units, and text made safe for its context.

The quantity formats are the spec's own (`dbarch.spec.quantities`), so a document quotes a
volume, rate or duration the way the engineer wrote it.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

_UNITS = (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


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
    return f"{seconds / size:.3g}{unit}"


def count(n: float | None) -> str:
    """2000000 → 2M."""
    return "—" if n is None else human_count(round(n) if n >= 1 else n)


def rate(per_second: float | None) -> str:
    """200 → 200/s; 0.5 → 30/min."""
    return "—" if per_second is None else human_rate(per_second)


_BINARY = (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20),
           ("KiB", 1 << 10))


def size(n: float | None) -> str:
    """Bytes in binary units: 1536 → 1.5 KiB; never an exponent (1023.9 GiB → 1 TiB)."""
    if n is None:
        return "—"
    text = human_bytes(n)
    if "e" not in text and n < 1 << 50:
        return text
    # Three significant digits can round up into the next unit (1.01e+03 GiB); step up instead.
    for unit, scale in _BINARY:
        if n >= scale * 0.9995:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


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
