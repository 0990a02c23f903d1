"""Which PostgreSQL column type changes need no table rewrite: dbarch/lint/data/type_changes.yaml.

The lint rule L306 and the planner read the same list (it is verified on PostgreSQL 15 by the
lint's engine test), so a type change the linter accepts is one the plan makes in place.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from dbarch.lint.type_changes import type_changes

_OPS = {">=": operator.ge, "==": operator.eq, "<=": operator.le, ">": operator.gt}


@dataclass(frozen=True)
class InPlace:
    """A change PostgreSQL makes without a rewrite, and what it still needs."""

    describe: str
    utc: bool  # only while the session TimeZone is UTC: the plan sets it first
    indexes_rebuilt: bool  # indexes on the column are rebuilt under ACCESS EXCLUSIVE


def _parts(native: str) -> tuple[str, list[int], int]:
    """(catalog type name, modifiers, array dimensions) of a native PostgreSQL type."""
    import pglast

    node = pglast.parse_sql(f"CREATE TABLE x (c {native})")[0].stmt.tableElts[0].typeName
    mods = []
    for m in node.typmods or ():
        value = getattr(m, "val", m)
        if hasattr(value, "ival"):
            mods.append(int(value.ival))
    return node.names[-1].sval, mods, len(node.arrayBounds or ())


def in_place(old: str, new: str, pg_version: int) -> InPlace | None:
    """How `ALTER COLUMN TYPE` from `old` to `new` (native spellings) runs without a rewrite,
    or None when it rewrites the table."""
    try:
        old_name, old_mods, old_dims = _parts(old)
        new_name, new_mods, new_dims = _parts(new)
    except Exception:  # a type pglast cannot read: assume the worst
        return None
    if old_dims or new_dims:
        return None  # arrays always rewrite (ArrayCoerceExpr)
    for change in type_changes()["changes"]:
        if (change["from"], change["to"]) != (old_name, new_name):
            continue
        if float(change.get("since", 0)) > pg_version:
            continue
        if _modifiers_ok(change, old_mods, new_mods):
            return InPlace(describe=str(change.get("describe", "")),
                           utc=change.get("condition") == "utc",
                           indexes_rebuilt=change.get("indexes") == "rebuilt")
    return None


def _modifiers_ok(change: dict[str, Any], old: list[int], new: list[int]) -> bool:
    rule = change.get("modifiers", "any")
    top = change.get("max")
    unlimited = not new or (top is not None and new == [top])
    if rule == "any":
        return True
    if rule == "none":
        return unlimited
    if unlimited:
        return True
    if not old:
        return False
    defaults = list(change.get("defaults") or [])
    old = old + [d for d in defaults[len(old):] if d is not None]
    new = new + [d for d in defaults[len(new):] if d is not None]
    return all(i < len(old) and _OPS[op](new[i], old[i]) for i, op in enumerate(rule)
               if i < len(new))
