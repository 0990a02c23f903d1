"""The capacity model, the scaling step plan and the operations arithmetic (hand-built designs)."""

from __future__ import annotations

import math
from importlib.resources import files

import pytest
from ruamel.yaml import YAML

from dbarch.design.ceilings import ceiling_of, scaling_data
from dbarch.design.operations import operations_data, operations_plan, recovery_targets
from dbarch.design.scaling import capacity_model
from dbarch.design.shard_keys import shard_key_candidates
from dbarch.design.sizing import table_size
from dbarch.schema.model import Column, ColumnType, Index, IndexColumn, Table, TypeKind
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec
from tests.test_report_fixtures import SHOP, shop_decisions, shop_schema, shop_spec


def _spec(**changes: object) -> Spec:
    data = {**SHOP, **changes}
    return Spec.model_validate(data)


def test_row_bytes_follow_the_column_widths_in_the_data_file() -> None:
    data = scaling_data()
    table = Table(
        name="t", entity=None, primary_key=["id"], rows=1000, rows_at_horizon=2000,
        columns=[Column(name="id", type=ColumnType(kind=TypeKind.bigint)),
                 Column(name="at", type=ColumnType(kind=TypeKind.timestamp)),
                 Column(name="ok", type=ColumnType(kind=TypeKind.bool))],
    )
    size = table_size(shop_spec(), table, "postgresql")
    heap = 8 + 8 + 1 + data["row_overhead_bytes"]["postgresql"]
    assert size.row_bytes == math.ceil(heap * data["heap_bloat_factor"])
    pk_entry = (8 + data["index_entry_overhead_bytes"]) / data["index_fill_factor"]
    assert size.index_bytes_per_row == math.ceil(pk_entry)
    assert (size.rows_now, size.rows_horizon) == (1000, 2000)


def test_a_short_string_is_bounded_by_its_declared_length() -> None:
    table = Table(name="t", primary_key=["c"],
                  columns=[Column(name="c", type=ColumnType(kind=TypeKind.string, length=3))])
    data = scaling_data()
    expected = math.ceil((4 + data["row_overhead_bytes"]["postgresql"])
                         * data["heap_bloat_factor"])
    assert table_size(shop_spec(), table, "postgresql").row_bytes == expected


def test_load_points_scale_rows_and_rates_from_the_horizon() -> None:
    model = capacity_model(shop_spec(), shop_decisions(), shop_schema())
    assert model.labels == ["now", "1x", "10x", "100x"]
    core = model.part("core")
    now, one, ten = core.point("now"), core.point("1x"), core.point("10x")
    assert now.rows == 2_000_000 + 500_000 + 10_000_000 + 30_000_000
    assert ten.rows == pytest.approx(10 * one.rows)
    assert ten.read_rate == pytest.approx(10 * one.read_rate)
    # place_order writes Order, OrderItem and Product: 3 row writes per call, 20/s now.
    assert now.write_rate == pytest.approx(60)
    # user_orders follows Order's growth (10M → 25M): 200/s now, 500/s at the horizon.
    user_orders = next(p for p in core.patterns if p.name == "user_orders")
    assert user_orders.rate_horizon == pytest.approx(500)


def test_steps_fire_at_the_multiple_their_numbers_cross() -> None:
    model = capacity_model(shop_spec(), shop_decisions(), shop_schema())
    steps = {(s.part, s.key): s for s in model.steps}
    # 3.6k reads/s x 2 ms ... at 10x the client connections pass PostgreSQL's 300.
    assert steps["core", "pooling"].fires_at == "10x"
    # product_page (eventual) reaches 10% of 100k/s only at 10x: 30k/s.
    assert steps["core", "caching"].fires_at == "10x"
    assert steps["core", "caching"].subjects == ["product_page"]
    assert "The Redis of part sessions can hold it" in steps["core", "caching"].action
    replicas = steps["core", "replicas"]
    assert replicas.fires_at == "100x"
    assert "product_page" in replicas.subjects and "login" not in replicas.subjects
    assert any("login" in n and "primary" in n for n in replicas.notes)
    # order_items is partitioned by design; orders crosses 128 GiB RAM only at 100x.
    partitioning = steps["core", "partitioning"]
    assert partitioning.subjects == ["orders"] and partitioning.fires_at == "100x"
    assert steps["core", "multi_region"].fires_at is None
    assert steps["sessions", "sharding"].fires_at is None


def test_the_shard_key_is_the_parent_most_data_hangs_from() -> None:
    model = capacity_model(shop_spec(), shop_decisions(), shop_schema())
    core = model.part("core")
    keys = shard_key_candidates(shop_spec(), core.tables, core.patterns)
    assert keys[0].entity == "User"
    assert keys[0].field == "user_id"
    assert set(keys[0].colocated) == {"User", "Order", "OrderItem"}
    assert keys[0].reference == ["Product"]
    # login filters on email, place_order writes Product (a reference table): 3200 of 3270/s.
    assert keys[0].single_shard_share == pytest.approx(3200 / 3270)


def test_multi_region_fires_now_when_the_spec_names_two_regions() -> None:
    spec = _spec(scale={"regions": ["eu-west", "us-east"], "availability": 99.9})
    model = capacity_model(spec, shop_decisions(), shop_schema())
    step = next(s for s in model.steps if s.key == "multi_region")
    assert step.fires_at == "now" and "eu-west" in step.trigger


def test_writes_past_half_a_node_fire_sharding_now() -> None:
    spec = Spec.model_validate({
        **SHOP,
        "access_patterns": [*SHOP["access_patterns"],
                            {"name": "ingest", "kind": "write", "touches": ["Order"],
                             "rate": "9k/s"}],
    })
    model = capacity_model(spec, shop_decisions(), shop_schema())
    step = next(s for s in model.steps if s.key == "sharding" and s.part == "core")
    assert step.fires_at == "now"


