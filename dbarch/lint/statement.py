"""One SQL statement of a migration file, located, with its parse tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
