"""The MySQL/MariaDB online DDL facts behind L701–L705, proved on the real MariaDB 10.11.

Each claim of dbarch/lint/data/mysql_online_ddl.yaml that a rule depends on is run on the
server: the ALTER is tried with the algorithm the data file names (it must succeed) and, where
the data says a better one does not exist, with that one (it must be refused with ERROR 1845
or 1846). Then the rules are run over the same migrations, as a folder of two files (the
CREATE TABLE, then the ALTER) the way a migration history is linted, and each finding must
match what the server did.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pymysql
import pytest

from dbarch.lint.config import LintConfig
from dbarch.lint.online_ddl import facts
from dbarch.lint.run import lint_paths
from tests.conftest import MARIADB_URL

pytestmark = pytest.mark.engine

REFUSED = {1845, 1846}  # "ALGORITHM=... is not supported [for this operation]"
ORDER = ["COPY", "INPLACE", "NOCOPY", "INSTANT"]  # MariaDB's hierarchy, weakest first
ONLINE_RULES = {"L701", "L702", "L703", "L704", "L705"}


@pytest.fixture
def mariadb() -> Iterator[pymysql.connections.Connection]:
    url = urlparse(MARIADB_URL)
    conn = pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username,
                           password=url.password or "", database=url.path.lstrip("/"),
                           autocommit=True)
    yield conn
    conn.close()


@pytest.fixture
def table(mariadb: pymysql.connections.Connection) -> Iterator[str]:
    """A unique table name (and its parent for foreign keys), dropped afterwards."""
    name = f"ddl_{uuid.uuid4().hex[:10]}"
    yield name
    with mariadb.cursor() as cur:
        cur.execute("SET foreign_key_checks = 1")
        cur.execute(f"DROP TABLE IF EXISTS {name}, {name}_renamed, {name}_parent")


def _run(conn: pymysql.connections.Connection, sql: str) -> int | None:
    """Execute `sql`; the MySQL error number when the server refuses it, else None."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql)
        except pymysql.MySQLError as exc:
            return int(exc.args[0])
    return None


def _fresh(conn: pymysql.connections.Connection, name: str, create: str) -> None:
    _run(conn, "SET foreign_key_checks = 1")
    assert _run(conn, f"DROP TABLE IF EXISTS {name}, {name}_renamed, {name}_parent") is None
    assert _run(conn, f"CREATE TABLE {name}_parent (id INT PRIMARY KEY)") is None
    assert _run(conn, create.format(t=name)) is None
    assert _run(conn, f"INSERT INTO {name}_parent VALUES (1)") is None


# --- the boundary, enum and type-change claims the brief names --------------------------------
VARCHAR = "CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(63) CHARACTER SET utf8mb4)"


def test_varchar_crossing_255_bytes_is_refused_in_place(mariadb, table: str) -> None:
    _fresh(mariadb, table, VARCHAR)
    _run(mariadb, f"INSERT INTO {table} VALUES (1, 'x')")
    error = _run(mariadb, f"ALTER TABLE {table} MODIFY name VARCHAR(64) CHARACTER SET utf8mb4, "
                          "ALGORITHM=INPLACE, LOCK=NONE")
    assert error == 1846
    # and it does go through as a copy: the claim is "copy", not "impossible"
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY name VARCHAR(64) CHARACTER SET utf8mb4, "
                         "ALGORITHM=COPY") is None


def test_varchar_within_the_boundary_runs_in_place(mariadb, table: str) -> None:
    _fresh(mariadb, table, "CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(10) "
                           "CHARACTER SET utf8mb4, bio VARCHAR(300) CHARACTER SET utf8mb4)")
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY name VARCHAR(63) CHARACTER SET utf8mb4, "
                         "ALGORITHM=INPLACE, LOCK=NONE") is None
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY name VARCHAR(63) CHARACTER SET utf8mb4, "
                         "ALGORITHM=INSTANT") is None
    # past 255 bytes on both sides the prefix is 2 bytes before and after
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY bio VARCHAR(400) CHARACTER SET utf8mb4, "
                         "ALGORITHM=INSTANT") is None


