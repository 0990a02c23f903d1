"""A TPC-H-shaped data set, generated inside PostgreSQL, for the index-advisor benchmark.

    python -m bench.tpch.generate --scale 0.1            # into schema tpch_sf0_1
    python -m bench.tpch.generate --scale 1 --force --url postgresql://postgres@127.0.0.1/test

The eight tables of bench/tpch/schema.sql are filled with INSERT … SELECT over generate_series,
so no row passes through Python. The shape follows TPC-H 3.0.1 (clause 4.2.3): SF × 10,000
suppliers, 200,000 parts with 4 suppliers each, 150,000 customers, 1,500,000 orders with 1–7
lineitems each (about 6,000,000), 25 nations and 5 regions; sparse order keys (8 of every 32);
orders only for customers whose key is not a multiple of 3; o_orderdate uniform over
1992-01-01 .. 1998-08-02; l_shipdate = orderdate + 1..121 days, l_commitdate = orderdate +
30..90, l_receiptdate = shipdate + 1..30; l_returnflag R/A when received by 1995-06-17 else N;
l_linestatus O when shipped after it else F; o_orderstatus F, O or P from its lines;
o_totalprice the sum of its lines; p_retailprice by the spec's formula and l_extendedprice =
quantity × retail price; the spec's word lists for types, containers, brands, segments,
priorities, ship modes and instructions (bench/tpch/distributions.yaml); p_name five distinct
colours; comments of the spec's lengths cut from a text pool written with dbgen's grammar.

It is TPC-H-*shaped*, not dbgen: the answers of the 22 queries are not the published ones, and
the data must not be used for a TPC-H result. What differs:
- Randomness is a hash of (seed, column, row key) (PostgreSQL's hashint8extended), not dbgen's
  per-column LCG streams, so a row's values do not depend on the order rows are made in
  (deterministic for a seed, like setseed(), but also under any plan).
- ps_suppkey = (partkey - 1 + i·⌊S/4⌋ + ⌊(partkey - 1)/S⌋) mod S + 1 for i = 0..3 instead of
  dbgen's formula, which repeats a supplier for a part at small scale factors; each supplier
  still supplies 80 parts, and each lineitem's (partkey, suppkey) is one of its part's four.
- p_name's five colours are an arithmetic progression (random start, random step coprime with
  92) over the colour list: distinct, each colour equally likely, but fewer distinct names.
- The comment grammar's weights are approximated from dists.dss, and the text pool is 4,096
  strings of 300 characters rather than dbgen's 300 MB pool; addresses are hex, not dbgen's
  alphabet.
- Supplier comments hold 'Customer … Complaints' / 'Recommends' (Q16) for about 5 in 10,000
  suppliers each, chosen by hash rather than exactly SF × 5 of each.

Idempotent: the schema's comment records the generator version, scale, seed and state; a load
finds a complete one for the same parameters and returns at once (unless force). Tables are
VACUUM ANALYZEd at the end, so the planner sees row counts, statistics and all-visible pages
as on a settled database (for which the VACUUM waits, up to a minute, for other sessions'
transactions older than the load to end: while one may not see the rows, no page is
all-visible).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import pglast
import psycopg
from pglast.parser import parse_sql_json
from psycopg import sql
from ruamel.yaml import YAML

if __package__ in (None, ""):  # run as a file: make `dbarch` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dbarch.errors import EngineError, InputError, Problem

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
GENERATOR_VERSION = 1  # bump when the data changes, so old loads are not taken for current ones
TABLES = ("region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem")
MIN_SCALE = 0.0004  # 4 suppliers, so every part can have its 4 distinct ones
MAX_SCALE = 300.0  # the integer keys of the schema (orderkeys reach 4 × orders)
CURRENT_DATE = "1995-06-17"  # TPC-H's CURRENTDATE: splits shipped/returned from open lines
START_DATE = "1992-01-01"
ORDER_DAYS = 2405  # 1992-01-01 .. 1998-08-02 (ENDDATE - 151 days), inclusive: 2406 days
POOL_STRINGS = 4096
POOL_LENGTH = 300
MARKER_KEY = "dbarch_tpch"
VISIBILITY_WAIT = 60.0  # seconds to wait for other sessions' older snapshots before VACUUM

# Each column drawing a random value has its own stream, so no two columns are correlated.
_STREAMS = (
    "r_comment", "n_comment", "p_mfgr", "p_brand", "p_type1", "p_type2", "p_type3", "p_size",
    "p_cont1", "p_cont2", "p_comment", "p_color_start", "p_color_step", "s_address", "s_nation",
    "s_phone1", "s_phone2", "s_phone3", "s_acctbal", "s_comment", "s_comment_bbb", "ps_availqty",
    "ps_supplycost", "ps_comment", "c_address", "c_nation", "c_phone1", "c_phone2", "c_phone3",
    "c_acctbal", "c_segment", "c_comment", "o_custkey", "o_date", "o_lines", "o_priority",
    "o_clerk", "o_comment", "l_partkey", "l_supp", "l_quantity", "l_discount", "l_tax", "l_ship",
    "l_commit", "l_receipt", "l_returnflag", "l_instruct", "l_mode", "l_comment",
)
STREAM = {name: number for number, name in enumerate(_STREAMS, start=1)}


@cache
def distributions() -> dict[str, Any]:
    """TPC-H's word lists (bench/tpch/distributions.yaml), shared with the workload."""
    with (HERE / "distributions.yaml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = YAML(typ="safe").load(handle)
    return data


def default_schema(scale: float) -> str:
    """`tpch_sf<scale>` with the dot as an underscore: tpch_sf1, tpch_sf0_1."""
    return "tpch_sf" + f"{scale:g}".replace(".", "_").replace("-", "m")


def cardinalities(scale: float) -> dict[str, int]:
    """Rows per table at a scale factor (lineitem is about 4 × orders, drawn per order)."""
    return {
        "region": 5,
        "nation": 25,
        "supplier": max(4, round(10_000 * scale)),
        "part": max(1, round(200_000 * scale)),
        "partsupp": 4 * max(1, round(200_000 * scale)),
        "customer": max(3, round(150_000 * scale)),
        "orders": max(1, round(1_500_000 * scale)),
        "clerks": max(1, round(1_000 * scale)),
    }


def load(url: str, scale: float, schema: str | None = None, *, force: bool = False,
         seed: int = 1, progress: Callable[[str], None] | None = None) -> dict[str, dict[str, int]]:
    """Create `schema` (default `tpch_sf<scale>`) and fill it with the TPC-H-shaped data.

    Returns table → {"rows", "table_bytes", "index_bytes"} (row counts as VACUUM counted them;
    bytes from pg_table_size and pg_indexes_size). Does nothing but report when the schema
    already holds a complete load of this scale and seed, unless `force`; a schema left
    incomplete by an interrupted load, or loaded with other parameters, is dropped and
    reloaded; a schema the generator did not make raises InputError.
    """
    _check_scale(scale)
    schema = schema or default_schema(scale)
    _check_name(schema)
    say = progress or (lambda _message: None)
    wanted = {"version": GENERATOR_VERSION, "scale": scale, "seed": seed}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            marker = schema_marker(conn, schema)
            if marker is not None and not force and marker == {**wanted, "state": "complete"}:
                say(f"{schema}: already loaded at scale {scale:g}")
                return _stats(conn, schema)
            if marker is None and _schema_exists(conn, schema):
                raise InputError([Problem(
                    schema, "the schema exists and was not made by the TPC-H generator",
                    hint="choose another --schema, or drop it yourself")])
            started = time.perf_counter()
            _create(conn, schema, wanted)
            _fill(url, schema, scale, seed, say)
            _finish(conn, schema, wanted, say)
            say(f"{schema}: loaded in {time.perf_counter() - started:.1f} s")
            return _stats(conn, schema)
    except psycopg.OperationalError as exc:
        raise EngineError(f"cannot load TPC-H data into {url}: {exc}") from exc


def drop(url: str, schema: str) -> None:
    """Drop a schema the generator made (nothing when it does not exist); refuse any other."""
    _check_name(schema)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if schema_marker(conn, schema) is None:
                if _schema_exists(conn, schema):
                    raise InputError([Problem(
                        schema, "not dropped: the schema was not made by the TPC-H generator")])
                return
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    except psycopg.OperationalError as exc:
        raise EngineError(f"cannot drop {schema} in {url}: {exc}") from exc


def schema_script() -> tuple[str, str]:
    """schema.sql split at its `-- after load` line: (tables, keys)."""
    text = (HERE / "schema.sql").read_text(encoding="utf-8")
    before, marker, after = text.partition("\n-- after load\n")
    if not marker:
        raise EngineError(f"{HERE / 'schema.sql'} has no '-- after load' line")
    return before, after


def _check_scale(scale: float) -> None:
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise InputError([Problem(
            "--scale", f"scale factor {scale:g} is out of range",
            hint=f"between {MIN_SCALE:g} (4 suppliers) and {MAX_SCALE:g} (integer keys)")])


def _check_name(schema: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise InputError([Problem(
            schema, "not a plain schema name",
            hint="lower-case letters, digits and underscores, at most 63")])


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None


def schema_marker(conn: psycopg.Connection, schema: str,
                  key: str = MARKER_KEY) -> dict[str, Any] | None:
    """A generator's record (under `key`) in the schema's comment, or None when it has none;
    bench/review_scale.py marks its schemas the same way."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
        (schema,)).fetchone()
    if row is None or not row[0]:
        return None
    try:
        record = json.loads(row[0]).get(key)
    except (ValueError, AttributeError):
        return None
    return record if isinstance(record, dict) else None


def set_schema_marker(conn: psycopg.Connection, schema: str, record: dict[str, Any],
                      key: str = MARKER_KEY) -> None:
    """Record what was generated (and how far) in the schema's comment."""
    comment = json.dumps({key: record}, sort_keys=True)
    conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
        sql.Identifier(schema), sql.Literal(comment)))


