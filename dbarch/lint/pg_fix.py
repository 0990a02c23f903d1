"""The safe SQL a PostgreSQL finding suggests, edited into the user's own statement text.

A fix keeps the user's statement (names, quoting, clauses, layout) and changes only what
must change: NOT VALID appended to a constraint, a constraint moved off a new column, a
subcommand cut out. The edits are located by PostgreSQL's own parser and scanner (the
libpg_query JSON locations and pglast's scanner tokens), so they never land inside a string
or a parenthesis. This is an order of magnitude faster than rebuilding an AST and printing
it, which matters when a migration history has thousands of findings.

Default names follow PostgreSQL's makeObjectName (src/backend/commands/indexcmds.c) and
ChooseConstraintName (src/backend/catalog/pg_constraint.c): a fix names the constraint or
index PostgreSQL would have created, so later migrations that refer to it still work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pglast import parser
from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from dbarch.lint.context import Context, migration_tools
from dbarch.lint.pg import strings, unwrap, walk
from dbarch.lint.statement import Statement

NAMEDATALEN = 64  # PostgreSQL's identifier limit, including the terminating byte
_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")
_OPEN = {"ASCII_40", "ASCII_91"}  # ( [
_CLOSE = {"ASCII_41", "ASCII_93"}  # ) ]
_COMMA = "ASCII_44"
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})  # the scanner's tokens for -- and /* */


# --- names ---------------------------------------------------------------------------------------
def quote_name(name: str) -> str:
    """An identifier quoted only where PostgreSQL needs it (`orders`, `"Order"`, `"user"`)."""
    if _SIMPLE.fullmatch(name) and name not in RESERVED_KEYWORDS and (
            name not in TYPE_FUNC_NAME_KEYWORDS):
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(name: str) -> str:
    """`schema.table` (as `relation()` gives it) with each part quoted where needed."""
    return ".".join(quote_name(part) for part in name.split("."))


def object_name(name1: str, name2: str | None, label: str | None) -> str:
    """PostgreSQL's makeObjectName: `name1_name2_label`, the names cut to fit 63 bytes."""
    first = name1.encode()
    second = (name2 or "").encode()
    overhead = (1 if name2 else 0) + (len(label) + 1 if label else 0)
    available = NAMEDATALEN - 1 - overhead
    keep1, keep2 = len(first), len(second)
    # PostgreSQL shortens the longer name one byte at a time, so both keep a recognisable stem.
    while keep1 + keep2 > available:
        if keep1 > keep2:
            keep1 -= 1
        else:
            keep2 -= 1
    parts = [_clip(first, keep1)]
    if name2:
        parts.append(_clip(second, keep2))
    if label:
        parts.append(label)
    return "_".join(parts)


def _clip(data: bytes, length: int) -> str:
    """The first `length` bytes, never splitting a multibyte character (pg_mbcliplen)."""
    return data[:length].decode("utf-8", errors="ignore")


def column_addition(columns: Iterable[str]) -> str:
    """ChooseIndexNameAddition / ChooseForeignKeyConstraintNameAddition: names joined by `_`."""
    out = ""
    for column in columns:
        out = f"{out}_{column}" if out else column
        if len(out.encode()) >= NAMEDATALEN:
            break
    return out


def constraint_name(table: str, contype: str, columns: list[str]) -> str:
    """The name PostgreSQL gives an unnamed constraint of this kind on `table`.

    FOREIGN KEY → `t_a_b_fkey`; UNIQUE → `t_a_b_key`; PRIMARY KEY → `t_pkey`; CHECK →
    `t_col_check` when the expression reads exactly one column, else `t_check`.
    """
    bare = table.rsplit(".", 1)[-1]
    if contype == "CONSTR_PRIMARY":
        return object_name(bare, None, "pkey")
    label = {"CONSTR_FOREIGN": "fkey", "CONSTR_UNIQUE": "key", "CONSTR_EXCLUSION": "excl"}.get(
        contype, "check")
    return object_name(bare, column_addition(columns) if columns else None, label)


