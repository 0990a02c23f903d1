"""PostgreSQL identifiers as a fix writes them: quoted where needed, and the default names.

Default names follow PostgreSQL's makeObjectName (src/backend/commands/indexcmds.c) and
ChooseConstraintName (src/backend/catalog/pg_constraint.c): a fix names the constraint or
index PostgreSQL would have created, so later migrations that refer to it still work.
Separate from the text edits because rules that only name things (and no edit) need just this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from dbarch.lint.pg import strings, walk

NAMEDATALEN = 64  # PostgreSQL's identifier limit, including the terminating byte
_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")


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

