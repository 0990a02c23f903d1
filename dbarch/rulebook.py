"""What lint and review rules have in common: the severity scale, the base class that makes a
rule a named, documented, switchable unit, and the registry that finds rules by code or name.

`dbarch lint` rules (dbarch/lint/rules/) read one statement at a time and `dbarch review`
rules (dbarch/review/rules/) a whole schema, so their `check` methods differ. How they are
named, documented (`--explain`, `--list-rules`, docs/*-rules.md through report/lint_docs.py),
switched on and off, and looked up is the same, and lives here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar


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


class DocumentedRule:
    """The attributes every rule sets or inherits, and its documentation page.

    `code` (L101, R101 …) and `name` are stable; `severity` is the default of its findings;
    `dialects` the SQL dialects it applies to; `default_enabled` False makes it opt-in;
    `scales_with_table` marks a rule whose harm grows with the table (lint lowers such a
    finding on a small table when it sees the live catalog); `summary` is the one line the
    rule tables show. The class docstring is the page.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    dialects: ClassVar[frozenset[str]] = frozenset({"postgresql"})
    default_enabled: ClassVar[bool] = True
    scales_with_table: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    @classmethod
    def documentation(cls) -> str:
        """The rule's documentation page: its docstring, dedented."""
        import inspect  # only the documentation commands need it

        return inspect.cleandoc(cls.__doc__ or "")


@dataclass
class Registry:
    """Every registered rule of one command (lint, review), by code.

    `package` holds the rule modules, one per rule, imported by `load`; `required` names the
    class attributes a rule must set (lint rules declare the node types they look at, review
    rules a summary). Both commands share this, so `find`, `sorted`, `--list-rules` and
    `--explain` behave alike.
    """

    package: str
    required: tuple[str, ...]
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

    def find(self, key: str) -> type[Any] | None:
        """A rule by code or by name (case-insensitive)."""
        key_upper = key.upper()
        for rule in self.rules.values():
            if rule.code == key_upper or rule.name == key.lower():
                return rule
        return None

    def sorted(self) -> list[type[Any]]:
        return [self.rules[code] for code in sorted(self.rules)]
