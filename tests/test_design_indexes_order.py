"""Whether an index returns a pattern's rows in ORDER BY order, and what its reason promises.

Tables of pattern shapes first (pure logic, no database), then the designer's reasons on the
examples, then PostgreSQL's own plan: where the reason says "in order" the plan has no Sort
node, and where it says the engine sorts, it has one.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dbarch import api
from dbarch.design.index_order import order_break, order_note, sort_estimate
from dbarch.design.relational import design_relational
from dbarch.engines import engine_for
from dbarch.render.ddl import render_ddl
from dbarch.render.query import render_query
from dbarch.schema.model import (
    AccessQuery,
    Column,
    ColumnType,
    FilterOp,
    IndexColumn,
    IndexMethod,
    QueryFilter,
    QueryOrder,
    Schema,
    Table,
    TypeKind,
)
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec
from dbarch.verify.run import verify
from tests.conftest import ENGINE_URLS, POSTGRESQL_URL

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
IN_ORDER = "already in ORDER BY order"


def query(where: str, order: str, limit: int | None = 20) -> AccessQuery:
    """`a=eq s=in x=range` and `b -c` (- for descending) as an AccessQuery on table t."""
    ops = {"eq": FilterOp.eq, "in": FilterOp.in_, "range": FilterOp.range,
           "prefix": FilterOp.prefix}
    filters = [QueryFilter(column=c, op=ops[o]) for c, o in
               (part.split("=") for part in where.split())]
    order_by = [QueryOrder(column=o.lstrip("-"), desc=o.startswith("-")) for o in order.split()]
    return AccessQuery(pattern="p", table="t", filters=filters, order_by=order_by, limit=limit)


def key(spec: str) -> list[IndexColumn]:
    """`a s -b` as index key columns (- for DESC)."""
    return [IndexColumn(name=c.lstrip("-"), desc=c.startswith("-")) for c in spec.split()]


# (filters, ORDER BY, index key, what breaks the order: None, or (kind, column))
SHAPES: list[tuple[str, str, str, tuple[str, str] | None]] = [
    ("a=eq", "b", "a b", None),
    ("a=eq", "-b", "a -b", None),
    ("a=eq", "-b", "a b", None),                       # read backwards
    ("a=eq", "b -c", "a -b c", None),                  # every direction flipped: backwards
    ("a=eq", "b -c", "a b c", ("directions", "c")),    # mixed: neither way round
    ("a=eq s=eq", "-b", "a s -b", None),
    ("a=eq s=eq", "s b", "a b", None),                 # s is one value: constant, needs no place
    ("a=eq x=range", "x", "a x", None),                # range on the sort column, right after =
    ("a=eq x=range", "-x", "a -x", None),
    ("a=eq x=range", "y", "a y x", None),              # the range only filters inside the index
    ("a=eq x=range", "y", "a x y", ("range", "x")),
    ("a=eq x=prefix", "y", "a x y", ("prefix", "x")),
    ("s=in", "b", "s b", ("in", "s")),
    ("a=eq s=in", "-b", "a s -b", ("in", "s")),
    ("a=eq s=in", "-b", "a -b s", None),               # the list filters inside the index
    ("s=in x=range", "x", "s x", ("in", "s")),
    ("a=eq s=in x=range", "x", "a s x", ("in", "s")),
    ("a=eq", "b", "a c b", ("unbound", "c")),
    ("a=eq", "b", "a", ("missing", "b")),
    ("a=eq", "b", "c a b", ("unbound", "c")),
]


@pytest.mark.parametrize(("where", "order", "keys", "expected"), SHAPES,
                         ids=[f"{w} ORDER BY {o} on ({k})" for w, o, k, _ in SHAPES])
def test_order_break_by_pattern_shape(where: str, order: str, keys: str,
                                      expected: tuple[str, str] | None) -> None:
    brk = order_break(key(keys), IndexMethod.btree, query(where, order))
    assert (None if brk is None else (brk.kind, brk.column)) == expected


def test_no_order_by_is_never_broken_and_gin_never_orders() -> None:
    assert order_break(key("a"), IndexMethod.btree, query("a=eq", "")) is None
    brk = order_break(key("a"), IndexMethod.gin, query("a=eq", "b"))
    assert brk is not None and brk.kind == "method"


def table(rows: int) -> Table:
    """t(a reference-like column, s a 4-value enum, b and x timestamps) with `rows` rows."""
    return Table(name="t", rows=rows, rows_at_horizon=rows, primary_key=["id"], columns=[
        Column(name="id", type=ColumnType(kind=TypeKind.bigint), nullable=False),
        Column(name="a", type=ColumnType(kind=TypeKind.bigint), nullable=False),
        Column(name="s", type=ColumnType(kind=TypeKind.enum, values=["w", "x", "y", "z"]),
               nullable=False),
        Column(name="b", type=ColumnType(kind=TypeKind.timestamp), nullable=False),
        Column(name="x", type=ColumnType(kind=TypeKind.timestamp), nullable=False),
    ])


# (filters, ORDER BY, key, rows, distinct a, max rows per a, what the reason must say)
NOTES: list[tuple[str, str, str, int, int, int | None, list[str]]] = [
    ("a=eq", "-b", "a -b", 10_000_000, 100_000, None,
     [IN_ORDER, "LIMIT 20 stops after 20 entries"]),
    ("a=eq s=in", "-b", "a s -b", 10_000_000, 100_000, None,
     ["s IN (...) precedes b in the key", "one range per listed s (at most 4",
      "~100 rows per a on average at the horizon (10M rows / ~100k values)",
      "under 10k rows that read and sort stays cheap"]),
    ("a=eq s=in", "-b", "a s -b", 10_000_000, 100_000, 500_000,
     ["up to 500k in the largest (the relationship's max_fanout)",
      "too many to read and sort on every call",
      "query each s value on its own (s = ? AND a = ? ORDER BY b DESC LIMIT 20",
      "at most 4 × 20 = 80 rows"]),
    ("s=in x=range", "x", "s x", 25_000_000, 100_000, None,
     ["s IN (...) precedes x in the key", "up to all 25M rows at the horizon",
      "fewer once the x range applies", "at most 4 × 20 = 80 rows"]),
    ("a=eq x=range", "x", "a x", 10_000_000, 100_000, None, [IN_ORDER]),
    ("a=eq x=range", "y", "a x y", 10_000_000, 100_000, None,
     ["the range on x precedes y in the key",
      "the engine sorts every matching row before LIMIT 20"]),
]


@pytest.mark.parametrize(("where", "order", "keys", "rows", "distinct", "fanout", "says"),
                         NOTES, ids=[f"{w} ORDER BY {o} on ({k})" for w, o, k, *_ in NOTES])
def test_the_reason_promises_order_only_when_the_key_delivers_it(
    where: str, order: str, keys: str, rows: int, distinct: int, fanout: int | None,
    says: list[str],
) -> None:
    t = table(rows)
    q = query(where, order)
    cardinality = {("t", "a"): float(distinct), ("t", "s"): 4.0}
    groups = {("t", "a"): fanout} if fanout else {}
    note = order_note(q, key(keys), IndexMethod.btree, sort_estimate(t, q, cardinality, groups))
    for text in says:
        assert text in note
    if IN_ORDER not in says:
        assert IN_ORDER not in note and "stops after" not in note


def test_an_in_list_of_references_is_priced_by_the_assumed_list_length() -> None:
    q = query("a=in", "-b")
    est = sort_estimate(table(3_600_000_000), q, {("t", "a"): 49_200_000.0}, {})
    note = order_note(q, key("a -b"), IndexMethod.btree, est)
    assert "one range per listed a (~50 per list, assumed)" in note
    assert "~73.2 rows per a on average" in note and "≈ 3.66k rows" in note


def load_example(name: str) -> Spec:
    return Spec.model_validate(YAML(typ="safe").load((EXAMPLES / f"{name}.yaml").read_text()))


def all_relational(spec: Spec) -> Decisions:
    return Decisions(system=spec.system, parts=[Decision(
        part="core", entities=list(spec.entities), paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")])


def pattern_notes(schema: Schema) -> dict[str, str]:
    """Each ordered pattern's own sentence in its index's reason."""
    out = {}
    for t in schema.tables:
        for ix in t.indexes:
            for part in ix.reason.split("; "):
                name = part.split(":")[0]
                if name in ix.serves and " at " not in name:
                    out[name] = part
    return out


@pytest.mark.parametrize("example", ["iot", "saas", "shop", "social", "catalog"])
def test_example_reasons_agree_with_the_key(example: str) -> None:
    """Every ordered pattern served by a designed index: its reason promises order exactly
    when the index's key delivers it."""
    schema = design_relational(spec := load_example(example), all_relational(spec))
    notes = pattern_notes(schema)
    checked = 0
    for t in schema.tables:
        for ix in t.indexes:
            for q in schema.queries:
                if q.index != ix.name or not q.order_by:
                    continue
                if "needs no column for its ORDER BY" in ix.reason and q.pattern in ix.reason:
                    continue
                brk = order_break(ix.columns, ix.method, q)
                assert (IN_ORDER in notes[q.pattern]) == (brk is None), notes[q.pattern]
                checked += 1
    assert checked >= 2
    assert "index entries, already in order" not in " ".join(notes.values())


