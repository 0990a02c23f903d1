"""The shared lint corpus: realistic migrations whose every statement names its findings.

tests/fixtures/lint_corpus/<dialect>/*.sql are migrations grouped by theme. Each statement is
preceded by `-- expect: L101 L601` (exactly the default-enabled rules that must fire on it) or
`-- expect: none`. Transaction control (BEGIN/COMMIT) and SET statements may go unannotated: they
must then get no finding. A file may start with `-- lint-config: pg-version=10 tool=flyway` to
lint it with other options; otherwise the defaults hold (PostgreSQL 15, tool plain).

tests/fixtures/lint_corpus/setup/<dialect>.sql holds the tables that exist before: the
migration history so far. The PostgreSQL files are independent migrations, each run on the
database the setup builds and each linted in a run of its own after the setup file, as
`dbarch lint migrations/` reads the history before the newest migration (L306 compares a type
change with the column's type from it). The MySQL files are one migration folder, run in name
order after setup/mysql.sql and linted in one run after it: the MySQL rules compare a MODIFY
with the column's definition from an earlier migration (04_create_tickets.sql, then
05_alter_tickets.sql).

Three kinds of test read the corpus:

- the annotations are well formed, and there are at least 150 annotated statements;
- dbarch's findings match the annotations statement by statement; a failure lists every
  mismatch as `file:line expected {...} got {...}`;
- the annotations are true on the real servers (`@pytest.mark.engine`), replaying the
  migrations on a scratch database. PostgreSQL: a statement fails exactly when it is annotated
  L103 (CONCURRENTLY in a transaction) or L302 (NOT NULL column without default on a table with
  rows); it rewrites a table that existed before (relfilenode changes) exactly when it is
  annotated with a rewrite rule (an index rebuilt under the statement's lock needs a rule
  too: L306 or REINDEX's L104); and it takes a lock that blocks traffic (SHARE or stronger) on
  such a table, while lock_timeout is off, exactly when it is annotated L601. MariaDB: every
  statement runs, and a MODIFY that `ALGORITHM=INPLACE` refuses (a table copy) is exactly one
  annotated L703, L704 or L705.

bench/lint_vs_squawk.py reads the corpus through `read_corpus_file` too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from dbarch.lint.config import LintConfig
from dbarch.lint.rule import all_rules
from dbarch.lint.run import lint_paths
from dbarch.lint.source import read_source
from dbarch.lint.statement import MYSQL, POSTGRESQL
from tests.conftest import MARIADB_URL, POSTGRESQL_URL

CORPUS = Path(__file__).parent / "fixtures" / "lint_corpus"
DIALECT_DIRS = {POSTGRESQL: CORPUS / "postgresql", MYSQL: CORPUS / "mysql"}

EXPECT = re.compile(r"^[ \t]*--[ \t]*expect:(?P<codes>[^\n]*)$", re.MULTILINE)
LINT_CONFIG = re.compile(r"^[ \t]*--[ \t]*lint-config:(?P<options>[^\n]*)$", re.MULTILINE)
CODE = re.compile(r"^L\d{3}$")

# Statements that may stand without an annotation (they must then draw no finding).
UNANNOTATED_KINDS = {
    POSTGRESQL: {"TransactionStmt", "VariableSetStmt"},
    MYSQL: {"Transaction", "Commit", "Rollback", "Set"},
}
MINIMUM_STATEMENTS = 150

# PostgreSQL facts the engine replay checks the annotations against.
FAILS_ON_SERVER = {
    "L103": "cannot run inside a transaction block",
    "L302": "contains null values",
}
REWRITE_RULES = frozenset({"L105", "L106", "L303", "L304", "L305", "L306", "L502"})
INDEX_REBUILD_RULES = REWRITE_RULES | {"L104"}  # REINDEX rebuilds indexes, not the table
# Lock modes that block the application's reads or writes (conflict with ROW EXCLUSIVE).
BLOCKING_LOCKS = frozenset(
    {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
)
# The session zone the PostgreSQL replay starts in: a migration cannot assume UTC.
REPLAY_TIMEZONE = "America/New_York"
# MariaDB: rules that claim a MODIFY copies the table.
COPY_RULES = frozenset({"L703", "L704", "L705"})


@dataclass(frozen=True)
class CorpusStatement:
    """One statement of a corpus file with the codes its annotation expects."""

    path: Path
    line: int
    end_line: int
    kind: str
    text: str
    expected: frozenset[str]
    annotated: bool
    suppressed: frozenset[str] = frozenset()  # codes a dbarch-ignore with a reason silences

    @property
    def claimed(self) -> frozenset[str]:
        """What the statement does, per its notes: findings expected or knowingly suppressed."""
        return self.expected | self.suppressed

    @property
    def where(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}:{self.line}"


@dataclass
class CorpusFile:
    """A corpus migration: its lint options, its statements, and what is wrong with its notes."""

    path: Path
    dialect: str
    text: str
    options: dict[str, object] = field(default_factory=dict)
    statements: list[CorpusStatement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def config(self, **overrides: object) -> LintConfig:
        """The lint configuration the annotations were written for."""
        return LintConfig.from_mapping({"dialect": self.dialect, **self.options, **overrides})

    @property
    def pg_version(self) -> int:
        return int(self.options.get("pg-version", 15))  # type: ignore[call-overload]

    @property
    def tool(self) -> str:
        return str(self.options.get("tool", "plain"))


def corpus_paths(dialect: str) -> list[Path]:
    """The corpus files of one dialect, in name order."""
    return sorted(DIALECT_DIRS[dialect].glob("*.sql"))


def read_corpus_file(path: Path, dialect: str) -> CorpusFile:
    """Parse a corpus file and attach each `-- expect:` annotation to the statement below it."""
    text = path.read_text(encoding="utf-8")
    corpus = CorpusFile(path=path, dialect=dialect, text=text)
    for match in LINT_CONFIG.finditer(text):
        for item in match.group("options").split():
            key, _, value = item.partition("=")
            corpus.options[key] = int(value) if value.isdigit() else value
    source = read_source(str(path), text, dialect)
    corpus.problems.extend(f"{path.name}:{p.line}: {p.message}" for p in source.problems)
    notes = [(text.count("\n", 0, m.start()) + 1, m.group("codes").split())
             for m in EXPECT.finditer(text)]
    pending: dict[int, tuple[int, list[str]]] = {}
    queue = list(notes)
    for stmt in source.statements:
        mine = []
        while queue and queue[0][0] < stmt.line:
            mine.append(queue.pop(0))
        for extra_line, _ in mine[:-1]:
            corpus.problems.append(f"{path.name}:{extra_line}: annotation has no statement of "
                                   f"its own (the next one is at line {stmt.line})")
        if mine:
            pending[stmt.index] = mine[-1]
        elif stmt.kind not in UNANNOTATED_KINDS[dialect]:
            corpus.problems.append(f"{path.name}:{stmt.line}: {stmt.kind} has no "
                                   "`-- expect:` annotation")
        note_line, words = pending.get(stmt.index, (0, ["none"]))
        codes = _codes(words)
        if codes is None:
            corpus.problems.append(f"{path.name}:{note_line}: bad annotation "
                                   f"{' '.join(words)!r}: write codes (L101) or 'none'")
            codes = frozenset()
        corpus.statements.append(CorpusStatement(
            path=path, line=stmt.line, end_line=stmt.end_line or stmt.line, kind=stmt.kind,
            text=stmt.text, expected=codes, annotated=stmt.index in pending,
            suppressed=frozenset(k.upper() for k in stmt.ignores if CODE.match(k.upper())),
        ))
    for note_line, _ in queue:
        corpus.problems.append(f"{path.name}:{note_line}: annotation after the last statement")
    return corpus


def _codes(words: list[str]) -> frozenset[str] | None:
    if words == ["none"]:
        return frozenset()
    if not words or not all(CODE.match(word) for word in words):
        return None
    return frozenset(words)


def corpus_files(dialect: str | None = None) -> list[CorpusFile]:
    """Every corpus file, read, for one dialect or both."""
    dialects = [dialect] if dialect else [POSTGRESQL, MYSQL]
    return [read_corpus_file(path, d) for d in dialects for path in corpus_paths(d)]


# Dialects whose corpus is one migration history: linted in one run, replayed in order.
HISTORIES = frozenset({MYSQL})


def setup_path(dialect: str) -> Path:
    """The schema every migration of a dialect's corpus starts from."""
    return CORPUS / "setup" / f"{dialect}.sql"


