"""The partitioning step proposes only what the engine accepts for the table's keys.

A unique key on a partitioned table must hold the partition column (PostgreSQL and MySQL),
a foreign key to a partitioned table must reference a key that holds it, and InnoDB
partitioned tables take no foreign keys at all. Both engine rules are checked on the real
servers below, so the step's "blocked" notes rest on what the engines do.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pymysql
import pytest

from dbarch.design.relational import design_relational
from dbarch.design.scaling import capacity_model
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec

BIG = "3B"   # over 128 GiB of data + indexes today, so the step fires at "now"


def _step_notes(entities: dict[str, Any], relationships: list[dict[str, Any]],
                product: str) -> tuple[str, dict[str, str], dict[str, str]]:
    spec = Spec.model_validate({"system": "t", "entities": entities,
                                "relationships": relationships, "access_patterns": []})
    decisions = Decisions(system="t", parts=[Decision(
        part="core", entities=list(entities), paradigm=Paradigm.relational,
        product=product, product_name=product)])
    schema = design_relational(spec, decisions)
    step = next(s for s in capacity_model(spec, decisions, schema).steps
                if s.key == "partitioning")
    notes = {n.split(":", 1)[0]: n for n in step.notes}
    return step.action, notes, step.when


USER = {"volume": BIG, "attributes": {"email": {"type": "string", "unique": True},
                                      "name": "string"}}
# Expiring and over 10M rows, under the 100M rows at which the design partitions at once.
EVENT = {"volume": "50M", "ttl": "30d", "attributes": {"kind": "string"}}
EVENT_UNIQUE = {**EVENT, "attributes": {"kind": "string",
                                         "ref": {"type": "string", "unique": True}}}
PLAIN = {"volume": BIG, "attributes": {"name": "string"}}

# (entities, relationships, product, table, words its note must hold, expires by dropping)
CASES = [
    ({"User": USER}, [], "postgresql", "users",
     "blocked: UNIQUE (email) does not hold the partition column id", False),
    ({"Event": EVENT}, [], "postgresql", "events",
     "RANGE on created_at, one partition per week (the primary key becomes (id, created_at))",
     True),
    ({"Event": EVENT_UNIQUE}, [], "postgresql", "events",
     "blocked: UNIQUE (ref) does not hold the partition column created_at", False),
    ({"Thing": PLAIN}, [], "postgresql", "things", "HASH on the primary key", False),
    ({"Thing": PLAIN}, [], "mysql", "things", "HASH on the primary key", False),
    ({"Thing": PLAIN, "Part": PLAIN},
     [{"from": "Part", "to": "Thing", "kind": "many-to-one"}], "mysql", "things",
     "blocked: MySQL partitioned tables take no foreign keys, and things is referenced", False),
    ({"Thing": PLAIN, "Part": PLAIN},
     [{"from": "Part", "to": "Thing", "kind": "many-to-one"}], "postgresql", "things",
     "HASH on the primary key, so foreign keys to it stay valid", False),
]


@pytest.mark.parametrize(("entities", "relationships", "product", "table", "words", "drops"),
                         CASES)
def test_the_partitioning_step_respects_unique_and_foreign_keys(
    entities: dict[str, Any], relationships: list[dict[str, Any]], product: str, table: str,
    words: str, drops: bool,
) -> None:
    _action, notes, when = _step_notes(entities, relationships, product)
    assert words in notes[table]
    # Only time ranges expire by dropping partitions (section 7 says so from then on).
    assert (table in when) == drops


def test_a_step_whose_tables_are_all_blocked_says_so() -> None:
    action, notes, _ = _step_notes({"User": USER}, [], "postgresql")
    assert action.startswith("No table over the threshold can be partitioned as designed")
    assert "blocked" in notes["users"]


def test_postgresql_refuses_a_unique_key_without_the_partition_column() -> None:
    name = f"r_part_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="partition"):
            conn.execute(f"CREATE TABLE {name} (id bigint, email text, UNIQUE (email)) "
                         "PARTITION BY HASH (id)")
        conn.rollback()
        # Holding the partition column, the same key is accepted.
        conn.execute(f"CREATE TABLE {name} (id bigint, email text, UNIQUE (email, id)) "
                     "PARTITION BY HASH (id)")
        conn.rollback()


def test_mariadb_refuses_foreign_keys_on_a_partitioned_table() -> None:
    name = f"r_part_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="",
                           database="test")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {name}_p (id BIGINT PRIMARY KEY) ENGINE=InnoDB")
            with pytest.raises(pymysql.err.MySQLError):
                cur.execute(f"CREATE TABLE {name}_c (id BIGINT PRIMARY KEY, p BIGINT, "
                            f"FOREIGN KEY (p) REFERENCES {name}_p (id)) ENGINE=InnoDB "
                            "PARTITION BY HASH (id) PARTITIONS 4")
            with pytest.raises(pymysql.err.MySQLError):
                cur.execute(f"ALTER TABLE {name}_p PARTITION BY HASH (id) PARTITIONS 4")
                cur.execute(f"CREATE TABLE {name}_c (id BIGINT PRIMARY KEY, p BIGINT, "
                            f"FOREIGN KEY (p) REFERENCES {name}_p (id)) ENGINE=InnoDB")
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {name}_c")
            cur.execute(f"DROP TABLE IF EXISTS {name}_p")
        conn.close()
