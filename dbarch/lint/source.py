"""Reading migration files into located statements: pglast for PostgreSQL, sqlglot for MySQL.

PostgreSQL is parsed by libpg_query (PostgreSQL's own parser, through pglast) into its JSON
tree in one call per file; that is several times faster than building pglast's Python node
objects, which matters on migration histories of tens of thousands of statements. When a file
does not parse, it is split with PostgreSQL's scanner and each statement is parsed alone, so a
syntax error is reported at its line and the rest of the file is still linted.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from dbarch.errors import Problem
from dbarch.lint.statement import MYSQL, POSTGRESQL, Statement
from dbarch.parse.located import Locator

IGNORE = re.compile(
    r"--\s*dbarch-ignore(?P<file>-file)?\s*:\s*(?P<rules>[A-Za-z0-9_\-]+(?:\s*,\s*[A-Za-z0-9_\-]+)*)"
    r"(?:[ \t]+(?P<reason>[^\n]*?))?[ \t]*$",
    re.MULTILINE,
)


@dataclass
class SourceFile:
    """A migration file read into statements, with the problems met while reading it."""

    path: str
    statements: list[Statement] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # syntax errors: exit code 2
    notices: list[Problem] = field(default_factory=list)  # worth saying, not an error


SPLIT_BYTES = 256 * 1024
"""From this much SQL, the text is parsed as two halves on two threads at once."""

Document = tuple[str, int, int]
"""One libpg_query JSON tree with the byte offsets, in the whole text, where its text starts
and ends."""


class ParseAhead:
    """libpg_query's parse of one PostgreSQL text, started in threads so that the caller's own
    work (importing and choosing the rules) overlaps it: the parse releases the GIL.

    A large text is cut in two at a line that ends with `;` past its middle, and the halves
    are parsed on two threads at once (0.06 s instead of 0.1 s on 20,000 statements). A cut
    inside a string, a comment, a dollar-quoted body or a BEGIN ATOMIC block leaves the first
    half unterminated, which libpg_query refuses; then the whole text is parsed in one piece,
    so cutting can change the time, never the tree.
    """

    def __init__(self, text: str, path: Path | None = None) -> None:
        import threading

        self.text = text
        self.path = path  # the file it was read from, so the lint does not read it again
        self._documents: list[Document] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._parse, name="dbarch-parse", daemon=True)
        self._thread.start()

    def _parse(self) -> None:
        try:
            self._documents = parse_documents(self.text)
        except BaseException as exc:  # ParseError: the reader splits the file instead
            self._error = exc

    def wait(self) -> None:
        """Let the parse finish (before forking: a child would not inherit the thread)."""
        self._thread.join()

    def result(self) -> list[Document]:
        """The JSON trees, handed over once (12 MB on 20,000 statements: not kept), or the
        parse's error raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        documents, self._documents = self._documents, None
        assert documents is not None, "ParseAhead.result() is taken once"
        return documents


def parse_documents(text: str) -> list[Document]:
    """`text` parsed by libpg_query into one JSON tree, or two when it is large (see
    ParseAhead); raises pglast's ParseError when it does not parse."""
    from pglast import parser

    cut = _cut(text)
    if cut is None:
        return [(parser.parse_sql_json(text), 0, _byte_length(text))]
    import threading

    halves = [text[:cut], text[cut:]]
    trees: list[str | None] = [None, None]

    def parse_second() -> None:
        with contextlib.suppress(parser.ParseError):  # then the whole text is parsed below
            trees[1] = parser.parse_sql_json(halves[1])

    helper = threading.Thread(target=parse_second, name="dbarch-parse-2", daemon=True)
    helper.start()
    with contextlib.suppress(parser.ParseError):
        trees[0] = parser.parse_sql_json(halves[0])
    helper.join()
    if trees[0] is None or trees[1] is None:
        return [(parser.parse_sql_json(text), 0, _byte_length(text))]
    middle = _byte_length(halves[0])
    return [(trees[0], 0, middle), (trees[1], middle, middle + _byte_length(halves[1]))]


