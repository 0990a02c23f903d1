"""`dbarch review` on a database of 2,000 tables and 10,000 indexes, and `dbarch shard` on a
10-million-row table, timed as a user runs them, in one run.

    python bench/review_scale.py                  # build once (skipped when built), then time
    python bench/review_scale.py --force          # rebuild both schemas first
    python bench/review_scale.py --drop           # remove both schemas and exit
    python bench/review_scale.py --skip-shard     # the review only

What is built, inside PostgreSQL (no row passes through Python), each in a schema of its own
whose comment records the generator's version, parameters and state (`loading`, then
`complete`): a complete schema with the same parameters is reused; `--force` rebuilds it.

- `review_scale`: 2,000 tables of 5–20 columns of mixed types (bigint, integer, smallint, text,
  varchar, boolean, timestamptz, date, numeric, jsonb, uuid), a bigint identity primary key,
  a `created_at`, foreign keys to earlier tables (a DAG, each indexed), owned child tables
  (`<parent>_items`, ON DELETE CASCADE), unique e-mail columns; 10,000 indexes in all (primary
  keys and unique indexes counted), 2–7 per table; 20–300 rows each, nullable columns
  NULL in a fifth of the rows; ANALYZEd. On a few tables each, the flaws the review rules
  find: no primary key (R101), an unindexed foreign key (R102), a duplicate (R103) and a
  redundant (R104) index, indexes never read on a table read 60 times (R105), an int identity
  past half its range (R106), timestamp without time zone (R107), a price in double precision
  (R108), nullable columns that hold no NULL (R110), phone1/phone2 and tag_ids columns
  (R111), a wide table of mostly-NULL columns (R112), no creation time (R113), an owned child
  without ON DELETE (R114), a three-valued status text without CHECK (R115). varchar(255) is
  the common string type, as in many real schemas, so R109 reports the habit once. Rows are
  loaded with session_replication_role = replica, so foreign-key checks do not count as index
  scans on the parents (which would make every parent's other indexes look unused).
- `shard_scale`: `events_1m`, `events_3m`, `events_10m` (1, 3 and 10 million rows) of one
  shape: `id` bigint identity primary key, `tenant_id` skewed (log-uniform over 1..1,000:
  tenant 1 holds about 10 % of the rows), `customer_id` spread (uniform over 1..1,000,000),
  `created_at` monotonic (one row a second), an amount and a status; VACUUM ANALYZEd.

What is timed, each as a subprocess (the `dbarch` executable beside this Python, not a version
manager's shim; dbarch's modules compiled to bytecode first, as an installed package's are),
with `os.wait4` for its wall time, CPU time (user + system) and peak resident memory:

- `dbarch review URL?options=-csearch_path%3Dreview_scale --format json`: the tables and
  findings counted from its JSON. Goal (issue 6): under 20 s.
- `dbarch shard --db URL?options=-csearch_path%3Dshard_scale --table events_… --format json`
  on each table, with the default candidate keys (tenant_id and customer_id as owner columns,
  id as the primary key): the rows analysed and whether they were a sample, from its JSON.
  Goals: the 10M table under 30 s, and memory flat in the row count (the 10M run's peak
  within 1.2x of the 1M run's).

A benchmark, not a test: it prints a table and the goals as met / NOT met; its exit code says
only whether it ran (0) or could not (2). Timings move with the machine's load (the load
average is printed when it is high): rerun on an idle machine before comparing with the goals.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.subprocesses import busy_note, compile_dbarch, executable, timed
from bench.tpch.generate import schema_marker, set_schema_marker

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
REVIEW_SCHEMA = "review_scale"
SHARD_SCHEMA = "shard_scale"
GENERATOR_VERSION = 2  # bump when what is generated changes, so old builds are rebuilt
MARKER_KEY = "dbarch_review_scale"
SHARD_SIZES = {"events_1m": 1_000_000, "events_3m": 3_000_000, "events_10m": 10_000_000}
REVIEW_GOAL_S = 20.0
SHARD_GOAL_S = 30.0
FLAT_RATIO = 1.2  # 10M peak / 1M peak at most this for "flat"
TABLES_PER_BATCH = 50  # tables created per transaction: few enough locks for the lock table
READS_FOR_UNUSED = 60  # seq scans on the R105 tables: above review.yaml's min_table_reads (50)

# A column's name: what it holds; the type list says what it may be.
COLUMN_WORDS = [
    "title", "name", "description", "reference", "label", "note", "summary", "source", "channel",
    "region", "locale", "origin", "comment", "subject", "headline", "caption", "author",
    "quantity", "position", "attempts", "priority", "score", "weight", "rank", "level",
    "amount", "price", "subtotal", "discount", "balance",
    "is_active", "is_archived", "verified", "published",
    "due_on", "birth_date", "valid_from", "valid_until",
    "updated_at", "published_at", "expires_at", "last_seen_at",
    "settings", "payload", "metadata", "external_uuid",
]
KINDS: dict[str, str] = {}
for _word in COLUMN_WORDS[:17]:
    KINDS[_word] = "string"
for _word in COLUMN_WORDS[17:25]:
    KINDS[_word] = "int"
for _word in COLUMN_WORDS[25:30]:
    KINDS[_word] = "money"
for _word in COLUMN_WORDS[30:34]:
    KINDS[_word] = "bool"
for _word in COLUMN_WORDS[34:38]:
    KINDS[_word] = "date"
for _word in COLUMN_WORDS[38:42]:
    KINDS[_word] = "time"
for _word in COLUMN_WORDS[42:45]:
    KINDS[_word] = "json"
KINDS["external_uuid"] = "uuid"
TABLE_WORDS = ["orders", "invoices", "payments", "users", "products", "shipments", "coupons",
               "reviews", "sessions", "events", "devices", "tenants", "plans", "subscriptions",
               "refunds", "addresses", "carts", "warehouses", "suppliers", "accounts", "tickets",
               "messages", "projects", "tasks", "documents", "contracts", "campaigns", "leads"]
OWNED_PARTS = ["items", "lines", "versions", "attachments"]
FLAWS = {  # flaw → tables that get it (the review must find each)
    "no_pk": 6, "fk_unindexed": 8, "duplicate": 8, "redundant": 8, "unused": 6,
    "int_key": 4, "timestamp": 8, "float_money": 6, "never_null": 6, "repeating": 6,
    "sparse": 4, "no_created_at": 10, "owned_no_delete": 6, "enum_text": 8,
}
INDEXABLE = ("string", "int", "money", "date", "time", "uuid")


@dataclass
class Col:
    name: str
    kind: str
    sqltype: str
    nullable: bool = True
    expr: str = ""  # value for row g (1..rows)


@dataclass
class Plan:
    """One generated table: columns, keys, indexes and rows, and the flaws it carries."""

    name: str
    rows: int
    index_target: int
    columns: list[Col] = field(default_factory=list)
    pk: bool = True
    fks: list[tuple[str, str, str]] = field(default_factory=list)  # column, parent, on delete
    indexes: list[tuple[bool, tuple[str, ...]]] = field(default_factory=list)  # unique, columns
    flaws: set[str] = field(default_factory=set)
    plain: list[str] = field(default_factory=list)  # one-column indexes _balance may drop
    spare: list[str] = field(default_factory=list)  # columns _balance may index

    def count_indexes(self) -> int:
        return int(self.pk) + len(self.indexes)


def _value(kind: str, sqltype: str, salt: int) -> str:
    """A deterministic value of row `g` (distinct per row for strings, so no text column looks
    like an enumeration)."""
    if kind == "string":
        return f"'v{salt}-' || g || '-' || left(md5((g + {salt})::text), 8)"
    if kind == "int":
        cast = "::smallint" if sqltype == "smallint" else ""
        return f"((g * {salt % 97 + 3}) % 30000){cast}"
    if kind == "money":
        return f"round(((g * {salt % 89 + 7}) % 100000) / 100.0, 2)" + (
            "::float8" if sqltype == "double precision" else "")
    if kind == "bool":
        return f"(g + {salt}) % 3 = 0"
    if kind == "date":
        return f"date '2022-01-01' + ((g * {salt % 13 + 1}) % 900)"
    if kind == "time":
        return f"timestamptz '2024-01-01' + g * interval '{salt % 50 + 1} minutes'"
    if kind == "json":
        return f"jsonb_build_object('k', g, 's', {salt})"
    if kind == "uuid":
        return f"md5(g::text || '{salt}')::uuid"
    raise ValueError(kind)


def _sqltype(kind: str, rng: random.Random) -> str:
    if kind == "string":
        return rng.choice(["varchar(255)"] * 6 + ["text", "varchar(80)", "varchar(120)",
                                                  "varchar(40)"])
    if kind == "int":
        return rng.choice(["integer", "integer", "bigint", "smallint"])
    return {"money": "numeric(12,2)", "bool": "boolean", "date": "date",
            "time": "timestamptz", "json": "jsonb", "uuid": "uuid"}[kind]


def plan_tables(tables: int, indexes: int, seed: int) -> list[Plan]:
    """The tables to build: deterministic for (tables, indexes, seed); `indexes` in all,
    primary keys and unique indexes counted."""
    rng = random.Random(seed)
    base, extra = divmod(indexes, tables)
    if base < 3:
        raise SystemExit("--indexes must be at least 3 per table")
    targets = [base + (1 if i < extra else 0) for i in range(tables)]
    for i in range(0, tables - 1, 2):  # spread the counts, keeping the sum
        d = rng.randint(0, min(2, base - 2))
        targets[i] += d
        targets[i + 1] -= d
    rng.shuffle(targets)
    flaws: dict[int, set[str]] = {}
    for flaw, count in FLAWS.items():
        for i in rng.sample(range(tables // 4, tables), count):  # not the early parents
            flaws.setdefault(i, set()).add(flaw)
    plans: list[Plan] = []
    rows_of: dict[str, int] = {}
    parents: list[Plan] = []  # tables others may reference: bigint key, not owned
    for i in range(tables):
        flaw = flaws.get(i, set())
        rows = 150 + rng.randint(0, 150) if flaw & {"never_null", "sparse", "enum_text"} \
            else rng.randint(20, 300)
        if "owned_no_delete" in flaw or (parents and rng.random() < 0.06):
            parent = rng.choice(parents)
            name = f"{parent.name}_{rng.choice(OWNED_PARTS)}"
            if name in rows_of:
                name = f"{name}_{i:04d}"  # a second child of that kind: still owned
            plan = Plan(name, rows, targets[i], flaws=flaw)
            plan.fks.append((f"{parent.name}_id", parent.name,
                             "" if "owned_no_delete" in flaw else " ON DELETE CASCADE"))
        else:
            plan = Plan(f"{rng.choice(TABLE_WORDS)}_{i:04d}", rows, targets[i], flaws=flaw)
            count = rng.choice([0, 0, 1, 1, 2, 3])
            if "fk_unindexed" in flaw:
                count = max(count, 1)
            for parent in rng.sample(parents, min(len(parents), count)):
                plan.fks.append((f"{parent.name}_id", parent.name, ""))
        _columns(plan, rng, i, rows_of)
        _indexes(plan, rng)
        plans.append(plan)
        rows_of[plan.name] = plan.rows
        if plan.pk and not plan.name.endswith(tuple(OWNED_PARTS)) and "int_key" not in flaw \
                and len(plan.fks) < 3:
            parents.append(plan)
    _balance(plans, indexes)
    return plans


def _balance(plans: list[Plan], indexes: int) -> None:
    """Bring the total to `indexes` exactly: the flaws and foreign keys need the indexes they
    need, so clean tables give up (or take) plain one-column indexes to make up for them."""
    total = sum(p.count_indexes() for p in plans)
    clean = [p for p in plans if not p.flaws]
    while total > indexes and any(p.plain for p in clean):
        for plan in clean:
            if total > indexes and plan.plain:
                plan.indexes.remove((False, (plan.plain.pop(),)))
                total -= 1
    while total < indexes and any(p.spare for p in clean):
        for plan in clean:
            if total < indexes and plan.spare:
                column = plan.spare.pop()
                plan.indexes.append((False, (column,)))
                plan.plain.append(column)
                total += 1


def _columns(plan: Plan, rng: random.Random, salt: int, rows_of: dict[str, int]) -> None:
    flaw = plan.flaws
    plan.pk = "no_pk" not in flaw
    id_type = "integer" if "int_key" in flaw else "bigint"
    plan.columns.append(Col("id", "id", f"{id_type} GENERATED BY DEFAULT AS IDENTITY",
                            nullable=False))
    for column, parent, _ in plan.fks:
        plan.columns.append(Col(column, "fk", "bigint", nullable=False,
                                expr=f"1 + (g * 7 + {salt}) % {rows_of[parent]}"))
    if "no_created_at" not in flaw:
        kind = "timestamp" if "timestamp" in flaw else "timestamptz"
        plan.columns.append(Col("created_at", "time", f"{kind} NOT NULL DEFAULT now()",
                                nullable=False,
                                expr=f"{kind} '2023-06-01' + g * interval '1 hour'"))
    wanted = max(rng.randint(5, 20), plan.index_target + 3) - len(plan.columns)
    if "sparse" in flaw:
        wanted = max(wanted, 14)
    words = rng.sample(COLUMN_WORDS, min(wanted, len(COLUMN_WORDS)))
    if rng.random() < 0.15:
        words.append("email")
    for n, word in enumerate(words):
        kind = KINDS.get(word, "string")
        sqltype = "varchar(200)" if word == "email" else _sqltype(kind, rng)
        if kind == "time" and "timestamp" in flaw:
            sqltype = "timestamp"
        if kind == "money" and "float_money" in flaw:
            sqltype = "double precision"
        nullable = word != "email" and rng.random() < 0.5
        value = ("'user' || g || '@example.com'" if word == "email"
                 else _value(kind, sqltype, salt * 31 + n))
        if sqltype == "timestamp":
            value = value.replace("timestamptz", "timestamp")
        plan.columns.append(Col(word, kind, sqltype, nullable, value))
    if "float_money" in flaw and not any(c.sqltype == "double precision" for c in plan.columns):
        plan.columns.append(Col("unit_price", "money", "double precision", True,
                                _value("money", "double precision", salt)))
    if "repeating" in flaw:
        for name in ("phone1", "phone2", "phone3"):
            plan.columns.append(Col(name, "phone", "varchar(30)", True,
                                    "'+3361' || lpad((g * 7)::text, 7, '0')"))
        plan.columns.append(Col("tag_ids", "list", "text", True, "g || ',' || (g + 1)"))
    if "enum_text" in flaw:
        plan.columns.append(Col("status", "enum", "text", False,
                                "(ARRAY['pending', 'paid', 'shipped'])[1 + g % 3]"))
    if "sparse" in flaw:
        for letter in "abcde":
            # integers: a handful of text values would also read as an enumeration (R115)
            plan.columns.append(Col(f"option_{letter}", "sparse", "integer", True,
                                    "CASE WHEN g % 20 = 0 THEN g END"))  # 95 % NULL
    # nullable columns: NULL in a fifth of the rows, unless the flaw is that they never are
    for col in plan.columns:
        if col.nullable and col.kind != "sparse" and "never_null" not in flaw:
            col.expr = f"CASE WHEN g % 5 = 0 THEN NULL ELSE {col.expr} END"


def _indexes(plan: Plan, rng: random.Random) -> None:
    """Primary key, foreign keys (one left unindexed for R102), unique e-mail, the flaw's
    duplicate or redundant pair, then one-column and two-column indexes up to the target."""
    flaw = plan.flaws
    free = [c.name for c in plan.columns if c.kind in INDEXABLE and c.name != "email"]
    rng.shuffle(free)
    for n, (column, _, _) in enumerate(plan.fks):
        if "fk_unindexed" in flaw and n == len(plan.fks) - 1:
            continue
        plan.indexes.append((False, (column,)))
    if any(c.name == "email" for c in plan.columns):
        plan.indexes.append((True, ("email",)))
    if "duplicate" in flaw:
        column = free.pop()
        plan.indexes += [(False, (column,)), (False, (column,))]
    if "redundant" in flaw:
        a, b = free.pop(), free.pop()
        plan.indexes += [(False, (a,)), (False, (a, b))]
    # one index per column while they last; some two-column ones, led by a column no other
    # index leads (a one-column index on their lead would be redundant)
    while plan.count_indexes() < plan.index_target and free:
        if len(free) >= 2 and rng.random() < 0.25:
            a, b = free.pop(), free[-1]
            plan.indexes.append((False, (a, b)))
        else:
            column = free.pop()
            plan.indexes.append((False, (column,)))
            plan.plain.append(column)
    plan.spare = free


def table_sql(schema: str, plan: Plan) -> Iterator[str]:
    """CREATE TABLE, its rows (INSERT … SELECT generate_series) and its indexes."""
    q = _q
    cols = [f"{q(c.name)} {c.sqltype}" + ("" if c.nullable or "NOT NULL" in c.sqltype
                                           or "IDENTITY" in c.sqltype else " NOT NULL")
            for c in plan.columns]
    if plan.pk:
        cols.append("PRIMARY KEY (id)")
    for column, parent, on_delete in plan.fks:
        cols.append(f"FOREIGN KEY ({q(column)}) REFERENCES {q(schema)}.{q(parent)} (id)"
                    f"{on_delete}")
    table = f"{q(schema)}.{q(plan.name)}"
    yield f"CREATE TABLE {table} (\n    " + ",\n    ".join(cols) + "\n)"
    filled = [c for c in plan.columns if c.expr]
    yield (f"INSERT INTO {table} ({', '.join(q(c.name) for c in filled)}) "
           f"SELECT {', '.join(c.expr for c in filled)} FROM generate_series(1, {plan.rows}) g")
    for n, (unique, columns) in enumerate(plan.indexes):
        name = f"{plan.name[:40]}_{'_'.join(columns)[:15]}_{n}_idx"
        yield (f"CREATE {'UNIQUE ' if unique else ''}INDEX {q(name)} ON {table} "
               f"({', '.join(q(c) for c in columns)})")
    if "int_key" in plan.flaws:  # 79 % of int4 used: R106 warns from half
        yield (f"SELECT setval(pg_get_serial_sequence('{schema}.{plan.name}', 'id'), "
               "1700000000)")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------------------ building


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                        (schema,)).fetchone() is not None


def drop_schema(conn: psycopg.Connection, schema: str) -> bool:
    """Drop a schema this bench made, its tables in batches (one DROP SCHEMA … CASCADE of
    thousands of tables takes more locks than the lock table holds); False when it has none
    of this bench's marks."""
    if schema_marker(conn, schema, MARKER_KEY) is None:
        if _schema_exists(conn, schema):
            raise SystemExit(f"{schema} exists and was not made by this bench: not touched")
        return False
    names = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
        "AND c.relkind IN ('r', 'p') ORDER BY c.oid DESC", (schema,)).fetchall()]
    for start in range(0, len(names), TABLES_PER_BATCH):
        batch = names[start:start + TABLES_PER_BATCH]
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(schema, n) for n in batch)))
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return True


