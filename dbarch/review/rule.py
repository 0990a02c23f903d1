"""The review rules' machinery; what lint and review rules share is in dbarch/rulebook.py.

A rule is a small class in a file of its own under dbarch/review/rules/: a code in the R range,
a name, a severity, the dialects it applies to, the kinds of live fact it needs (`requires`,
from dbarch.review.facts), and a docstring published as its documentation page
(`dbarch review --explain CODE`, `--list-rules`). `check` reads a ReviewContext (the schema,
and the facts when the input is a live database) and yields findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from dbarch.review.model import ReviewFinding
from dbarch.rulebook import DocumentedRule, Registry, Severity

if TYPE_CHECKING:
    from dbarch.review.context import ReviewContext

ALL_DIALECTS = frozenset({"postgresql", "mysql", "sqlite"})


class ReviewRule(DocumentedRule):
    """Base class of a review rule; subclasses set the class attributes and write `check`."""

    dialects: ClassVar[frozenset[str]] = ALL_DIALECTS
    requires: ClassVar[frozenset[str]] = frozenset()
    # Why the rule does not apply to a dialect it leaves out, shown when it is not run.
    not_applicable: ClassVar[str] = ""

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        """Yield the findings of this rule on the whole schema."""
        raise NotImplementedError

    def finding(
        self,
        table: str | None,
        message: str,
        why: str,
        *,
        column: str | None = None,
        fix: str | None = None,
        note: str | None = None,
        severity: Severity | None = None,
    ) -> ReviewFinding:
        """A finding of this rule on `table` (None: the schema as a whole)."""
        return ReviewFinding(code=self.code, name=self.name, severity=severity or self.severity,
                             table=table, column=column, message=message, why=why, fix=fix,
                             note=note)


REGISTRY = Registry(package="dbarch.review.rules", required=("code", "name", "summary"))


def register(rule: type[ReviewRule]) -> type[ReviewRule]:
    """Class decorator: add a review rule to the registry."""
    REGISTRY.add(rule)
    return rule


def all_rules() -> Registry:
    """The registry with every rule module under dbarch/review/rules imported."""
    return REGISTRY.load()
