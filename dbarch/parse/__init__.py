"""DDL text → the Schema model: PostgreSQL through pglast, MySQL/MariaDB through sqlglot.

`parse_ddl(text, dialect)` returns the schema the text leaves behind and a located notice for
each statement or clause it could not represent; a syntax error raises InputError located at
file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbarch.errors import InputError, Problem

if TYPE_CHECKING:  # the model (pydantic) loads with the readers: dbarch lint needs neither
    from dbarch.schema.model import Schema

DIALECTS = ("postgresql", "mysql")
ALIASES = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql"}


@dataclass
class ParsedSchema:
    """A schema read from DDL, and what the reader could not keep."""

    schema: Schema
    notices: list[Problem] = field(default_factory=list)


def dialect_name(dialect: str) -> str:
    """The canonical dialect name (postgresql or mysql) for a name or alias."""
    name = ALIASES.get(dialect.lower(), dialect.lower())
    if name not in DIALECTS:
        raise InputError([Problem("--dialect", f"unknown dialect {dialect!r}",
                                  hint=f"expected one of {', '.join(DIALECTS)} (or mariadb)")])
    return name


def parse_ddl(text: str, dialect: str, path: str = "<ddl>", name: str = "") -> ParsedSchema:
    """The schema `text` (DDL in `dialect`) leaves behind."""
    if dialect_name(dialect) == "postgresql":
        from dbarch.parse.postgresql import parse_postgresql

        schema, notices = parse_postgresql(text, path, name)
    else:
        from dbarch.parse.mysql import parse_mysql

        schema, notices = parse_mysql(text, path, name)
    return ParsedSchema(schema, notices)


def read_ddl_file(path: str | Path, dialect: str) -> ParsedSchema:
    """Parse a DDL file; a missing or unreadable file is an InputError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"cannot read: {exc}")]) from None
    return parse_ddl(text, dialect, str(path), name=path.stem)