def _ready(conn: psycopg.Connection, schema: str, wanted: dict[str, Any], force: bool,
           say: Callable[[str], None]) -> bool:
    """True when `schema` already holds a complete build of `wanted`; otherwise a fresh, empty
    schema marked `loading`."""
    marker = schema_marker(conn, schema, MARKER_KEY)
    if marker == {**wanted, "state": "complete"} and not force:
        say(f"{schema}: already built ({json.dumps(wanted, sort_keys=True)})")
        return True
    if drop_schema(conn, schema):
        say(f"{schema}: dropped the previous build")
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    set_schema_marker(conn, schema, {**wanted, "state": "loading"}, MARKER_KEY)
    return False


def build_review(url: str, tables: int, indexes: int, seed: int, force: bool,
                 say: Callable[[str], None]) -> None:
    """The review schema: `tables` tables, `indexes` indexes, the flaws; ANALYZEd."""
    wanted = {"version": GENERATOR_VERSION, "tables": tables, "indexes": indexes, "seed": seed}
    with psycopg.connect(url, autocommit=True) as conn:
        if _ready(conn, REVIEW_SCHEMA, wanted, force, say):
            return
        started = time.perf_counter()
        plans = plan_tables(tables, indexes, seed)
        # No foreign-key trigger fires in replica mode: the load's lookups would count as
        # index scans on the parents and hide the unused indexes the review should find.
        conn.execute("SET session_replication_role = replica")
        for start in range(0, len(plans), TABLES_PER_BATCH):
            with conn.transaction():
                for plan in plans[start:start + TABLES_PER_BATCH]:
                    for statement in table_sql(REVIEW_SCHEMA, plan):
                        conn.execute(statement)
            if start and start % 500 == 0:
                say(f"{REVIEW_SCHEMA}: {start} tables")
        conn.execute("RESET session_replication_role")
        say(f"{REVIEW_SCHEMA}: ANALYZE")
        for start in range(0, len(plans), 200):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(
                sql.Identifier(REVIEW_SCHEMA, p.name) for p in plans[start:start + 200])))
        for plan in plans:  # a table the application reads, whose indexes it never uses
            if "unused" in plan.flaws:
                for _ in range(READS_FOR_UNUSED):
                    conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                        sql.Identifier(REVIEW_SCHEMA, plan.name)))
        made = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = %s", (REVIEW_SCHEMA,)
        ).fetchone()[0]
        set_schema_marker(conn, REVIEW_SCHEMA, {**wanted, "state": "complete"}, MARKER_KEY)
        say(f"{REVIEW_SCHEMA}: {len(plans)} tables, {made} indexes in "
            f"{time.perf_counter() - started:.0f} s")