def _cut(text: str) -> int | None:
    """Where to cut a large text in two: after the first line past its middle that ends with
    `;` (None for a small text, or one with no such line)."""
    if len(text) < SPLIT_BYTES:
        return None
    at = text.find(";\n", len(text) // 2)
    if at < 0 or at + 2 >= len(text):
        return None
    return at + 2


def _byte_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def read_source(path: str, text: str, dialect: str, ahead: ParseAhead | None = None) -> SourceFile:
    """Split and parse one file's text in the given dialect (`ahead`: its parse, if started)."""
    source = SourceFile(path)
    if dialect == POSTGRESQL:
        _read_postgresql(source, text, ahead if ahead is not None and ahead.text is text else None)
    elif dialect == MYSQL:
        _read_mysql(source, text)
    else:
        raise ValueError(f"unknown dialect {dialect!r}; expected postgresql or mysql")
    _attach_ignores(source, text)
    return source


def _read_postgresql(source: SourceFile, text: str, ahead: ParseAhead | None = None) -> None:
    from pglast import parser

    lines = Locator(source.path, text)
    data = lines.data
    try:
        documents = ahead.result() if ahead is not None else parse_documents(text)
        pieces = [(raw, base, limit) for document, base, limit in documents
                  for raw in _loads(document).get("stmts", [])]
    except parser.ParseError:
        pieces = _parse_one_by_one(source, data, lines)
    path, statements = source.path, source.statements
    # Once per statement, in files of tens of thousands: Locator's lookups are inlined.
    starts, ascii_only = lines.starts, lines.ascii
    plain = b"-/ \t\r\n"
    find_line = bisect.bisect_right
    for raw, base, limit in pieces:
        start = base + raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0)
        end = start + length if length else limit
        ((kind, node),) = raw["stmt"].items()
        snippet = data[start:end].decode("utf-8", errors="replace").strip()
        if "--" in snippet or "/*" in snippet:
            snippet = _without_trailing_comments(snippet)
        if data[start:start + 1] in plain:  # whitespace or a comment before the first token
            start = min(lines.first_token(start), end)
        if ascii_only:
            line = find_line(starts, start)
            column = start - starts[line - 1] + 1
        else:
            line, column = lines.at_byte(start)
        statements.append(Statement(
            path, len(statements), snippet, line, column, POSTGRESQL, kind, node,
            find_line(starts, max(start, end - 1)),
        ))


