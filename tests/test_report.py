"""The architecture document, ADRs and diagrams, on the hand-built shop design."""

from __future__ import annotations

import re
from datetime import date

from dbarch.report import write_documents
from dbarch.schema.model import (
    AccessQuery,
    Column,
    ColumnType,
    FilterOp,
    ForeignKey,
    Index,
    IndexColumn,
    QueryFilter,
    QueryOrder,
    Schema,
    Table,
    TypeKind,
)
from dbarch.select.model import Decision, Decisions, Paradigm, Rejected
from dbarch.spec.model import Spec
from dbarch.verify.model import PatternCheck, VerifyReport
from tests.test_report_fixtures import (
    SHOP,
    SHOP_DDL,
    shop_decisions,
    shop_schema,
    shop_spec,
    shop_verify,
)

SECTIONS = [
    "## 1. Requirements summary",
    "## 2. Recommended databases",
    "## 3. Schema design",
    "## 4. Indexes",
    "## 5. Scaling strategy",
    "## 6. Migration plan",
    "## 7. Operational considerations",
    "## 8. Checklist",
]
FORBIDDEN = re.compile(r"TODO|TBD|lorem|\{\{|\{%|\bNone\b|\bnan\b|e\+\d")


def _docs(**kw: object) -> dict[str, str]:
    args = {"spec": shop_spec(), "decisions": shop_decisions(), "schema": shop_schema(),
            "verify": shop_verify(), "ddl": SHOP_DDL}
    args.update(kw)
    return write_documents(**args, today=date(2026, 11, 25))  # type: ignore[arg-type]


def sections(text: str) -> dict[str, str]:
    """Section heading → body, for the eight numbered sections."""
    bodies = {}
    for i, head in enumerate(SECTIONS):
        start = text.index(head) + len(head)
        end = text.index(SECTIONS[i + 1]) if i + 1 < len(SECTIONS) else len(text)
        bodies[head] = text[start:end].strip()
    return bodies


# Mermaid erDiagram grammar, the parts dbarch writes.
_ENTITY_OPEN = re.compile(r"^    ([A-Za-z][A-Za-z0-9_]*) \{$")
_ATTRIBUTE = re.compile(
    r'^        [A-Za-z][A-Za-z0-9_()\[\]-]* [A-Za-z][A-Za-z0-9_]*'
    r'( (PK|FK|UK)(, (PK|FK|UK))*)?( "[^"]*")?$'
)
_RELATION = re.compile(
    r'^    ([A-Za-z][A-Za-z0-9_]*) (\|\||\|o|\}o|\}\|)--(\|\||o\||o\{|\|\{) '
    r'([A-Za-z][A-Za-z0-9_]*) : "[^"]*"$'
)


