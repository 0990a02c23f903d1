"""The lint rules' machinery; what lint and review rules share is in dbarch/rulebook.py.

A rule is a small class in a file of its own under `dbarch/lint/rules/`: a stable code and
name, a severity, the parse-tree node types it looks at, and a docstring that is published as
its documentation page (`dbarch lint --explain CODE`, `--list-rules`). `@register` puts it in
the registry; the runner dispatches each statement only to the rules that declared its node
type, so adding rules does not slow down statements they ignore.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from dbarch.rulebook import DocumentedRule, Registry, Severity

if TYPE_CHECKING:
    from dbarch.lint.context import Context
    from dbarch.lint.statement import Statement


@dataclass
class Finding:
    """One problem in one statement: what breaks, why, and the safe SQL to write instead."""

    code: str
    name: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    statement: str = ""
    table: str | None = None
    lock: str | None = None
    blocks: str | None = None
    fix: str | None = None
    note: str | None = None
    suppressed: str | None = None  # the recorded reason when a dbarch-ignore comment covers it

    def as_dict(self) -> dict[str, object]:
        """The finding as plain data, for `--format json`."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "statement": self.statement,
            "table": self.table,
            "lock": self.lock,
            "blocks": self.blocks,
            "fix": self.fix,
            "note": self.note,
            "suppressed": self.suppressed,
        }


class Rule(DocumentedRule):
    """Base class of a lint rule; subclasses set the class attributes and write `check`.

    `nodes` lists the node types the rule looks at: libpg_query node names for PostgreSQL
    (`IndexStmt`, `AlterTableStmt`, ...) and sqlglot expression class names for MySQL
    (`Alter`, `Create`, `Command`, ...). `dialects` says which dialects it applies to.
    `scales_with_table` marks rules whose harm grows with the table (rewrites, scans): with
    `--db`, a finding on a small table is lowered to info and says how small.
    `shared_reading` names a reading of each statement the rule shares with other rules
    through a per-statement cache (made once per process): a parallel run deals the rules
    that name the same one to one process.
    """

    nodes: ClassVar[tuple[str, ...]] = ()
    shared_reading: ClassVar[str] = ""

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        """Yield the findings of this rule on one statement (the context is before it runs)."""
        raise NotImplementedError

    def finding(
        self,
        stmt: Statement,
        message: str,
        *,
        table: str | None = None,
        lock: str | None = None,
        fix: str | None = None,
        note: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule located at `stmt`; `lock` is a lock mode from locks.yaml."""
        from dbarch.lint.locks import blocks_text

        return Finding(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            file=stmt.path,
            line=stmt.line,
            column=stmt.column,
            statement=stmt.text,
            table=table,
            lock=lock,
            blocks=blocks_text(lock) if lock else None,
            fix=fix,
            note=note,
        )


REGISTRY = Registry(package="dbarch.lint.rules", required=("code", "name", "nodes"))


def register(rule: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry."""
    REGISTRY.add(rule)
    return rule


def all_rules() -> Registry:
    """The registry with every rule module under dbarch/lint/rules imported."""
    return REGISTRY.load()