def lint_corpus_file(corpus: CorpusFile) -> tuple[dict[int, set[str]], list[str]]:
    """The codes dbarch reports (unsuppressed), by statement line, and the problems it met.

    The setup file is linted first in the same run, as the earlier migrations of a folder
    are: rules that compare a change with a column's definition (L306, L703–L705) learn the
    existing tables from it, as `dbarch lint migrations/` learns them from the history.
    Findings on the setup file itself are not the corpus's business.
    """
    if corpus.dialect in HISTORIES:
        found, problems = _lint_history(corpus.dialect)
    else:
        found, problems = _lint_run(corpus.dialect, (str(corpus.path),),
                                    tuple(sorted(corpus.options.items())))
    name = str(corpus.path)
    return ({line: set(codes) for (path, line), codes in found.items() if path == name},
            [f"{line}: {message}" for path, line, message in problems if path == name])


def _lint_history(dialect: str) -> tuple[dict[tuple[str, int], frozenset[str]],
                                          tuple[tuple[str, int | None, str], ...]]:
    """One lint run over a dialect's whole corpus folder, as `dbarch lint DIR` does."""
    return _lint_run(dialect, (str(DIALECT_DIRS[dialect]),), ())


@cache
def _lint_run(dialect: str, paths: tuple[str, ...], options: tuple[tuple[str, object], ...],
              ) -> tuple[dict[tuple[str, int], frozenset[str]],
                         tuple[tuple[str, int | None, str], ...]]:
    config = LintConfig.from_mapping({"dialect": dialect, **dict(options)})
    report = lint_paths([str(setup_path(dialect)), *paths], config)
    found: dict[tuple[str, int], set[str]] = {}
    for finding in report.active:
        found.setdefault((str(Path(finding.file)), finding.line), set()).add(finding.code)
    problems = tuple((str(Path(p.file)), p.line, p.message) for p in report.problems)
    return {key: frozenset(codes) for key, codes in found.items()}, problems


