"""Operations → phases (dbarch/migrate/plan.py) and the plan's files. Pure: no server; the
plans are applied on real engines in test_migrate_plan_pg.py / test_migrate_plan_mariadb.py."""

from __future__ import annotations

import json

import pytest

from dbarch.migrate.output import numbered, plan_dict, plan_files
from dbarch.migrate.plan import plan_migration
from dbarch.migrate.plan_model import MigrationPlan, PhaseName, PlanOptions
from dbarch.parse import parse_ddl

A = """
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total integer NOT NULL);
CREATE INDEX orders_total_idx ON orders (total);
"""
B = """
CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id),
  total bigint NOT NULL);
CREATE INDEX orders_total_idx ON orders (total);
CREATE INDEX orders_user_idx ON orders (user_id);
"""


def plan(a: str = A, b: str = B, *, dialect: str = "postgresql", renames: list[str] | None = None,
         fills: list[str] | None = None, **options: object) -> MigrationPlan:
    return plan_migration(parse_ddl(a, dialect).schema, parse_ddl(b, dialect).schema,
                          renames=renames if renames is not None else ["users.name=full_name"],
                          fills=fills, options=PlanOptions(dialect=dialect, **options))


def sql_of(p: MigrationPlan, phase: PhaseName) -> list[str]:
    return [s.text for s in p.phase(phase).statements()]


def test_renames_and_type_changes_never_happen_in_one_step() -> None:
    p = plan()
    everything = [s for phase in p.phases for s in phase.statements()]
    renames = [i for i, s in enumerate(everything) if "RENAME COLUMN" in s.text]
    # the only column renames are the int → bigint swap, inside one transaction
    assert len(renames) == 2
    assert everything[renames[0] - 1].text == "BEGIN"
    assert everything[renames[1] + 2].text == "COMMIT"
    expand = sql_of(p, PhaseName.expand)
    assert "ALTER TABLE users ADD COLUMN full_name text" in expand
    assert "ALTER TABLE orders ADD COLUMN total__new bigint" in expand
    contract = sql_of(p, PhaseName.contract)
    assert "ALTER TABLE users DROP COLUMN name" in contract
    assert "ALTER TABLE orders DROP COLUMN total__old" in contract


def test_online_forms_in_the_expand_phase() -> None:
    p = plan()
    expand = p.phase(PhaseName.expand).statements()
    index = next(s for s in expand if s.text.startswith("CREATE INDEX"))
    assert index.text == "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id)"
    assert index.outside_transaction
    assert any(s.text.endswith("REFERENCES users (id) ON DELETE NO ACTION NOT VALID")
               for s in expand)
    assert "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey" in sql_of(
        p, PhaseName.validate)


def test_not_null_goes_through_a_validated_check() -> None:
    validate = sql_of(plan(), PhaseName.validate)
    start = validate.index("ALTER TABLE users ADD CONSTRAINT users_full_name_not_null CHECK "
                           "(full_name IS NOT NULL) NOT VALID")
    assert validate[start + 1:start + 4] == [
        "ALTER TABLE users VALIDATE CONSTRAINT users_full_name_not_null",
        "ALTER TABLE users ALTER COLUMN full_name SET NOT NULL",
        "ALTER TABLE users DROP CONSTRAINT users_full_name_not_null",
    ]


def test_backfills_are_batched_throttled_and_keyed_on_the_primary_key() -> None:
    (block, *_) = plan(batch_size=500, pause=0.25).phase(PhaseName.backfill).statements()
    assert block.outside_transaction
    for part in ("LIMIT 500", "PERFORM pg_sleep(0.25)", "COMMIT;", "users.id >= lo AND "
                 "users.id <= hi", "full_name IS DISTINCT FROM name"):
        assert part in block.text


def test_every_phase_has_its_rollback_and_the_plan_its_explanation() -> None:
    p = plan()
    files = plan_files(p)
    stems = [stem for stem, _ in numbered(p)]
    assert stems == ["01_expand", "02_backfill", "03_switch", "04_validate", "05_contract"]
    assert sorted(files) == sorted([*(f"{s}.sql" for s in stems),
                                    *(f"{s}.rollback.sql" for s in stems), "PLAN.md"])
    rollback = files["01_expand.rollback.sql"]
    assert "DROP COLUMN full_name" in rollback and "DROP INDEX CONCURRENTLY IF EXISTS " \
        "orders_user_idx" in rollback
    doc = files["PLAN.md"]
    for heading in ("## 1. Expand", "## 2. Backfill", "## 3. Switch", "## 4. Validate",
                    "## 5. Contract", "Locks:", "read and write users.full_name instead of name"):
        assert heading in doc


def test_a_not_null_column_without_a_value_for_old_rows_is_reported() -> None:
    a = "CREATE TABLE t (id int PRIMARY KEY);"
    b = "CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);"
    missing = plan(a, b, renames=[])
    assert len(missing.unplanned) == 1 and "--fill t.code=" in missing.unplanned[0]
    filled = plan(a, b, renames=[], fills=["t.code=md5(id::text)"])
    assert filled.unplanned == []
    assert "UPDATE t SET code = md5(id::text)" in filled.phase(PhaseName.backfill).statements()[
        0].text
    trigger = next(s.text for s in filled.phase(PhaseName.expand).statements()
                   if s.text.startswith("CREATE FUNCTION"))
    assert "NEW.code := md5(CAST(new.id AS text))" in trigger