def _loads(document: str) -> dict:
    """libpg_query's JSON tree as Python data: orjson decodes it a quarter faster than json
    (and shares the key strings), the standard library when orjson is not installed."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; json gives the same data
        return json.loads(document)
    return orjson.loads(document)


def _without_trailing_comments(snippet: str) -> str:
    """The statement up to its last token: a comment between it and the `;` is not part of it
    (fixes append `;` or `NOT VALID` to this text, which a trailing `--` comment would swallow)."""
    from pglast import parser

    try:
        tokens = parser.scan(snippet)
    except parser.ParseError:
        return snippet
    code = [t for t in tokens if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    if not code or code[-1] is tokens[-1]:
        return snippet
    return snippet[: code[-1].end + 1].rstrip()


def _parse_one_by_one(
    source: SourceFile, data: bytes, lines: Locator
) -> list[tuple[dict, int, int]]:
    """Parse statement by statement after a syntax error; record each failure located."""
    from pglast import parser

    pieces: list[tuple[dict, int, int]] = []
    text = data.decode("utf-8")
    try:
        slices = parser.split(text, with_parser=False, only_slices=True)
    except parser.ParseError as exc:  # the scanner itself failed (an unterminated string …)
        source.problems.append(lines.problem(exc.args[1], f"syntax error: {exc.args[0]}"))
        return pieces
    for piece in slices:
        # split() slices index characters of the str; parse offsets are bytes of the piece.
        base = len(text[: piece.start].encode("utf-8"))
        chunk = text[piece]
        try:
            tree = _loads(parser.parse_sql_json(chunk))
        except parser.ParseError as exc:
            where = base + len(chunk.encode("utf-8")[: exc.args[1]]) if len(exc.args) > 1 else base
            source.problems.append(lines.problem(where, f"syntax error: {exc.args[0]}"))
            continue
        limit = base + len(chunk.encode("utf-8"))
        pieces.extend((raw, base, limit) for raw in tree.get("stmts", []))
    return pieces


_ROUTINE = re.compile(
    r"^\s*CREATE\s+(?:DEFINER\s*=\s*\S+\s+)?(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b",
    re.IGNORECASE,
)


def _read_mysql(source: SourceFile, text: str) -> None:
    """Split as the mysql client does (`;`, or what a `DELIMITER` line sets) and parse each."""
    import logging

    from dbarch.parse.split import mysql_spans

    # sqlglot logs a warning for each statement it keeps as an opaque Command; rules read those.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    lines = Locator(source.path, text)
    found = mysql_spans(text)
    for offset, message in found.errors:
        source.problems.append(lines.problem(lines.byte_of(offset), f"syntax error: {message}"))
    for begin, finish in found.spans:
        _add_mysql(source, text, begin, finish, lines)


def _add_mysql(source: SourceFile, text: str, start: int, end: int, lines: Locator) -> None:
    from sqlglot import exp
    from sqlglot.errors import ParseError

    from dbarch.parse.split import syntax_problem

    chunk = text[start:end]
    line, column = lines.at_char(start)
    end_line = lines.line_at_byte(lines.byte_of(end) - 1)
    try:
        if _ROUTINE.match(chunk):
            # Trigger and routine bodies are beyond sqlglot (it splits them at BEGIN); rules
            # read them as text.
            expression = exp.Command(this=chunk.split(None, 1)[0].upper(),
                                     expression=exp.Literal.string(chunk))
        else:
            expression = _parse_mysql(chunk)
    except ParseError as exc:
        source.problems.append(syntax_problem(lines, start, exc))
        return
    if expression is None:
        return
    source.statements.append(Statement(
        path=source.path, index=len(source.statements), text=chunk.strip(), line=line,
        column=column, dialect=MYSQL, kind=type(expression).__name__, node=expression,
        end_line=end_line,
    ))


def _parse_mysql(chunk: str) -> object:
    """Parse one MySQL statement; sqlglot refuses ALGORITHM=/LOCK= after some forms (DROP INDEX
    ... ON t ALGORITHM=INPLACE), so retry without them: rules read those options from the text."""
    import sqlglot
    from sqlglot.errors import ParseError

    from dbarch.lint.mysql import without_online_options

    try:
        return sqlglot.parse_one(chunk, read="mysql")
    except ParseError:
        stripped = without_online_options(chunk)
        if stripped == chunk:
            raise
        return sqlglot.parse_one(stripped, read="mysql")


def _attach_ignores(source: SourceFile, text: str) -> None:
    """Give each statement the `dbarch-ignore` comments that sit above it or inside it.

    A comment on line L covers the first statement that ends on or after L; a
    `dbarch-ignore-file:` comment covers every statement of the file. A comment without a
    reason suppresses nothing: the point of the comment is the recorded reason.
    """
    if "dbarch-ignore" not in text:
        return
    ends = [stmt.end_line for stmt in source.statements]
    for match in IGNORE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        reason = (match.group("reason") or "").strip()
        if not reason:
            source.notices.append(Problem(
                source.path, "dbarch-ignore without a reason suppresses nothing",
                line=line, column=match.start() - text.rfind("\n", 0, match.start()),
                hint="write the reason after the rule: -- dbarch-ignore: L101 table is empty",
            ))
            continue
        rules = [r.strip().lower() for r in match.group("rules").split(",")]
        if match.group("file"):
            targets = source.statements
        else:
            index = bisect.bisect_left(ends, line)
            targets = source.statements[index:index + 1]
        for stmt in targets:
            for rule in rules:
                stmt.ignores[rule] = reason
