"""The common protocol of the engine adapters, and the plan summary every adapter returns.

An adapter owns one connection and one throwaway namespace (a PostgreSQL schema, a MariaDB
database, a SQLite file or in-memory database). Everything it creates lives in that namespace,
and `close()` drops it unless the caller asked to keep it, so a verification run leaves
nothing behind on a shared server.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from dbarch.errors import EngineError


@dataclass
class Plan:
    """What a planner chose for one query, reduced to what verification needs.

    `full_scans` names the tables read in full (Seq Scan, access type ALL, SCAN without an
    index); `indexes` the indexes the plan reads, in plan order; `full_index_scans` those of
    them read from end to end without a search condition (right for ORDER BY … LIMIT, a
    disguised full scan for a filter).
    """

    indexes: list[str] = field(default_factory=list)
    full_scans: list[str] = field(default_factory=list)
    full_index_scans: list[str] = field(default_factory=list)
    sorts: bool = False
    """The engine sorts rows itself (Sort node, filesort, temp B-tree) for the ORDER BY."""
    access_path: str = ""
    cost: float | None = None
    rows: int | None = None
    raw: Any = None

    @property
    def uses_index(self) -> bool:
        """True when the plan reads at least one index and no table in full."""
        return bool(self.indexes) and not self.full_scans


def redact(url: str) -> str:
    """The URL with its password replaced by `***`, safe to print and to store in reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def namespace_name() -> str:
    """A fresh, unguessable namespace name; the prefix lets an operator recognise leftovers."""
    return f"dbarch_verify_{secrets.token_hex(4)}"


def split_statements(script: str) -> list[str]:
    """Split a DDL script on `;` outside quotes, dollar-quoted bodies and comments.

    The renderers separate statements with `;\\n`, but a PL/pgSQL body or a string default may
    hold a semicolon, so a plain `str.split` would cut a statement in half.
    """
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in "'\"`":
            end = i + 1
            while end < n:
                if script[end] == ch:
                    if end + 1 < n and script[end + 1] == ch:  # doubled quote inside a literal
                        end += 2
                        continue
                    break
                if script[end] == "\\" and ch == "'":
                    end += 2
                    continue
                end += 1
            buf.append(script[i : end + 1])
            i = end + 1
        elif script.startswith("--", i):
            end = script.find("\n", i)
            end = n if end == -1 else end
            buf.append(script[i:end])
            i = end
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            end = n if end == -1 else end + 2
            buf.append(script[i:end])
            i = end
        elif ch == "$":
            tag_end = script.find("$", i + 1)
            tag = script[i : tag_end + 1] if tag_end != -1 else ""
            if tag and (tag == "$$" or tag[1:-1].isidentifier()):
                body_end = script.find(tag, tag_end + 1)
                body_end = n if body_end == -1 else body_end + len(tag)
                buf.append(script[i:body_end])
                i = body_end
            else:
                buf.append(ch)
                i += 1
        elif ch == ";" and not _inside_block("".join(buf)):
            statements.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    statements.append("".join(buf))
    return [s.strip() for s in statements if _has_code(s)]


_TRIGGER = re.compile(r"^\s*CREATE\b[^;]*?\bTRIGGER\b", re.IGNORECASE)
_BEGIN_END = re.compile(r"\b(BEGIN|END)\b", re.IGNORECASE)


def _inside_block(statement: str) -> bool:
    """True inside a trigger's BEGIN … END body, whose statements end with `;` too."""
    code = "\n".join(ln for ln in statement.splitlines() if not ln.strip().startswith("--"))
    if not _TRIGGER.match(code):
        return False
    depth = 0
    for word in _BEGIN_END.findall(code):
        depth += 1 if word.upper() == "BEGIN" else -1
    return depth > 0


def _has_code(statement: str) -> bool:
    """False for fragments that are only whitespace and comments."""
    lines = [ln.strip() for ln in statement.strip().splitlines()]
    code = [ln for ln in lines if ln and not ln.startswith("--")]
    text = " ".join(code).strip()
    while text.startswith("/*") and "*/" in text:
        text = text[text.index("*/") + 2 :].strip()
    return bool(text)