def default_name(constraint: dict[str, Any], table: str, column: str | None = None) -> str:
    """A constraint's own name, or the one PostgreSQL would give it (JSON Constraint body)."""
    if constraint.get("conname"):
        return str(constraint["conname"])
    contype = constraint.get("contype", "")
    if contype == "CONSTR_FOREIGN":
        columns = strings(constraint.get("fk_attrs")) or ([column] if column else [])
    elif contype == "CONSTR_CHECK":
        read = columns_read(constraint.get("raw_expr"))
        columns = read if len(read) == 1 else []
    else:
        columns = strings(constraint.get("keys")) or ([column] if column else [])
    return constraint_name(table, contype, columns)


def columns_read(expr: Any) -> list[str]:
    """The distinct column names an expression reads, in order of appearance."""
    seen: list[str] = []
    for kind, body in walk({"Expr": expr} if expr else {}):
        if kind == "ColumnRef":
            names = strings(body.get("fields"))
            if names and names[-1] not in seen:
                seen.append(names[-1])
    return seen


# --- options and small statements ----------------------------------------------------------------
def option_on(params: list[dict[str, Any]] | None, name: str) -> bool:
    """Whether a DefElem option list (VACUUM, REINDEX) switches `name` on.

    `FULL` alone means true; `FULL false|off|0` means false, as defGetBoolean reads it.
    """
    for item in params or []:
        body = item.get("DefElem") or {}
        if body.get("defname") != name:
            continue
        arg = body.get("arg")
        if not arg:
            return True
        _, value = next(iter(arg.items()))
        text = str(next(iter(value.values()), "1")).lower() if value else "0"
        return text not in ("false", "off", "0", "no")
    return False


def validate_constraint(table: str, name: str) -> str:
    """`ALTER TABLE table VALIDATE CONSTRAINT name`, quoted (no `;`: script() adds it)."""
    return f"ALTER TABLE {quote_qualified(table)} VALIDATE CONSTRAINT {quote_name(name)}"


def drop_constraint(table: str, name: str) -> str:
    """`ALTER TABLE table DROP CONSTRAINT name`, quoted (no `;`: script() adds it)."""
    return f"ALTER TABLE {quote_qualified(table)} DROP CONSTRAINT {quote_name(name)}"


def script(*statements: str) -> str:
    """Statements (and `--` comment lines) joined into a runnable script, one per line."""
    lines = []
    for item in statements:
        text = item.strip()
        if not text:
            continue
        lines.append(text if text.startswith("--") or text.endswith(";") else f"{text};")
    return "\n".join(lines)


def next_transaction(ctx: Context) -> str:
    """A comment saying where a statement must go to run in a transaction of its own."""
    if ctx.explicit_transaction:
        return "-- after the COMMIT that ends this transaction block, in a transaction of its own:"
    if ctx.in_transaction:
        return (f"-- in the next migration ({ctx.tool} runs a whole migration in one "
                "transaction, which would still hold the lock taken above):")
    return "-- then, as a statement of its own (it commits before the next one starts):"


def outside_transaction(ctx: Context) -> str:
    """A comment saying how to run a statement outside any transaction block, for this file."""
    if ctx.explicit_transaction:
        return "-- outside BEGIN … COMMIT: after the COMMIT, not inside the block:"
    if ctx.in_transaction:
        about = migration_tools()[ctx.tool]["about"]
        return f"-- outside the transaction {ctx.tool} opens for the migration ({about}):"
    return ""


# --- pglast's AST, for fixes that build new statements -------------------------------------------
# Slower than editing text (a parse into Python objects and a print): for rare rewrites.
def parse_one(text: str) -> Any:
    """The pglast AST of a single statement's text (editable nodes)."""
    from pglast import parse_sql

    return parse_sql(text)[0].stmt


def to_sql(node: Any) -> str:
    """A pglast AST node printed as SQL, identifiers quoted where PostgreSQL needs it."""
    from pglast.stream import RawStream

    return str(RawStream()(node))


def range_var(name: str) -> Any:
    """A pglast RangeVar for `schema.table` or `table` (names as PostgreSQL folded them)."""
    from pglast import ast

    schema, _, relname = name.rpartition(".")
    return ast.RangeVar(relname=relname, schemaname=schema or None, inh=True,
                        relpersistence="p")


