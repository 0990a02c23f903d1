"""Natural primary keys: an append-only entity that nothing references and nothing reads by id
is keyed by its first unique group, with no surrogate `id`.

The facts table below builds one entity shape per row and states the key the designer must
choose; the engine tests render the schema for SQLite, PostgreSQL 15 and MariaDB 10.11, run it
on a fresh database of each (`tests/test_unique_together.applied`) and check that the primary
key refuses a duplicate natural key. Nothing is mocked.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dbarch.design.relational import design_relational
from dbarch.engines.base import Plan
from dbarch.render.ddl import ddl_statements
from dbarch.report.adr import architecture_decisions
from dbarch.schema.model import AccessQuery, Schema
from dbarch.select.recommend import recommend
from dbarch.spec.load import load_spec
from dbarch.verify.run import judge
from dbarch.verify.sample import Sample
from tests.test_unique_together import AS_OF, ENGINES, applied, designed

# An append-only, unreferenced event table with a required unique group: the natural key case.
BASE: dict[str, Any] = {
    "entities": {
        "Device": {"volume": "25k"},
        "Sample": {
            "volume": "50M", "append_only": True,
            "attributes": {"metric": {"type": "enum", "values": ["power", "co2"]},
                           "value": "float", "taken_at": "timestamp"},
            "unique": [["device", "metric", "taken_at"]],
        },
    },
    "relationships": [{"from": "Sample", "to": "Device", "kind": "many-to-one"}],
    "access_patterns": [
        {"name": "series", "entity": "Sample",
         "where": {"device": "eq", "metric": "eq", "taken_at": "range"}},
    ],
}
NATURAL = ["device_id", "metric", "taken_at"]


def shape(change: str) -> dict[str, Any]:
    """BASE with one fact changed."""
    doc = copy.deepcopy(BASE)
    sample = doc["entities"]["Sample"]
    if change == "updated in place":
        sample["append_only"] = False
    elif change == "referenced by another entity":
        doc["entities"]["Alert"] = {"volume": "1k"}
        doc["relationships"].append({"from": "Alert", "to": "Sample", "kind": "many-to-one"})
    elif change == "in a many-to-many":
        doc["entities"]["Tag"] = {"volume": 50}
        doc["relationships"].append({"from": "Sample", "to": "Tag", "kind": "many-to-many"})
    elif change == "read by id":
        doc["access_patterns"].append({"name": "one", "entity": "Sample", "key": "id"})
    elif change == "sorted by id":
        doc["access_patterns"].append({"name": "recent", "entity": "Sample",
                                       "where": {"device": "eq"}, "order_by": "-id"})
    elif change == "projects id":
        doc["access_patterns"].append({"name": "ids", "entity": "Sample",
                                       "where": {"device": "eq"}, "project": ["id", "value"]})
    elif change == "optional attribute in the group":
        sample["attributes"]["metric"]["required"] = False
    elif change == "optional reference in the group":
        doc["relationships"][0]["required"] = False
    elif change == "no unique group":
        del sample["unique"]
    elif change == "single-field unique only":
        del sample["unique"]
        sample["attributes"]["value"] = {"type": "float", "unique": True}
    elif change == "two groups":
        sample["unique"].append(["device", "taken_at"])
    else:
        assert change == "as is"
    return doc


FACTS = [
    # (change to BASE, primary key chosen, id column present)
    ("as is", NATURAL, False),
    ("two groups", NATURAL, False),
    ("updated in place", ["id"], True),
    ("referenced by another entity", ["id"], True),
    ("in a many-to-many", ["id"], True),
    ("read by id", ["id"], True),
    ("sorted by id", ["id"], True),
    ("projects id", ["id"], True),
    ("optional attribute in the group", ["id"], True),
    ("optional reference in the group", ["id"], True),
    ("no unique group", ["id"], True),
    ("single-field unique only", ["id"], True),
]


@pytest.mark.parametrize(("change", "key", "has_id"), FACTS, ids=[f[0] for f in FACTS])
def test_key_chosen_for_entity_shape(change: str, key: list[str], has_id: bool) -> None:
    samples = designed(shape(change)).table("samples")
    assert samples.primary_key == key
    assert any(c.name == "id" for c in samples.columns) is has_id
    if not has_id:
        # the group is the key, not also a second unique constraint
        assert all(u.columns != key for u in samples.uniques)


def test_natural_key_reason_has_the_numbers() -> None:
    samples = designed(BASE).table("samples")
    reason = samples.key_reason
    assert reason.startswith("natural key (device_id, metric, taken_at)")
    # 50M rows, no growth given: rows at the horizon, 8 id bytes, (8 + 12) / 0.9 ≈ 22
    # index bytes per row
    assert "8 bytes less per row" in reason and "~22 bytes per row" in reason
    assert "rows in 3 years" in reason and "GiB of index not written" in reason


def test_second_group_stays_a_unique_constraint() -> None:
    samples = designed(shape("two groups")).table("samples")
    assert [u.columns for u in samples.uniques] == [["device_id", "taken_at"]]


def test_no_index_is_a_left_prefix_of_the_natural_key() -> None:
    samples = designed(BASE).table("samples")
    for ix in samples.indexes:
        cols = ix.column_names
        assert cols != NATURAL[: len(cols)], ix.name


def iot() -> Schema:
    spec = load_spec("examples/iot.yaml")
    return design_relational(spec, recommend(spec))


def test_iot_readings_keyed_by_device_metric_time() -> None:
    readings = iot().table("readings")
    assert readings.primary_key == ["device_id", "metric", "recorded_at"]
    assert "id" not in {c.name for c in readings.columns}
    assert readings.uniques == []
    # PostgreSQL needs the partition column in the key: it already is
    assert readings.partitioning is not None
    assert readings.partitioning.column == "recorded_at"


def test_rule_as_written_on_the_other_examples() -> None:
    """ReadingHourly is upserted (not append-only): it keeps its id. OrderItem (shop) and
    PostLike (social) are append-only, unreferenced, never read by id, with required groups."""
    hourly = iot().table("reading_hourly")
    assert hourly.primary_key[0] == "id"
    for example, table, key in (("shop", "order_items", ["order_id", "product_id"]),
                                ("social", "post_likes", ["post_id", "user_id"])):
        spec = load_spec(f"examples/{example}.yaml")
        t = design_relational(spec, recommend(spec)).table(table)
        assert t.primary_key == key, example
        # a natural key without the partition column keeps the table whole
        assert t.partitioning is None


def test_adr_names_the_natural_key() -> None:
    spec = load_spec("examples/iot.yaml")
    decisions = recommend(spec)
    schema = design_relational(spec, decisions)
    keys = next(a for a in architecture_decisions(spec, decisions, schema, "2026-11-25")
                if a.title == "Primary key strategy")
    assert any(d.startswith("natural key") and "readings" in d for d in keys.decision)
    row = next(r for r in keys.table_rows if r[0] == "readings")
    assert row[1] == "device_id, metric, recorded_at" and row[2].startswith("natural key")
    assert any("a surrogate id on readings" in a.name for a in keys.alternatives)


def partitioned() -> dict[str, Any]:
    """BASE at 12B rows with a 7-day TTL: range-partitioned by taken_at on PostgreSQL, which
    needs the partition column in the primary key, and the natural key already holds it."""
    doc = copy.deepcopy(BASE)
    doc["entities"]["Sample"].update({"volume": "12B", "ttl": "7d"})
    return doc


@pytest.mark.engine
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("doc", [BASE, partitioned()], ids=["whole", "partitioned"])
def test_duplicate_natural_key_is_refused(engine: str, doc: dict[str, Any]) -> None:
    schema = designed(doc)
    samples = schema.table("samples")
    assert samples.primary_key == NATURAL
    assert (samples.partitioning is not None) is (doc is not BASE)
    with applied(schema, engine) as (run, integrity_error):
        run("INSERT INTO devices (created_at) VALUES (%s)", ("2026-11-25 09:00:00",))
        run("INSERT INTO devices (created_at) VALUES (%s)", ("2026-11-25 09:00:00",))
        insert = ("INSERT INTO samples (device_id, metric, value, taken_at) "
                  "VALUES (%s, %s, %s, %s)")
        at, later = "2026-11-25 10:00:00", "2026-11-25 10:00:10"
        # every key that differs in one column is accepted …
        for row in ((1, "power", 1.5, at), (1, "co2", 410.0, at), (2, "power", 0.5, at),
                    (1, "power", 1.6, later)):
            run(insert, row)
        # … the same key twice is not, even with another value
        with pytest.raises(integrity_error):
            run(insert, (1, "power", 9.9, at))


def example_query(example: str, pattern: str) -> tuple[Schema, AccessQuery]:
    spec = load_spec(f"examples/{example}.yaml")
    schema = design_relational(spec, recommend(spec))
    return schema, next(q for q in schema.queries if q.pattern == pattern)


def test_mariadb_secondary_index_ends_with_the_natural_key() -> None:
    """InnoDB appends the primary key to every secondary entry: with post_likes keyed
    (post_id, user_id), its (user_id) index searches (user_id, post_id), which bounds
    has_liked's user_id = ? AND post_id IN (...) exactly as the key does."""
    schema, q = example_query("social", "has_liked")
    assert q.index == "post_likes_pkey"
    plan = Plan(indexes=["post_likes_user_id_idx"])
    mariadb = {"PRIMARY": ["post_id", "user_id"], "post_likes_user_id_idx": ["user_id"]}
    assert judge(q, plan, schema, mariadb, Sample({}))[0]
    # PostgreSQL's heap is not clustered: its (user_id) index holds no post_id
    postgresql = {"post_likes_pkey": ["post_id", "user_id"], "post_likes_user_id_idx": ["user_id"]}
    assert not judge(q, plan, schema, postgresql, Sample({}))[0]


