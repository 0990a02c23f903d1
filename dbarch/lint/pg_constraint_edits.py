"""Constraints an ALTER TABLE adds, located in its text, and the NOT VALID rewrite of them.

The rules about added constraints (foreign keys and checks NOT VALID, UNIQUE without an index,
defaults and generated columns beside constraints) find each added constraint in the tree and
its span in the statement's text here. Separate from StatementText, which knows tokens, not
constraints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint.pg import unwrap
from dbarch.lint.pg_names import default_name, quote_name
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText


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