# The patterns the brief named: each engine sorts them, and the reasons now say why.
SORTED = {"iot": ["open_alerts"], "saas": ["project_board", "my_tasks", "overdue_tasks"],
          "shop": ["fulfilment_backlog"], "social": ["home_feed"]}


@pytest.mark.parametrize("example", sorted(SORTED))
def test_patterns_every_engine_sorts_are_not_promised_order(example: str) -> None:
    schema = design_relational(spec := load_example(example), all_relational(spec))
    notes = pattern_notes(schema)
    for pattern in SORTED[example]:
        assert IN_ORDER not in notes[pattern]
        assert "IN (...) precedes" in notes[pattern] and "rows" in notes[pattern]


BOARD_SPEC: dict[str, Any] = {
    "system": "board",
    "entities": {
        "Project": {"volume": "200", "attributes": {"name": "string"}},
        # Two tables of one shape, one pattern each: each has only its own designed index
        # (on one table PostgreSQL may walk (project_id, updated_at) and filter the list).
        **{name: {"volume": "100k", "attributes": {
            "status": {"type": "enum", "values": ["todo", "doing", "review", "done"]},
            "title": "string",
            "updated_at": "timestamp",
        }} for name in ("Task", "Issue")},
    },
    "relationships": [{"from": "Task", "to": "Project", "kind": "many-to-one"},
                      {"from": "Issue", "to": "Project", "kind": "many-to-one"}],
    "access_patterns": [
        {"name": "project_recent", "entity": "Task", "where": {"project": "eq"},
         "order_by": "-updated_at", "limit": 20, "rate": "50/s"},
        {"name": "project_board", "entity": "Issue",
         "where": {"project": "eq", "status": "in"}, "order_by": "-updated_at", "limit": 20,
         "rate": "50/s"},
    ],
}


