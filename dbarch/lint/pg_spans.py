"""Places in a statement's own text, found from the tree the run already parsed.

Where the statement starts in its tree's frame, a tree location as a character offset, where
the statement's tokens start and end, and where a column type written in it ends. Separate
from StatementText (dbarch.lint.statement_text) because these answer without scanning and
parsing the statement again, for the rules that fire on thousands of statements.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import parser

from dbarch.lint.statement import Statement, per_statement

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})  # the scanner's tokens for -- and /* */
# The hygiene rules (L901–L906) fire on thousands of statements of a long history; for their
# fixes a scan and a JSON tree per statement (StatementText) cost more than all other rules
# together. These helpers find their places from `stmt.node`, whose locations count bytes
# from wherever the file's parse started, and answer None when unsure: callers then fall back
# to the slower exact path.
_LOCATION = re.compile(r'"location":(\d+)')


@per_statement
def text_offset(stmt: Statement) -> int | None:
    """Where `stmt.text` starts, in the frame of `stmt.node`'s locations (bytes).

    Several findings of several rules ask about the same statement in turn: the answer is
    kept for the last statement asked about.
    """
    offset = _anchored_offset(stmt)
    return offset if offset is not None else _parsed_offset(stmt)
# CREATE TABLE / ALTER TABLE up to the table's name, the keywords separated by whitespace only
_RELATION_HEADS = {
    "CreateStmt": re.compile(r"CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?"
                             r"TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?", re.IGNORECASE),
    "AlterTableStmt": re.compile(r"ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?",
                                 re.IGNORECASE),
}


def _anchored_offset(stmt: Statement) -> int | None:
    """The offset from the table's location, when the statement opens with CREATE TABLE /
    ALTER TABLE: by the grammar the table's name is the token right after those keywords."""
    pattern = _RELATION_HEADS.get(stmt.kind)
    if pattern is None:
        return None
    rangevar: dict[str, Any] = stmt.node.get("relation") or {}
    location = int(rangevar.get("location", -1))
    head = pattern.match(stmt.text)
    if head is None or location < 0:
        return None
    at = head.end()
    first = str(rangevar.get("schemaname") or rangevar.get("relname") or "")
    written = stmt.text[at:at + len(first)]
    if not (written.lower() == first.lower() or written.startswith('"')):
        return None
    prefix = stmt.text[:at]
    return location - (at if prefix.isascii() else len(prefix.encode("utf-8")))


def _parsed_offset(stmt: Statement) -> int | None:
    """The offset from a C parse of the statement alone (no Python tree is built, which is the
    costly part): its first location matched with the tree's. For statements that open with a
    keyword (DDL, DML): libpg_query leaves out a location of 0, which only a node at the very
    first token could have. Callers check the text at the places they edit.
    """
    try:
        alone = _LOCATION.search(parser.parse_sql_json(stmt.text))
    except parser.ParseError:
        return None
    first = _locations(stmt.node, 1)
    if alone is None or not first:
        return None
    return first[0] - int(alone.group(1))


def _locations(node: Any, count: int) -> list[int]:
    """The first `count` non-negative locations of a JSON tree, in the order of its text."""
    found: list[int] = []

    def visit(item: Any) -> None:
        if isinstance(item, dict):
            for key, value in item.items():
                if len(found) == count:
                    return
                if key == "location":
                    if isinstance(value, int) and value >= 0:
                        found.append(value)
                elif isinstance(value, (dict, list)):
                    visit(value)
        elif isinstance(item, list):
            for value in item:
                if len(found) == count:
                    return
                visit(value)

    visit(node)
    return found


def char_offset(text: str, start: int, location: int) -> int | None:
    """A tree location as a character offset into `text`, which begins at byte `start`."""
    at = location - start
    if text.isascii():
        return at if 0 <= at <= len(text) else None
    data = text.encode("utf-8")
    if not 0 <= at <= len(data):
        return None
    return len(data[:at].decode("utf-8", errors="ignore"))


def statement_span(text: str) -> tuple[int, int] | None:
    """Where a statement's first token starts and its last one ends in `text`: comments around
    it stay out of a fix (a `;` after a trailing `-- comment` would be part of the comment)."""
    if "--" not in text and "/*" not in text:
        body = text.rstrip().removesuffix(";").rstrip()
        start = len(body) - len(body.lstrip())
        return (start, len(body)) if start < len(body) else None
    try:
        tokens = [t for t in parser.scan(text) if t.name not in _COMMENTS]
    except parser.ParseError:
        return None
    if tokens and tokens[-1].name == "ASCII_59":  # a trailing ;
        tokens = tokens[:-1]
    return (tokens[0].start, tokens[-1].end + 1) if tokens else None


# a quoted name, or a bare one: a letter, _ or any non-ASCII character, then also digits and $
# (written as what they are not: a range up to U+10FFFF takes milliseconds to compile)
_WORD = re.compile(r'"(?:[^"]|"")+"|[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]'
                   r'[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*')
_MODIFIERS = re.compile(r"\(\s*[-+]?\w+\s*(?:,\s*[-+]?\w+\s*)*\)")
_BOUNDS = re.compile(r"\[\s*\d*\s*\]")
_SPACE = re.compile(r"\s*")
# Words that continue a type after its first (double precision, character varying, timestamp
# with time zone, interval day to second) and words that start what follows a type in a
# column definition or ALTER COLUMN … TYPE. A word in neither: the reader is unsure.
_TYPE_WORDS = frozenset({"PRECISION", "VARYING", "CHARACTER", "CHAR", "WITH", "WITHOUT", "TIME",
                         "ZONE", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "TO"})
_AFTER_TYPE = frozenset({"COLLATE", "CONSTRAINT", "NOT", "NULL", "DEFAULT", "CHECK", "PRIMARY",
                         "UNIQUE", "REFERENCES", "GENERATED", "COMPRESSION", "STORAGE", "OPTIONS",
                         "DEFERRABLE", "INITIALLY", "USING"})


def type_span(text: str, start: int) -> tuple[int, int] | None:
    """A column type written at `start`: where it ends without its array bounds, and where it
    ends with them.

    `numeric(12, 2)`, `timestamp(3) with time zone`, `"MyType"[]`, `pg_catalog.int4 ARRAY[4]`.
    None when the text holds anything else (a comment, a string in the modifiers, an unknown
    word): the caller takes the exact path.
    """
    pos, end, base_end = start, -1, -1
    while True:
        if end >= 0:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(("--", "/*"), pos):
            return None
        word = _WORD.match(text, pos)
        if word is not None:
            upper = word.group().upper() if word.group()[0] != '"' else ""
            if end >= 0 and upper not in _TYPE_WORDS and upper != "ARRAY":
                if upper in _AFTER_TYPE and text[end:pos].strip() == "":
                    break
                if text[end:pos].strip() != ".":
                    return None
            if upper == "ARRAY" and end >= 0:
                base_end = end if base_end < 0 else base_end
            elif base_end >= 0:
                return None
            pos = end = word.end()
            continue
        if end >= 0 and text.startswith(".", pos):
            pos += 1
            continue
        bounds = _BOUNDS.match(text, pos) if end >= 0 else None
        if bounds is not None:
            base_end = end if base_end < 0 else base_end
            pos = end = bounds.end()
            continue
        modifiers = _MODIFIERS.match(text, pos) if end >= 0 and base_end < 0 else None
        if modifiers is not None:
            pos = end = modifiers.end()
            continue
        if pos < len(text) and text[pos] not in ",)":
            return None
        break
    if end < 0:
        return None
    return (end if base_end < 0 else base_end), end

