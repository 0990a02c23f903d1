"""The workload the advisor tunes for, read from a SQL file, pg_stat_statements rows or a
PostgreSQL log (log_min_duration_statement).

Every reader parses each statement with pglast, keeps SELECT/INSERT/UPDATE/DELETE, groups
statements of one shape (pglast's fingerprint: they differ only in constants; and, as
PostgreSQL 15's pg_stat_statements does, in the length of their IN lists) into one Query
whose weight is how often the shape runs, and reports what it left out as located notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbarch.advisor.query import Query
from dbarch.advisor.sqlshape import (
    in_list_shape,
    max_parameter,
    relations,
    skip_reason,
    statement_kind,
    substitute_parameters,
)
from dbarch.errors import InputError, Problem
from dbarch.parse.located import Locator

# A shape seen a million times in a log needs no million source strings: the first few say
# where to look.
SOURCES_KEPT = 20
CATALOG_SCHEMAS = frozenset({"pg_catalog", "information_schema"})

_DIRECTIVE = re.compile(r"^\s*--\s*((?:(?:weight|name)\s*:\s*[^\s,;]+[\s,;]*)+)$", re.IGNORECASE)
_SETTING = re.compile(r"(weight|name)\s*:\s*([^\s,;]+)", re.IGNORECASE)


@dataclass
class Workload:
    """The query shapes of a workload and the statements left out, each with the reason."""

    queries: list[Query] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    source: str = ""

    @property
    def total_weight(self) -> float:
        """How many statements the queries stand for."""
        return sum(q.weight for q in self.queries)


@dataclass
class _Timing:
    total_ms: float = 0.0
    timed: float = 0.0  # how many executions the total covers
    rows: float = 0.0  # rows the executions returned, when the source counts them
    counted: float = 0.0  # how many executions `rows` covers


class _Collector:
    """Groups statements by fingerprint as the readers find them."""

    def __init__(self, source: str) -> None:
        self.workload = Workload(source=source)
        self.by_fingerprint: dict[str, Query] = {}
        self.timing: dict[str, _Timing] = {}
        self.skipped: set[tuple[str, str]] = set()

    def statement(self, sql: str, where: Problem, *, weight: float = 1.0, label: str = "",
                  total_ms: float | None = None, total_rows: float | None = None,
                  strict: bool = False) -> None:
        """Parse one statement and add it to its shape, or note why it is left out.

        `where` locates it (file, line, column) for notices; a syntax error raises InputError
        when `strict`, else becomes a notice.
        """
        from pglast import parser

        try:
            raw = parser.parse_sql(sql)
        except parser.ParseError as exc:
            problem = _syntax_problem(where, sql, exc)
            if strict:
                raise InputError([problem]) from None
            self.workload.problems.append(problem)
            return
        if len(raw) != 1:  # a log line or a stats row can hold several statements
            self.skip(where, "", "holds several statements; each must be a query of its own")
            return
        stmt = raw[0].stmt
        fingerprint = parser.fingerprint(sql) + in_list_shape(stmt)
        kind = statement_kind(stmt)
        if kind is None:
            word = _first_keyword(sql)
            self.skip(where, fingerprint, skip_reason(stmt, word))
            return
        tables = relations(stmt)
        if not tables:
            self.skip(where, fingerprint, "reads no table, so no index can serve it")
            return
        if any(_is_catalog(t) for t in tables):
            self.skip(where, fingerprint, "reads the system catalog (a monitoring query, not "
                      "the application's workload)")
            return
        self.add(Query(sql=sql, fingerprint=fingerprint, weight=weight, kind=kind,
                       parameters=max_parameter(stmt), tables=tables,
                       sources=[_where_text(where)], label=label or _where_text(where)),
                 total_ms, total_rows)

    def add(self, query: Query, total_ms: float | None,
            total_rows: float | None = None) -> None:
        known = self.by_fingerprint.get(query.fingerprint)
        if known is None:
            self.by_fingerprint[query.fingerprint] = query
            self.workload.queries.append(query)
            known = query
        else:
            known.weight += query.weight
            room = SOURCES_KEPT - len(known.sources)
            known.sources.extend(query.sources[:max(room, 0)])
        timing = self.timing.setdefault(known.fingerprint, _Timing())
        if total_ms is not None:
            timing.total_ms += total_ms
            timing.timed += query.weight
            known.mean_ms = timing.total_ms / timing.timed if timing.timed else None
        if total_rows is not None:
            timing.rows += total_rows
            timing.counted += query.weight
            known.mean_rows = timing.rows / timing.counted if timing.counted else None

    def skip(self, where: Problem, fingerprint: str, reason: str) -> None:
        # One notice per left-out shape: a log's ten thousand BEGINs are one finding.
        if fingerprint and (fingerprint, reason) in self.skipped:
            return
        self.skipped.add((fingerprint, reason))
        self.workload.problems.append(Problem(where.file, f"skipped: {reason}",
                                              line=where.line, column=where.column))


def _first_keyword(sql: str) -> str:
    """The statement's first keyword as written (past any leading comment), to name it."""
    from pglast import parser

    try:
        tokens = [t for t in parser.scan(sql) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except parser.ParseError:
        tokens = []
    if not tokens:
        return "statement"
    first = tokens[0]
    return sql.encode("utf-8")[first.start:first.end + 1].decode("utf-8", "replace").upper()


def _is_catalog(table: str) -> bool:
    schema, _, name = table.rpartition(".")
    if schema:
        return schema in CATALOG_SCHEMAS
    # PostgreSQL searches pg_catalog before the search path, and pg_ names are its views
    # (pg_stat_activity, pg_locks) or an extension's (pg_stat_statements).
    return name.startswith("pg_")


def _where_text(where: Problem) -> str:
    return f"{where.file}:{where.line}" if where.line is not None else where.file


def _syntax_problem(where: Problem, sql: str, exc: Exception) -> Problem:
    """The parser's message located in the source: pglast counts characters from 0 within
    the statement; `where` is the statement's first character."""
    offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
    before = sql[:offset]
    message = f"syntax error: {exc.args[0]}"
    line, column = where.line, where.column
    if line is not None and column is not None:
        extra = before.count("\n")
        line += extra
        column = offset - before.rfind("\n") if extra else column + offset
    else:  # a log line or a stats row: the statement does not start at a known column
        message += f" (character {offset + 1} of the statement)"
    return Problem(where.file, message, line=line, column=column,
                   hint="fix the statement, or remove it from the workload")


# ---------------------------------------------------------------------------- SQL files


def read_workload_file(path: str | Path, *, strict: bool = True) -> Workload:
    """The workload a SQL file describes: one query per statement.

    Comment lines right before a statement set its weight and label: `-- weight: 2.5`,
    `-- name: q3` (or both: `-- name: q3, weight: 2`). A syntax error raises InputError at
    file:line:col; with `strict=False` the statement is skipped with that located notice and
    the rest is read. SET, BEGIN, DDL and other non-queries are skipped with a notice.
    """
    from pglast import parser

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"cannot read: {exc}")]) from None
    where = Locator(str(path), text)
    try:
        slices = parser.split(text, with_parser=False, only_slices=True)
    except parser.ParseError as exc:  # the scanner's: an unterminated string or comment
        start = Problem(str(path), "", line=1, column=1)
        raise InputError([_syntax_problem(start, text, exc)]) from None
    collector = _Collector(str(path))
    previous_end = 0
    for piece in slices:
        body_start = _first_token(where, piece.start)
        weight, name = _directives(where, text, previous_end, body_start)
        sql = text[body_start:piece.stop]
        line, column = where.at_char(body_start)
        located = Problem(str(path), "", line=line, column=column)
        collector.statement(sql, located, weight=weight,
                            label=name or f"{path.name}:{line}", strict=strict)
        previous_end = piece.stop
    return collector.workload