def test_postgresql_sorts_exactly_where_the_reason_says_it_must() -> None:
    """200 projects × 250 tasks (and issues) on PostgreSQL: the pattern promised index order
    runs as Limit → Index Scan with no Sort node; the IN-list pattern has a Sort node; and the
    rewrite its reason gives (one branch per listed value under UNION ALL) merges without one.
    """
    spec = Spec.model_validate(BOARD_SPEC)
    schema = design_relational(spec, all_relational(spec))
    notes = pattern_notes(schema)
    assert IN_ORDER in notes["project_recent"]
    assert IN_ORDER not in notes["project_board"]
    assert "status IN (...) precedes updated_at" in notes["project_board"]

    rng = random.Random(7)
    start = datetime(2026, 1, 1)
    statuses = ["todo", "doing", "review", "done"]

    def value(column: str, n: int) -> Any:
        """Row n's value: 250 rows per project, statuses in turn, times spread over 2 years."""
        return {"id": n, "project_id": (n - 1) // 250 + 1, "status": statuses[n % 4],
                "name": f"project {n}", "title": f"task {n}",
                }.get(column, start + timedelta(minutes=rng.randrange(10**6)))

    with engine_for(POSTGRESQL_URL) as engine:
        engine.apply(render_ddl(schema, "postgresql"))
        for name, count in (("projects", 200), ("tasks", 50_000), ("issues", 50_000)):
            columns = [c.name for c in schema.table(name).columns]
            engine.load(name, columns,
                        [[value(c, n) for c in columns] for n in range(1, count + 1)])
        engine.analyze()
        plans = {}
        params = {"project_id": 17, "status": ["todo", "review"]}
        for q in schema.queries:
            sql = render_query(q, "postgresql", params)
            plans[q.pattern] = engine.explain(sql)
            assert q.index in plans[q.pattern].indexes, plans[q.pattern].access_path
            assert len(engine.query(sql)) == 20
        # The rewrite the reason gives: one branch per listed status, each read in key order.
        board = next(q for q in schema.queries if q.pattern == "project_board")
        one = board.model_copy(update={"filters": [
            f.model_copy(update={"op": FilterOp.eq}) for f in board.filters]})
        branches = " UNION ALL ".join(
            f"({render_query(one, 'postgresql', {**params, 'status': s})})"
            for s in params["status"])
        merged_sql = f'SELECT * FROM ({branches}) AS u ORDER BY "updated_at" DESC LIMIT 20'
        merged = engine.explain(merged_sql)
        assert engine.query(merged_sql) == engine.query(
            render_query(board, "postgresql", params))
    assert not plans["project_recent"].sorts, plans["project_recent"].access_path
    assert "Sort" not in plans["project_recent"].access_path
    assert plans["project_board"].sorts, plans["project_board"].access_path
    assert "Sort" in plans["project_board"].access_path
    assert not merged.sorts and "Merge Append" in merged.access_path, merged.access_path
    assert merged.indexes == [board.index, board.index], merged.access_path


