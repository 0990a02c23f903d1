"""Pure parts of `dbarch shard`, no server: routing queries for a key (a table of SQL → where
it goes), co-location through foreign keys, the judgement's arithmetic, the configurations."""

from __future__ import annotations

import json

import pytest

from dbarch.advisor.query import Query
from dbarch.schema.model import Column, ColumnType, ForeignKey, Table, TypeKind
from dbarch.shard import shard_data
from dbarch.shard.analysis import Settings, judge, max_to_mean, rank
from dbarch.shard.colocation import colocated_tables, reference_tables
from dbarch.shard.configs import citus, mongodb, vitess
from dbarch.shard.model import KeyStats, Route, TableFacts
from dbarch.shard.routing import Router


def _table(name: str, columns: list[str], pk: list[str],
           fks: list[tuple[list[str], str, list[str]]] = ()) -> Table:
    kind = ColumnType(kind=TypeKind.bigint, native="bigint")
    return Table(name=name, columns=[Column(name=c, type=kind) for c in columns],
                 primary_key=pk, foreign_keys=[
                     ForeignKey(name=f"{name}_fk{i}", columns=c, ref_table=t, ref_columns=r)
                     for i, (c, t, r) in enumerate(fks)])


TABLES = {
    "tenants": TableFacts(_table("tenants", ["id", "plan"], ["id"]), "app.tenants", 50, 8192),
    "users": TableFacts(_table("users", ["id", "tenant_id"], ["id"],
                               [(["tenant_id"], "tenants", ["id"])]), "app.users", 10_000, 1),
    "orders": TableFacts(_table("orders", ["id", "tenant_id", "user_id", "created_at"], ["id"],
                                [(["tenant_id"], "tenants", ["id"]),
                                 (["user_id"], "users", ["id"])]), "app.orders", 10**6, 1),
    "lines": TableFacts(_table("lines", ["order_id", "n", "sku"], ["order_id", "n"],
                               [(["order_id"], "orders", ["id"])]), "app.lines", 3 * 10**6, 1),
    "skus": TableFacts(_table("skus", ["sku", "name"], ["sku"]), "app.skus", 4000, 1,
                       reads=10**6, writes=10),
    "audit": TableFacts(_table("audit", ["id", "what"], ["id"]), "app.audit", 10**7, 1),
}


def test_colocation_follows_foreign_keys_to_the_key() -> None:
    assert colocated_tables(TABLES, "orders", ["tenant_id"]) == {
        "orders": ["tenant_id"], "tenants": ["id"], "users": ["tenant_id"]}
    assert colocated_tables(TABLES, "orders", ["id"]) == {
        "orders": ["id"], "lines": ["order_id"]}
    group = colocated_tables(TABLES, "orders", ["id"])
    reference, other = reference_tables(TABLES, group, 5_000_000, 10)
    assert set(reference) == {"tenants", "users"}
    assert "lines" not in other and "orders" not in other
    assert other["audit"].startswith("does not carry the key")


ROUTES = [  # SQL, hash route, range route, literal key values
    ("SELECT * FROM orders WHERE tenant_id = 7", "single", "single", [("7",)]),
    ("SELECT * FROM orders WHERE tenant_id = $1 AND id > 10", "single", "single", []),
    ("SELECT * FROM orders WHERE tenant_id IN (1, 2, 3)", "multi", "multi",
     [("1",), ("2",), ("3",)]),
    ("SELECT * FROM orders WHERE tenant_id IN (4)", "single", "single", [("4",)]),
    ("SELECT * FROM orders WHERE tenant_id = ANY($1)", "multi", "multi", []),
    ("SELECT * FROM orders WHERE tenant_id = ANY(ARRAY[5, 6])", "multi", "multi",
     [("5",), ("6",)]),
    ("SELECT * FROM orders WHERE tenant_id BETWEEN 1 AND 9", "scatter", "multi", []),
    ("SELECT * FROM orders WHERE tenant_id = 1 OR tenant_id = 2", "scatter", "scatter", []),
    ("SELECT * FROM orders WHERE created_at > now()", "scatter", "scatter", []),
    ("SELECT o.id FROM orders o JOIN users u ON u.tenant_id = o.tenant_id "
     "WHERE o.tenant_id = 3", "single", "single", [("3",)]),
    ("SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id WHERE o.tenant_id = 3",
     "scatter", "scatter", []),
    ("SELECT o.id FROM orders o JOIN tenants t ON t.id = o.tenant_id WHERE t.id = 3",
     "single", "single", [("3",)]),
    ("SELECT o.id FROM orders o JOIN lines l ON l.order_id = o.id WHERE o.tenant_id = 3",
     "scatter", "scatter", []),
    ("SELECT id FROM orders WHERE tenant_id = 2 AND user_id IN "
     "(SELECT id FROM users WHERE tenant_id = 2)", "single", "single", [("2",)]),
    ("INSERT INTO orders (id, tenant_id) VALUES (1, 8)", "single", "single", [("8",)]),
    ("INSERT INTO orders (id, tenant_id) VALUES (1, 8), (2, 9)", "multi", "multi",
     [("8",), ("9",)]),
    ("INSERT INTO orders (created_at) VALUES (now())", "single", "single", []),
    ("INSERT INTO orders (id, tenant_id) VALUES (1, $1), (2, $2)", "multi", "multi", []),
    ("UPDATE orders SET created_at = now() WHERE tenant_id = 4 AND id = 1", "single",
     "single", [("4",)]),
    ("DELETE FROM orders WHERE id = 1", "scatter", "scatter", []),
    ("SELECT name FROM tenants WHERE id = 4", "single", "single", [("4",)]),
]


