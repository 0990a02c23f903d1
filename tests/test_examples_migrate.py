"""The migration examples the README shows (examples/migrate/), run as the README runs them:
the unsafe migration draws the lint findings and blocks a real PostgreSQL workload, its safe
rewrite lints clean and blocks nothing, and the v1 → v2 plan covers every change and lints
clean."""

from __future__ import annotations

from pathlib import Path

import pytest

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import POSTGRESQL_URL
except ImportError:
    from conftest import POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch import api

EXAMPLES = Path(__file__).parent.parent / "examples" / "migrate"


def test_the_unsafe_migration_draws_the_findings_the_readme_names() -> None:
    report = api.lint([str(EXAMPLES / "0002_unsafe.sql")])
    codes = {(f.line, f.code) for f in report.active}
    assert {(2, "L101"), (3, "L303"), (4, "L301")} <= codes


def test_the_safe_migration_lints_clean() -> None:
    report = api.lint([str(EXAMPLES / "0002_safe.sql")])
    assert report.active == [] and report.problems == []


def test_the_v1_to_v2_plan_covers_every_change_and_lints_clean(tmp_path: Path) -> None:
    plan, written = api.migrate_plan(
        str(EXAMPLES / "v1.sql"), str(EXAMPLES / "v2.sql"),
        renames=["customers.name=full_name"], fills=["orders.status='new'"], out=tmp_path,
    )
    assert plan.unplanned == []
    assert [p.name for p in plan.phases if not p.empty]
    sql_files = sorted(str(p) for p in written if p.suffix == ".sql")
    assert len(sql_files) == 10
    report = api.lint(sql_files)
    assert report.active == [] and report.problems == []


@pytest.mark.engine
def test_rehearsal_the_unsafe_one_blocks_and_the_safe_one_does_not() -> None:
    schema = EXAMPLES / "v1.sql"
    unsafe = api.rehearse(EXAMPLES / "0002_unsafe.sql", POSTGRESQL_URL, schema=schema,
                          rows=200_000)
    safe = api.rehearse(EXAMPLES / "0002_safe.sql", POSTGRESQL_URL, schema=schema,
                        rows=200_000)
    assert not unsafe.ok
    rewritten = [s for s in unsafe.statements if "random()" in s.sql]
    assert rewritten and rewritten[0].blocked > 0
    assert safe.ok and all(s.blocked == 0 for s in safe.statements)