def alter_table(table: str, *cmds: Any) -> Any:
    """`ALTER TABLE table cmd, cmd …` as a pglast AST node."""
    from pglast import ast, enums

    return ast.AlterTableStmt(relation=range_var(table), cmds=cmds,
                              objtype=enums.ObjectType.OBJECT_TABLE)


# --- editing a statement's own text --------------------------------------------------------------
class StatementText:
    """One statement's text with edits located by its parse tree and its tokens.

    libpg_query locations are byte offsets; pglast's scanner gives character offsets (end
    inclusive). Everything here works in characters.
    """

    def __init__(self, text: str, stmt: Statement | None = None) -> None:
        self.text = text.strip().removesuffix(";").rstrip()
        # With the statement the text came from, its tree is used as it is (its locations
        # shifted by where the text starts) instead of parsing the text into a new one.
        self._start = text_offset(stmt) if stmt is not None and stmt.text == text else None
        if self._start is not None and stmt is not None:
            self.kind, self.node = stmt.kind, stmt.node
        else:
            raw = json.loads(parser.parse_sql_json(self.text))["stmts"][0]
            self.kind, self.node = unwrap(raw["stmt"])
        self.tokens = [(t.start, t.end + 1, t.name) for t in parser.scan(self.text)]
        self.edits: list[tuple[int, int, int, str]] = []
        self._ascii = self.text.isascii()
        depth = 0
        self.depth: list[int] = []
        for _, _, name in self.tokens:
            if name in _CLOSE:
                depth -= 1
            self.depth.append(depth)
            if name in _OPEN:
                depth += 1

    def char(self, location: int) -> int:
        """A libpg_query byte location as a character offset."""
        if self._start is not None:
            location -= self._start
        if self._ascii:
            return location
        return len(self.text.encode()[:location].decode("utf-8", errors="ignore"))

    def token_at(self, offset: int) -> int:
        """The index of the first token starting at or after `offset`."""
        for i, (start, _, _) in enumerate(self.tokens):
            if start >= offset:
                return i
        return len(self.tokens)

    def item_end(self, offset: int) -> int:
        """Where the comma-separated item holding `offset` ends (after its last token)."""
        i = self.token_at(offset)
        base = self.depth[i] if i < len(self.tokens) else 0
        end = offset
        for j in range(i, len(self.tokens)):
            _, stop, name = self.tokens[j]
            if self.depth[j] < base or (self.depth[j] == base and name == _COMMA):
                break
            end = stop
        return end

    def before(self, offset: int, limit: int) -> int:
        """The end of the last token before `limit`, searching from `offset`."""
        end = offset
        for start, stop, _ in self.tokens:
            if start >= limit:
                break
            if start >= offset:
                end = stop
        return end

    def previous_token(self, offset: int) -> tuple[int, int, str] | None:
        i = self.token_at(offset)
        return self.tokens[i - 1] if i > 0 else None

    def next_token(self, offset: int) -> tuple[int, int, str] | None:
        i = self.token_at(offset)
        return self.tokens[i] if i < len(self.tokens) else None

    def insert(self, at: int, text: str) -> None:
        self.replace(at, at, text)

    def replace(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, len(self.edits), text))

    def cut_item(self, start: int, end: int) -> None:
        """Delete a comma-separated item and the comma that separates it from its neighbour."""
        after = self.next_token(end)
        if after and after[2] == _COMMA:
            following = self.next_token(after[1])
            self.replace(start, following[0] if following else after[1], "")
            return
        prior = self.previous_token(start)
        if prior and prior[2] == _COMMA:
            self.replace(prior[0], end, "")
        else:
            self.replace(start, end, "")

    def result(self) -> str:
        text = self.text
        # From the end backwards, so earlier offsets stay true; at one offset the edit made
        # first is applied last and so comes first in the text.
        for start, end, _, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text


# --- the statement's own text, located by the tree the run already parsed ----------------------
# The hygiene rules (L901–L906) fire on thousands of statements of a long history; for their
# fixes a scan and a JSON tree per statement (StatementText) cost more than all other rules
# together. These helpers find their places from `stmt.node`, whose locations count bytes
# from wherever the file's parse started, and answer None when unsure: callers then fall back
# to the slower exact path.
_LOCATION = re.compile(r'"location":(\d+)')


