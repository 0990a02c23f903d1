"""One table, one size: the consolidation note quotes the sizes of section 5's capacity tables.

Selection sizes entities roughly before a schema exists; the document must not quote that
estimate next to the capacity model's (orders was 12.3 GiB in section 2 and 14.8 GiB in
section 5 of the same shop document).
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from dbarch import api
from dbarch.report import write_documents

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))
LARGEST = re.compile(r"^- Largest tables at the horizon, data \+ indexes as sized in section 5: "
                     r"(.+)\.$", re.M)
ITEM = re.compile(r"(\w+) \((.+?)\) (\S+) rows ≈ ([\d.]+ \w+)")


@cache
def _architecture(path: Path) -> str:
    design = api.plan(path)
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    return docs["ARCHITECTURE.md"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_largest_tables_note_matches_the_capacity_tables(path: Path) -> None:
    text = _architecture(path)
    assert "Largest entities at the horizon" not in text
    note = LARGEST.search(text)
    assert note is not None
    items = ITEM.findall(note.group(1))
    assert len(items) == 3
    for table, _part, rows, size in items:
        # The per-table row of section 5: | table | row | index per row | now | horizon | size |
        row = re.search(rf"^\| {table} \| [^|]+ \| [^|]+ \| [^|]+ \| {re.escape(rows)} \| "
                        rf"{re.escape(size)} \|$", text, re.M)
        assert row is not None, (table, rows, size)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_no_consolidation_note_repeats_the_label(path: Path) -> None:
    text = _architecture(path)
    assert "Consolidation:\n" in text
    assert "- Consolidation:" not in text
    assert "Consolidation:\n- An entity leaves" in text


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_searches_served_by_the_search_part_are_not_missing_indexes(path: Path) -> None:
    # catalog's search patterns read Product, a relational entity, but OpenSearch answers them.
    text = _architecture(path)
    line = next(ln for ln in text.splitlines() if "Every read pattern has an index" in ln)
    assert line.startswith("- [x]"), line