def test_boundary_is_in_bytes_latin1_crosses_at_256_chars(mariadb, table: str) -> None:
    _fresh(mariadb, table, "CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR(200) "
                           "CHARACTER SET latin1)")
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY v VARCHAR(255) CHARACTER SET latin1, "
                         "ALGORITHM=INPLACE, LOCK=NONE") is None
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY v VARCHAR(256) CHARACTER SET latin1, "
                         "ALGORITHM=INPLACE, LOCK=NONE") == 1846


ENUM = "CREATE TABLE {t} (id INT PRIMARY KEY, status ENUM('pending','paid','shipped'))"


def test_enum_append_is_instant(mariadb, table: str) -> None:
    _fresh(mariadb, table, ENUM)
    _run(mariadb, f"INSERT INTO {table} VALUES (1, 'paid')")
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY status "
                         "ENUM('pending','paid','shipped','refunded'), ALGORITHM=INSTANT") is None
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY status "
                         "ENUM('pending','paid','shipped','refunded','lost'), "
                         "ALGORITHM=INPLACE, LOCK=NONE") is None


@pytest.mark.parametrize("members", [
    "'paid','pending','shipped'",            # reordered
    "'pending','refunded','paid','shipped'",  # inserted before the end
    "'pending','shipped'",                   # removed
])
def test_enum_reorder_insert_or_remove_is_refused(mariadb, table: str, members: str) -> None:
    _fresh(mariadb, table, ENUM)
    for algorithm in ("INSTANT", "INPLACE"):
        error = _run(mariadb, f"ALTER TABLE {table} MODIFY status ENUM({members}), "
                              f"ALGORITHM={algorithm}")
        assert error == 1846, (algorithm, members)


def test_int_to_bigint_is_refused_in_place(mariadb, table: str) -> None:
    _fresh(mariadb, table, "CREATE TABLE {t} (id INT PRIMARY KEY, qty INT NOT NULL)")
    _run(mariadb, f"INSERT INTO {table} VALUES (1, 5)")
    assert _run(mariadb, f"ALTER TABLE {table} MODIFY qty BIGINT NOT NULL, "
                         "ALGORITHM=INPLACE, LOCK=NONE") == 1846


# --- every operation of the data file, on the server -----------------------------------------
BASE = ("CREATE TABLE {t} (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0, n INT NULL, "
        "m INT NULL DEFAULT 1, "
        "v VARCHAR(63) CHARACTER SET utf8mb4, w VARCHAR(300) CHARACTER SET utf8mb4, "
        "e ENUM('a','b','c'), s SET('p','q','r','s','t','u','v','w'), ch CHAR(10), k INT, "
        "txt TEXT, g POINT NOT NULL DEFAULT (POINT(0,0)), KEY k_idx (k), KEY n_idx (n), "
        "CONSTRAINT {t}_fk FOREIGN KEY (k) REFERENCES {t}_parent (id))")
NO_PK = "CREATE TABLE {t} (id INT NOT NULL, a INT, PRIMARY KEY (id))"

