"""The BRIN reason states sizes that hold: not "a few hundred kB" for a 3.6B-row table.

At 3.6B rows a BRIN summary per 128 pages is tens of MB; the reason gives the per-range cost
and the B-tree it replaces, computed from the capacity model's widths.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbarch import api
from dbarch.design.ceilings import scaling_data
from dbarch.schema.model import IndexMethod
from dbarch.spec.quantities import human_bytes

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_brin_reasons_quote_the_b_tree_they_replace(path: Path) -> None:
    schema = api.plan(path).relational
    data = scaling_data()
    seen = 0
    for t in schema.tables:
        for ix in t.indexes:
            if ix.method != IndexMethod.brin:
                continue
            assert "few hundred" not in ix.reason
            width = data["column_bytes"]["timestamp"] + data["index_entry_overhead_bytes"]
            btree = t.rows_at_horizon * width / data["index_fill_factor"]
            claim = f"a B-tree on {ix.columns[0].name} would take about {human_bytes(btree)}"
            assert claim in ix.reason, ix.reason
            assert "one summary of about 32 bytes per 128 pages (1 MiB)" in ix.reason
            seen += 1
    if path.stem == "social":
        assert seen == 1   # posts_created_at_brin_idx: 3.6B rows at the horizon