def _first_token(where: Locator, start: int) -> int:
    """The character offset of the statement's first token (past comments the slice holds)."""
    byte = where.first_token(where.byte_of(start))
    return byte if where.ascii else len(where.data[:byte].decode("utf-8"))


def _directives(where: Locator, text: str, gap_start: int, body_start: int) -> tuple[float, str]:
    """Weight and name from the comment lines between the previous statement and this one
    (a comment on the previous statement's own last line belongs to it, not to this one)."""
    weight, name = 1.0, ""
    first_line = where.at_char(gap_start)[0] + (1 if gap_start else 0)
    last_line = where.at_char(body_start)[0]
    lines = text.splitlines()
    for number in range(first_line, last_line):
        match = _DIRECTIVE.match(lines[number - 1])
        if not match:
            continue
        for key, value in _SETTING.findall(match.group(1)):
            if key.lower() == "name":
                name = value
                continue
            try:
                weight = float(value)
            except ValueError:
                weight = -1.0
            if not weight > 0 or weight == float("inf"):
                raise InputError([Problem(where.path, f"weight {value!r} is not a positive "
                                          "number", line=number,
                                          hint="write -- weight: 10 (or 2.5)")])
    return weight, name


# ---------------------------------------------------------------------- pg_stat_statements


def workload_from_statements(rows: Iterable[tuple[Any, str, float, float]],
                             mean_rows: Mapping[Any, float] | None = None) -> Workload:
    """The workload pg_stat_statements records: rows of (queryid, query text with `$n`
    placeholders, calls, total_exec_time in ms), and optionally the rows each call returned
    on average, by queryid. A shape's weight is its calls, its mean time (and mean rows) the
    totals over the calls. Utility statements, texts that do not parse (truncated, or
    `<insufficient privilege>`) and queries on the system catalogs are left out."""
    collector = _Collector("pg_stat_statements")
    for queryid, text, calls, total_ms in rows:
        if not calls or calls <= 0:
            continue
        where = Problem(f"pg_stat_statements queryid {queryid}", "")
        returned = None if mean_rows is None else float(calls) * mean_rows.get(queryid, 0.0)
        collector.statement(text, where, weight=float(calls), label=f"queryid {queryid}",
                            total_ms=float(total_ms), total_rows=returned)
    return collector.workload