def _create(conn: psycopg.Connection, schema: str, wanted: dict[str, Any]) -> None:
    """A fresh schema with the empty tables, the hash function and the text pool."""
    tables, _keys = schema_script()
    ident = sql.Identifier(schema)
    with conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
        set_schema_marker(conn, schema, {**wanted, "state": "loading"})
        conn.execute(sql.SQL("SET LOCAL search_path = {}").format(ident))
        conn.execute(tables)
        # Inlined by the planner (one SQL expression, immutable), so a draw costs one hash.
        conn.execute(
            "CREATE FUNCTION _tpch_u(k bigint, stream bigint, lo bigint, hi bigint) "
            "RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
            "$$ SELECT lo + (hashint8extended(k, stream) & 9223372036854775807) % (hi - lo + 1) $$")
        conn.execute("CREATE TABLE _tpch_text (id integer PRIMARY KEY, txt text NOT NULL)")
        with conn.cursor().copy("COPY _tpch_text (id, txt) FROM STDIN") as copy:
            for number, text in enumerate(text_pool(wanted["seed"])):
                copy.write_row((number, text))
        conn.execute("ANALYZE _tpch_text")


def text_pool(seed: int) -> list[str]:
    """POOL_STRINGS strings of POOL_LENGTH characters, sentences of TPC-H's comment grammar
    (clause 4.2.2.14); comments are cut from them at a random offset, as dbgen cuts its pool."""
    rng = random.Random(f"tpch-text-{seed}")
    tables = {kind: (list(weights), list(itertools.accumulate(weights.values())))
              for kind, weights in distributions()["text"].items()}

    def pick(kind: str) -> str:
        population, cumulative = tables[kind]
        return population[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]

    def noun_phrase() -> str:
        shape = rng.randrange(4)
        if shape == 0:
            return pick("nouns")
        if shape == 1:
            return f"{pick('adjectives')} {pick('nouns')}"
        if shape == 2:
            return f"{pick('adjectives')}, {pick('adjectives')} {pick('nouns')}"
        return f"{pick('adverbs')} {pick('adjectives')} {pick('nouns')}"

    def verb_phrase() -> str:
        shape = rng.randrange(4)
        if shape == 0:
            return pick("verbs")
        if shape == 1:
            return f"{pick('auxiliaries')} {pick('verbs')}"
        if shape == 2:
            return f"{pick('verbs')} {pick('adverbs')}"
        return f"{pick('auxiliaries')} {pick('verbs')} {pick('adverbs')}"

    def prep() -> str:
        return f"{pick('prepositions')} the {noun_phrase()}"

    def sentence() -> str:
        shape = rng.randrange(5)
        if shape == 0:
            body = f"{noun_phrase()} {verb_phrase()}"
        elif shape == 1:
            body = f"{noun_phrase()} {verb_phrase()} {prep()}"
        elif shape == 2:
            body = f"{noun_phrase()} {verb_phrase()} {noun_phrase()}"
        elif shape == 3:
            body = f"{noun_phrase()} {prep()} {verb_phrase()} {noun_phrase()}"
        else:
            body = f"{noun_phrase()} {prep()} {verb_phrase()} {prep()}"
        return body + pick("terminators")

    pool = []
    for _ in range(POOL_STRINGS):
        text = ""
        while len(text) < POOL_LENGTH:
            text += sentence() + " "
        pool.append(text[:POOL_LENGTH])
    return pool