def mismatches(corpus: CorpusFile, found: dict[int, set[str]]) -> list[str]:
    """Every statement whose findings differ from its annotation, as `file:line` lines."""
    out = []
    lines = {stmt.line for stmt in corpus.statements}
    for stmt in corpus.statements:
        got = found.get(stmt.line, set())
        if got != stmt.expected:
            missing = sorted(stmt.expected - got)
            extra = sorted(got - stmt.expected)
            out.append(f"{stmt.where}: expected {_show(stmt.expected)} got {_show(got)}"
                       f"{'  missing ' + ' '.join(missing) if missing else ''}"
                       f"{'  unexpected ' + ' '.join(extra) if extra else ''}")
    for line in sorted(set(found) - lines):
        out.append(f"{corpus.path.parent.name}/{corpus.path.name}:{line}: findings "
                   f"{_show(found[line])} on a line where no statement starts")
    return out


def _show(codes: set[str] | frozenset[str]) -> str:
    return "{" + " ".join(sorted(codes)) + "}" if codes else "none"


def _params(dialect: str | None = None) -> list[pytest.param]:
    return [pytest.param(c, id=f"{c.dialect}/{c.path.name}") for c in corpus_files(dialect)]


# --- the annotations ----------------------------------------------------------------------------

def test_corpus_is_large_enough() -> None:
    files = corpus_files()
    annotated = [s for c in files for s in c.statements if s.annotated]
    by_dialect = {d: sum(1 for c in files if c.dialect == d for s in c.statements if s.annotated)
                  for d in DIALECT_DIRS}
    assert len(annotated) >= MINIMUM_STATEMENTS, by_dialect
    assert by_dialect[POSTGRESQL] >= 120 and by_dialect[MYSQL] >= 40, by_dialect
    dangerous = sum(1 for s in annotated if s.expected)
    assert 0.3 < dangerous / len(annotated) < 0.8, "the corpus needs dangerous and safe cases"


