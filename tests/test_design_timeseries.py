"""The time-series designer: partition intervals from the ingest rate, BRIN, rollups per
window aggregate, the TimescaleDB rendering; pure, no server."""

from __future__ import annotations

from pathlib import Path

import pytest
from pglast import parse_sql

from dbarch.design.timeseries import design_part
from dbarch.design.timeseries_buckets import bucket_sql
from dbarch.design.timeseries_postgresql import PG_FILE
from dbarch.design.timeseries_sizing import choose_interval, ts_data
from dbarch.design.timeseries_timescaledb import TS_FILE
from dbarch.select import recommend
from dbarch.select.model import Decision, Paradigm
from dbarch.spec.load import load_spec, load_spec_text
from dbarch.verify.timeseries import function_names

IOT = Path(__file__).resolve().parent.parent / "examples" / "iot.yaml"

SMALL = """
system: plant
entities:
  Machine: {volume: 50, attributes: {name: string}}
  Sample:
    volume: 1M
    ttl: 90d
    append_only: true
    attributes:
      temp: float
      taken_at: timestamp
relationships:
  - {from: Sample, to: Machine, kind: many-to-one}
access_patterns:
  - {name: ingest, kind: write, entity: Sample, operation: insert, rate: 0.2/s}
  - {name: machine_hourly, kind: aggregate, entity: Sample, where: {machine: eq, taken_at: range},
     time: taken_at, window: 1h, group_by: [machine], measure: avg(temp), rate: 1/s}
"""


def small_part() -> tuple[object, Decision]:
    spec = load_spec_text(SMALL)
    decision = Decision(part="samples", entities=["Sample"], patterns=["ingest", "machine_hourly"],
                        paradigm=Paradigm.time_series, product="postgresql",
                        product_name="PostgreSQL", in_primary_schema=False)
    return spec, decision


@pytest.fixture(scope="module")
def iot():  # type: ignore[no-untyped-def]
    spec = load_spec(IOT)
    decision = next(p for p in recommend(spec).parts if p.paradigm == Paradigm.time_series)
    return design_part(spec, decision)


GIB = 1 << 30


@pytest.mark.parametrize(("rate", "row_bytes", "ttl", "interval", "fits"), [
    (10, 200, None, "month", True),          # 26M rows a month, 5 GiB: the longest
    (10, 200, 7 * 86400, "day", True),       # a 7d TTL wants 7 partitions at least
    (1000, 190, None, "day", True),          # 86.4M rows a day, 15.3 GiB: under 16
    (1000, 200, None, "hour", True),         # 16.1 GiB a day: over, so hour
    (20_000, 195, None, "hour", True),       # iot now: 72M rows an hour, 13 GiB
    (55_000, 195, None, "hour", False),      # iot at the horizon: over at any interval
])
def test_interval_from_rate(rate: float, row_bytes: int, ttl: float | None, interval: str,
                            fits: bool) -> None:
    choice = choose_interval(rate, row_bytes, ttl)
    assert (choice["interval"], choice["fits"]) == (interval, fits)


def test_memory_target_is_a_quarter_of_memory() -> None:
    rules = ts_data()["partitioning"]
    assert rules["memory_bytes"] * rules["memory_share"] == 16 * GIB


@pytest.mark.parametrize(("window", "sql"), [
    (300, "date_bin(INTERVAL '5 minutes', t, TIMESTAMPTZ '2000-01-03 00:00:00+00')"),
    (86400, "date_bin(INTERVAL '1 day', t, TIMESTAMPTZ '2000-01-03 00:00:00+00')"),
    (30 * 86400, "date_trunc('month', t, 'UTC')"),
])
def test_buckets(window: float, sql: str) -> None:
    assert bucket_sql(window, "t") == sql


def test_iot_layouts(iot) -> None:  # type: ignore[no-untyped-def]
    lays = {lay["table"]: lay for lay in iot.model["layouts"]}
    assert (lays["readings"]["unit"], lays["reading_hourly"]["unit"]) == ("hour", "day")
    assert lays["readings"]["rate_now"] == 20_000
    assert lays["readings"]["live_partitions"] == 7 * 24 + 4
    assert lays["readings"]["relational_interval"] == "day"   # what postgresql.sql lays out
    assert lays["readings"]["brin"]["pages_per_range"] == 128


def test_iot_finding_at_the_horizon(iot) -> None:  # type: ignore[no-untyped-def]
    (finding,) = iot.findings
    assert finding.message.startswith("readings: at the horizon's 54.9k/s even hour partitions")
    assert "16 GiB" in finding.message


def test_iot_rollups(iot) -> None:  # type: ignore[no-untyped-def]
    forms = {r["pattern"]: (r["form"], r["table"]) for r in iot.model["rollups"]}
    assert forms == {
        "device_hourly_avg": ("entity", "reading_hourly"),      # the spec's own rollup
        "site_max_5min": ("table", "readings_5min_max_value"),
        "site_daily_energy": ("table", "reading_hourly_1d_sum_avg_value"),
    }


def test_iot_addendum_does_not_recreate_the_tables(iot) -> None:  # type: ignore[no-untyped-def]
    sql = iot.artifacts[PG_FILE]
    assert "CREATE TABLE readings (" not in sql and "CREATE TABLE reading_hourly (" not in sql
    assert "Apply AFTER schema/postgresql.sql" in sql
    parse_sql(sql)  # valid PostgreSQL, functions included


def test_iot_section_has_the_numbers(iot) -> None:  # type: ignore[no-untyped-def]
    for text in ("20k/s → 54.9k/s", "72M → 198M", "pages_per_range = 128",
                 "ts_drop_partitions('readings', now() - INTERVAL '7 days')",
                 "TimescaleDB is not installed"):
        assert text in iot.section


def test_timescaledb_rendering(iot) -> None:  # type: ignore[no-untyped-def]
    sql = iot.artifacts[TS_FILE]
    names = function_names(sql)
    documented = set(ts_data()["timescaledb"]["documented_functions"])
    assert {"create_hypertable", "add_retention_policy", "add_compression_policy",
            "add_continuous_aggregate_policy", "time_bucket"} <= set(names)
    assert set(names) - documented == {"now", "max", "sum"}
    assert "chunk_time_interval => INTERVAL '1 hour'" in sql
    assert "timescaledb.compress_segmentby = 'device_id, metric" in sql


def test_small_source_gets_a_materialized_view_and_its_tables() -> None:
    spec, decision = small_part()
    part = design_part(spec, decision)  # type: ignore[arg-type]
    (r,) = part.model["rollups"]
    assert r["form"] == "matview"
    sql = part.artifacts[PG_FILE]
    assert "CREATE MATERIALIZED VIEW samples_1h_avg_temp" in sql
    assert "CREATE TABLE samples (" in sql          # not in the primary schema: its own tables
    assert "REFERENCES" not in sql                  # machines live in another database
    (lay,) = part.model["layouts"]
    assert lay["unit"] == "week"                    # 90d TTL / 7 = 12.9 days at most


def test_other_product_gets_a_finding_only() -> None:
    spec, decision = small_part()
    decision = decision.model_copy(update={"product": "influxdb", "product_name": "InfluxDB"})
    part = design_part(spec, decision)  # type: ignore[arg-type]
    assert part.artifacts == {} and part.findings[0].severity == "info"