SHARD_ROWS = """
INSERT INTO {table} (tenant_id, customer_id, created_at, amount, status)
SELECT 1 + floor(exp(ln(1000) * (abs(hashint8extended(g, 1)) % 1000000) / 1000000.0))::int - 1,
       1 + abs(hashint8extended(g, 2)) % 1000000,
       timestamptz '2020-01-01' + g * interval '1 second',
       (abs(hashint8extended(g, 3)) % 100000) / 100.0,
       (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[1 + abs(hashint8extended(g, 4)) % 4]
FROM generate_series(1, {rows}) g
"""


def build_shard(url: str, sizes: dict[str, int], force: bool,
                say: Callable[[str], None]) -> None:
    """The shard tables: one per size, the same shape and distributions; VACUUM ANALYZEd."""
    wanted = {"version": GENERATOR_VERSION, "tables": sizes}
    with psycopg.connect(url, autocommit=True) as conn:
        if _ready(conn, SHARD_SCHEMA, wanted, force, say):
            return
        for name, rows in sizes.items():
            started = time.perf_counter()
            table = sql.Identifier(SHARD_SCHEMA, name)
            conn.execute(sql.SQL(
                "CREATE TABLE {} (id bigint GENERATED BY DEFAULT AS IDENTITY, "
                "tenant_id integer NOT NULL, customer_id bigint NOT NULL, "
                "created_at timestamptz NOT NULL, amount numeric(10,2) NOT NULL, "
                "status text NOT NULL)").format(table))
            conn.execute(sql.SQL(SHARD_ROWS).format(table=table, rows=sql.Literal(rows)))
            # the key after the rows: one sort instead of a B-tree grown row by row
            conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(table))
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
            say(f"{SHARD_SCHEMA}.{name}: {rows:,} rows in {time.perf_counter() - started:.0f} s")
        set_schema_marker(conn, SHARD_SCHEMA, {**wanted, "state": "complete"}, MARKER_KEY)