@pytest.mark.parametrize("example", ["catalog", "iot", "saas", "shop", "social"])
def test_engines_sort_where_the_reasons_say_and_read_in_order_where_they_promise(
    example: str,
) -> None:
    """Every example verified on SQLite, PostgreSQL and MariaDB: a pattern whose key cannot
    deliver its ORDER BY is sorted by every engine; one promised index order is read in order
    by SQLite and MariaDB (PostgreSQL may still choose a bitmap scan and a sort on the sample's
    few matching rows: the document labels that the planner's choice)."""
    design = api.plan(EXAMPLES / f"{example}.yaml")
    schema = design.relational
    report = verify(schema, api.render_ddls(design), list(ENGINE_URLS.values()), spec=design.spec)
    indexes = {ix.name: ix for t in schema.tables for ix in t.indexes}
    promised = {q.pattern: order_break(indexes[q.index].columns, indexes[q.index].method, q)
                is None for q in schema.queries if q.order_by and q.index in indexes}
    seen = 0
    for e in report.engines:
        assert e.error is None, e.error
        for c in e.checks:
            if c.pattern not in promised:
                continue
            seen += 1
            if not promised[c.pattern]:
                assert c.sorted_by_engine, f"{c.pattern} on {e.engine}: {c.access_path}"
            elif e.engine in ("sqlite", "mariadb"):
                assert c.sorted_by_engine is False, f"{c.pattern} on {e.engine}: {c.access_path}"
    assert seen


def test_the_per_value_rewrite_is_offered_only_when_each_branch_comes_out_in_order() -> None:
    t = table(25_000_000)
    cardinality = {("t", "s"): 4.0, ("t", "a"): 100_000.0}
    one = query("s=in x=range", "x")
    two = query("s=in a=in", "-b")  # a second list ahead of b: a branch per s still sorts
    offered = order_note(one, key("s x"), IndexMethod.btree,
                         sort_estimate(t, one, cardinality, {}))
    refused = order_note(two, key("s a -b"), IndexMethod.btree,
                         sort_estimate(t, two, cardinality, {}))
    assert "too many to read and sort on every call" in offered
    assert "query each s value on its own" in offered
    assert "too many to read and sort on every call" in refused
    assert "query each" not in refused
