"""What the advisor reads off a statement's parse tree (pglast): its kind, the relations it
names, its parameters, and expressions written back as SQL.

Shared by the workload readers (`dbarch.advisor.workload`) and the candidate generator
(`dbarch.advisor.candidates`), so both see one statement the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from pglast import ast
from pglast.visitors import Visitor

KINDS = {"SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update",
         "DeleteStmt": "delete"}
_DDL_PREFIXES = ("Create", "Alter", "Drop", "Rename", "Comment", "Index", "Truncate", "Grant",
                 "Reindex", "Cluster", "Refresh", "Define", "Composite", "View")


def statement_kind(stmt: Any) -> str | None:
    """select, insert, update or delete; None for any other statement."""
    kind = KINDS.get(type(stmt).__name__)
    if kind == "select" and stmt.intoClause is not None:
        return None  # SELECT … INTO creates a table: DDL, not a read
    return kind


def skip_reason(stmt: Any, word: str) -> str:
    """Why a statement that is not a query is left out of the workload; `word` is its first
    keyword as written, to name it the way the user wrote it."""
    name = type(stmt).__name__
    if name == "SelectStmt":
        return "SELECT … INTO creates a table (DDL), not a query to advise"
    if name.startswith(_DDL_PREFIXES) or name.endswith("TableAsStmt"):
        return f"{word} is DDL, not a query to advise"
    return f"{word} is a utility statement, not a query to advise"


def cte_names(stmt: Any) -> set[str]:
    """Every common table expression's name anywhere in the statement."""
    names: set[str] = set()

    class _Ctes(Visitor):  # type: ignore[misc]
        def visit_CommonTableExpr(self, ancestors: Any, node: Any) -> None:
            names.add(node.ctename)

    _Ctes()(stmt)
    return names


def relations(stmt: Any) -> tuple[str, ...]:
    """The relations the statement names (FROM, JOIN, UPDATE, DELETE, INSERT, subqueries), as
    written (`orders`, `tpch.lineitem`), in order of first appearance; CTE names excluded."""
    ctes = cte_names(stmt)
    found: list[tuple[int, str]] = []

    class _Relations(Visitor):  # type: ignore[misc]
        def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
            if node.schemaname is None and node.relname in ctes:
                return
            found.append((node.location or 0, qualified(node)))

    _Relations()(stmt)
    return tuple(dict.fromkeys(name for _, name in sorted(found)))


def qualified(node: ast.RangeVar) -> str:
    """A RangeVar's name as written: `schema.table` or `table`."""
    return f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname


def max_parameter(stmt: Any) -> int:
    """The highest `$n` the statement uses (0 without parameters)."""
    highest = 0

    class _Params(Visitor):  # type: ignore[misc]
        def visit_ParamRef(self, ancestors: Any, node: Any) -> None:
            nonlocal highest
            highest = max(highest, node.number)

    _Params()(stmt)
    return highest


def deparse(node: Any) -> str:
    """An expression node as PostgreSQL SQL text."""
    from pglast.stream import RawStream

    return str(RawStream()(node))


def bare_deparse(node: Any) -> str:
    """An expression as SQL with its column references unqualified (`lower(u.email)` →
    `lower(email)`): index keys and partial predicates name the table's columns bare."""
    node = copy.deepcopy(node)

    class _Bare(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, ancestors: Any, ref: Any) -> None:
            if len(ref.fields) > 1 and isinstance(ref.fields[-1], ast.String):
                ref.fields = (ref.fields[-1],)

    _Bare()(node)
    return deparse(node)


def substitute_parameters(sql: str, values: dict[int, str]) -> str:
    """`sql` with each `$n` that has a value replaced by it (values are SQL literals as the
    server logs them: `'42'`, `NULL`). The scanner finds the placeholders, so a `$1` inside a
    string or comment stays."""
    from pglast import parser

    tokens = [t for t in parser.scan(sql) if t.name == "PARAM"]
    for token in reversed(tokens):
        number = int(sql[token.start + 1:token.end + 1])
        if number in values:
            sql = sql[:token.start] + values[number] + sql[token.end + 1:]
    return sql