def text_offset(stmt: Statement) -> int | None:
    """Where `stmt.text` starts, in the frame of `stmt.node`'s locations (bytes).

    Several findings of several rules ask about the same statement in turn: the answer is
    kept for the last statement asked about.
    """
    if stmt is not _offset_of[0]:
        offset = _anchored_offset(stmt)
        _offset_of[:] = [stmt, offset if offset is not None else _parsed_offset(stmt)]
    return _offset_of[1]  # type: ignore[no-any-return]


_offset_of: list[Any] = [None, None]  # [statement, its offset]
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


def added_constraints(node: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict | None]]:
    """(Constraint, ColumnDef or None) for each constraint an ALTER TABLE adds."""
    for item in node.get("cmds") or []:
        kind, cmd = unwrap(item)
        if kind != "AlterTableCmd":
            continue
        definition = cmd.get("def") or {}
        if cmd.get("subtype") == "AT_AddConstraint" and "Constraint" in definition:
            yield definition["Constraint"], None
        elif cmd.get("subtype") == "AT_AddColumn" and "ColumnDef" in definition:
            column = definition["ColumnDef"]
            for entry in column.get("constraints") or []:
                ckind, constraint = unwrap(entry)
                if ckind == "Constraint":
                    yield constraint, column


def column_constraint_span(source: StatementText, constraint: dict,
                           column: dict) -> tuple[int, int]:
    """Where a constraint written on a column starts and ends in the statement text.

    DEFERRABLE / INITIALLY … written after it are separate CONSTR_ATTR_* entries in the
    tree but belong to it, so the span runs up to the next constraint that is not one.
    """
    start = source.char(constraint.get("location", 0))
    limit = source.item_end(start)
    for entry in column.get("constraints") or []:
        _, other = unwrap(entry)
        other_start = source.char(other.get("location", 0))
        if start < other_start < limit and not str(other.get("contype")).startswith(
                "CONSTR_ATTR_"):
            limit = other_start
    return start, source.before(start, limit)


def constraint_body(source: StatementText, start: int, end: int) -> str:
    """A constraint's text without its leading `CONSTRAINT name`."""
    first = source.next_token(start)
    if first and first[2] == "CONSTRAINT":
        name = source.next_token(first[1])
        following = source.next_token(name[1]) if name else None
        if following:
            start = following[0]
    return source.text[start:end]


def make_not_valid(text: str, contype: str,
                   stmt: Statement | None = None) -> tuple[str, list[str]]:
    """The ALTER TABLE with its `contype` constraints (FOREIGN KEY or CHECK) added NOT VALID.

    Unnamed constraints get the name PostgreSQL would choose; a constraint written on a new
    column (`ADD COLUMN c int REFERENCES t`), where NOT VALID is not accepted, moves into an
    `ADD CONSTRAINT … NOT VALID` of the same statement. Returns the statement and the names
    of the constraints to VALIDATE afterwards.
    """
    source = StatementText(text, stmt)
    node = source.node
    table = _relation(node.get("relation"))
    names: list[str] = []
    for constraint, column in added_constraints(node):
        if constraint.get("contype") != contype or constraint.get("skip_validation"):
            continue
        colname = column.get("colname") if column else None
        name = default_name(constraint, table, colname)
        names.append(name)
        if column is None:
            start = source.char(constraint.get("location", 0))
            if not constraint.get("conname"):
                source.insert(start, f"CONSTRAINT {quote_name(name)} ")
            source.insert(source.item_end(start), " NOT VALID")
            continue
        start, end = column_constraint_span(source, constraint, column)
        body = constraint_body(source, start, end)
        if contype == "CONSTR_FOREIGN":
            body = f"FOREIGN KEY ({quote_name(colname or '')}) {body}"
        prior = source.previous_token(start)
        source.replace(prior[1] if prior else start, end, "")
        source.insert(source.item_end(end),
                      f", ADD CONSTRAINT {quote_name(name)} {body} NOT VALID")
    return source.result(), names


def _relation(rangevar: dict | None) -> str:
    rangevar = rangevar or {}
    name = rangevar.get("relname", "")
    schema = rangevar.get("schemaname")
    return f"{schema}.{name}" if schema else str(name)