def _pick(values: list[str], draw: str) -> str:
    """A SQL expression choosing one of `values` by `draw` (1-based)."""
    items = ", ".join(_literal(value) for value in values)
    return f"(ARRAY[{items}])[{draw}]"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Draws:
    """SQL expressions for the random draws of one load (its seed folded into the streams)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def u(self, key: str, stream: str, lo: int | str, hi: int | str, part: int = 0) -> str:
        """A uniform integer in [lo, hi] for row `key`, from the column's own stream (`part`
        tells apart the draws one column needs: a comment's pool string, offset, length)."""
        number = self.seed * 10_000 + STREAM[stream] * 4 + part
        return f"_tpch_u(({key})::bigint, {number}, {lo}, {hi})"

    def text(self, key: str, stream: str, lo: int, hi: int) -> tuple[str, str]:
        """(pool id, substring expression on alias tp) for a comment of lo..hi characters."""
        pool_id = self.u(key, stream, 0, POOL_STRINGS - 1)
        offset = self.u(key, stream, 0, POOL_LENGTH - hi, part=1)
        length = self.u(key, stream, lo, hi, part=2)
        return pool_id, f"substr(tp.txt, 1 + {offset}::integer, {length}::integer)"


def _money(draws: _Draws, key: str, stream: str, lo_cents: int, hi_cents: int) -> str:
    return f"({draws.u(key, stream, lo_cents, hi_cents)})::numeric / 100"


