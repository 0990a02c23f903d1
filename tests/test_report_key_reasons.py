"""The primary key argument is written once per kind of key, not once per table."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from dbarch import api
from dbarch.report import write_documents
from dbarch.report.adr import key_reasons
from dbarch.schema.model import Column, ColumnType, Table, TypeKind

SEQ = ("bigint identity: the database's own sequence is the cheapest unique key "
       "({} rows now, {} in 3 years); bigint, not int")
UUID = "UUIDv7: ids appear outside the database; 16 bytes instead of 8 ({} rows now, {} in 3 years)"


def _table(name: str, reason: str) -> Table:
    return Table(name=name, columns=[Column(name="id", type=ColumnType(kind=TypeKind.bigint))],
                 primary_key=["id"], key_reason=reason)


# (table, its reason, what the document shows)
CASES = [
    ("users", SEQ.format("2M", "5M"), SEQ.format("2M", "5M")),
    ("addresses", SEQ.format("3M", "7M"), "bigint identity, for the same reason as users"),
    ("products", UUID.format("80k", "156k"), UUID.format("80k", "156k")),
    ("orders", UUID.format("10M", "25M"), "UUIDv7, for the same reason as products"),
    ("carts", "bigint identity: one region writes, and nothing else",
     "bigint identity: one region writes, and nothing else"),
    ("links", "", "—"),
    ("tags", "", "—"),
]


def test_a_repeated_key_reason_points_to_its_first_table() -> None:
    shown = key_reasons([_table(name, reason) for name, reason, _ in CASES])
    assert shown == {name: expected for name, _, expected in CASES}


EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_no_key_paragraph_is_printed_twice(path: Path) -> None:
    design = api.plan(path)
    docs = write_documents(design.spec, design.decisions, design.relational, None,
                           api.render_ddls(design), today=date(2026, 11, 25))
    for name in ("ARCHITECTURE.md", *[n for n in docs if "primary-key" in n]):
        cells = [c.strip() for line in docs[name].splitlines() if line.startswith("| ")
                 for c in line.split(" | ") if len(c) > 120 and re.search(r"\bkey\b", c)]
        assert len(cells) == len(set(cells)), name


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_the_key_adr_says_who_makes_a_uuidv7_as_the_ddl_does(dialect: str) -> None:
    path = next(p for p in EXAMPLES if p.stem == "shop")
    design = api.plan(path)
    ddl = api.render_ddls(design)
    docs = write_documents(design.spec, design.decisions, design.relational, None, ddl,
                           today=date(2026, 11, 25))
    adr = next(text for name, text in docs.items() if "primary-key" in name)
    assert "| products | id | UUIDv7 made by the application |" in adr
    # The DDL leaves the id to the application: no default generates one.
    create = re.search(r"CREATE TABLE products \((.*?)\n\)", ddl[dialect], re.S)
    assert create is not None
    id_line = next(ln for ln in create.group(1).splitlines() if ln.strip().startswith("id "))
    assert "DEFAULT" not in id_line.upper()