@pytest.mark.parametrize("corpus", _params())
def test_corpus_annotations_are_well_formed(corpus: CorpusFile) -> None:
    assert not corpus.problems, "\n".join(corpus.problems)
    registry = all_rules()
    wrong = []
    for stmt in corpus.statements:
        for code in sorted(stmt.expected):
            rule = registry.rules.get(code)
            # Rules still being written are not registered yet; those that are must fit.
            if rule is not None and not rule.default_enabled:
                wrong.append(f"{stmt.where}: {code} is off by default; the corpus uses defaults")
            if rule is not None and corpus.dialect not in rule.dialects:
                wrong.append(f"{stmt.where}: {code} does not apply to {corpus.dialect}")
    assert not wrong, "\n".join(wrong)
    LintConfig.from_mapping({"dialect": corpus.dialect, **corpus.options})


def test_corpus_reader_reports_bad_annotations(tmp_path: Path) -> None:
    path = tmp_path / "broken.sql"
    path.write_text(
        "-- expect: L101\n-- expect: none\nCREATE INDEX a ON b (c);\n"
        "CREATE INDEX d ON e (f);\n"
        "-- expect: L1O1\nDROP INDEX a;\n"
        "BEGIN;\n"
        "-- expect: none\n"
    )
    corpus = read_corpus_file(path, POSTGRESQL)
    problems = "\n".join(corpus.problems)
    assert "broken.sql:1: annotation has no statement of its own" in problems
    assert "broken.sql:4: IndexStmt has no `-- expect:` annotation" in problems
    assert "broken.sql:5: bad annotation 'L1O1'" in problems
    assert "broken.sql:8: annotation after the last statement" in problems
    assert [s.expected for s in corpus.statements] == [frozenset()] * 4
    assert [s.annotated for s in corpus.statements] == [True, False, True, False]


def test_mismatches_name_file_line_expected_and_got(tmp_path: Path) -> None:
    path = tmp_path / "m.sql"
    path.write_text("-- expect: L101\nSELECT 1;\n-- expect: none\nSELECT 2;\n")
    corpus = read_corpus_file(path, POSTGRESQL)
    out = mismatches(corpus, {4: {"L601"}, 9: {"L102"}})
    assert out == [
        f"{tmp_path.name}/m.sql:2: expected {{L101}} got none  missing L101",
        f"{tmp_path.name}/m.sql:4: expected none got {{L601}}  unexpected L601",
        f"{tmp_path.name}/m.sql:9: findings {{L102}} on a line where no statement starts",
    ]


# --- dbarch against the annotations -------------------------------------------------------------

@pytest.mark.parametrize("corpus", _params())
def test_corpus_findings_match_annotations(corpus: CorpusFile) -> None:
    found, problems = lint_corpus_file(corpus)
    assert not problems, problems
    out = mismatches(corpus, found)
    assert not out, f"{len(out)} mismatches in {corpus.path.name}:\n" + "\n".join(out)


# --- the annotations against PostgreSQL -------------------------------------------------------

def _engine_params() -> list[pytest.param]:
    # The server here is PostgreSQL 15: a file written for another version is checked by lint.
    return [p for p in _params(POSTGRESQL) if p.values[0].pg_version == 15]