def _phone(draws: _Draws, key: str, nation: str, prefix: str) -> str:
    return (f"(({nation}) + 10)::text || '-' || {draws.u(key, prefix + '1', 100, 999)}::text"
            f" || '-' || {draws.u(key, prefix + '2', 100, 999)}::text"
            f" || '-' || {draws.u(key, prefix + '3', 1000, 9999)}::text")


def _address(draws: _Draws, key: str, stream: str) -> str:
    """A 10..40-character string (two md5s of the key: v-string-like, not dbgen's alphabet)."""
    salt = f"{draws.seed}-{stream}"
    return (f"left(md5(({key})::text || '{salt}') || md5(({key})::text || '{salt}x'), "
            f"{draws.u(key, stream, 10, 40)}::integer)")


def _retail_price(partkey: str) -> str:
    """Clause 4.2.3: (90000 + ((P_PARTKEY/10) modulo 20001) + 100 * (P_PARTKEY modulo 1000))/100."""
    return f"((90000 + (({partkey}) / 10) % 20001 + 100 * (({partkey}) % 1000))::numeric / 100)"


def _supplier_of(partkey: str, index: str, suppliers: int) -> str:
    """The index-th (0..3) of a part's four suppliers; see the module docstring."""
    return (f"((({partkey}) - 1 + ({index}) * {suppliers // 4} + (({partkey}) - 1) / {suppliers})"
            f" % {suppliers} + 1)")


