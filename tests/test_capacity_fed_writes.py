"""A projection (search index) takes the writes its feed copies from the primary.

catalog's OpenSearch part showed "0/s row writes" and its sharding trigger "measured 0/s
writes", though every Product import and posted Review is indexed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbarch import api
from dbarch.design.ceilings import scaling_data
from dbarch.design.operations import operations_plan
from dbarch.design.scaling import capacity_model

CATALOG = Path(__file__).parent.parent / "examples" / "catalog.yaml"


def test_the_search_part_counts_the_writes_its_feed_copies() -> None:
    design = api.plan(CATALOG)
    spec, decisions = design.spec, design.decisions
    model = capacity_model(spec, decisions, design.relational)
    search = model.part("search")
    fed = {ld.name: ld for ld in search.patterns if ld.fed}
    # import_product and post_review write Product and Review, which the index holds.
    assert sorted(fed) == ["import_product", "post_review"]
    rates = {p.name: p.rate for p in spec.access_patterns}
    # Rows written per call: the touched entities the index holds (import_product also
    # writes Variant, which it does not).
    expected = rates["import_product"] * 1 + rates["post_review"] * 1
    assert search.point("now").write_rate == pytest.approx(expected)
    # No application connection waits on the feed, and its latency is the primary's.
    times = scaling_data()["service_time_seconds"]
    assert search.point("now").in_flight == pytest.approx(
        sum(ld.rate_now * times[ld.kind.value] for ld in search.patterns if ld.is_read))
    plan = operations_plan(spec, decisions, model, design.relational)
    watched = {(m.part, m.what) for m in plan.monitors}
    assert ("search", "import_product latency") not in watched
    assert ("core", "import_product latency") in watched