@dataclass
class Observed:
    """What PostgreSQL did with one statement of a replayed migration."""

    error: str | None = None
    bare: bool = False  # ran outside any transaction block: its locks could not be sampled
    lock_timeout: bool = False  # lock_timeout was on when it started
    new_blocking: set[str] = field(default_factory=set)  # existing tables newly locked
    held_blocking: set[str] = field(default_factory=set)  # existing tables locked after it
    rewritten: set[str] = field(default_factory=set)
    rebuilt_indexes: set[str] = field(default_factory=set)  # of existing tables


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A scratch PostgreSQL database (its URL), dropped afterwards."""
    import psycopg

    name = f"dbarch_corpus_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRESQL_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(POSTGRESQL_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def replay_postgresql(corpus: CorpusFile, url: str) -> list[tuple[CorpusStatement, Observed]]:
    """Run the migration on a database built from the setup file, observing each statement.

    Statements run as a plain runner sends them (autocommit), inside the file's own BEGIN/COMMIT,
    or inside one transaction for a tool that wraps the file. Each statement outside a file
    transaction runs in a transaction of its own so its locks can be read from pg_locks before
    they are released; one PostgreSQL refuses to run in a transaction block runs bare.
    """
    import psycopg

    from dbarch.lint.context import migration_tools

    setup = setup_path(POSTGRESQL).read_text()
    observed: list[tuple[CorpusStatement, Observed]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(setup)
        conn.execute(f"SET TimeZone = '{REPLAY_TIMEZONE}'")
        tables = dict(conn.execute(
            "SELECT c.oid::int, c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        ).fetchall())
        wrapped = bool(migration_tools()[corpus.tool]["wraps"])
        if wrapped:
            conn.execute("BEGIN")
        for stmt in corpus.statements:
            obs = Observed()
            obs.lock_timeout = conn.execute("SHOW lock_timeout").fetchone()[0] != "0"
            files = _relfilenodes(conn, tables)
            index_files = _index_files(conn, tables)
            if stmt.kind == "TransactionStmt" and wrapped:
                pass  # the tool's transaction stands in for the file's own
            elif stmt.kind == "TransactionStmt":
                conn.execute(stmt.text)
            else:
                _observe(conn, stmt, obs, tables)
            after = _relfilenodes(conn, tables)
            obs.rewritten = {tables[oid] for oid, node in files.items()
                             if oid in after and after[oid] != node}
            # ALTER COLUMN TYPE may rebuild an index whose table keeps its rows
            index_after = _index_files(conn, tables)
            obs.rebuilt_indexes = {name for name, node in index_files.items()
                                   if name in index_after and index_after[name] != node}
            observed.append((stmt, obs))
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("COMMIT")
    return observed


def _observe(conn, stmt: CorpusStatement, obs: Observed, tables: dict[int, str]) -> None:
    import psycopg

    in_file_transaction = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    if in_file_transaction:
        conn.execute("SAVEPOINT corpus_statement")
    else:
        conn.execute("BEGIN")
    before = _locks(conn, tables)
    try:
        conn.execute(stmt.text)
    except psycopg.Error as exc:
        message = str(exc).splitlines()[0]
        if in_file_transaction:
            conn.execute("ROLLBACK TO SAVEPOINT corpus_statement")
            obs.error = message
            return
        conn.execute("ROLLBACK")
        if FAILS_ON_SERVER["L103"] not in message:
            obs.error = message
            return
        obs.bare = True  # VACUUM, CONCURRENTLY: PostgreSQL runs these only outside a block
        try:
            conn.execute(stmt.text)
        except psycopg.Error as bare_exc:
            obs.error = str(bare_exc).splitlines()[0]
        return
    after = _locks(conn, tables)
    obs.held_blocking = {table for table, mode in after if mode in BLOCKING_LOCKS}
    obs.new_blocking = {table for table, mode in after - before if mode in BLOCKING_LOCKS}
    if in_file_transaction:
        conn.execute("RELEASE SAVEPOINT corpus_statement")
    else:
        conn.execute("COMMIT")


def _locks(conn, tables: dict[int, str]) -> set[tuple[str, str]]:
    """Relation locks this session holds on tables that existed before the migration."""
    rows = conn.execute(
        "SELECT relation::int, mode FROM pg_locks WHERE pid = pg_backend_pid() "
        "AND locktype = 'relation' AND granted"
    ).fetchall()
    return {(tables[oid], mode) for oid, mode in rows if oid in tables}


def _index_files(conn, tables: dict[int, str]) -> dict[str, int]:
    """The indexes of tables that existed before, by name: a rebuild may give a new OID."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, c.relfilenode::int FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ANY(%s)", [list(tables)]
    ).fetchall()
    return dict(rows)


