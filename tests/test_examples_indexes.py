"""The index-advisor example the README shows (examples/indexes/), run as the README runs it:
the shop loaded into PostgreSQL, `dbarch indexes` on its workload finds an index for each
unserved query, leaves the served ones alone and names the redundant index left behind; the
advice, built for real, lowers every cost it promised to."""

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
from tests.conftest import POSTGRESQL_URL

pytestmark = pytest.mark.engine

EXAMPLES = Path(__file__).parent.parent / "examples" / "indexes"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """examples/indexes/shop.sql loaded into a schema of its own (the file's name replaced)."""
    schema = f"shop_example_{secrets.token_hex(4)}"
    script = (EXAMPLES / "shop.sql").read_text().replace("shop_example", schema)
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        try:
            for statement in split_statements(script):
                conn.execute(statement.encode())
            yield f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}"
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_the_advice_the_readme_shows(url: str) -> None:
    result = api.indexes(url, workload=EXAMPLES / "workload.sql")
    advice = result.advice
    served = {q.label: rec.candidate for rec in advice.recommendations for q in rec.queries}
    assert served["customer_orders"].keys[:2] == ("customer_id", "created_at")
    assert served["login"].keys == ("(lower(email))",)
    assert served["sku_sales"].keys == ("sku",)
    assert not {"order_page", "pending_queue"} & set(served)  # primary keys, an existing index
    drops = {d.index.name.rsplit(".", 1)[-1]: d.reason for d in advice.drops}
    assert drops == {"orders_status": "redundant"}
    assert advice.relative_cost < 0.05
    # the INSERT is read (it taxes the indexes on orders) but is not a query to speed up
    assert "new_order" not in {q.label for q in advice.queries}
    assert served["customer_orders"] in {r.candidate for r in advice.recommendations
                                         if r.maintenance > 0}


def test_validated_for_real(url: str) -> None:
    result = api.indexes(url, workload=EXAMPLES / "workload.sql", validate=True)
    validation = result.validation
    assert validation is not None and validation.unused == [] and validation.problems == []
    promised = {q.label for rec in result.advice.recommendations for q in rec.queries}
    for label in promised:
        before, after = validation.costs[label]
        assert after < before / 5, (label, before, after)


def test_json_from_the_command_line(url: str) -> None:
    run = CliRunner().invoke(main, ["indexes", "--db", url, "--workload",
                                    str(EXAMPLES / "workload.sql"), "--format", "json",
                                    "--max-indexes", "2"])
    assert run.exit_code == 1, run.output
    data = json.loads(run.output)
    assert len(data["recommendations"]) == 2 and data["max_indexes"] == 2
    assert data["drops"][0]["statement"].startswith("DROP INDEX CONCURRENTLY")
