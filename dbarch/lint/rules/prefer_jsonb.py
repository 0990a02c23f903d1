"""L501 prefer-jsonb."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.pg import alter_commands, relation, walk
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText

# the ALTER TABLE subcommands that state a column type
_TYPED = frozenset({"AT_AddColumn", "AT_AlterColumnType"})


@register
class PreferJsonb(Rule):
    """A column declared `json` stores text that is parsed again on every read; use `jsonb`.

    Why: `json` keeps the input text verbatim. Every `->`, `->>` or `@>` re-parses the whole
    document, it has no equality operator (so no DISTINCT, GROUP BY, UNIQUE or plain B-tree
    index on it) and no GIN operator class, so containment and key-existence queries cannot
    use an index. `jsonb` stores the parsed binary form: faster to query, indexable with GIN
    (`jsonb_ops`, `jsonb_path_ops`), comparable. Changing the type later rewrites the table
    (`ALTER COLUMN … TYPE jsonb` converts every row under ACCESS EXCLUSIVE), so choose it when
    the column is created.

    Instead:

        CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
        CREATE INDEX CONCURRENTLY events_payload_idx ON events USING gin (payload jsonb_path_ops);

    Exempt: keep `json` when the exact input text matters (key order, duplicate keys,
    whitespace: an audit copy of a received payload); record why with
    `-- dbarch-ignore: L501 <reason>`.
    """

    code = "L501"
    name = "prefer-jsonb"
    severity = Severity.WARNING
    nodes = ("CreateStmt", "AlterTableStmt")
    summary = "json column: jsonb is indexable, comparable and faster to query"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = None
        for column, verb in _json_columns(stmt):
            if table is None:
                table = relation(stmt.node.get("relation")) or "the table"
            yield self.finding(
                stmt,
                f"{table}.{column} is {verb} json: re-parsed on every read, no equality and no "
                "GIN index; declare it jsonb",
                table=table, fix=_fix(stmt),
            )


def _json_columns(stmt: Statement) -> Iterator[tuple[str, str]]:
    """(column, how it is declared) for every json column the statement declares."""
    if stmt.kind == "CreateStmt":
        # Every column of every CREATE TABLE would be read, and few are json: a type named json
        # is spelled json in the text (any case, quoted or not) unless a U&"…" identifier spells
        # it in escapes, so a statement with neither has no json column.
        text = stmt.text.lower()
        if "json" not in text and "u&" not in text:
            return
        for item in stmt.node.get("tableElts") or ():
            body = item.get("ColumnDef")
            if body is None:
                continue
            # _is_json inlined: this runs for every column of every CREATE TABLE
            names = (body.get("typeName") or {}).get("names")
            if names and names[-1].get("String", {}).get("sval") == "json":
                yield body.get("colname", ""), "declared"
        return
    if alter_table.subtypes(stmt).isdisjoint(_TYPED):
        return
    for cmd in alter_commands(stmt):
        definition = (cmd.get("def") or {}).get("ColumnDef") or {}
        if not _is_json(definition.get("typeName")):
            continue
        if cmd.get("subtype") == "AT_AddColumn":
            yield definition.get("colname", ""), "added as"
        elif cmd.get("subtype") == "AT_AlterColumnType":
            yield cmd.get("name", ""), "changed to"


def _is_json(type_node: dict[str, Any] | None) -> bool:
    names = (type_node or {}).get("names")
    # the last name is the type; a String node, whose sval is folded unless quoted
    return bool(names) and names[-1].get("String", {}).get("sval") == "json"


def _fix(stmt: Statement) -> str:
    """The statement with each json column type written as jsonb (arrays included)."""
    source = StatementText(stmt.text, stmt)
    for kind, body in walk(source.node):
        if kind != "ColumnDef" or not _is_json(body.get("typeName")):
            continue
        start = source.char(body["typeName"].get("location", 0))
        # `json`, or `pg_catalog.json`: the json token is the first one named so from here
        token = next(t for t in source.tokens
                     if t[0] >= start and source.text[t[0]:t[1]].lower() == "json")
        source.replace(token[0], token[1], "jsonb")
    return f"{source.result()};"