def table_statements(scale: float, seed: int) -> dict[str, str]:
    """The INSERT … SELECT filling each table, in the order they can run (all independent)."""
    d = distributions()
    n = cardinalities(scale)
    draws = _Draws(seed)
    u = draws.u
    suppliers, parts = n["supplier"], n["part"]
    statements: dict[str, str] = {}

    region_names = ", ".join(_literal(name) for name in d["regions"])
    pool, text = draws.text("r", "r_comment", 31, 115)
    statements["region"] = f"""
        INSERT INTO region
        SELECT r - 1, (ARRAY[{region_names}])[r], {text}
        FROM generate_series(1, 5) r JOIN _tpch_text tp ON tp.id = {pool}"""

    nation_names = ", ".join(_literal(name) for name, _region in d["nations"])
    nation_regions = ", ".join(str(region) for _name, region in d["nations"])
    pool, text = draws.text("nk", "n_comment", 31, 114)
    statements["nation"] = f"""
        INSERT INTO nation
        SELECT nk - 1, (ARRAY[{nation_names}])[nk], (ARRAY[{nation_regions}])[nk], {text}
        FROM generate_series(1, 25) nk JOIN _tpch_text tp ON tp.id = {pool}"""

    syl = d["type_syllables"]
    cont = d["container_syllables"]
    colors = d["colors"]
    # steps coprime with the colour count make the five positions distinct
    steps = [s for s in range(1, len(colors)) if _gcd(s, len(colors)) == 1]
    color_array = ", ".join(_literal(c) for c in colors)
    start = u("p", "p_color_start", 0, len(colors) - 1)
    step = f"(ARRAY[{', '.join(map(str, steps))}])[{u('p', 'p_color_step', 1, len(steps))}]"
    name = " || ' ' || ".join(
        f"colors[1 + (start + {j} * step) % {len(colors)}]" for j in range(5))
    pool, text = draws.text("p", "p_comment", 5, 22)
    statements["part"] = f"""
        INSERT INTO part
        SELECT p, {name},
               'Manufacturer#' || mfgr, 'Brand#' || mfgr || {u('p', 'p_brand', 1, 5)},
               {_pick(syl[0], u('p', 'p_type1', 1, len(syl[0])))} || ' ' ||
               {_pick(syl[1], u('p', 'p_type2', 1, len(syl[1])))} || ' ' ||
               {_pick(syl[2], u('p', 'p_type3', 1, len(syl[2])))},
               {u('p', 'p_size', 1, 50)},
               {_pick(cont[0], u('p', 'p_cont1', 1, len(cont[0])))} || ' ' ||
               {_pick(cont[1], u('p', 'p_cont2', 1, len(cont[1])))},
               {_retail_price('p')}, {text}
        FROM (SELECT p, ARRAY[{color_array}] AS colors, {start} AS start, {step} AS step,
                     {u('p', 'p_mfgr', 1, 5)} AS mfgr
              FROM generate_series(1, {parts}) p OFFSET 0) g
        JOIN _tpch_text tp ON tp.id = {pool}"""

    pool, text = draws.text("s", "s_comment", 25, 100)
    # Q16 excludes suppliers whose comment has 'Customer … Complaints'; dbgen plants SF × 5
    # of those and as many 'Recommends', in place of part of an ordinary comment.
    bbb = u("s", "s_comment_bbb", 0, 9999)
    statements["supplier"] = f"""
        INSERT INTO supplier
        SELECT s, 'Supplier#' || lpad(s::text, 9, '0'), {_address(draws, 's', 's_address')},
               nation, {_phone(draws, 's', 'nation', 's_phone')},
               {_money(draws, 's', 's_acctbal', -99999, 999999)},
               CASE WHEN bbb < 5 THEN left({text}, 60) || ' Customer ' || left(tp.txt, 8)
                                       || ' Complaints'
                    WHEN bbb < 10 THEN left({text}, 60) || ' Customer ' || left(tp.txt, 8)
                                       || ' Recommends'
                    ELSE {text} END
        FROM (SELECT s, {u('s', 's_nation', 0, 24)} AS nation, {bbb} AS bbb
              FROM generate_series(1, {suppliers}) s OFFSET 0) g
        JOIN _tpch_text tp ON tp.id = {pool}"""

    key = "p * 4 + i"
    pool, text = draws.text(key, "ps_comment", 49, 198)
    statements["partsupp"] = f"""
        INSERT INTO partsupp
        SELECT p, {_supplier_of('p', 'i', suppliers)}, {u(key, 'ps_availqty', 1, 9999)},
               {_money(draws, key, 'ps_supplycost', 100, 100000)}, {text}
        FROM generate_series(1, {parts}) p CROSS JOIN generate_series(0, 3) i
        JOIN _tpch_text tp ON tp.id = {pool}"""

    pool, text = draws.text("c", "c_comment", 29, 116)
    segments = d["segments"]
    statements["customer"] = f"""
        INSERT INTO customer
        SELECT c, 'Customer#' || lpad(c::text, 9, '0'), {_address(draws, 'c', 'c_address')},
               nation, {_phone(draws, 'c', 'nation', 'c_phone')},
               {_money(draws, 'c', 'c_acctbal', -99999, 999999)},
               {_pick(segments, u('c', 'c_segment', 1, len(segments)))}, {text}
        FROM (SELECT c, {u('c', 'c_nation', 0, 24)} AS nation
              FROM generate_series(1, {n['customer']}) c OFFSET 0) g
        JOIN _tpch_text tp ON tp.id = {pool}"""

    statements["orders"] = _orders_statement(draws, n, d)
    statements["lineitem"] = _lineitem_statement(draws, n, d)
    return statements


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _order_rows(draws: _Draws, n: dict[str, int]) -> str:
    """One row per order index o: its key, date and line count (shared by orders and
    lineitem, so each draws the same values without reading the other)."""
    u = draws.u
    customers = n["customer"]
    eligible = customers - customers // 3  # customers whose key is not a multiple of 3
    pick = u("o", "o_custkey", 0, eligible - 1)
    return f"""(SELECT o, ((o - 1) / 8) * 32 + (o - 1) % 8 + 1 AS orderkey,
                   date '{START_DATE}' + {u('o', 'o_date', 0, ORDER_DAYS)}::integer AS odate,
                   {u('o', 'o_lines', 1, 7)} AS nlines,
                   ({pick}) / 2 * 3 + ({pick}) % 2 + 1 AS custkey
            FROM generate_series(1, {n['orders']}) o OFFSET 0)"""