@pytest.mark.parametrize(("version", "in_one_step"), [(15, True), (10, False)])
def test_a_column_default_rewrites_before_postgresql_11(version: int, in_one_step: bool) -> None:
    p = plan("CREATE TABLE t (id int PRIMARY KEY);",
             "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);", renames=[],
             pg_version=version)
    expand = sql_of(p, PhaseName.expand)
    assert ("ALTER TABLE t ADD COLUMN n integer NOT NULL DEFAULT 0" in expand) is in_one_step
    assert bool(p.phase(PhaseName.backfill).steps) is not in_one_step


def test_a_volatile_default_is_filled_in_batches() -> None:
    p = plan("CREATE TABLE t (id int PRIMARY KEY);",
             "CREATE TABLE t (id int PRIMARY KEY, token uuid NOT NULL DEFAULT gen_random_uuid());",
             renames=[])
    assert sql_of(p, PhaseName.expand)[:2] == [
        "ALTER TABLE t ADD COLUMN token uuid",
        "ALTER TABLE t ALTER COLUMN token SET DEFAULT gen_random_uuid()"]
    assert "SET token = gen_random_uuid()" in sql_of(p, PhaseName.backfill)[0]


def test_a_constraint_redefined_under_its_name_is_built_aside_then_renamed() -> None:
    a = "CREATE TABLE t (id int PRIMARY KEY, n int, CONSTRAINT t_n CHECK (n > 0));"
    b = "CREATE TABLE t (id int PRIMARY KEY, n int, CONSTRAINT t_n CHECK (n >= 0));"
    p = plan(a, b, renames=[])
    assert sql_of(p, PhaseName.expand) == [
        "ALTER TABLE t ADD CONSTRAINT t_n_new CHECK (n >= 0) NOT VALID"]
    assert sql_of(p, PhaseName.contract) == [
        "ALTER TABLE t DROP CONSTRAINT IF EXISTS t_n",
        "ALTER TABLE t RENAME CONSTRAINT t_n_new TO t_n"]


def test_mysql_plans_use_online_ddl_and_report_the_copies() -> None:
    a = "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL, s VARCHAR(20));"
    b = ("CREATE TABLE t (id INT PRIMARY KEY, n BIGINT NOT NULL, s VARCHAR(40), "
         "flag TINYINT NOT NULL DEFAULT 0, KEY t_s (s));")
    p = plan(a, b, dialect="mysql", renames=[])
    assert sql_of(p, PhaseName.expand) == [
        "ALTER TABLE t ADD COLUMN flag TINYINT NOT NULL DEFAULT 0, ALGORITHM=INSTANT",
        "ALTER TABLE t MODIFY s VARCHAR(40), ALGORITHM=INPLACE, LOCK=NONE",
        "CREATE INDEX t_s ON t (s) ALGORITHM=INPLACE LOCK=NONE",
    ]
    (copy,) = p.unplanned
    assert "ALGORITHM=COPY" in copy and "pt-online-schema-change" in copy and "BIGINT" in copy


def test_mysql_varchar_across_the_length_prefix_is_a_copy() -> None:
    # utf8mb4: VARCHAR(63) is 252 bytes (1-byte length), VARCHAR(64) is 256 (2 bytes)
    p = plan("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(63));",
             "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(64));", dialect="mysql", renames=[])
    assert len(p.unplanned) == 1 and "copying" in p.unplanned[0]


def test_the_plan_as_json() -> None:
    data = json.loads(json.dumps(plan_dict(plan())))
    assert [ph["phase"] for ph in data["phases"]] == ["expand", "backfill", "switch",
                                                       "validate", "contract"]
    assert data["operations"][0]["kind"] == "RenameColumn"
    step = data["phases"][0]["steps"][0]
    assert set(step) == {"title", "operation", "sql", "rollback"}
    assert data["phases"][2]["application"]


_EVERY_PAIR = """
import hashlib, json, sys
from pathlib import Path
from ruamel.yaml import YAML
from dbarch.migrate.output import plan_dict
from dbarch.migrate.plan import plan_migration
from dbarch.migrate.plan_model import PlanOptions
from dbarch.parse import parse_ddl
pairs = YAML(typ="safe").load(Path(sys.argv[1]).read_text())
pairs.append({"name": "two_type_changes",
              "from": "CREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL, s varchar(20),"
                      " u int); CREATE INDEX t_n ON t (n);",
              "to": "CREATE TABLE t (id bigint PRIMARY KEY, n bigint NOT NULL, s varchar(40),"
                    " u bigint); CREATE INDEX t_n ON t (n);"})
digest = hashlib.sha256()
for pair in pairs:
    for dialect in ("postgresql", "mysql"):
        plan = plan_migration(parse_ddl(pair["from"], dialect).schema,
                              parse_ddl(pair["to"], dialect).schema,
                              renames=pair.get("renames"), fills=pair.get("fills"),
                              options=PlanOptions(dialect=dialect))
        digest.update(json.dumps(plan_dict(plan), sort_keys=True).encode())
print(digest.hexdigest())
"""


def test_plans_do_not_depend_on_the_hash_seed() -> None:
    """The same schema pair gives the same plan in every run: string hashing, and with it the
    order of sets, changes from one Python process to the next."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    pairs = Path(__file__).parent / "fixtures" / "migrate" / "pg_pairs.yaml"
    digests = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        done = subprocess.run([sys.executable, "-c", _EVERY_PAIR, str(pairs)], check=True,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        digests.add(done.stdout.strip())
    assert len(digests) == 1
