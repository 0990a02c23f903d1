"""Lock modes and what they block, read from data/locks.yaml (the knowledge lives there)."""

from __future__ import annotations

from functools import cache
from typing import Any

from dbarch.lint.data_files import data_file

# The PostgreSQL lock modes in strength order, as data/locks.yaml lists them.
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
MYSQL_SHARED = "LOCK=SHARED"
MYSQL_EXCLUSIVE = "LOCK=EXCLUSIVE"
MYSQL_METADATA = "METADATA EXCLUSIVE"


@cache
def lock_table() -> dict[str, dict[str, Any]]:
    """Every lock mode, PostgreSQL and MySQL, by name."""
    data = data_file("locks.yaml")
    return {mode: info for family in data.values() for mode, info in family.items()}


def blocks_text(mode: str) -> str:
    """What the application cannot do while `mode` is held (or queued) on its table."""
    info = lock_table().get(mode)
    if info is None:
        raise KeyError(f"unknown lock mode {mode!r}; add it to dbarch/lint/data/locks.yaml")
    return str(info["blocks"])


def blocks_traffic(mode: str) -> bool:
    """True when the mode blocks application reads or writes (not just other DDL)."""
    return mode in {ACCESS_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, "EXCLUSIVE", MYSQL_SHARED,
                    MYSQL_EXCLUSIVE, MYSQL_METADATA}