def test_mariadb_clustered_natural_key_bounded_by_the_equality() -> None:
    """device_hourly_avg (device_id = ? AND recorded_at range): InnoDB may read the
    clustered key (device_id, metric, recorded_at) for the device's rows instead of the
    designed (device_id, recorded_at) index; another index, or PostgreSQL, does not pass."""
    schema, q = example_query("iot", "device_hourly_avg")
    assert q.index == "readings_device_id_recorded_at_idx"
    mariadb = {"PRIMARY": ["device_id", "metric", "recorded_at"],
               "readings_device_id_recorded_at_idx": ["device_id", "recorded_at"],
               "readings_site_id_metric_recorded_at_idx": ["site_id", "metric", "recorded_at"]}
    assert judge(q, Plan(indexes=["PRIMARY"]), schema, mariadb, Sample({}))[0]
    other = Plan(indexes=["readings_site_id_metric_recorded_at_idx"])
    assert not judge(q, other, schema, mariadb, Sample({}))[0]
    postgresql = {"readings_pkey": mariadb["PRIMARY"],
                  "readings_device_id_recorded_at_idx": ["device_id", "recorded_at"]}
    assert not judge(q, Plan(indexes=["readings_pkey"]), schema, postgresql, Sample({}))[0]


def test_sqlite_stores_a_natural_key_table_in_its_key() -> None:
    """No rowid beside the natural key: WITHOUT ROWID keeps one B-tree, as InnoDB does."""
    (create,) = [s for s in ddl_statements(designed(BASE), "sqlite", AS_OF)
                 if "CREATE TABLE samples" in s]
    assert create.rstrip().endswith("WITHOUT ROWID")