def parse_er(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Parse an erDiagram structurally; fail on any line the grammar does not allow."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "erDiagram"
    entities: dict[str, list[str]] = {}
    relations = []
    current: str | None = None
    for line in lines[1:]:
        if current is not None:
            if line == "    }":
                current = None
                continue
            assert _ATTRIBUTE.match(line), f"bad attribute line: {line!r}"
            entities[current].append(line.split()[1])
        elif m := _ENTITY_OPEN.match(line):
            current = m.group(1)
            assert current not in entities, f"entity {current} declared twice"
            entities[current] = []
        elif m := _RELATION.match(line):
            relations.append((m.group(1), m.group(4)))
        else:
            raise AssertionError(f"line is neither an entity block nor a relation: {line!r}")
    assert current is None, "unclosed entity block"
    for a, b in relations:
        assert a in entities and b in entities, f"relation between undeclared {a}, {b}"
    return entities, relations


def parse_flowchart(text: str) -> None:
    """Structural check of a flowchart: balanced subgraphs, edges between declared nodes."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR"
    depth, nodes = 0, set()
    for line in lines[1:]:
        s = line.strip()
        if m := re.match(r'^subgraph ([A-Za-z]\w*)\["[^"]*"\]$', s):
            depth += 1
            nodes.add(m.group(1))
        elif s == "end":
            depth -= 1
        elif m := re.match(r'^([A-Za-z][A-Za-z0-9_]*)(\[\("[^"]*"\)\]|\(\["[^"]*"\]\))$', s):
            nodes.add(m.group(1))
        elif m := re.match(r'^([A-Za-z]\w*) -->\|(\w+|"[^"]*")\| ([A-Za-z]\w*)$', s):
            assert m.group(1) in nodes and m.group(3) in nodes, s
        else:
            raise AssertionError(f"unexpected flowchart line: {line!r}")
        assert depth >= 0
    assert depth == 0


def test_all_eight_sections_are_present_and_filled() -> None:
    text = _docs()["ARCHITECTURE.md"]
    for head, body in sections(text).items():
        assert len(body) > 80, head
    assert not FORBIDDEN.search(text), FORBIDDEN.search(text)


def test_every_entity_pattern_and_index_is_named() -> None:
    text = _docs()["ARCHITECTURE.md"]
    body = sections(text)
    for entity in SHOP["entities"]:
        assert f"| {entity} |" in body["## 1. Requirements summary"]
    for p in SHOP["access_patterns"]:
        assert f"| {p['name']} |" in body["## 1. Requirements summary"]
    for t in shop_schema().tables:
        for ix in t.indexes:
            assert f"| {ix.name} | {t.name} |" in body["## 4. Indexes"]
        for u in t.uniques:
            assert f"| {u.name} | {t.name} |" in body["## 4. Indexes"]
    # The index row names the patterns it serves with their rates.
    assert "user_orders (200/s)" in body["## 4. Indexes"]
    assert "login (50/s)" in body["## 4. Indexes"]


def test_requirements_show_volumes_now_and_at_the_horizon() -> None:
    req = sections(_docs()["ARCHITECTURE.md"])["## 1. Requirements summary"]
    assert "| User | 2M | 5.49M | 40%/year |" in req   # 2M x 1.4^3
    assert "| Order | 10M | 25M | +5M/year |" in req
    assert "| Session | 200k | 200k | none stated | 1d |" in req
    assert "email, password_hash" in req
    assert "99.95%: at most 4.38h of downtime a year" in req
    assert "- Eventual: product_page." in req
    assert "- Semi-structured (keys vary per row): Product.specs (map)." in req
    assert "- Unique: User.email." in req


def test_er_diagram_parses_and_matches_the_schema() -> None:
    docs = _docs()
    entities, relations = parse_er(docs["diagrams/er.mmd"])
    schema = shop_schema()
    assert set(entities) == {t.name for t in schema.tables}
    for t in schema.tables:
        assert entities[t.name] == [c.name for c in t.columns]
    assert sorted(relations) == sorted(
        (fk.ref_table, t.name) for t in schema.tables for fk in t.foreign_keys)
    assert docs["diagrams/er.mmd"] in docs["ARCHITECTURE.md"]


def test_one_to_one_and_optional_references_use_the_right_crows_feet() -> None:
    parent = Table(name="a", primary_key=["id"],
                   columns=[Column(name="id", type=ColumnType(kind=TypeKind.bigint))])
    child = Table(
        name="b", primary_key=["a_id"],
        columns=[Column(name="a_id", type=ColumnType(kind=TypeKind.bigint)),
                 Column(name="c_id", type=ColumnType(kind=TypeKind.bigint), nullable=True)],
        foreign_keys=[ForeignKey(name="b_a", columns=["a_id"], ref_table="a", ref_columns=["id"]),
                      ForeignKey(name="b_c", columns=["c_id"], ref_table="a", ref_columns=["id"])],
    )
    schema = Schema(name="x", tables=[parent, child])
    er = _docs(schema=schema)["diagrams/er.mmd"]
    parse_er(er)
    assert '    a ||--o| b : "a_id"' in er
    assert '    a |o--o{ b : "c_id"' in er


def test_overview_diagram_shows_each_server_and_its_traffic() -> None:
    docs = _docs()
    overview = docs["diagrams/overview.mmd"]
    parse_flowchart(overview)
    assert 'subgraph srv0_postgresql["PostgreSQL: core"]' in overview
    assert 'app -->|"3.25k/s reads, 60/s row writes"| srv0_postgresql' in overview
    assert overview in docs["ARCHITECTURE.md"]


def test_part_diagram_for_each_non_relational_part() -> None:
    docs = _docs()
    parse_flowchart(docs["diagrams/sessions.mmd"])
    assert "session_get" in docs["diagrams/sessions.mmd"]
    assert "diagrams/sessions.mmd" in docs["ARCHITECTURE.md"]


def test_adrs_have_the_four_parts_status_and_date() -> None:
    docs = _docs()
    adrs = sorted(p for p in docs if p.startswith("adr/"))
    assert [re.match(r"adr/(\d{4})-[a-z0-9-]+\.md$", p) is not None for p in adrs] == \
        [True] * len(adrs)
    assert adrs[0] == "adr/0001-use-postgresql-as-the-primary-database.md"
    titles = " ".join(adrs)
    for topic in ("redis", "primary-key", "partition", "money", "json"):
        assert topic in titles, topic
    for path in adrs:
        text = docs[path]
        for head in ("## Context", "## Decision", "## Alternatives", "## Consequences"):
            assert head in text, (path, head)
        assert "- Status: Accepted" in text and "- Date: 2026-11-25" in text
        assert not FORBIDDEN.search(text), path
        assert path in docs["ARCHITECTURE.md"]
    partition = docs[next(p for p in adrs if "partition" in p)]
    assert "| RANGE partitions by time |" in partition   # order_items is hash-partitioned
    money = docs[next(p for p in adrs if "money" in p)]
    assert "decimal(19,4)" in money and "orders.total" in money and "float" in money


def test_verification_names_the_engines_and_flags_failures() -> None:
    ok = _docs()["ARCHITECTURE.md"]
    assert "Verification ran on sqlite, postgresql; no engine ran the mysql DDL" in ok
    assert "| user_orders | postgresql | Index Scan using orders_user_id_created_at_idx | 12.3 |" \
        in ok
    assert "- [x] Every read pattern has an index" in ok
    bad = _docs(verify=shop_verify(ok=False))["ARCHITECTURE.md"]
    assert "**some checks failed**" in bad
    assert "**no**: postgresql chose a sequential scan" in bad
    assert "- [ ] Every read pattern has an index" in bad
    assert "user_orders on postgresql (planner did not use it)" in bad


def test_without_verification_the_document_says_so() -> None:
    text = _docs(verify=None)["ARCHITECTURE.md"]
    assert "Not verified:" in text
    assert "- [ ] DDL applied on a real engine — not verified" in text
    assert "(not verified on an engine)" in text


def test_checklist_flags_missing_p99_targets_and_unindexed_patterns() -> None:
    data = {**SHOP, "access_patterns": [{**p} for p in SHOP["access_patterns"]]}
    del data["access_patterns"][0]["p99"]
    schema = shop_schema()
    schema.queries[2].index = None
    text = _docs(spec=Spec.model_validate(data), schema=schema)["ARCHITECTURE.md"]
    assert "- [ ] p99 latency targets — no p99 target for: login" in text
    assert "product_page (no index)" in text
    assert "| product_page | products | id eq | — | — | **none** |" in text


def test_scaling_section_shows_each_multiple_and_its_steps() -> None:
    body = sections(_docs()["ARCHITECTURE.md"])["## 5. Scaling strategy"]
    for head in ("#### Now (day one)", "#### At 1x", "#### At 10x", "#### At 100x"):
        assert head in body
    ten = body[body.index("#### At 10x"):body.index("#### At 100x")]
    assert "**Connection pooling** (core)" in ten and "PgBouncer" in ten
    assert "**Caching** (core)" in ten and "product_page 30k/s" in ten
    hundred = body[body.index("#### At 100x"):]
    assert "User (user_id)" in hundred and "**Sharding** (core)" in hundred
    assert "https://www.postgresql.org/docs/15/pgbench.html" in body


def test_operations_show_the_availability_arithmetic() -> None:
    body = sections(_docs()["ARCHITECTURE.md"])["## 7. Operational considerations"]
    assert "(1 − 0.9995) × 8760 h = 4.38h of downtime a year" in body
    assert "RTO 2.19h, derived" in body
    assert "pg_stat_replication.replay_lag" in body and "evicted_keys" in body
    assert "| core | login latency |" in body and "> 20ms" in body
    assert "users.email, users.password_hash" in body


def test_migration_is_greenfield_or_names_the_existing_products() -> None:
    green = sections(_docs()["ARCHITECTURE.md"])["## 6. Migration plan"]
    assert green.startswith("Greenfield")
    existing = ["postgres", "mysql", "redis", "sqlite"]
    spec = Spec.model_validate({**SHOP, "deployment": {"existing": existing}})
    body = sections(_docs(spec=spec)["ARCHITECTURE.md"])["## 6. Migration plan"]
    assert "postgres stays: part(s) core are designed for it" in body   # alias of postgresql
    assert "redis stays: part(s) sessions use it" in body
    assert "mysql is replaced" in body and "the binary log in ROW format (Debezium)" in body
    assert "sqlite offers no change feed, so the application writes both" in body
    assert "--to schema/postgresql.sql" in body


def _big(n: int) -> tuple[Spec, Decisions, Schema]:
    entities = {f"E{i}": {"volume": 1000 * (i + 1), "growth": "10%/year",
                          "attributes": {"name": "string", "amount": "money"}}
                for i in range(n)}
    relationships = [{"from": f"E{i}", "to": f"E{i - 1}", "kind": "many-to-one"}
                     for i in range(1, n)]
    patterns = [{"name": f"by_parent_{i}", "entity": f"E{i}", "where": {f"e{i - 1}": "eq"},
                 "rate": "10/s", "p99": "20ms"} for i in range(1, n)]
    spec = Spec.model_validate({"system": "big", "entities": entities,
                                "relationships": relationships, "access_patterns": patterns})
    tables = []
    queries = []
    for i in range(n):
        cols = [Column(name="id", type=ColumnType(kind=TypeKind.bigint), identity=True),
                Column(name="name", type=ColumnType(kind=TypeKind.string, length=100)),
                Column(name="amount", type=ColumnType(kind=TypeKind.decimal, precision=19,
                                                      scale=4))]
        fks, idx = [], []
        if i:
            cols.append(Column(name=f"e{i - 1}_id", type=ColumnType(kind=TypeKind.bigint)))
            fks.append(ForeignKey(name=f"t{i}_fk", columns=[f"e{i - 1}_id"],
                                  ref_table=f"t{i - 1}", ref_columns=["id"]))
            idx.append(Index(name=f"t{i}_e{i - 1}_idx", columns=[IndexColumn(name=f"e{i - 1}_id")],
                             serves=[f"by_parent_{i}"], reason="filter by parent"))
            queries.append(AccessQuery(pattern=f"by_parent_{i}", table=f"t{i}",
                                       filters=[QueryFilter(column=f"e{i - 1}_id",
                                                            op=FilterOp.eq)],
                                       index=f"t{i}_e{i - 1}_idx", rate=10))
        tables.append(Table(name=f"t{i}", entity=f"E{i}", columns=cols, primary_key=["id"],
                            foreign_keys=fks, indexes=idx, rows=1000 * (i + 1)))
    decisions = Decisions(system="big", parts=[Decision(
        part="core", entities=list(entities), patterns=[p["name"] for p in patterns],
        paradigm=Paradigm.relational, product="postgresql", product_name="PostgreSQL",
        rejected=[Rejected(product="mongodb", paradigm=Paradigm.document, reason="joins")])])
    return spec, decisions, Schema(name="big", tables=tables, queries=queries)


def test_a_500_entity_design_renders_whole() -> None:
    """Every table of a large design is in the document; bench/design_scale.py times it."""
    spec, decisions, schema = _big(500)
    docs = write_documents(spec, decisions, schema, None, {"postgresql": "SELECT 1;\n"},
                           today=date(2026, 11, 25))
    entities, relations = parse_er(docs["diagrams/er.mmd"])
    assert len(entities) == 500 and len(relations) == 499
    parse_flowchart(docs["diagrams/overview.mmd"])
    assert "and 488 more tables" in docs["diagrams/overview.mmd"]
    assert "| E499 |" in docs["ARCHITECTURE.md"]


def test_schema_section_shows_each_column_type_per_engine() -> None:
    body = sections(_docs()["ARCHITECTURE.md"])["## 3. Schema design"]
    assert "| Neutral type | Columns | postgresql | mysql | sqlite |" in body
    assert "| decimal(19,4) | 3 | numeric(19,4) | DECIMAL(19,4) | NUMERIC |" in body
    assert "| uuid | 2 | uuid | BINARY(16) |" in body


def test_a_minimal_design_still_fills_every_section() -> None:
    spec = Spec.model_validate({"system": "tiny", "entities": {"Note": {"attributes": {
        "body": "text"}}}})
    decisions = Decisions(system="tiny", parts=[Decision(
        part="core", entities=["Note"], paradigm=Paradigm.relational, product="sqlite",
        product_name="SQLite")])
    schema = Schema(name="tiny", tables=[Table(
        name="notes", entity="Note", primary_key=["id"],
        columns=[Column(name="id", type=ColumnType(kind=TypeKind.bigint), identity=True),
                 Column(name="body", type=ColumnType(kind=TypeKind.text))])])
    docs = write_documents(spec, decisions, schema, None, {"sqlite": "CREATE TABLE notes ();\n"},
                           today=date(2026, 11, 25))
    text = docs["ARCHITECTURE.md"]
    for head, body in sections(text).items():
        assert body, head
    assert not FORBIDDEN.search(text)
    assert "The spec declares no access patterns" in text
    assert "- [ ] Every entity states its volume — no volume for: Note" in text
    parse_er(docs["diagrams/er.mmd"])


def test_an_engine_that_refused_the_ddl_is_reported() -> None:
    from dbarch.verify.model import EngineReport

    report = shop_verify()
    report.engines.append(EngineReport(engine="mariadb", url="mysql://root@127.0.0.1:3306/test",
                                       applied=False, error="1064 syntax error near 'jsonb'"))
    text = _docs(verify=report)["ARCHITECTURE.md"]
    assert "| mariadb | mysql://root@127.0.0.1:3306/test | — | no: 1064 syntax error" in text
    assert "- [ ] DDL applied on a real engine — failed on: mariadb (1064 syntax error" in text
    assert "**some checks failed**" in text


def _sorting_case() -> tuple[Schema, VerifyReport]:
    """The shop schema plus `backlog` (status IN (...) ORDER BY created_at DESC LIMIT 50,
    whose key cannot deliver the order), and a report where PostgreSQL sorted user_orders
    (its key can) and both engines sorted backlog."""
    schema = shop_schema()
    orders = schema.table("orders")
    orders.indexes.append(Index(
        name="orders_status_created_at_idx",
        columns=[IndexColumn(name="status"), IndexColumn(name="created_at", desc=True)],
        serves=["backlog"], reason="backlog: status IN (...) precedes created_at in the key"))
    schema.queries.append(AccessQuery(
        pattern="backlog", table="orders", filters=[QueryFilter(column="status", op=FilterOp.in_)],
        order_by=[QueryOrder(column="created_at", desc=True)], limit=50,
        index="orders_status_created_at_idx", rate=2))
    report = shop_verify()
    for e in report.engines:
        for c in e.checks:
            if c.pattern == "user_orders":
                c.sorted_by_engine = e.engine == "postgresql"
        e.checks.append(PatternCheck(
            pattern="backlog", sql="SELECT …", expected_index="orders_status_created_at_idx",
            used_indexes=["orders_status_created_at_idx"], access_path="Sort → Index Scan",
            ok=True, sorted_by_engine=True))
    return schema, report


def test_verification_shows_which_engine_sorted_and_whether_the_key_could_not_help() -> None:
    schema, report = _sorting_case()
    text = _docs(schema=schema, verify=report)["ARCHITECTURE.md"]
    body = sections(text)["## 4. Indexes"]
    assert "| Expected index | Sorted by engine | OK |" in body
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): line
            for line in body.splitlines() if line.startswith("| ") and "|" in line[2:]}
    # The key (user_id, created_at DESC) returns user_orders in order: SQLite read it so;
    # PostgreSQL's sort was its own choice. backlog's key cannot: the sort is expected.
    assert "| orders_user_id_created_at_idx | no | yes |" in rows[("user_orders", "sqlite")]
    assert "| yes, planner's choice | yes |" in rows[("user_orders", "postgresql")]
    assert "| yes, expected | yes |" in rows[("backlog", "sqlite")]
    assert "| yes, expected | yes |" in rows[("backlog", "postgresql")]
    assert "| users_email_key | — | yes |" in rows[("login", "postgresql")]  # no ORDER BY
    assert "- *yes, expected*: the designed key cannot return these rows in order" in body
    assert "- *yes, planner's choice*: the key does return the rows in order" in body
    assert not FORBIDDEN.search(text)


def test_without_any_engine_sort_the_sorted_legend_is_left_out() -> None:
    body = sections(_docs()["ARCHITECTURE.md"])["## 4. Indexes"]
    assert "| Sorted by engine |" in body
    assert "| orders_user_id_created_at_idx | — | yes |" in body  # the check left it unset
    assert "yes, expected" not in body and "planner's choice" not in body