# operation key → (CREATE TABLE, the ALTER's operation, session SET before it)
PROBES: dict[str, tuple[str, str, str | None]] = {
    "add_column": (BASE, "ADD COLUMN z INT", None),
    "add_auto_increment_column": (NO_PK, "ADD COLUMN z INT NOT NULL AUTO_INCREMENT UNIQUE",
                                  None),
    "add_stored_generated_column": (BASE, "ADD COLUMN z INT AS (a + 1) STORED", None),
    "add_virtual_generated_column": (BASE, "ADD COLUMN z INT AS (a + 1) VIRTUAL", None),
    "drop_column": (BASE, "DROP COLUMN ch", None),
    "rename_column": (BASE, "RENAME COLUMN n TO n2", None),
    "reorder_column": (BASE, "MODIFY n INT NULL AFTER id", None),
    "set_default": (BASE, "ALTER COLUMN a SET DEFAULT 7", None),
    "make_not_null": (BASE, "MODIFY m INT NOT NULL DEFAULT 1", None),
    "make_nullable": (BASE, "MODIFY a INT NULL DEFAULT 0", None),
    "change_column_type": (BASE, "MODIFY a BIGINT NOT NULL DEFAULT 0", None),
    "change_column_charset": (BASE, "MODIFY v VARCHAR(63) CHARACTER SET latin1", None),
    "varchar_extend": (BASE, "MODIFY w VARCHAR(400) CHARACTER SET utf8mb4", None),
    "varchar_cross_255_bytes": (BASE, "MODIFY v VARCHAR(64) CHARACTER SET utf8mb4", None),
    "varchar_shrink": (BASE, "MODIFY v VARCHAR(60) CHARACTER SET utf8mb4", None),
    "enum_append": (BASE, "MODIFY e ENUM('a','b','c','d')", None),
    "enum_reorder": (BASE, "MODIFY e ENUM('c','a','b')", None),
    "enum_storage_grows": (BASE, "MODIFY s SET('p','q','r','s','t','u','v','w','x')", None),
    "add_index": (BASE, "ADD INDEX a_idx (a)", None),
    "add_fulltext_index": (BASE, "ADD FULLTEXT INDEX txt_ft (txt)", None),
    "add_spatial_index": (BASE, "ADD SPATIAL INDEX g_sp (g)", None),
    "drop_index": (BASE, "DROP INDEX n_idx", None),
    "rename_index": (BASE, "RENAME INDEX k_idx TO k_idx2", None),
    "add_primary_key": ("CREATE TABLE {t} (id INT NOT NULL, a INT)", "ADD PRIMARY KEY (id)",
                        None),
    "drop_primary_key": (NO_PK, "DROP PRIMARY KEY", None),
    "replace_primary_key": (NO_PK, "DROP PRIMARY KEY, ADD PRIMARY KEY (id, a)", None),
    "add_foreign_key": (NO_PK, "ADD CONSTRAINT {t}_fk2 FOREIGN KEY (a) REFERENCES {t}_parent (id)",
                        None),
    "add_foreign_key_unchecked": (NO_PK, "ADD CONSTRAINT {t}_fk2 FOREIGN KEY (a) "
                                         "REFERENCES {t}_parent (id)",
                                  "SET foreign_key_checks = 0"),
    "drop_foreign_key": (BASE, "DROP FOREIGN KEY {t}_fk", None),
    "add_check": (BASE, "ADD CONSTRAINT {t}_ck CHECK (a >= 0)", None),
    "add_column_with_check": (BASE, "ADD COLUMN z INT CHECK (z > 0)", None),
    "convert_charset": (BASE, "CONVERT TO CHARACTER SET latin1", None),
    "table_default_charset": (BASE, "DEFAULT CHARSET=latin1", None),
    "rebuild": (BASE, "FORCE", None),
    "row_format": (BASE, "ROW_FORMAT=COMPACT", None),
    "rename_table": (BASE, "RENAME TO {t}_renamed", None),
    "table_options": (BASE, "COMMENT='orders'", None),
}


def test_every_operation_has_a_probe() -> None:
    assert set(PROBES) == set(facts()["operations"])


def _works(conn: pymysql.connections.Connection, name: str, probe: tuple[str, str, str | None],
           algorithm: str, lock: str | None) -> int | None:
    create, operation, session = probe
    _fresh(conn, name, create)
    assert _run(conn, f"INSERT INTO {name} (id, a) VALUES (1, 1)") is None
    if session:
        assert _run(conn, session) is None
    clause = f", ALGORITHM={algorithm}" + (f", LOCK={lock}" if lock else "")
    error = _run(conn, f"ALTER TABLE {name} {operation.format(t=name)}{clause}")
    _run(conn, "SET foreign_key_checks = 1")
    return error