def _relfilenodes(conn, relations: dict[int, str]) -> dict[int, int]:
    rows = conn.execute(
        "SELECT oid::int, relfilenode::int FROM pg_class WHERE oid = ANY(%s)", [list(relations)]
    ).fetchall()
    return dict(rows)


def postgresql_disagreements(
    observed: list[tuple[CorpusStatement, Observed]],
) -> list[str]:
    """Every annotation the server contradicts."""
    out = []
    for stmt, obs in observed:
        must_fail = {code: text for code, text in FAILS_ON_SERVER.items() if code in stmt.claimed}
        if must_fail and obs.error is None:
            out.append(f"{stmt.where}: annotated {' '.join(must_fail)} but PostgreSQL ran it")
        elif must_fail and not any(text in (obs.error or "") for text in must_fail.values()):
            out.append(f"{stmt.where}: failed for another reason: {obs.error}")
        elif not must_fail and obs.error is not None:
            out.append(f"{stmt.where}: PostgreSQL refused it: {obs.error}")
        if obs.error is not None:
            continue
        rewrites = stmt.claimed & REWRITE_RULES
        if obs.rewritten and not rewrites:
            out.append(f"{stmt.where}: rewrote {', '.join(sorted(obs.rewritten))} but no "
                       "rewrite rule is annotated")
        rebuilt_only = rewrites == {"L306"} and obs.rebuilt_indexes
        if obs.rebuilt_indexes and not obs.bare and not stmt.claimed & INDEX_REBUILD_RULES:
            out.append(f"{stmt.where}: rebuilt {', '.join(sorted(obs.rebuilt_indexes))} under "
                       "its lock but no rule that says so is annotated")
        if rewrites and not obs.rewritten and not rebuilt_only:
            out.append(f"{stmt.where}: annotated {' '.join(sorted(rewrites))} but no table "
                       "was rewritten")
        if obs.lock_timeout and "L601" in stmt.claimed:
            out.append(f"{stmt.where}: annotated L601 but lock_timeout was set")
        if obs.bare or obs.lock_timeout:
            continue
        if obs.new_blocking and "L601" not in stmt.claimed:
            out.append(f"{stmt.where}: locked {', '.join(sorted(obs.new_blocking))} against "
                       "traffic with no lock_timeout, but L601 is not annotated")
        if "L601" in stmt.claimed and not obs.held_blocking:
            out.append(f"{stmt.where}: annotated L601 but it holds no blocking lock on a table "
                       "that existed before")
    return out


@pytest.mark.engine
@pytest.mark.parametrize("corpus", _engine_params())
def test_corpus_annotations_hold_on_postgresql(corpus: CorpusFile, pg_database: str) -> None:
    observed = replay_postgresql(corpus, pg_database)
    assert len(observed) == len(corpus.statements)
    out = postgresql_disagreements(observed)
    assert not out, "\n".join(out)


def test_replay_checks_catch_false_annotations() -> None:
    """The engine comparison flags each kind of annotation the server contradicts."""
    path = CORPUS / "postgresql" / "x.sql"

    def stmt(line: int, *codes: str) -> CorpusStatement:
        return CorpusStatement(path, line, line, "AlterTableStmt", "", frozenset(codes), True)

    observed = [
        (stmt(1, "L302", "L601"), Observed(new_blocking={"users"}, held_blocking={"users"})),
        (stmt(2), Observed(error="column \"x\" contains null values")),
        (stmt(3, "L303"), Observed()),  # claimed rewrite, none seen
        (stmt(4), Observed(rewritten={"users"}, new_blocking={"users"},
                           held_blocking={"users"})),
        (stmt(5, "L601"), Observed(lock_timeout=True, held_blocking={"users"})),
        (stmt(6, "L601"), Observed()),
        (stmt(7, "L101", "L601"), Observed(new_blocking={"orders"}, held_blocking={"orders"})),
        (stmt(8), Observed(rebuilt_indexes={"orders_pkey"})),  # an index rebuilt, unannotated
        (stmt(9, "L306"), Observed(rebuilt_indexes={"orders_placed_at_idx"})),
        (stmt(10), Observed(bare=True, rebuilt_indexes={"orders_pkey"})),  # REINDEX CONCURRENTLY
    ]
    out = postgresql_disagreements(observed)
    assert [line.split(":")[1] for line in out] == ["1", "2", "3", "4", "4", "5", "6", "8"]


