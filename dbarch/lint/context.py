"""What rules know about the migration around a statement.

The runner walks a file statement by statement; before each one, rules see the context as it
stands *before* that statement runs: which tables and indexes the migration created earlier
(those are exempt from lock rules: nobody else uses them yet), whether a transaction is open
and since when, whether lock_timeout/statement_timeout are set, which constraints were added
NOT VALID in the open transaction, the PostgreSQL version, and what the live catalog says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from dbarch.lint.data_files import data_file
from dbarch.lint.statement import POSTGRESQL, Statement

if TYPE_CHECKING:  # the catalog (pydantic) is loaded only when --db gives one
    from dbarch.lint.catalog import Catalog, TableStats


@cache
def migration_tools() -> dict[str, dict[str, Any]]:
    """The migration tools dbarch knows, from data/tools.yaml."""
    return data_file("tools.yaml")


@dataclass
class Context:
    """The state of one migration file as the runner walks it."""

    dialect: str = POSTGRESQL
    pg_version: int = 15
    tool: str = "plain"
    catalog: Catalog | None = None
    created_tables: set[str] = field(default_factory=set)
    created_indexes: set[str] = field(default_factory=set)
    created_columns: set[tuple[str, str]] = field(default_factory=set)
    created_constraints: dict[str, str] = field(default_factory=dict)  # name -> table, whole file
    created_schemas: set[str] = field(default_factory=set)
    created_types: set[str] = field(default_factory=set)
    local_settings: set[str] = field(default_factory=set)  # SET LOCAL: ends with the transaction
    in_transaction: bool = False
    explicit_transaction: bool = False
    lock_timeout: bool = False
    statement_timeout: bool = False
    # constraint names added in the open transaction, with their table
    added_in_transaction: dict[str, str] = field(default_factory=dict)
    # (table, column) pairs guarded by a validated CHECK (col IS NOT NULL) added earlier
    not_null_checked: set[tuple[str, str]] = field(default_factory=set)
    # NOT VALID CHECK (col IS NOT NULL) constraints by name, until VALIDATE CONSTRAINT
    pending_not_null: dict[str, tuple[str, str]] = field(default_factory=dict)
    transaction_statements: int = 0
    statements: int = 0  # in the whole file: decides golang-migrate's implicit transaction

    def __post_init__(self) -> None:
        tool = migration_tools()[self.tool]
        wraps = bool(tool["wraps"])
        if tool.get("single_statement_unwrapped") and self.statements == 1:
            wraps = False
        self.in_transaction = wraps

    # --- questions rules ask ------------------------------------------------------------------
    def created_here(self, table: str | None) -> bool:
        """True when this migration created the table earlier: nobody else can be using it."""
        return table is not None and _bare(table) in self.created_tables

    def stats(self, table: str | None) -> TableStats | None:
        """The live catalog's numbers for a table, when `--db` was given and it knows it."""
        if self.catalog is None or table is None:
            return None
        return self.catalog.table(table)

    def has_not_null_check(self, table: str, column: str) -> bool:
        """A validated CHECK (column IS NOT NULL) exists, here or in the live catalog."""
        if (_bare(table), column.lower()) in self.not_null_checked:
            return True
        stats = self.stats(table)
        return stats is not None and column.lower() in stats.not_null_checked

    def has_timeouts(self) -> bool:
        """lock_timeout is set: a blocked DDL gives up instead of queueing traffic behind it."""
        return self.lock_timeout

    # --- the walk -----------------------------------------------------------------------------
    def advance(self, stmt: Statement) -> None:
        """Update the state with the effects of `stmt` once the rules have seen it."""
        if self.in_transaction:
            self.transaction_statements += 1
        step = _ADVANCE.get(stmt.dialect) or _advance_for(stmt.dialect)
        step(self, stmt)

    def begin(self) -> None:
        self.in_transaction = True
        self.explicit_transaction = True
        self.transaction_statements = 0
        self.added_in_transaction.clear()

    def created_type_here(self, name: str) -> bool:
        """True when this migration created the type (an enum) earlier."""
        return _bare(name) in self.created_types

    def end(self) -> None:
        for setting in self.local_settings:
            setattr(self, setting, False)
        self.local_settings.clear()
        self.in_transaction = False
        self.explicit_transaction = False
        self.transaction_statements = 0
        self.added_in_transaction.clear()


# dialect → its advance function, imported on first use (an import statement per statement,
# 20,000 times on a long history, costs more than the lookup)
_ADVANCE: dict[str, Callable[[Context, Statement], None]] = {}


def _advance_for(dialect: str) -> Callable[[Context, Statement], None]:
    if dialect == POSTGRESQL:
        from dbarch.lint.pg import advance_postgresql as step
    else:
        from dbarch.lint.mysql import advance_mysql as step
    _ADVANCE[dialect] = step
    return step


def _bare(name: str) -> str:
    return name.lower().rsplit(".", 1)[-1]
