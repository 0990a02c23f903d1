"""The real pipeline on every example spec: select, design, render, verify, then the documents.

The schema is executed on real engines (SQLite for every example; PostgreSQL and MariaDB for
the shop) before the document reports on it, so the verification section quotes real plans.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from dbarch import api
from dbarch.report import write_documents
from dbarch.verify.run import verify
from tests.conftest import MARIADB_URL, POSTGRESQL_URL
from tests.test_report import FORBIDDEN, SECTIONS, parse_er, parse_flowchart, sections

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))


@cache
def _documents(path: Path, urls: tuple[str, ...]) -> tuple[api.Design, dict[str, str]]:
    """Run once per example and engine set; the three tests below read the same documents."""
    design = api.plan(path)
    ddl = api.render_ddls(design)
    report = verify(design.relational, ddl, list(urls), spec=design.spec)
    docs = write_documents(design.spec, design.decisions, design.relational, report, ddl,
                           today=date(2026, 11, 25))
    return design, docs


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_gets_a_complete_document(path: Path) -> None:
    design, docs = _documents(path, ("sqlite://",))
    text = docs["ARCHITECTURE.md"]
    body = sections(text)
    for head in SECTIONS:
        assert len(body[head]) > 80, head
    for path_, doc in docs.items():
        assert not FORBIDDEN.search(doc), (path_, FORBIDDEN.search(doc))
    requirements = body["## 1. Requirements summary"]
    for entity in design.spec.entities:
        assert f"| {entity} |" in requirements, entity
    for p in design.spec.access_patterns:
        assert f"| {p.name} |" in requirements, p.name
    indexes = body["## 4. Indexes"]
    for t in design.relational.tables:
        for ix in t.indexes:
            assert f"| {ix.name} | {t.name} |" in indexes, ix.name
        assert f"| {t.name}_pkey | {t.name} |" in indexes
    for q in design.relational.queries:
        assert f"| {q.pattern} | sqlite |" in indexes, q.pattern
    assert "Verification ran on sqlite" in indexes


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_diagram_parses(path: Path) -> None:
    design, docs = _documents(path, ("sqlite://",))
    entities, relations = parse_er(docs["diagrams/er.mmd"])
    assert set(entities) == {t.name for t in design.relational.tables}
    assert len(relations) == sum(len(t.foreign_keys) for t in design.relational.tables)
    parse_flowchart(docs["diagrams/overview.mmd"])
    for d in design.decisions.parts:
        if d.paradigm.value != "relational":
            part = docs[f"diagrams/{re.sub(r'[^A-Za-z0-9_]', '_', d.part)}.mmd"]
            parse_flowchart(part)
            for e in d.entities:
                assert e in part


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_adr_is_complete(path: Path) -> None:
    design, docs = _documents(path, ("sqlite://",))
    adrs = sorted(p for p in docs if p.startswith("adr/"))
    assert len(adrs) >= len(design.decisions.parts) + 1   # each part + the key strategy
    assert adrs[0].startswith("adr/0001-")
    for p in adrs:
        for head in ("## Context", "## Decision", "## Alternatives", "## Consequences"):
            assert head in docs[p], (p, head)
        assert "- Status: Accepted" in docs[p]
        assert p in docs["ARCHITECTURE.md"]


@pytest.mark.engine
def test_shop_verified_on_three_real_engines_is_reported_per_engine() -> None:
    path = next(p for p in EXAMPLES if p.stem == "shop")
    design, docs = _documents(path, ("sqlite://", POSTGRESQL_URL, MARIADB_URL))
    text = docs["ARCHITECTURE.md"]
    assert "Verification ran on sqlite, postgresql, mariadb." in text
    for q in design.relational.queries:
        for engine in ("sqlite", "postgresql", "mariadb"):
            assert re.search(rf"^\| {q.pattern} \| {engine} \| [^|]+ \|", text, re.M), \
                (q.pattern, engine)
    # PostgreSQL reports planner costs; the document prints them as numbers.
    assert re.search(r"^\| \w+ \| postgresql \| [^|]+ \| \d", text, re.M)