def _line_rows(draws: _Draws, n: dict[str, int]) -> str:
    """Lateral subquery over an order row `ord`: its lines with the values later columns
    derive from (l_linestatus and l_returnflag from the dates)."""
    u = draws.u
    line = "ord.o * 8 + ln"
    suppliers, parts = n["supplier"], n["part"]
    return f"""(SELECT ln, partkey, {_supplier_of('partkey', 'supp', suppliers)} AS suppkey,
                   quantity, quantity * {_retail_price('partkey')} AS extendedprice,
                   discount, tax, shipdate, commitdate,
                   shipdate + {u(line, 'l_receipt', 1, 30)}::integer AS receiptdate
            FROM (SELECT ln, {u(line, 'l_partkey', 1, parts)} AS partkey,
                         {u(line, 'l_supp', 0, 3)} AS supp,
                         {u(line, 'l_quantity', 1, 50)}::numeric AS quantity,
                         {u(line, 'l_discount', 0, 10)}::numeric / 100 AS discount,
                         {u(line, 'l_tax', 0, 8)}::numeric / 100 AS tax,
                         ord.odate + {u(line, 'l_ship', 1, 121)}::integer AS shipdate,
                         ord.odate + {u(line, 'l_commit', 30, 90)}::integer AS commitdate
                  FROM generate_series(1, ord.nlines) ln OFFSET 0) raw)"""