# ----------------------------------------------------------------------- PostgreSQL logs

_ENTRY = re.compile(
    r"^(?P<prefix>.*?)\b(?P<level>LOG|ERROR|WARNING|NOTICE|INFO|DEBUG[1-5]?|FATAL|PANIC|DETAIL|"
    r"HINT|CONTEXT|STATEMENT|QUERY|LOCATION):  (?P<body>.*)$"
)
_DURATION = re.compile(
    r"^duration: (?P<ms>[0-9.]+) ms  (?:(?P<statement>statement)|(?P<stage>parse|bind|execute)"
    r"(?P<fetch> fetch from)? [^:\n]*?): (?P<sql>.*)$", re.DOTALL)
_PARAMETER = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')", re.DOTALL)


@dataclass
class _Entry:
    level: str
    body: str
    line: int


def _entries(lines: Iterable[str]) -> Iterable[_Entry]:
    """Log messages with their continuation lines: the server writes a multi-line message's
    further lines after a tab; other lines that start with blanks and do not open a message
    are taken as continuations too (a prefix that starts with a blank is read as such)."""
    current: _Entry | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        match = None if line.startswith("\t") else _ENTRY.match(line)
        if match is None and current is not None and line[:1] in ("\t", " "):
            current.body += "\n" + (line[1:] if line.startswith("\t") else line)
            continue
        if current is not None:
            yield current
        current = _Entry(match.group("level"), match.group("body"), number) if match else None
    if current is not None:
        yield current


def read_log(path: str | Path) -> Workload:
    """The workload a PostgreSQL log shows through log_min_duration_statement: each
    `duration: … ms  statement: …` and each extended-protocol `execute <name>: …` (its
    parameters substituted from the `DETAIL:  parameters:` line that follows) is one
    execution. A shape's weight is how often it ran, its mean time the durations' mean.
    Parse and bind stages and fetches from an open portal are not executions of their own."""
    path = Path(path)
    collector = _Collector(str(path))
    pending: tuple[_Entry, str, float] | None = None  # an execute waiting for its DETAIL

    def flush(values: dict[int, str]) -> None:
        nonlocal pending
        if pending is None:
            return
        entry, sql, ms = pending
        pending = None
        if values:
            sql = substitute_parameters(sql, values)
        _log_statement(collector, path, entry, sql, ms)

    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for entry in _entries(handle):
                if entry.level == "DETAIL" and entry.body.startswith("parameters: "):
                    flush({int(n): v for n, v in _PARAMETER.findall(entry.body)})
                    continue
                flush({})
                if entry.level != "LOG":
                    continue
                match = _DURATION.match(entry.body)
                if match is None or match.group("fetch") or match.group("stage") in (
                        "parse", "bind"):
                    continue
                sql, ms = match.group("sql").strip().rstrip(";"), float(match.group("ms"))
                if match.group("stage") == "execute":
                    pending = (entry, sql, ms)
                else:
                    _log_statement(collector, path, entry, sql, ms)
            flush({})
    except OSError as exc:
        raise InputError([Problem(str(path), f"cannot read: {exc}")]) from None
    return collector.workload


def _log_statement(collector: _Collector, path: Path, entry: _Entry, sql: str,
                   ms: float) -> None:
    where = Problem(str(path), "", line=entry.line)
    collector.statement(sql, where, label=f"{path.name}:{entry.line}", total_ms=ms)