@pytest.mark.parametrize("key", sorted(PROBES))
def test_data_file_matches_mariadb(mariadb, table: str, key: str) -> None:
    """The algorithm and lock the data file names for MariaDB are the best the server allows."""
    info = facts()["operations"][key]
    probe = PROBES[key]
    algorithm = info["mariadb"]
    # fixes never put a LOCK clause next to INSTANT (MySQL refuses it; INSTANT never blocks)
    lock = None if algorithm == "INSTANT" else info["lock"]
    assert _works(mariadb, table, probe, algorithm, lock) is None, (key, algorithm)
    better = ORDER[ORDER.index(algorithm) + 1:]
    if algorithm == "INPLACE":
        better = ["INSTANT"]  # NOCOPY is MariaDB's name for some INPLACE work; fixes never use it
    for stronger in better:
        assert _works(mariadb, table, probe, stronger, None) in REFUSED, (key, stronger)
    if lock not in (None, "NONE"):
        assert _works(mariadb, table, probe, algorithm, "NONE") in REFUSED, (key, "LOCK=NONE")


# --- the rules agree with the server ----------------------------------------------------------
# (CREATE TABLE, ALTER written without ALGORITHM, the rule that must fire or None)
AGREEMENT = [
    (VARCHAR, "ALTER TABLE {t} MODIFY name VARCHAR(64) CHARACTER SET utf8mb4", "L703"),
    (VARCHAR, "ALTER TABLE {t} MODIFY name VARCHAR(40) CHARACTER SET utf8mb4", "L705"),
    (VARCHAR, "ALTER TABLE {t} MODIFY name VARCHAR(63) CHARACTER SET utf8mb4 NOT NULL", None),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(63)) DEFAULT CHARSET=latin1",
     "ALTER TABLE {t} MODIFY name VARCHAR(64)", None),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, name VARCHAR(63)) DEFAULT CHARSET=utf8mb4",
     "ALTER TABLE {t} MODIFY name VARCHAR(64)", "L703"),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, v VARCHAR(20) CHARACTER SET utf8mb4) "
     "DEFAULT CHARSET=latin1", "ALTER TABLE {t} MODIFY v VARCHAR(20)", "L705"),
    (ENUM, "ALTER TABLE {t} MODIFY status ENUM('pending','paid','shipped','refunded')", None),
    (ENUM, "ALTER TABLE {t} MODIFY status ENUM('paid','pending','shipped')", "L704"),
    (ENUM, "ALTER TABLE {t} MODIFY status ENUM('pending','shipped')", "L704"),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, qty INT)", "ALTER TABLE {t} MODIFY qty BIGINT",
     "L705"),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, qty INT(11))",
     "ALTER TABLE {t} MODIFY qty INT(5) NOT NULL", None),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, d DECIMAL(10,2))",
     "ALTER TABLE {t} MODIFY d DECIMAL(12,2)", "L705"),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, a INT)",
     "ALTER TABLE {t} ADD CONSTRAINT {t}_fk2 FOREIGN KEY (a) REFERENCES {t}_parent (id)", "L701"),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, a INT)",
     "ALTER TABLE {t} ADD COLUMN b INT AS (a * 2) STORED", "L701"),
    ("CREATE TABLE {t} (id INT PRIMARY KEY, a INT)", "ALTER TABLE {t} ADD INDEX a_idx (a)", None),
]


@pytest.mark.parametrize(("create", "alter", "rule"), AGREEMENT)
def test_rules_agree_with_the_server(mariadb, table: str, tmp_path: Path, create: str,
                                     alter: str, rule: str | None) -> None:
    """A finding from L701/L703–L705 iff MariaDB refuses the ALTER without a table copy."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__create.sql").write_text(create.format(t=table) + ";\n")
    (folder / "V2__alter.sql").write_text(alter.format(t=table) + ";\n")
    config = LintConfig.from_mapping({"dialect": "mysql"})
    report = lint_paths([str(folder)], config)
    assert not report.problems, report.problems
    codes = {f.code for f in report.findings
             if f.code in ONLINE_RULES and f.file.endswith("V2__alter.sql")}

    _fresh(mariadb, table, create)
    online = _run(mariadb, alter.format(t=table) + ", ALGORITHM=INPLACE, LOCK=NONE")
    if rule is None:
        assert online is None, f"the server needed a copy for {alter}"
        assert codes == set(), codes
    else:
        assert online in REFUSED, f"the server ran {alter} in place"
        assert codes == {rule}, codes