def _orders_statement(draws: _Draws, n: dict[str, int], d: dict[str, Any]) -> str:
    u = draws.u
    pool, text = draws.text("ord.o", "o_comment", 19, 78)
    priorities = d["priorities"]
    return f"""
        INSERT INTO orders
        SELECT ord.orderkey, ord.custkey,
               CASE WHEN agg.open = 0 THEN 'F' WHEN agg.open = ord.nlines THEN 'O' ELSE 'P' END,
               agg.total, ord.odate,
               {_pick(priorities, u('ord.o', 'o_priority', 1, len(priorities)))},
               'Clerk#' || lpad({u('ord.o', 'o_clerk', 1, n['clerks'])}::text, 9, '0'), 0, {text}
        FROM {_order_rows(draws, n)} ord
        CROSS JOIN LATERAL (
            SELECT sum(round(l.extendedprice * (1 + l.tax) * (1 - l.discount), 2)) AS total,
                   count(*) FILTER (WHERE l.shipdate > date '{CURRENT_DATE}') AS open
            FROM {_line_rows(draws, n)} l) agg
        JOIN _tpch_text tp ON tp.id = {pool}"""


def _lineitem_statement(draws: _Draws, n: dict[str, int], d: dict[str, Any]) -> str:
    u = draws.u
    line = "ord.o * 8 + l.ln"
    pool, text = draws.text(line, "l_comment", 10, 43)
    instructions, modes = d["ship_instructions"], d["ship_modes"]
    return f"""
        INSERT INTO lineitem
        SELECT ord.orderkey, l.partkey, l.suppkey, l.ln, l.quantity, l.extendedprice,
               l.discount, l.tax,
               CASE WHEN l.receiptdate <= date '{CURRENT_DATE}'
                    THEN (ARRAY['R', 'A'])[{u(line, 'l_returnflag', 1, 2)}] ELSE 'N' END,
               CASE WHEN l.shipdate > date '{CURRENT_DATE}' THEN 'O' ELSE 'F' END,
               l.shipdate, l.commitdate, l.receiptdate,
               {_pick(instructions, u(line, 'l_instruct', 1, len(instructions)))},
               {_pick(modes, u(line, 'l_mode', 1, len(modes)))}, {text}
        FROM {_order_rows(draws, n)} ord
        CROSS JOIN LATERAL {_line_rows(draws, n)} l
        JOIN _tpch_text tp ON tp.id = {pool}"""


def _fill(url: str, schema: str, scale: float, seed: int, say: Callable[[str], None]) -> None:
    """Run the inserts on two connections (the machine's two CPUs): lineitem on one, the
    other tables on the other, each building its tables' primary keys; then VACUUM ANALYZE."""
    statements = table_statements(scale, seed)
    _tables, keys = schema_script()
    groups = [["lineitem"], [t for t in TABLES if t != "lineitem"]]

    def connect() -> psycopg.Connection:
        conn = psycopg.connect(url, autocommit=True)
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        # the lateral aggregate and the key builds stay in memory. (No synchronous_commit =
        # off: VACUUM cannot mark pages all-visible while the inserting commit is unflushed.)
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '512MB'")
        # compiling the big expressions costs more than it saves at small scales
        conn.execute("SET jit = off")
        return conn

    def insert(tables: list[str]) -> None:
        with connect() as conn:
            for table in tables:
                started = time.perf_counter()
                conn.execute(statements[table])
                say(f"{schema}.{table}: {time.perf_counter() - started:.1f} s")
            for statement in _statements_for(keys, tables):
                conn.execute(statement)

    def vacuum(tables: list[str]) -> None:
        with connect() as conn:
            for table in tables:
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
            say(f"{schema}: VACUUM ANALYZE of {', '.join(tables)} done")

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(insert, group) for group in groups]:
            future.result()
        # only once every insert has committed, and every snapshot older than the inserts is
        # gone: VACUUM cannot mark a page all-visible while someone may not see its rows
        _wait_for_older_snapshots(url, say)
        for future in [pool.submit(vacuum, group) for group in groups]:
            future.result()


