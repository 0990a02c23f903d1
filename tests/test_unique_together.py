"""Uniqueness over several fields (`Entity.unique`), from the spec to DDL run on real engines.

Each schema is designed from a spec snippet, rendered for SQLite, PostgreSQL 15 and MariaDB
10.11, executed statement by statement on a fresh database of each, and then written to: the
constraint must refuse a duplicate combination and accept combinations that differ in any one
field. PostgreSQL runs in a fresh schema and MariaDB in a fresh database, both dropped
afterwards. Nothing is mocked.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
import pymysql
import pytest

from dbarch.design.relational import design_relational
from dbarch.render.ddl import ddl_statements
from dbarch.schema.model import Schema
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec
from tests.conftest import MARIADB_URL, POSTGRESQL_URL

AS_OF = date(2026, 11, 25)
ENGINES = ["sqlite", "postgresql", "mariadb"]
DIALECT = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}
# Runs one statement with %s parameters; raises the engine's own integrity error.
Run = Callable[[str, tuple[Any, ...]], None]

STOCK = {
    "entities": {
        "Product": {"volume": "80k", "attributes": {"name": "string"}},
        "Warehouse": {"volume": 3, "attributes": {"code": {"type": "string", "max_length": 8}}},
        "Inventory": {"volume": "240k", "attributes": {"on_hand": "int"},
                      "unique": [["product", "warehouse"]]},
    },
    "relationships": [
        {"from": "Inventory", "to": "Product", "kind": "many-to-one", "owned": True},
        {"from": "Inventory", "to": "Warehouse", "kind": "many-to-one"},
    ],
    "access_patterns": [
        {"name": "product_stock", "entity": "Inventory", "where": {"product": "eq"}},
    ],
}

# A 12B-row reading table partitioned by day on PostgreSQL: the group holds the partition
# column, which is what lets PostgreSQL enforce it on a partitioned table.
READINGS = {
    "entities": {
        "Device": {"volume": "25k"},
        "Reading": {
            "volume": "12B", "ttl": "7d", "append_only": True,
            "attributes": {"metric": {"type": "enum", "values": ["temperature", "power"]},
                           "value": "float", "recorded_at": "timestamp"},
            "unique": [["device", "metric", "recorded_at"]],
        },
    },
    "relationships": [{"from": "Reading", "to": "Device", "kind": "many-to-one",
                       "owned": True}],
    "access_patterns": [
        {"name": "series", "entity": "Reading",
         "where": {"device": "eq", "metric": "eq", "recorded_at": "range"}},
    ],
}

# An optional field in the group: rows where it is NULL are never in conflict.
TAGS = {
    "entities": {
        "Rack": {"volume": 100},
        "Tag": {"volume": "1k", "attributes": {"label": {"type": "string", "max_length": 40}},
                "unique": [["rack", "label"]]},
    },
    "relationships": [{"from": "Tag", "to": "Rack", "kind": "many-to-one", "required": False}],
}


def designed(doc: dict[str, Any]) -> Schema:
    """The relational schema of a spec snippet, every entity relational."""
    spec = Spec.model_validate({"system": "t", **doc})
    return design_relational(spec, Decisions(system="t", parts=[Decision(
        part="core", entities=list(spec.entities), paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")]))


@contextmanager
def applied(schema: Schema, engine: str) -> Iterator[tuple[Run, type[Exception]]]:
    """The schema's DDL executed on a fresh database of `engine`; a runner for statements
    and the exception the engine raises for a broken constraint."""
    statements = ddl_statements(schema, DIALECT[engine], AS_OF)
    if engine == "sqlite":
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        try:
            for stmt in statements:
                conn.execute(stmt)
            yield (lambda sql, args: conn.execute(sql.replace("%s", "?"), args)), \
                sqlite3.IntegrityError
        finally:
            conn.close()
        return
    name = f"dbarch_t_{uuid.uuid4().hex[:12]}"
    if engine == "postgresql":
        pg = psycopg.connect(POSTGRESQL_URL, autocommit=True)
        try:
            pg.execute(f"CREATE SCHEMA {name}")
            pg.execute(f"SET search_path TO {name}")
            for stmt in statements:
                pg.execute(stmt)
            yield (lambda sql, args: pg.execute(sql, args)), psycopg.errors.IntegrityError
        finally:
            pg.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            pg.close()
        return
    assert MARIADB_URL.startswith("mysql://root@127.0.0.1:3306/")
    my = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                         autocommit=True)
    try:
        with my.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            cur.execute(f"USE {name}")
            for stmt in statements:
                cur.execute(stmt)

        def run(sql: str, args: tuple[Any, ...]) -> None:
            with my.cursor() as c:
                c.execute(sql, args)

        yield run, pymysql.err.IntegrityError
    finally:
        with my.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        my.close()


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_duplicate_pair_of_references_is_refused(engine: str) -> None:
    schema = designed(STOCK)
    assert [u.columns for u in schema.table("inventory").uniques] == [
        ["product_id", "warehouse_id"]]
    with applied(schema, engine) as (run, integrity_error):
        for name in ("kettle", "toaster"):
            run("INSERT INTO products (name) VALUES (%s)", (name,))
        for code in ("BER", "PAR"):
            run("INSERT INTO warehouses (code) VALUES (%s)", (code,))
        insert = "INSERT INTO inventory (product_id, warehouse_id, on_hand) VALUES (%s, %s, %s)"
        # every pair that differs in one field is accepted …
        for product, warehouse in ((1, 1), (1, 2), (2, 1), (2, 2)):
            run(insert, (product, warehouse, 5))
        # … the same pair twice is not, whichever order the rows arrive in
        for product, warehouse in ((1, 1), (2, 2)):
            with pytest.raises(integrity_error):
                run(insert, (product, warehouse, 7))


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_group_with_the_partition_column_holds_on_a_partitioned_table(engine: str) -> None:
    schema = designed(READINGS)
    readings = schema.table("readings")
    assert readings.partitioning is not None and readings.partitioning.column == "recorded_at"
    # append-only, referenced by nothing: the group is the primary key (test_natural_keys.py)
    assert readings.primary_key == ["device_id", "metric", "recorded_at"]
    assert readings.uniques == []
    with applied(schema, engine) as (run, integrity_error):
        run("INSERT INTO devices (created_at) VALUES (%s)", ("2026-11-25 09:00:00",))
        run("INSERT INTO devices (created_at) VALUES (%s)", ("2026-11-25 09:00:00",))
        insert = ("INSERT INTO readings (device_id, metric, value, recorded_at) "
                  "VALUES (%s, %s, %s, %s)")
        at, later = "2026-11-25 10:00:00", "2026-11-25 10:00:10"
        for row in ((1, "power", 1.5, at), (1, "temperature", 21.0, at), (2, "power", 0.5, at),
                    (1, "power", 1.6, later)):
            run(insert, row)
        # a gateway replaying its buffer sends the same sample again
        with pytest.raises(integrity_error):
            run(insert, (1, "power", 1.5, at))


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
def test_rows_with_a_null_in_the_group_never_conflict(engine: str) -> None:
    """What the design's note on the table says: NULLs are distinct on all three engines."""
    schema = designed(TAGS)
    tags = schema.table("tags")
    assert [u.columns for u in tags.uniques] == [["rack_id", "label"]]
    assert any("checks only rows where rack_id is set" in n for n in tags.notes), tags.notes
    with applied(schema, engine) as (run, integrity_error):
        run("INSERT INTO racks (created_at) VALUES (%s)", ("2026-11-25 09:00:00",))
        insert = "INSERT INTO tags (rack_id, label) VALUES (%s, %s)"
        run(insert, (None, "fragile"))
        run(insert, (None, "fragile"))
        run(insert, (1, "fragile"))
        with pytest.raises(integrity_error):
            run(insert, (1, "fragile"))