# ------------------------------------------------------------------------------ timing


@dataclass
class Run:
    name: str
    size: str
    seconds: float
    cpu: float
    peak_mb: float
    note: str
    goal: str = ""
    met: bool | None = None


def measure(command: list[str], output: Path) -> tuple[float, float, float, Any]:
    """Run one command: wall s, CPU s (user + system), peak RSS MB (os.wait4), its JSON."""
    errors = output.with_suffix(".err")
    run = timed(command, output, errors)
    if run.code not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {run.code}: "
                           f"{errors.read_text(errors='replace').strip()[:500]}")
    return run.seconds, run.cpu, run.peak_mb, json.loads(output.read_text())


def _url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--indexes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--force", action="store_true", help="rebuild the schemas first")
    parser.add_argument("--drop", action="store_true", help="drop both schemas and exit")
    parser.add_argument("--skip-review", action="store_true")
    parser.add_argument("--skip-shard", action="store_true")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    try:
        if args.drop:
            with psycopg.connect(args.url, autocommit=True) as conn:
                for schema in (REVIEW_SCHEMA, SHARD_SCHEMA):
                    say(f"{schema}: {'dropped' if drop_schema(conn, schema) else 'not there'}")
            return 0
        if not args.skip_review:
            build_review(args.url, args.tables, args.indexes, args.seed, args.force, say)
        if not args.skip_shard:
            build_shard(args.url, SHARD_SIZES, args.force, say)
    except psycopg.Error as exc:
        say(f"cannot build: {exc}")
        return 2
    dbarch = executable("dbarch")
    if dbarch is None:
        say("dbarch is not on PATH (pip install -e .)")
        return 2
    compile_dbarch()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="dbarch-review-scale-") as tmp:
        out = Path(tmp) / "out.json"
        try:
            if not args.skip_review:
                say("dbarch review")
                seconds, cpu, peak, data = measure(
                    [dbarch, "review", _url(args.url, REVIEW_SCHEMA), "--format", "json"], out)
                by_code: dict[str, int] = {}
                for finding in data["findings"]:
                    by_code[finding["code"]] = by_code.get(finding["code"], 0) + 1
                codes = " ".join(f"{c}:{n}" for c, n in sorted(by_code.items()))
                runs.append(Run("dbarch review", f"{data['tables']:,} tables, {args.indexes:,} "
                                "indexes", seconds, cpu, peak,
                                f"{len(data['findings'])} findings ({codes})",
                                f"< {REVIEW_GOAL_S:.0f} s", seconds < REVIEW_GOAL_S))
            if not args.skip_shard:
                for name, rows in SHARD_SIZES.items():
                    say(f"dbarch shard {name}")
                    seconds, cpu, peak, data = measure(
                        [dbarch, "shard", "--db", _url(args.url, SHARD_SCHEMA), "--table", name,
                         "--format", "json"], out)
                    keys = data["keys"]
                    chars = keys[0]["keyCharacteristics"] if keys else {}
                    read = chars.get("numDocsSampled", 0)
                    how = (f"sample {chars.get('samplePercent') or 0:.2f}% of pages"
                           if chars.get("sampled") else "every row")
                    names = ", ".join("+".join(k["key"]) for k in keys)
                    note = (f"{read:,} rows read ({how}); keys {names}; "
                            f"best {data['recommended']}")
                    goal = f"< {SHARD_GOAL_S:.0f} s" if rows == max(SHARD_SIZES.values()) else ""
                    runs.append(Run(f"dbarch shard {name}", f"{rows:,} rows", seconds, cpu,
                                    peak, note, goal,
                                    seconds < SHARD_GOAL_S if goal else None))
        except (RuntimeError, ValueError, KeyError) as exc:
            say(str(exc))
            return 2
    _print(runs)
    return 0


