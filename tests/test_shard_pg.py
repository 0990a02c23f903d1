"""`dbarch shard` on the real PostgreSQL: skewed tenants, monotonic keys, workload routing
against hand-computed shares, co-location, sampling, JSON output and exit codes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from dbarch import api
from dbarch.cli import main
from dbarch.engines.base import split_statements
from dbarch.engines.shard_stats import run_shard
from dbarch.shard.model import KeyReport, ShardReport
from tests.conftest import POSTGRESQL_URL, scratch_schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "indexes"

# 60,000 orders of 50 tenants, three of which hold 70% of them (23.3% each); 5,000 customers
# spread evenly over the orders; ids and created_at grow with insertion order.
SHOP = """
CREATE TABLE currencies (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE tenants (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE customers (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES tenants (id),
                        email text NOT NULL);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    tenant_id bigint NOT NULL REFERENCES tenants (id),
    customer_id bigint NOT NULL REFERENCES customers (id),
    currency text NOT NULL REFERENCES currencies (code),
    total numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders (id), line int NOT NULL,
                          sku text NOT NULL, PRIMARY KEY (order_id, line));
INSERT INTO currencies VALUES ('EUR', 'Euro'), ('USD', 'US dollar'), ('GBP', 'Pound');
INSERT INTO tenants SELECT g, 'tenant ' || g FROM generate_series(1, 50) g;
INSERT INTO customers SELECT g, (g % 50) + 1, 'c' || g || '@example.com'
FROM generate_series(1, 5000) g;
INSERT INTO orders (tenant_id, customer_id, currency, total, created_at)
SELECT CASE WHEN g % 10 < 7 THEN (g % 3) + 1 ELSE (g % 47) + 4 END,
       ((g::bigint * 7919) % 5000) + 1,
       (ARRAY['EUR', 'USD', 'GBP'])[g % 3 + 1], (g % 1000) / 10.0,
       timestamptz '2025-01-01' + g * interval '1 minute'
FROM generate_series(1, 60000) g;
INSERT INTO order_lines SELECT o.id, l, 'sku' || (o.id % 97) FROM orders o, generate_series(1, 2) l;
"""

# Weights 5 + 3 + 2 + 4 + 1 + 5 = 20. Under customer_id: q1, q2, q4 (customers joined on the
# key), q5 single (13); q3 multi (2); q6 scatter (5). Under tenant_id: q2 and q5 single (4);
# the rest scatter (16): q4 joins customers on its id, not on the tenant. (q3 differs from q1
# only in its IN list, which pglast's fingerprint alone would count as q1's shape.)
WORKLOAD = """
-- name: q1
-- weight: 5
SELECT * FROM orders WHERE customer_id = 42;
-- name: q2
-- weight: 3
SELECT * FROM orders WHERE tenant_id = 1 AND customer_id = $1;
-- name: q3
-- weight: 2
SELECT * FROM orders WHERE customer_id IN (1, 2, 3);
-- name: q4
-- weight: 4
SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.customer_id = 9;
-- name: q5
-- weight: 1
INSERT INTO orders (tenant_id, customer_id, currency, total, created_at)
VALUES (1, 5, 'EUR', 1.00, now());
-- name: q6
-- weight: 5
SELECT count(*) FROM orders WHERE created_at > now() - interval '1 day';
"""


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    """The URL of a scratch schema holding SHOP, on the search_path."""
    with scratch_schema("dbarch_shard") as (schema, conn):
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(SHOP)
        yield f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shard") / "queries.sql"
    path.write_text(WORKLOAD)
    return path


def _key(report: ShardReport, name: str) -> KeyReport:
    return next(k for k in report.keys if k.name == name)


def test_skewed_tenant_key_ranks_below_a_spread_key_and_says_why(shop: str) -> None:
    report = api.shard(shop, "orders", keys=["tenant_id", "customer_id"])
    assert [k.name for k in report.keys] == ["customer_id", "tenant_id"]
    tenant, customer = _key(report, "tenant_id"), _key(report, "customer_id")
    assert tenant.stats.distinct == 50
    assert tenant.stats.most_common[0] == ("1", 14000)  # 23.3% of 60,000
    skew = [w for w in tenant.warnings if w.startswith("skewed")]
    assert skew and "'1' holds 23.3% of the rows" in skew[0] and "3.7×" in skew[0]
    assert any(w.startswith("low cardinality: 50 distinct values") for w in tenant.warnings)
    assert tenant.load["hash"] > 3
    assert customer.warnings == []
    assert customer.load["hash"] < 1.5 and customer.stats.distinct == 5000
    assert tenant.score < customer.score / 5


def test_monotonic_keys_are_flagged_for_range_sharding(shop: str) -> None:
    report = api.shard(shop, "orders", keys=["id", "created_at", "customer_id"], shards=8)
    for name in ("id", "created_at"):
        key = _key(report, name)
        assert key.monotonicity == "monotonic"
        assert key.stats.correlation is not None and key.stats.correlation > 0.99
        assert key.stats.order_by == "created_at"
        assert key.stats.newest_in_last_range == pytest.approx(1.0)
        assert key.insert_load["range"] == pytest.approx(8.0)
        assert key.strategy == "hash"
        assert any("range sharding sends every insert to the last shard" in r
                   for r in key.reasons)
    customer = _key(report, "customer_id")
    assert customer.monotonicity == "not monotonic"
    assert customer.insert_load["range"] < 1.5


def test_a_monotonic_key_alone_is_still_hashed(shop: str) -> None:
    # The range strategy stays flagged in the figures (every insert on the last shard), never
    # chosen.
    report = api.shard(shop, "orders", keys=["created_at"])
    key = report.keys[0]
    assert key.strategy == "hash" and key.insert_load["range"] == pytest.approx(16.0)
    assert "mongodb" in report.config and '"hashed"' in report.config["mongodb"]


def test_workload_shares_match_hand_computed(shop: str, workload: Path) -> None:
    report = api.shard(shop, "orders", keys=["customer_id", "tenant_id"], workload=workload)
    customer, tenant = _key(report, "customer_id"), _key(report, "tenant_id")
    routes = {r.label: r.hash for r in customer.routes}
    assert routes == {"q1": "single", "q2": "single", "q3": "multi", "q4": "single",
                      "q5": "single", "q6": "scatter"}
    # reads: q1 5, q2 3, q3 2, q4 4, q6 5 = 19; single 12, multi 2, scatter 5
    reads = customer.reads["hash"]
    assert reads.single == pytest.approx(100 * 12 / 19)
    assert reads.multi == pytest.approx(100 * 2 / 19)
    assert reads.scatter == pytest.approx(100 * 5 / 19)
    assert customer.writes["hash"].single == pytest.approx(100.0)
    assert {r.label: r.hash for r in tenant.routes} == {
        "q1": "scatter", "q2": "single", "q3": "scatter", "q4": "scatter", "q5": "single",
        "q6": "scatter"}
    assert tenant.reads["hash"].single == pytest.approx(100 * 3 / 19)
    assert "workload (hash): 65.0% of the weight single-shard, 10.0% multi-shard, 25.0% " \
        "scatter-gather" in customer.reasons  # 13, 2 and 5 of 20
    # q2 and q5 name tenant 1, a third of the huge tenants: its shard takes the traffic.
    assert tenant.traffic["hash"] is not None and tenant.traffic["hash"] > 1.5
    assert report.keys[0].name == "customer_id"


def test_the_example_shop_workload_single_shard_share(tmp_path: Path) -> None:
    # examples/indexes (a tenth of its rows): hand-computed from examples/indexes/workload.sql.
    schema = f"shop_example_{secrets.token_hex(4)}"
    script = (EXAMPLES / "shop.sql").read_text().replace("shop_example", schema)
    script = script.replace("300000", "30000").replace("50000", "5000")
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        try:
            for statement in split_statements(script):
                conn.execute(statement.encode())
            url = f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}"
            report = api.shard(url, "orders", keys=["customer_id", "id"],
                               workload=EXAMPLES / "workload.sql")
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    by_id, by_customer = _key(report, "id"), _key(report, "customer_id")
    # id: order_lines co-located (order_id), customers a reference table. login (40) reads
    # only the reference table, order_page (200) joins on the key, new_order (20) inserts one
    # id: 260 of 386 single; customer_orders (120), pending_queue (5), sku_sales (1) scatter.
    assert {r.label: r.hash for r in by_id.routes} == {
        "login": "single", "customer_orders": "scatter", "order_page": "single",
        "pending_queue": "scatter", "sku_sales": "scatter", "new_order": "single"}
    assert by_id.reads["hash"].single == pytest.approx(100 * 240 / 366)
    # customer_id: customers co-located (id); order_page joins order_lines, which does not
    # carry the key: scatter. customer_orders (120) and new_order (20) single: 140 of 385.
    assert {r.label: r.hash for r in by_customer.routes} == {
        "login": "scatter", "customer_orders": "single", "order_page": "scatter",
        "pending_queue": "scatter", "new_order": "single"}
    assert by_customer.reads["hash"].single == pytest.approx(100 * 120 / 365)
    assert report.keys[0] is by_id and "customers" in report.reference


def test_colocation_reference_tables_and_configuration(shop: str) -> None:
    report = api.shard(shop, "orders", keys=["customer_id"])
    key = report.keys[0]
    assert key.colocated == {"orders": ["customer_id"], "customers": ["id"]}
    assert report.reference == ["currencies", "tenants"]
    assert "by other columns than the key" in report.other["order_lines"]
    citus = report.config["citus"]
    schema = report.table.split(".")[0]
    assert f"SELECT create_reference_table('{schema}.currencies');" in citus
    assert f"SELECT create_distributed_table('{schema}.orders', 'customer_id');" in citus
    assert (f"SELECT create_distributed_table('{schema}.customers', 'id', colocate_with => "
            f"'{schema}.orders');") in citus
    vschema = json.loads(report.config["vitess"])
    assert vschema["vindexes"] == {"hash": {"type": "hash"}}
    assert vschema["tables"]["orders"] == {"column_vindexes": [{"column": "customer_id",
                                                                "name": "hash"}]}
    assert vschema["tables"]["tenants"] == {"type": "reference"}
    assert report.config["mongodb"] == 'sh.shardCollection("test.orders", {customer_id: '\
        '"hashed"})\n'
    by_id = api.shard(shop, "orders", keys=["id"]).keys[0]
    assert by_id.colocated == {"orders": ["id"], "order_lines": ["order_id"]}


def test_candidates_are_proposed_from_schema_and_workload(shop: str, workload: Path) -> None:
    report = api.shard(shop, "orders", workload=workload)
    origins = {k.name: k.origin for k in report.keys}
    assert "owner column (references tenants)" in origins["tenant_id"]
    assert "owner column (references customers)" in origins["customer_id"]
    assert "the workload filters on it by equality" in origins["customer_id"]
    assert origins["id"] == ["primary key"]
    assert report.keys[0].name == "customer_id"


def test_large_tables_are_sampled_and_say_so(shop: str) -> None:
    report = run_shard(shop, "orders", keys=[["tenant_id"], ["customer_id"]], sample_above=1000,
                       sample_rows=20000)
    tenant = _key(report, "tenant_id")
    assert tenant.stats.sampled and 0 < tenant.stats.rows_read < 60000
    assert any("TABLESAMPLE SYSTEM" in n for n in report.notices)
    assert any("(in the sample)" in w for w in tenant.warnings)
    assert [k.name for k in report.keys] == ["customer_id", "tenant_id"]


def test_cli_json_and_exit_codes(shop: str, workload: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(main, ["shard", "--db", shop, "--table", "orders", "--key",
                                "customer_id", "--format", "json"])
    assert good.exit_code == 0, good.output
    data = json.loads(good.output)
    assert data["recommended"] == "customer_id"
    chars = data["keys"][0]["keyCharacteristics"]
    assert chars["numDistinctValues"] == 5000 and chars["numDocsSampled"] == 60000
    assert chars["monotonicity"]["type"] == "not monotonic"
    assert len(data["keys"][0]["shards"]["hash"]["rows"]) == 16
    assert [t["table"] for t in data["referenceTables"]] == ["currencies", "tenants"]
    skewed = runner.invoke(main, ["shard", "--db", shop, "--table", "orders", "--key",
                                  "tenant_id", "--workload", str(workload)])
    assert skewed.exit_code == 1
    assert "skewed: the most common value '1'" in skewed.output
    assert "Recommended: tenant_id (hash)" in skewed.output
    assert "SELECT create_distributed_table(" in skewed.output


def test_bad_table_and_key_are_located_errors(shop: str) -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["shard", "--db", shop, "--table", "ordres", "--format",
                                 "json"])
    assert table.exit_code == 2
    problem = json.loads(table.output)["errors"][0]
    assert problem["file"] == "--table" and "no table 'ordres'" in problem["message"]
    assert problem["hint"] == "did you mean orders?"
    key = runner.invoke(main, ["shard", "--db", shop, "--table", "orders", "--key",
                               "tenant_id,custmer_id", "--format", "json"])
    assert key.exit_code == 2
    problem = json.loads(key.output)["errors"][0]
    assert problem["file"] == "--key" and problem["path"] == "tenant_id,custmer_id"
    assert "has no column 'custmer_id'" in problem["message"]
    assert problem["hint"] == "did you mean customer_id?"
    mysql = runner.invoke(main, ["shard", "--db", "mysql://root@127.0.0.1/test", "--table",
                                 "t"])
    assert mysql.exit_code == 2 and "PostgreSQL" in mysql.output


def test_literal_values_are_counted_and_placed_in_one_scan(shop: str) -> None:
    from dbarch.engines.shard_stats import shard_session

    with shard_session(shop) as session:
        facts = session.tables(session.resolve("orders")[0])["orders"]
        found = session.value_shards(facts, ["tenant_id"], [("1",), ("4",), ("999",)],
                                     shards=16, bounds=["2", "10"], sample=("", None))
        expected = session._one("SELECT abs(hashtext('1')::bigint) % 16")[0]
        assert found[("1",)] == (14000, expected, 0)  # 1 < 2: the first range
        assert found[("999",)][0] == 0 and found[("999",)][2] == 2
        assert found[("4",)][2] == 1
        # 'x' is no bigint: that value alone is left out, the others still answered
        mixed = session.value_shards(facts, ["tenant_id"], [("x",), ("1",)], shards=16,
                                     bounds=[], sample=("", None))
        assert mixed == {("1",): (14000, expected, 0)}
        pair = session.value_shards(facts, ["tenant_id", "customer_id"], [("1", "5")],
                                    shards=4, bounds=[], sample=("", None))
        count = session._one("SELECT count(*) FROM orders WHERE tenant_id = 1 "
                             "AND customer_id = 5")[0]
        assert pair[("1", "5")][0] == count
