"""One SQL statement of a migration file, located, with its parse tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

POSTGRESQL = "postgresql"
MYSQL = "mysql"
DIALECTS = (POSTGRESQL, MYSQL)


@dataclass(slots=True)
class Statement:
    """A statement as the rules see it.

    `kind` is the node type (libpg_query's name, e.g. `AlterTableStmt`, for PostgreSQL; the
    sqlglot expression class name, e.g. `Alter`, for MySQL) and `node` its tree: the
    libpg_query JSON object for PostgreSQL (fast to build, same field names as PostgreSQL's
    parse nodes) and the sqlglot expression for MySQL. `line` and `column` are 1-based.
    `ignores` maps rule codes or names (lowercase) to the reason recorded in a
    `-- dbarch-ignore:` comment.
    """

    path: str
    index: int
    text: str
    line: int
    column: int
    dialect: str
    kind: str
    node: Any
    end_line: int = 0
    ignores: dict[str, str] = field(default_factory=dict)


T = TypeVar("T")


def per_statement(read: Callable[[Statement], T]) -> Callable[[Statement], T]:
    """`read`, kept for the last statement it was asked about.

    Several rules (and the context walk) ask the same question of one statement in turn, and
    the runner goes statement by statement: one slot serves them all, and nothing piles up.
    The answer must depend on the statement alone.
    """
    last: list[Any] = [None, None]  # [statement, its answer]

    @wraps(read)
    def remembered(stmt: Statement) -> T:
        if stmt is not last[0]:
            answer = read(stmt)
            last[:] = [stmt, answer]
        return last[1]  # type: ignore[no-any-return]

    return remembered
