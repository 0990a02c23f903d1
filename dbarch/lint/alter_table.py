"""The subcommands of a PostgreSQL ALTER TABLE, read once per statement for every rule.

About twenty rules look at each ALTER TABLE, and most of them care about one or two
subcommand types (AT_AddColumn, AT_DropColumn, AT_SetNotNull …) or one constraint type that
the statement usually does not have. Asking for the statement's set of subtypes (or of the
constraint types it adds) first lets them return at once instead of each walking the commands
again. The runner hands one statement to every rule before it moves on, so remembering the
last statement asked about is enough.
"""

from __future__ import annotations

from typing import Any

from dbarch.lint.statement import Statement

Node = dict[str, Any]

# The subcommands that can add a constraint: ADD CONSTRAINT, or ADD COLUMN with one on it.
ADDING_CONSTRAINTS = frozenset({"AT_AddConstraint", "AT_AddColumn"})


class _Facts:
    """What one ALTER TABLE holds; the constraint part is read only when a rule asks."""

    __slots__ = ("added", "commands", "contypes", "stmt", "subtypes")

    def __init__(self, stmt: Statement | None) -> None:
        self.stmt = stmt
        items = stmt.node.get("cmds") or () if stmt is not None else ()
        # Nearly every ALTER TABLE holds one subcommand: that case builds no comprehension (each
        # is a function call of its own), half the cost of this reading on a long history.
        if len(items) == 1 and "AlterTableCmd" in items[0]:
            cmd = items[0]["AlterTableCmd"]
            self.commands: tuple[Node, ...] = (cmd,)
            self.subtypes = frozenset((cmd.get("subtype", ""),))
        else:
            self.commands = tuple(
                [item["AlterTableCmd"] for item in items if "AlterTableCmd" in item])
            self.subtypes = frozenset([cmd.get("subtype", "") for cmd in self.commands])
        self.added: tuple[tuple[Node, Node | None], ...] | None = None
        self.contypes: frozenset[str] = frozenset()

    def read_added(self) -> None:
        added: list[tuple[Node, Node | None]] = []
        contypes: set[str] = set()  # gathered on the way: most ALTERs add none, or one or two
        if not self.subtypes.isdisjoint(ADDING_CONSTRAINTS):
            for cmd in self.commands:
                definition = cmd.get("def") or {}
                subtype = cmd.get("subtype")
                if subtype == "AT_AddConstraint" and "Constraint" in definition:
                    constraint = definition["Constraint"]
                    added.append((constraint, None))
                    contypes.add(constraint.get("contype", ""))
                elif subtype == "AT_AddColumn" and "ColumnDef" in definition:
                    column = definition["ColumnDef"]
                    for entry in column.get("constraints") or ():
                        if "Constraint" in entry:
                            constraint = entry["Constraint"]
                            added.append((constraint, column))
                            contypes.add(constraint.get("contype", ""))
        self.added = tuple(added)
        self.contypes = frozenset(contypes)


_last = _Facts(None)


def _remember(stmt: Statement) -> _Facts:
    global _last
    _last = _Facts(stmt)
    return _last


# Each accessor checks the memo itself: they run some hundred thousand times per 20,000
# statements, and a second function call per question is measurable.
def commands(stmt: Statement) -> tuple[Node, ...]:
    """The AlterTableCmd bodies of an AlterTableStmt, in order."""
    facts = _last if stmt is _last.stmt else _remember(stmt)
    return facts.commands


def subtypes(stmt: Statement) -> frozenset[str]:
    """The subcommand types (`AT_AddColumn`, …) an AlterTableStmt holds."""
    facts = _last if stmt is _last.stmt else _remember(stmt)
    return facts.subtypes


def added_constraints(stmt: Statement) -> tuple[tuple[Node, Node | None], ...]:
    """(Constraint, ColumnDef or None) for each constraint the ALTER TABLE adds, whether by
    ADD CONSTRAINT (None) or written on a column it adds (that column's definition)."""
    facts = _last if stmt is _last.stmt else _remember(stmt)
    if facts.added is None:
        facts.read_added()
    return facts.added or ()


def added_contypes(stmt: Statement) -> frozenset[str]:
    """The constraint types (`CONSTR_FOREIGN`, `CONSTR_NOTNULL`, …) the ALTER TABLE adds."""
    facts = _last if stmt is _last.stmt else _remember(stmt)
    if facts.added is None:
        facts.read_added()
    return facts.contypes
