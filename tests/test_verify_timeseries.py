"""The time-series part on the real PostgreSQL 15: the layout replaces postgresql.sql's first
partitions, synthetic ingest spreads over partitions, every window aggregate prunes to its
window and its rollup gives the raw answer, retention drops only empty past partitions."""

from __future__ import annotations

import psycopg
import pytest

from dbarch.design.timeseries import design_part
from dbarch.design.timeseries_postgresql import _BOUNDS_FN, _CREATE_FN
from dbarch.select import recommend
from dbarch.select.model import Paradigm
from dbarch.spec.load import load_spec
from dbarch.verify.timeseries import verify_part
from tests.conftest import POSTGRESQL_URL, scratch_schema
from tests.test_design_timeseries import IOT, small_part


@pytest.fixture(scope="module")
def iot_check():  # type: ignore[no-untyped-def]
    spec = load_spec(IOT)
    decision = next(p for p in recommend(spec).parts if p.paradigm == Paradigm.time_series)
    return verify_part(design_part(spec, decision), POSTGRESQL_URL)


def test_iot_verifies(iot_check) -> None:  # type: ignore[no-untyped-def]
    assert iot_check.ran and iot_check.error is None, iot_check.error
    failed = [f"{c.name}: {c.detail}" for c in iot_check.checks if not c.ok]
    assert failed == []
    assert iot_check.engine.startswith("PostgreSQL 15")


def test_iot_checks_cover_every_aggregate(iot_check) -> None:  # type: ignore[no-untyped-def]
    names = {c.name for c in iot_check.checks}
    for pattern in ("device_hourly_avg", "site_max_5min", "site_daily_energy"):
        assert {f"{pattern} (raw)", f"{pattern} (rollup)"} <= names
    assert {"readings layout", "readings ingest", "readings retention",
            "timescaledb rendering"} <= names


def _window(detail: str) -> tuple[float, int, int]:
    """(hours in the queried window, partitions scanned, partitions in all) from a detail such
    as `12 rows over [11-25 00:00, 11-26 00:00); scans 1 of 28 partitions`."""
    import re
    from datetime import datetime

    found = re.search(r"\[(\d\d-\d\d \d\d:\d\d), (\d\d-\d\d \d\d:\d\d)\); "
                      r"scans (\d+) of (\d+)", detail)
    assert found, detail
    start, end = (datetime.strptime(f"2001-{t}", "%Y-%m-%d %H:%M") for t in found.groups()[:2])
    if end < start:  # the window crossed a new year
        end = end.replace(year=2002)
    return (end - start).total_seconds() / 3600, int(found[3]), int(found[4])


def test_iot_pruning_reads_the_window_only(iot_check) -> None:  # type: ignore[no-untyped-def]
    raw = {c.name: c.detail for c in iot_check.checks if c.name.endswith("(raw)")}
    # readings: hourly partitions, the 5-minute aggregate reads six hours of them (of ~170)
    hours, scanned, total = _window(raw["site_max_5min (raw)"])
    assert hours == 6 and scanned == 6 and total > 100
    # reading_hourly: daily partitions; the whole UTC days the sample holds when the check
    # runs (one or two, by the hour of day): one partition a day, no more
    hours, scanned, total = _window(raw["site_daily_energy (raw)"])
    assert hours in (24, 48) and scanned == hours / 24 and total > scanned


def test_small_standalone_part_verifies() -> None:
    spec, decision = small_part()
    check = verify_part(design_part(spec, decision), POSTGRESQL_URL)  # type: ignore[arg-type]
    assert check.error is None, check.error
    assert [c.name for c in check.checks if not c.ok] == []
    assert any(c.name == "samples_1h_avg_temp refresh" for c in check.checks)


def test_relayout_refuses_a_partition_with_rows() -> None:
    with scratch_schema("dbarch_ts") as (name, conn):
        conn.execute(f"SET search_path TO {name}")
        conn.execute("CREATE TABLE m (t timestamptz NOT NULL, v float8) PARTITION BY RANGE (t)")
        conn.execute("CREATE TABLE m_day PARTITION OF m FOR VALUES FROM ('2030-01-01 00:00+00') "
                     "TO ('2030-01-02 00:00+00')")
        conn.execute("INSERT INTO m VALUES ('2030-01-01 05:00+00', 1)")
        conn.execute(_BOUNDS_FN)
        conn.execute(_CREATE_FN)
        with pytest.raises(psycopg.errors.RaiseException, match="holds rows"):
            conn.execute("SELECT ts_create_partitions('m', 'hour', 'YYYY_MM_DD_HH24', "
                         "'2030-01-01 00:00+00', '2030-01-01 03:00+00')")
        conn.execute("DELETE FROM m")
        made = conn.execute("SELECT ts_create_partitions('m', 'hour', 'YYYY_MM_DD_HH24', "
                            "'2030-01-01 00:00+00', '2030-01-01 03:00+00')").fetchone()
        # the empty day goes, and its whole range is laid out again by the hour
        assert made == (24,)
