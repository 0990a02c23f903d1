"""The base of the MySQL rules that judge a MODIFY/CHANGE against the column it redefines.

L703, L704 and L705 each remember the column shapes the run has defined (every statement,
whatever its kind, is observed after it is judged, so a rule compares with the column as it was
before), pass over tables created earlier in the migration, and look at each modified column of
an ALTER TABLE. What they look for in one modification is all that differs: `judge`.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.mysql import table_of
from dbarch.lint.mysql_shapes import Modification, Shapes, modifications
from dbarch.lint.online_ddl import guarded, written_algorithm
from dbarch.lint.rule import Finding, Rule
from dbarch.lint.statement import Statement


class ModifyColumnRule(Rule):
    """A MySQL rule on the columns an ALTER TABLE redefines; subclasses write `judge`."""

    # Create/Drop/Command are seen only to keep the shapes current.
    nodes = ("Alter", "Create", "Drop", "Command")
    dialects = frozenset({"mysql"})
    scales_with_table = True

    def __init__(self) -> None:
        self.shapes = Shapes()

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        findings = list(self._modifications(stmt, ctx)) if stmt.kind == "Alter" else []
        self.shapes.observe(stmt)
        yield from findings

    def _modifications(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = table_of(stmt)
        if table is None or ctx.created_here(table):
            return
        written = written_algorithm(stmt)
        for mod in modifications(stmt, self.shapes, table):
            yield from self.judge(stmt, table, mod, written)

    def judge(self, stmt: Statement, table: str, mod: Modification,
              written: str | None) -> Iterator[Finding]:
        """Findings for one modified column; `written` is the ALGORITHM= the statement names."""
        raise NotImplementedError


def copy_outcome(stmt: Statement, table: str) -> str:
    """What happens to a change that needs a table copy: refused under a written
    ALGORITHM=INPLACE/INSTANT, else the copy with writes blocked."""
    if guarded(stmt):
        return f"the server refuses ALGORITHM={written_algorithm(stmt)} (ERROR 1846)"
    return f"the table is copied with writes to {table} blocked"
