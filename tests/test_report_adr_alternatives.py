"""An ADR's alternatives list what competed, plus one row for the paradigms nothing asked for."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from dbarch import api
from dbarch.report import write_documents

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_no_adr_lists_a_scored_zero_row_per_silent_paradigm(path: Path) -> None:
    design = api.plan(path)
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    for name, text in docs.items():
        if not name.startswith("adr/"):
            continue
        assert not re.search(r"\| scored 0 against ", text), name
        assert len(re.findall(r"nothing in the spec calls for one", text)) <= 1, name


def test_shop_sessions_adr_names_the_silent_paradigms_once() -> None:
    path = next(p for p in EXAMPLES if p.stem == "shop")
    design = api.plan(path)
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    adr = docs["adr/0002-store-session-in-redis.md"]
    assert ("| any graph, search, blob store | nothing in the spec calls for one "
            "(no signal, score 0) |") in adr
    assert "Session records expire within 1d" in adr
