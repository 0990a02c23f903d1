"""Parameters chosen from the sample: typical values, combined filters that match rows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from dbarch.schema.model import AccessQuery, FilterOp, QueryFilter
from dbarch.verify.params import choose_params
from dbarch.verify.sample import SampleTable

# user 1 has 50 orders, users 2..21 have 2 each, users 22..31 have 1 each
ROWS = (
    [(i, 1, "paid", datetime(2026, 1, 1 + i % 28), "amber river") for i in range(50)]
    + [(100 + i, 2 + i // 2, "paid" if i % 2 else "pending", datetime(2026, 2, 1 + i % 28),
        "quill summit") for i in range(40)]
    + [(200 + i, 22 + i, "shipped", datetime(2026, 3, 1 + i), "xenon") for i in range(10)]
)
ORDERS = SampleTable("orders", ["id", "user_id", "status", "created_at", "note"], ROWS)


def _q(*filters: tuple[str, FilterOp]) -> AccessQuery:
    return AccessQuery(pattern="p", table="orders",
                       filters=[QueryFilter(column=c, op=op) for c, op in filters])


def test_eq_takes_a_typical_value_not_the_heaviest() -> None:
    params = choose_params(_q(("user_id", FilterOp.eq)), ORDERS)
    counts = Counter(r[1] for r in ROWS)
    assert counts[params["user_id"]] == 2  # the median user, not user 1 with 50 orders


def test_combined_filters_match_a_row() -> None:
    params = choose_params(_q(("user_id", FilterOp.eq), ("status", FilterOp.eq),
                              ("created_at", FilterOp.range)), ORDERS)
    low, high = params["created_at"]
    matching = [r for r in ROWS if r[1] == params["user_id"] and r[2] == params["status"]
                and low <= r[3] <= high]
    assert matching


def test_range_alone_is_narrow() -> None:
    low, high = choose_params(_q(("created_at", FilterOp.range)), ORDERS)["created_at"]
    inside = [r for r in ROWS if low <= r[3] <= high]
    assert 1 <= len(inside) <= 10


def test_in_prefix_text() -> None:
    params = choose_params(_q(("user_id", FilterOp.in_), ("note", FilterOp.prefix)), ORDERS)
    assert len(params["user_id"]) == 3 and len(set(params["user_id"])) == 3
    assert params["note"] == "quill"[:5]
    text = choose_params(_q(("note", FilterOp.text)), ORDERS)["note"]
    assert text in ("amber", "river", "quill", "summit", "xenon")
    # the rarest word of the anchor row's value
    assert sum(text in r[4] for r in ROWS) <= 40


def test_unknown_column_is_named() -> None:
    with pytest.raises(KeyError) as info:
        choose_params(_q(("coupon", FilterOp.eq)), ORDERS)
    assert info.value.args[0] == "orders.coupon"