def _wait_for_older_snapshots(url: str, say: Callable[[str], None],
                              timeout: float = VISIBILITY_WAIT) -> None:
    """Wait until no other client of the database holds a snapshot or transaction older than
    now (others share this server); after `timeout` seconds go on and say so."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_xact_id()").fetchone()
        assert row is not None
        horizon = row[0]
        waiting = False
        while True:
            older = conn.execute(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                     AND datname = current_database()
                     AND (age(backend_xmin) > age(xid(%(h)s::xid8))
                          OR age(backend_xid) > age(xid(%(h)s::xid8)))""",
                {"h": str(horizon)}).fetchone()
            if older is None or older[0] == 0:
                return
            if not waiting:
                say(f"waiting for {older[0]} older transaction(s) to end before VACUUM")
                waiting = True
            if time.monotonic() > deadline:
                say(f"warning: {older[0]} older transaction(s) still open after {timeout:.0f} s;"
                    " VACUUM will leave some pages not all-visible")
                return
            time.sleep(0.2)


def _key_statements(keys_script: str) -> list[tuple[str, str, str]]:
    """(table, constraint type, statement) for each ALTER TABLE of the keys script, read
    with PostgreSQL's parser: CONSTR_PRIMARY or CONSTR_FOREIGN."""
    found = []
    for statement in pglast.split(keys_script):
        parsed = json.loads(parse_sql_json(statement))["stmts"][0]["stmt"]["AlterTableStmt"]
        for command in parsed["cmds"]:
            constraint = command["AlterTableCmd"]["def"]["Constraint"]
            found.append((parsed["relation"]["relname"], constraint["contype"], statement))
    return found


def _statements_for(keys_script: str, tables: list[str]) -> list[str]:
    """The primary keys of `tables`: each connection builds those of the tables it filled.
    Foreign keys, which lock both ends, are left to _finish."""
    return [statement for table, kind, statement in _key_statements(keys_script)
            if table in tables and kind == "CONSTR_PRIMARY"]


def _finish(conn: psycopg.Connection, schema: str, wanted: dict[str, Any],
            say: Callable[[str], None]) -> None:
    """The foreign keys (NOT VALID: no scan), the helpers dropped, the marker set complete."""
    _tables, keys = schema_script()
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(schema)))
        for _table, kind, statement in _key_statements(keys):
            if kind == "CONSTR_FOREIGN":
                conn.execute(statement)
        conn.execute("DROP TABLE _tpch_text")
        conn.execute("DROP FUNCTION _tpch_u(bigint, bigint, bigint, bigint)")
        set_schema_marker(conn, schema, {**wanted, "state": "complete"})
    say(f"{schema}: foreign keys declared, marked complete")


def _stats(conn: psycopg.Connection, schema: str) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        """SELECT c.relname, c.reltuples::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname = ANY(%s)""",
        (schema, list(TABLES))).fetchall()
    found = {name: {"rows": int(count), "table_bytes": int(size), "index_bytes": int(index)}
             for name, count, size, index in rows}
    return {table: found[table] for table in TABLES if table in found}


def main(argv: list[str] | None = None) -> int:
    """The command line: load (or --drop) one scale factor, print what the schema holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, required=True, help="TPC-H scale factor")
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL")
    parser.add_argument("--schema", help="target schema (default tpch_sf<scale>)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="reload even when loaded")
    parser.add_argument("--drop", action="store_true", help="drop the schema instead")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        schema = args.schema or default_schema(args.scale)
        if args.drop:
            drop(args.url, schema)
            say(f"{schema}: dropped")
            return 0
        started = time.perf_counter()
        stats = load(args.url, args.scale, schema, force=args.force, seed=args.seed,
                     progress=say)
    except (InputError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f"{'table':<10} {'rows':>12} {'table MB':>10} {'index MB':>10}")
    for table, row in stats.items():
        print(f"{table:<10} {row['rows']:>12,} {row['table_bytes'] / 2**20:>10.1f} "
              f"{row['index_bytes'] / 2**20:>10.1f}")
    total = sum(row["table_bytes"] for row in stats.values())
    print(f"{schema}: {total / 2**20:.1f} MB of tables, {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
