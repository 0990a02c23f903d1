"""verify's index advisor on the real PostgreSQL 15 with HypoPG: the access patterns as the
workload of `dbarch indexes`' engine, on the sample rows verification loads."""

from __future__ import annotations

import io
from datetime import date
from functools import cache
from pathlib import Path

from rich.console import Console

from dbarch import api
from dbarch.console import show_verification
from dbarch.engines import engine_for
from dbarch.render.ddl import render_ddl
from dbarch.report.documents import write_documents
from dbarch.schema.model import AccessQuery, Index, IndexColumn, Schema
from dbarch.verify.advisor import UNREAD, advise_design, workload
from dbarch.verify.model import EngineReport, PatternCheck, VerifyReport
from dbarch.verify.run import verify
from tests.conftest import POSTGRESQL_URL
from tests.test_report import FORBIDDEN
from tests.test_verify_shop import shop_schema

CATALOG = Path(__file__).resolve().parent.parent / "examples" / "catalog.yaml"


@cache
def _catalog(without: str | None = None) -> tuple[api.Design, Schema, VerifyReport]:
    """The catalog example verified on PostgreSQL, optionally with one designed index left
    out of both the schema and its DDL (so the advisor does not count it as existing)."""
    design = api.plan(CATALOG)
    schema = design.relational.model_copy(deep=True)
    if without is not None:
        for table in schema.tables:
            table.indexes = [i for i in table.indexes if i.name != without]
    ddl = {"postgresql": render_ddl(schema, "postgresql")}
    return design, schema, verify(schema, ddl, [POSTGRESQL_URL], spec=design.spec)


def _text(report: VerifyReport) -> str:
    out = io.StringIO()
    show_verification(Console(file=out, width=200, color_system=None), report)
    return out.getvalue()


def test_designed_indexes_leave_nothing_to_add() -> None:
    """catalog's design serves every pattern with its own index: the advisor, searching the
    same candidates `dbarch indexes` would, finds no index worth 1% of the workload."""
    _, schema, report = _catalog()
    (engine,) = report.engines
    assert engine.ok, [(c.pattern, c.problem) for c in engine.checks if not c.ok]
    advisor = engine.advisor
    assert advisor is not None and advisor.note is None, advisor
    assert advisor.whatif_calls > 0
    assert advisor.patterns == len(schema.queries) == 14
    assert advisor.notices == []
    assert advisor.add == []
    assert advisor.cost_before is not None and advisor.cost_before > 0
    assert advisor.cost_after == advisor.cost_before and advisor.relative_cost == 1.0
    assert advisor.min_gain_share == 0.01
    # every designed index is some pattern's: none is idle
    assert advisor.idle == []


def test_nothing_to_add_is_shown_in_the_text_json_and_document() -> None:
    design, schema, report = _catalog()
    advisor = report.engines[0].advisor
    assert advisor is not None
    text = _text(report)
    assert (f"index advisor (14 patterns on the sample rows, {advisor.whatif_calls} what-if "
            "calls): the designed indexes leave nothing to add") in text
    assert report.model_dump(mode="json")["engines"][0]["advisor"]["add"] == []
    docs = write_documents(design.spec, design.decisions, schema, report,
                           api.render_ddls(design), today=date(2026, 11, 25))
    doc = docs["ARCHITECTURE.md"]
    section = doc[doc.index("## 4. Indexes"):doc.index("## 5.")]
    rows = next(e.rows_loaded for e in report.engines)
    assert ("Index advisor on postgresql: the read patterns, each weighted by its rate, were "
            "given as the workload to the index advisor of `dbarch indexes`") in section
    assert f"on the {rows} sample rows loaded for the checks above: 14 patterns" in section
    assert ("The designed indexes leave nothing to add: no candidate lowers the workload's "
            "planner cost by 1% or more.") in section
    assert not FORBIDDEN.search(doc), FORBIDDEN.search(doc)


def test_a_removed_index_is_proposed_for_its_pattern() -> None:
    """Without variants_product_id_idx, product_variants (WHERE product_id = …) reads the
    table in full: the advisor proposes the index on product_id and names that pattern."""
    design, schema, report = _catalog("variants_product_id_idx")
    (engine,) = report.engines
    failed = [c.pattern for c in engine.checks if not c.ok]
    assert failed == ["product_variants"]  # the check fails; the advisor adds no failure
    advisor = engine.advisor
    assert advisor is not None and advisor.note is None, advisor
    (added,) = advisor.add
    assert added.table == "variants"
    assert added.statement == (
        "CREATE INDEX CONCURRENTLY idx_variants_product_id ON variants (product_id);")
    assert added.size_bytes > 0
    (served,) = added.patterns
    assert served.pattern == "product_variants"
    assert served.cost_after < served.cost_before / 10
    assert advisor.relative_cost is not None and advisor.relative_cost < 0.5
    text = _text(report)
    assert "would add 1 index" in text
    assert f"    {added.statement}\n" in text
    assert "serves product_variants" in text
    docs = write_documents(design.spec, design.decisions, schema, report,
                           {"postgresql": render_ddl(schema, "postgresql")},
                           today=date(2026, 11, 25))
    doc = docs["ARCHITECTURE.md"]
    assert f"| `{added.statement}` |" in doc
    assert "product_variants (" in doc
    assert "Plans over sample rows are evidence, not a verdict" in doc
    assert not FORBIDDEN.search(doc), FORBIDDEN.search(doc)