def first_line(statement: str, width: int = 100) -> str:
    """The statement's first line of code, shortened, to name it in an error."""
    for line in statement.splitlines():
        line = line.strip()
        if line and not line.startswith("--"):
            return line if len(line) <= width else line[: width - 1] + "…"
    return statement[:width]


class Engine(ABC):
    """One connection to one engine, working inside its own throwaway namespace."""

    name: str = ""
    """sqlite, postgresql or mariadb: the engine's name in reports."""
    dialect: str = ""
    """The DDL dialect this engine reads: sqlite, postgresql or mysql."""
    quote_char: str = '"'
    """How the dialect quotes an identifier."""

    def __init__(self, url: str, *, keep: bool = False) -> None:
        self.url = url
        self.safe_url = redact(url)
        self.keep = keep
        self.namespace: str | None = None
        self._closed = False

    @classmethod
    @abstractmethod
    def connect(cls, url: str, *, keep: bool = False, timeout: float = 5.0) -> Self:
        """Open a connection and create a fresh namespace; raise EngineError if unreachable."""

    @abstractmethod
    def version(self) -> str:
        """The server's version string, e.g. `PostgreSQL 15.20`."""

    @abstractmethod
    def _execute(self, sql: str) -> None:
        """Run one statement inside the namespace; driver errors propagate."""

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (with driver placeholders for `params`) and return its rows;
        driver errors propagate."""

    def execute(self, sql: str) -> None:
        """Run one statement inside the namespace."""
        try:
            self._execute(sql)
        except Exception as exc:
            raise self.fail(f"statement failed ({first_line(sql)})", exc) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows; `params` fill the driver's placeholders
        (`?` for SQLite, `%s` for PostgreSQL and MariaDB)."""
        try:
            return self._query(sql, params)
        except Exception as exc:
            raise self.fail(f"query failed ({first_line(sql)})", exc) from exc

    @abstractmethod
    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows fast (COPY, executemany); return how many were inserted."""

    @abstractmethod
    def analyze(self) -> None:
        """Refresh the planner statistics of every table in the namespace."""

    @abstractmethod
    def explain(self, sql: str) -> Plan:
        """The planner's plan for `sql`, parsed into a Plan. The query is not run."""

    def row_count(self, table: str) -> int:
        """How many rows `table` (or a partition of it) holds."""
        q = self.quote_char
        return int(self.query(f"SELECT count(*) FROM {q}{table}{q}")[0][0])

    def explain_without_scans(self, sql: str) -> Plan | None:
        """The plan with full scans made prohibitively expensive, where the engine allows it.

        Diagnostic only: it tells whether an index *can* serve the query. None when the engine
        has no such switch.
        """
        return None

    def explain_without(self, sql: str, indexes: list[str]) -> Plan | None:
        """The plan if `indexes` did not exist, where the engine can say so without harm.

        Diagnostic only: it prices the plan the planner turned down. None when the engine
        cannot drop an index inside a transaction it then rolls back.
        """
        return None

    @abstractmethod
    def indexes(self, table: str) -> dict[str, list[str]]:
        """Index name → its columns in order, for one table of the namespace."""

    @abstractmethod
    def _drop_namespace(self) -> None:
        """Drop everything this adapter created."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the connection."""

    def apply(self, ddl: str) -> int:
        """Run a DDL script statement by statement; return how many statements ran.

        A failing statement raises EngineError naming its position and first line, with the
        engine's own message.
        """
        statements = split_statements(ddl)
        for number, statement in enumerate(statements, start=1):
            try:
                self._execute(statement)
            except Exception as exc:
                what = f"DDL statement {number} of {len(statements)} failed"
                what += f" ({first_line(statement)})"
                raise self.fail(what, exc) from exc
        return len(statements)

    def close(self) -> None:
        """Drop the namespace (unless kept) and disconnect. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.keep:
                self._drop_namespace()
        finally:
            self._disconnect()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fail(self, what: str, exc: BaseException) -> EngineError:
        """An EngineError that says which engine, where (no password) and what failed."""
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        password = urlsplit(self.url).password
        if password:
            message = message.replace(password, "***")
        return EngineError(f"{self.name} at {self.safe_url}: {what}: {message}")