def test_every_product_ceiling_names_its_sources() -> None:
    for product in scaling_data()["products"]:
        c = ceiling_of(product)
        assert c.sources and all(s.strip() for s in c.sources)
        assert c.read_ops > 0 and c.write_ops > 0
    unknown = ceiling_of("foundationdb", "FoundationDB")
    assert not unknown.measured and unknown.name == "FoundationDB"


def test_every_catalogue_product_has_scaling_and_operations_knowledge() -> None:
    """The selection may pick any product of the catalogue; each needs its own figures here."""
    catalogue = YAML(typ="safe").load(
        files("dbarch").joinpath("data/products.yaml").read_text(encoding="utf-8"))
    products = [k for k, v in catalogue.items() if isinstance(v, dict) and "fit" in v]
    assert "postgresql" in products and "s3" in products
    for product in products:
        assert product in scaling_data()["products"], product
        assert product in operations_data()["products"], product


def test_availability_gives_the_downtime_budget_and_derived_targets() -> None:
    t = recovery_targets(shop_spec())
    assert t.downtime_seconds == pytest.approx(0.0005 * 8760 * 3600)  # 4.38 h
    assert t.rto_seconds == pytest.approx(t.downtime_seconds / 2)
    assert t.rpo_seconds == 60 and not t.rpo_from_spec
    given = recovery_targets(_spec(scale={"availability": 99.9, "rpo": "0s", "rto": "15min"}))
    assert (given.rpo_seconds, given.rto_seconds) == (0, 900)
    assert given.rpo_from_spec and "synchronous" in given.rpo_how


def test_restore_time_is_checked_against_the_rto() -> None:
    model = capacity_model(shop_spec(), shop_decisions(), shop_schema())
    plan = operations_plan(shop_spec(), shop_decisions(), model, shop_schema())
    core = next(b for b in plan.backups if b.part == "core")
    assert core.restore_within_rto
    assert core.restore_seconds == pytest.approx(core.bytes_at_horizon / (200 * 2**20))
    tight = _spec(scale={"availability": 99.95, "rto": "30s"})
    plan = operations_plan(tight, shop_decisions(), capacity_model(tight, shop_decisions(),
                                                                    shop_schema()), shop_schema())
    assert not next(b for b in plan.backups if b.part == "core").restore_within_rto


def test_operations_cover_every_pattern_target_and_sensitive_column() -> None:
    model = capacity_model(shop_spec(), shop_decisions(), shop_schema())
    plan = operations_plan(shop_spec(), shop_decisions(), model, shop_schema())
    watched = {m.what for m in plan.monitors}
    for p in shop_spec().access_patterns:
        assert f"{p.name} latency" in watched
    assert "partitions created ahead" in watched   # order_items is partitioned
    assert "evictions" in watched                  # Redis holds the sessions
    assert any("users.email" in g.subject for g in plan.security)
    assert [g.subject for g in plan.retention] == ["Session"]
    assert any(g.subject == "GDPR" for g in plan.compliance)


def test_append_only_ingest_is_batched_and_partitioned_by_its_time_column() -> None:
    spec = Spec.model_validate({
        "system": "metrics",
        "entities": {
            "Device": {"volume": "10k", "attributes": {"name": "string"}},
            "Sample": {"volume": "2B", "ttl": "7d", "append_only": True,
                       "attributes": {"value": "float", "recorded_at": "timestamp"}},
        },
        "relationships": [{"from": "Sample", "to": "Device", "kind": "many-to-one"}],
        "access_patterns": [
            {"name": "ingest", "kind": "write", "touches": ["Sample"], "rate": "10k/s"},
            {"name": "hourly", "kind": "aggregate", "entity": "Sample", "time": "recorded_at",
             "window": "1h", "measure": "avg(value)", "where": {"device": "eq"}, "rate": 5},
        ],
    })
    decisions = Decisions(system="metrics", parts=[Decision(
        part="core", entities=["Device", "Sample"], paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")])
    model = capacity_model(spec, decisions, None)
    core = model.part("core")
    # 10k inserts/s into an append-only entity count as 1k single-row writes.
    assert core.point("now").write_rate == pytest.approx(10_000 / 10)
    step = next(s for s in model.steps if s.key == "partitioning")
    assert step.fires_at == "now" and step.subjects == ["Sample"]
    assert any("RANGE on recorded_at, one partition per day" in n for n in step.notes)
    plan = operations_plan(spec, decisions, model, None)
    assert any("partition rotation for Sample" in g.subject for g in plan.maintenance)
    expiry = next(g for g in plan.retention if g.subject == "Sample").measure
    assert "once partitioned (section 5: from now)" in expiry and "DROP TABLE" in expiry


def test_innodb_has_no_separate_primary_key_index() -> None:
    table = Table(
        name="t", primary_key=["id"],
        columns=[Column(name="id", type=ColumnType(kind=TypeKind.bigint)),
                 Column(name="code", type=ColumnType(kind=TypeKind.int))],
        indexes=[Index(name="t_code_idx", columns=[IndexColumn(name="code")])],
    )
    data = scaling_data()
    entry = data["index_entry_overhead_bytes"]
    fill = data["index_fill_factor"]
    pg = table_size(shop_spec(), table, "postgresql")
    my = table_size(shop_spec(), table, "mysql")
    # PostgreSQL: the primary key index (8) and the code index (4).
    assert pg.index_bytes_per_row == math.ceil((8 + entry) / fill + (4 + entry) / fill)
    # InnoDB: only the secondary index, whose entries carry the primary key (4 + 8).
    assert my.index_bytes_per_row == math.ceil((4 + 8 + entry) / fill)