def _print(runs: list[Run]) -> None:
    print("review and shard at scale: each run a subprocess; wall and CPU seconds, peak RSS "
          "(os.wait4)")
    print()
    header = (f"{'run':<24} {'input':<28} {'seconds':>8} {'cpu s':>6} {'peak MB':>8} "
              f"{'goal':>7} {'':<7}  what was analysed")
    print(header)
    print("-" * len(header))
    for r in runs:
        verdict = "" if r.met is None else ("met" if r.met else "NOT met")
        print(f"{r.name:<24} {r.size:<28} {r.seconds:>8.1f} {r.cpu:>6.1f} {r.peak_mb:>8.0f} "
              f"{r.goal:>7} {verdict:<7}  {r.note}")
    print()
    for r in runs:
        if r.goal:
            print(f"goal: {r.name} {r.goal}: {r.seconds:.1f} s — "
                  f"{'met' if r.met else 'NOT met'}")
    peaks = {r.name.rsplit(" ", 1)[-1]: r.peak_mb for r in runs
             if r.name.startswith("dbarch shard")}
    if len(peaks) == len(SHARD_SIZES):
        first, last = peaks[min(SHARD_SIZES, key=SHARD_SIZES.get)], \
            peaks[max(SHARD_SIZES, key=SHARD_SIZES.get)]
        ratio = last / first
        shown = " vs ".join(f"{peaks[n]:.0f} MB ({SHARD_SIZES[n] // 1_000_000}M)"
                            for n in SHARD_SIZES)
        print(f"goal: shard memory flat in the row count (10M peak within {FLAT_RATIO}x of "
              f"1M's): {shown}, {ratio:.2f}x — {'flat, met' if ratio <= FLAT_RATIO else 'NOT met'}")
    note = busy_note()
    if note:
        print(note)


if __name__ == "__main__":
    sys.exit(main())
