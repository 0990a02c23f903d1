"""render_query: each access pattern as the SELECT an application sends, per dialect, executed."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from dbarch.engines import engine_for
from dbarch.render.query import render_query
from dbarch.schema.model import AccessQuery, FilterOp, QueryFilter, QueryOrder

UID = uuid.UUID("019abbc0-18c0-7249-baa3-c14be105d25b")
T1, T2 = datetime(2026, 3, 1, 8, 0, 0), datetime(2026, 3, 2, 8, 0, 0)


def _q(*filters: tuple[str, FilterOp], **kw: object) -> AccessQuery:
    return AccessQuery(pattern="p", table="orders",
                       filters=[QueryFilter(column=c, op=op) for c, op in filters], **kw)


CASES = [
    (
        _q(("user_id", FilterOp.eq), order_by=[QueryOrder(column="created_at", desc=True)],
           limit=20),
        {"user_id": 42},
        {
            "postgresql": 'SELECT * FROM "orders" WHERE "user_id" = 42 '
                          'ORDER BY "created_at" DESC LIMIT 20',
            "mysql": "SELECT * FROM `orders` WHERE `user_id` = 42 ORDER BY `created_at` DESC "
                     "LIMIT 20",
            "sqlite": 'SELECT * FROM "orders" WHERE "user_id" = 42 '
                      'ORDER BY "created_at" DESC LIMIT 20',
        },
    ),
    (
        _q(("created_at", FilterOp.range), project=["id", "status"]),
        {"created_at": (T1, T2)},
        {
            "postgresql": 'SELECT "id", "status" FROM "orders" WHERE "created_at" '
                          "BETWEEN '2026-03-01 08:00:00' AND '2026-03-02 08:00:00'",
            "mysql": "SELECT `id`, `status` FROM `orders` WHERE `created_at` "
                     "BETWEEN '2026-03-01 08:00:00' AND '2026-03-02 08:00:00'",
            "sqlite": 'SELECT "id", "status" FROM "orders" WHERE "created_at" '
                      "BETWEEN '2026-03-01T08:00:00.000Z' AND '2026-03-02T08:00:00.000Z'",
        },
    ),
    (
        _q(("status", FilterOp.in_), ("ref", FilterOp.eq)),
        {"status": ["paid", "shipped"], "ref": UID},
        {
            "postgresql": "SELECT * FROM \"orders\" WHERE \"status\" IN ('paid', 'shipped') "
                          f"AND \"ref\" = '{UID}'",
            "mysql": "SELECT * FROM `orders` WHERE `status` IN ('paid', 'shipped') "
                     f"AND `ref` = x'{UID.hex}'",
            "sqlite": "SELECT * FROM \"orders\" WHERE \"status\" IN ('paid', 'shipped') "
                      f"AND \"ref\" = '{UID}'",
        },
    ),
    (
        _q(("note", FilterOp.prefix)),
        {"note": "gift_"},
        {
            "postgresql": "SELECT * FROM \"orders\" WHERE \"note\" LIKE 'gift\\_%'",
            "mysql": "SELECT * FROM `orders` WHERE `note` LIKE 'gift\\\\_%'",
            "sqlite": "SELECT * FROM \"orders\" WHERE \"note\" GLOB 'gift_*'",
        },
    ),
]


@pytest.mark.parametrize(("query", "params", "expected"), CASES)
@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_render(query: AccessQuery, params: dict[str, object], expected: dict[str, str],
                dialect: str) -> None:
    assert render_query(query, dialect, params) == expected[dialect]


DDL = {
    "postgresql": "CREATE TABLE orders (id int PRIMARY KEY, user_id int, status text, "
                  "ref uuid, note text, created_at timestamptz)",
    "mysql": "CREATE TABLE orders (id int PRIMARY KEY, user_id int, status varchar(10), "
             "ref binary(16), note varchar(50), created_at datetime(6))",
    "sqlite": "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, status TEXT, "
              "ref TEXT, note TEXT, created_at TEXT)",
}
ROWS = [
    (1, 42, "paid", UID, "gift_wrap", datetime(2026, 3, 1, 12, 0, 0)),
    (2, 42, "shipped", UID, "gift%card", datetime(2026, 3, 1, 9, 0, 0)),
    (3, 42, "pending", UID, "giftXcard", datetime(2026, 3, 5, 9, 0, 0)),
    (4, 7, "paid", uuid.uuid4(), "gift_box", datetime(2026, 2, 1, 9, 0, 0)),
]
# What each case must return from ROWS, by id, on every engine.
RESULTS = [[1, 2, 3], [2, 1], [1, 2], [1, 4]]


@pytest.mark.parametrize(("case", "ids"), list(zip(range(len(CASES)), RESULTS, strict=True)))
def test_rendered_sql_runs_and_selects_the_right_rows(engine_url: str, case: int,
                                                      ids: list[int]) -> None:
    query, params, _ = CASES[case]
    with engine_for(engine_url) as engine:
        engine.apply(DDL[engine.dialect])
        engine.load("orders", ["id", "user_id", "status", "ref", "note", "created_at"], ROWS)
        rows = engine.query(render_query(query, engine.dialect, params))
    got = [r[0] for r in rows]
    assert sorted(got) == sorted(ids)
    if query.order_by:
        assert got == [3, 1, 2]  # newest first


def test_text_search_per_engine() -> None:
    q = AccessQuery(pattern="search", table="products", index="products_description_fts",
                    filters=[QueryFilter(column="description", op=FilterOp.text)])
    assert render_query(q, "postgresql", {"description": "amber"}) == (
        "SELECT * FROM \"products\" WHERE TO_TSVECTOR('simple', \"description\") "
        "@@ PLAINTO_TSQUERY('simple', 'amber')"
    )
    assert render_query(q, "mysql", {"description": "amber"}) == (
        "SELECT * FROM `products` WHERE MATCH(`description`) "
        "AGAINST('amber' IN NATURAL LANGUAGE MODE)"
    )
    assert render_query(q, "sqlite", {"description": "amber"}) == (
        'SELECT * FROM "products" WHERE rowid IN (SELECT rowid FROM "products_description_fts" '
        "WHERE \"products_description_fts\" MATCH 'amber')"
    )


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'oracle'"):
        render_query(_q(), "oracle", {})