def test_designed_indexes_no_plan_reads_are_named_with_the_reason() -> None:
    """Two indexes added to the hand-built shop: one a prefix of a pattern's index
    (redundant), one no pattern filters on (unused, with the design's own reason)."""
    schema = shop_schema()
    orders = schema.table("orders")
    orders.indexes += [
        Index(name="orders_user_id_idx", columns=[IndexColumn(name="user_id")]),
        Index(name="orders_status_idx", columns=[IndexColumn(name="status")],
              reason="the nightly export reads by status"),
    ]
    report = verify(schema, {"postgresql": render_ddl(schema, "postgresql")}, [POSTGRESQL_URL])
    (engine,) = report.engines
    assert engine.error is None and engine.ok
    advisor = engine.advisor
    assert advisor is not None and advisor.note is None, advisor
    idle = {i.index: i for i in advisor.idle}
    assert set(idle) == {"orders_user_id_idx", "orders_status_idx"}
    assert idle["orders_user_id_idx"].reason == "redundant"
    assert idle["orders_user_id_idx"].detail == (
        "its keys (user_id) lead orders_user_id_created_at_idx (user_id, created_at DESC), "
        "which serves the same lookups")
    assert idle["orders_status_idx"].reason == "unused"
    assert idle["orders_status_idx"].detail == UNREAD
    assert idle["orders_status_idx"].designed_for == "the nightly export reads by status"
    assert ("designed indexes no pattern's plan reads: orders_status_idx (unused), "
            "orders_user_id_idx (redundant)") in _text(report)


def test_patterns_of_one_shape_are_one_query_with_their_rates_added() -> None:
    """Pure: the checks' SQL become advisor queries by pglast fingerprint."""
    schema = Schema(name="s", tables=[], queries=[
        AccessQuery(pattern="a", table="users", rate=30.0),
        AccessQuery(pattern="b", table="users", rate=0.0),
        AccessQuery(pattern="c", table="orders", rate=2.0),
        AccessQuery(pattern="broken", table="orders", rate=5.0),
    ])
    checks = [
        PatternCheck(pattern="a", sql="SELECT * FROM users WHERE email = 'x'", expected_index=None,
                     ok=True),
        PatternCheck(pattern="b", sql="SELECT * FROM users WHERE email = 'y'", expected_index=None,
                     ok=True),
        PatternCheck(pattern="c", sql="SELECT * FROM orders WHERE id = 1", expected_index=None,
                     ok=True),
        PatternCheck(pattern="broken", sql="", expected_index=None, ok=False),
    ]
    queries, labels = workload(schema, checks, "ns")
    assert [(q.label, q.weight, q.tables, q.kind) for q in queries] == [
        ("a, b", 31.0, ("ns.users",), "select"),  # no rate counts as once a second
        ("c", 2.0, ("ns.orders",), "select"),
    ]
    assert [labels[q.fingerprint] for q in queries] == [["a", "b"], ["c"]]


def test_a_pattern_the_server_cannot_plan_is_a_notice_not_a_note() -> None:
    """The advisor runs on the rest; the engine's namespace holds the shop tables (empty)."""
    schema = shop_schema()
    with engine_for(POSTGRESQL_URL) as engine:
        engine.apply(render_ddl(schema, "postgresql"))
        engine.analyze()
        checks = [
            PatternCheck(pattern="login", sql="SELECT * FROM users WHERE email = 'a@b.c'",
                         expected_index="users_email_key", ok=True),
            PatternCheck(pattern="product_sales",
                         sql="SELECT * FROM order_items WHERE no_such_column = 1",
                         expected_index=None, ok=False),
        ]
        advisor = advise_design(engine, schema, checks)
    assert advisor.note is None, advisor.note
    assert advisor.patterns == 1
    (notice,) = advisor.notices
    assert notice.startswith("pattern product_sales: cannot be planned: ")
    assert "no_such_column" in notice


def test_the_advisor_never_makes_a_report_fail() -> None:
    """`ok` reads the checks only: an advisor that would add indexes, or could not run,
    leaves a passing engine passing."""
    _, _, report = _catalog()
    engine = report.engines[0]
    assert engine.advisor is not None
    failing = engine.advisor.model_copy(update={"note": "the index advisor failed: boom"})
    assert EngineReport(**{**engine.model_dump(), "advisor": failing.model_dump()}).ok
    _, _, proposed = _catalog("variants_product_id_idx")
    adding = proposed.engines[0].advisor
    assert adding is not None and adding.add
    assert EngineReport(**{**engine.model_dump(), "advisor": adding.model_dump()}).ok