@pytest.mark.parametrize(("sql", "hashed", "ranged", "values"), ROUTES)
def test_route(sql: str, hashed: str, ranged: str, values: list[tuple[str, ...]]) -> None:
    group = colocated_tables(TABLES, "orders", ["tenant_id"])
    columns = {n: {c.name for c in f.table.columns} for n, f in TABLES.items()}
    router = Router(group, {"skus"}, columns, max_in_list=16)
    kind = sql.split()[0].lower()
    route = router.route(Query(sql=sql, fingerprint="", kind=kind, tables=("orders",)))
    assert (route.hash, route.range, route.values) == (hashed, ranged, values), route.why


def test_reference_reads_are_single_shard_and_their_writes_reach_every_shard() -> None:
    columns = {n: {c.name for c in f.table.columns} for n, f in TABLES.items()}
    router = Router({"orders": ["tenant_id"]}, {"skus"}, columns, max_in_list=16)
    read = Query(sql="SELECT name FROM skus WHERE sku = 1", fingerprint="", tables=("skus",))
    write = Query(sql="UPDATE skus SET name = 'x'", fingerprint="", kind="update",
                  tables=("skus",))
    assert router.touches(read) and router.route(read).hash == "single"
    assert router.route(write).hash == "scatter"
    other = Query(sql="SELECT * FROM audit", fingerprint="", tables=("audit",))
    assert not router.touches(other)


def _stats(hashed: list[int], ranged: list[int], distinct: int,
           common: list[tuple[str, int]], correlation: float | None,
           newest: float | None) -> KeyStats:
    return KeyStats(columns=("k",), rows_read=sum(hashed), sampled=False, sample_percent=None,
                    distinct=distinct, nulls=0, most_common=common, correlation=correlation,
                    order_by="created_at", hash_buckets=hashed, range_buckets=ranged,
                    range_bounds=["10", "20", "30"], newest_in_last_range=newest)


def test_judgement_arithmetic() -> None:
    assert max_to_mean([10, 10, 10, 10]) == 1.0
    assert max_to_mean([40, 0, 0, 0]) == 4.0
    assert max_to_mean([]) == 1.0
    settings = Settings.load(4, shard_data())
    even = judge(("k",), ["given"], _stats([25, 25, 25, 25], [25, 25, 25, 25], 1000,
                                           [("1", 1)], 0.01, 0.25), [], {}, {"t": ["k"]},
                 settings)
    assert even.warnings == [] and even.strategy == "hash" and even.score == pytest.approx(1.0)
    skewed = judge(("s",), ["given"], _stats([70, 10, 10, 10], [70, 10, 10, 10], 30,
                                             [("big", 60)], 0.0, 0.25), [], {}, {"t": ["s"]},
                   settings)
    assert skewed.score < even.score
    assert [w.split(":")[0] for w in skewed.warnings] == ["skewed", "low cardinality",
                                                         "hot shard"]
    mono = judge(("m",), ["given"], _stats([25, 25, 25, 25], [25, 25, 25, 25], 100, [("1", 1)],
                                           0.98, 1.0), [], {}, {"t": ["m"]}, settings)
    assert mono.monotonicity == "monotonic" and mono.insert_load["range"] == 4.0
    assert mono.strategy == "hash" and "hashed instead" in mono.reasons[-1]
    assert [k.name for k in rank([skewed, mono, even])] == ["k", "m", "s"]  # ties: values
    # Literal values route traffic to their shard; the hot value's shard is the hot one.
    routes = [Route("q", 10.0, "select", "single", "single", values=[("big",)])]
    hot = judge(("s",), ["given"], skewed.stats, routes, {("big",): (60, 0, 0)},
                {"t": ["s"]}, settings)
    assert hot.traffic["hash"] == pytest.approx(4.0)
    assert hot.reads["hash"].single == 100.0


def test_configurations() -> None:
    group = colocated_tables(TABLES, "orders", ["tenant_id"])
    stats = _stats([1, 1], [1, 1], 10, [], None, None)
    report = judge(("tenant_id",), ["given"], stats, [], {}, group, Settings.load(2,
                                                                                 shard_data()))
    sql = citus(report, "orders", TABLES, ["skus"])
    assert sql.splitlines() == [
        "SELECT create_reference_table('app.skus');",
        "SELECT create_distributed_table('app.orders', 'tenant_id');",
        "SELECT create_distributed_table('app.tenants', 'id', colocate_with => 'app.orders');",
        "SELECT create_distributed_table('app.users', 'tenant_id', colocate_with => "
        "'app.orders');"]
    vschema = json.loads(vitess(report, TABLES, ["skus"]))
    assert vschema["vindexes"] == {"hash": {"type": "hash"}}
    assert vschema["tables"]["tenants"]["column_vindexes"] == [{"column": "id", "name": "hash"}]
    assert vschema["tables"]["skus"] == {"type": "reference"}
    assert mongodb(report, "shop", "orders") == \
        'sh.shardCollection("shop.orders", {tenant_id: "hashed"})\n'
    report.strategy = "range"
    assert mongodb(report, "shop", "orders") == \
        'sh.shardCollection("shop.orders", {tenant_id: 1})\n'
    assert json.loads(vitess(report, TABLES, []))["vindexes"] == {"numeric": {"type": "numeric"}}