# --- the annotations against MariaDB -------------------------------------------------------------

@pytest.fixture
def mariadb_database() -> Iterator[str]:
    """A scratch MariaDB database (its name), dropped afterwards, with the corpus's schemas."""
    import pymysql

    name = f"dbarch_corpus_{uuid.uuid4().hex[:12]}"
    conn = _mariadb_connect(None)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` DEFAULT CHARACTER SET utf8mb4")
            # the schema a corpus migration drops (DROP SCHEMA names it literally)
            cur.execute("CREATE DATABASE IF NOT EXISTS corpus_legacy_reports")
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute("DROP DATABASE IF EXISTS corpus_legacy_reports")
        conn.close()
    del pymysql


def _mariadb_connect(database: str | None):
    import pymysql

    rest = MARIADB_URL.split("://", 1)[1]
    auth, _, hostpart = rest.rpartition("@")
    host, _, port = hostpart.split("/", 1)[0].partition(":")
    return pymysql.connect(host=host, port=int(port or 3306), user=auth or "root",
                           database=database, autocommit=True, client_flag=0)


def replay_mysql(files: list[CorpusFile], database: str) -> list[str]:
    """Run the migrations in order on MariaDB; each MODIFY is first offered ALGORITHM=INPLACE.

    A MODIFY without an ALGORITHM clause runs with `, ALGORITHM=INPLACE` appended: the server
    either does it in place (the same change) or refuses with ERROR 1846, meaning the change
    needs a table copy; then it runs as written.
    """
    import pymysql
    from sqlglot import exp

    conn = _mariadb_connect(database)
    out: list[str] = []
    try:
        with conn.cursor() as cur:
            for piece in setup_path(MYSQL).read_text().split(";\n"):
                if piece.strip():
                    cur.execute(piece)
            for corpus in files:
                parsed = {s.line: s.node
                          for s in read_source(str(corpus.path), corpus.text, MYSQL).statements}
                for stmt in corpus.statements:
                    node = parsed[stmt.line]
                    modifies = isinstance(node, exp.Alter) and any(
                        isinstance(a, exp.ModifyColumn) for a in node.args.get("actions") or [])
                    if modifies and "ALGORITHM" not in stmt.text.upper():
                        try:
                            cur.execute(f"{stmt.text.rstrip(';')}, ALGORITHM=INPLACE")
                        except pymysql.err.MySQLError as exc:
                            if "ALGORITHM=INPLACE is not supported" not in str(exc):
                                out.append(f"{stmt.where}: MariaDB refused it: {exc}")
                                continue
                        else:
                            _check_copy(stmt, False, out)
                            continue
                        _check_copy(stmt, True, out)
                    try:
                        cur.execute(stmt.text)
                    except pymysql.err.MySQLError as exc:
                        out.append(f"{stmt.where}: MariaDB refused it: {exc}")
    finally:
        conn.close()
    return out


def _check_copy(stmt: CorpusStatement, copies: bool, out: list[str]) -> None:
    claimed = stmt.claimed & COPY_RULES
    if copies and not claimed:
        out.append(f"{stmt.where}: MariaDB copies the table for it but no copy rule is annotated")
    if claimed and not copies:
        out.append(f"{stmt.where}: annotated {' '.join(sorted(claimed))} but MariaDB changes "
                   "it in place")


@pytest.mark.engine
def test_corpus_annotations_hold_on_mariadb(mariadb_database: str) -> None:
    out = replay_mysql(corpus_files(MYSQL), mariadb_database)
    assert not out, "\n".join(out)
