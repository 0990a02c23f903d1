"""The rule machinery shared by `dbarch lint` (and, later, `dbarch review`).

A rule is a small class in a file of its own under `dbarch/lint/rules/`: a stable code and
name, a severity, the parse-tree node types it looks at, and a docstring that is published as
its documentation page (`dbarch lint --explain CODE`, `--list-rules`). `@register` puts it in
the registry; the runner dispatches each statement only to the rules that declared its node
type, so adding rules does not slow down statements they ignore.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from dbarch.lint.context import Context
    from dbarch.lint.statement import Statement


class Severity(enum.IntEnum):
    """How bad a finding is; `--fail-on` compares against this order."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return _LABELS[self]  # an enum's .name is a descriptor: slow once per finding printed

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of {choices}") from None


_LABELS = {severity: severity.name.lower() for severity in Severity}


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


class Rule:
    """Base class of a lint rule; subclasses set the class attributes and write `check`.

    `nodes` lists the node types the rule looks at: libpg_query node names for PostgreSQL
    (`IndexStmt`, `AlterTableStmt`, ...) and sqlglot expression class names for MySQL
    (`Alter`, `Create`, `Command`, ...). `dialects` says which dialects it applies to.
    `scales_with_table` marks rules whose harm grows with the table (rewrites, scans): with
    `--db`, a finding on a small table is lowered to info and says how small.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    nodes: ClassVar[tuple[str, ...]] = ()
    dialects: ClassVar[frozenset[str]] = frozenset({"postgresql"})
    default_enabled: ClassVar[bool] = True
    scales_with_table: ClassVar[bool] = False
    summary: ClassVar[str] = ""

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

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation page: its docstring, dedented."""
        return inspect.cleandoc(cls.__doc__ or "")


@dataclass
class Registry:
    """Every registered rule of one command (lint, review), by code.

    `package` holds the rule modules, one per rule, imported by `load`; `required` names the
    class attributes a rule must set (lint rules declare the node types they look at, review
    rules a summary). Both commands share this, so `find`, `sorted`, `--list-rules` and
    `--explain` behave alike.
    """

    package: str = "dbarch.lint.rules"
    required: tuple[str, ...] = ("code", "name", "nodes")
    rules: dict[str, type[Any]] = field(default_factory=dict)

    def add(self, rule: type[Any]) -> None:
        for attr in self.required:
            if not getattr(rule, attr, None):
                raise TypeError(f"rule {rule.__name__} has no {attr}")
        if not rule.__doc__:
            raise TypeError(f"rule {rule.code} has no docstring (it is the rule's documentation)")
        clash = self.rules.get(rule.code)
        if clash is not None and clash is not rule:
            raise TypeError(f"rule code {rule.code} used by {clash.__name__} and {rule.__name__}")
        self.rules[rule.code] = rule

    def load(self) -> Registry:
        """The registry with every rule module of its package imported."""
        import importlib
        import pkgutil

        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{self.package}.{module.name}")
        return self

    def find(self, key: str) -> type[Rule] | None:
        """A rule by code or by name (case-insensitive)."""
        key_upper = key.upper()
        for rule in self.rules.values():
            if rule.code == key_upper or rule.name == key.lower():
                return rule
        return None

    def sorted(self) -> list[type[Rule]]:
        return [self.rules[code] for code in sorted(self.rules)]


REGISTRY = Registry()


def register(rule: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry."""
    REGISTRY.add(rule)
    return rule


def all_rules() -> Registry:
    """The registry with every rule module under dbarch/lint/rules imported."""
    return REGISTRY.load()
