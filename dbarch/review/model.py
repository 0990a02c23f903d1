"""A review's findings and the report around them."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.rulebook import Severity


@dataclass
class ReviewFinding:
    """One problem in the schema: where, what is wrong, why it matters, the SQL that fixes it."""

    code: str
    name: str
    severity: Severity
    table: str | None
    message: str
    why: str
    column: str | None = None
    fix: str | None = None
    note: str | None = None

    @property
    def where(self) -> str:
        if self.table is None:
            return "schema"
        return f"{self.table}.{self.column}" if self.column else self.table

    def as_dict(self) -> dict[str, object]:
        """The finding as plain data, for `--format json`."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.label,
            "table": self.table,
            "column": self.column,
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
            "note": self.note,
        }


@dataclass(frozen=True)
class NotRun:
    """A selected rule that could not run on this input, and why."""

    code: str
    name: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "reason": self.reason}


@dataclass
class ReviewReport:
    """What `dbarch review` prints: the findings, the rules run and not run, and notices."""

    source: str
    dialect: str
    live: bool
    tables: int
    findings: list[ReviewFinding] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    not_run: list[NotRun] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    facts_source: str = ""
    emitted_spec: str | None = None  # the spec file --emit-spec wrote

    def as_dict(self) -> dict[str, object]:
        """The report as plain data, for `--format json`."""
        return {
            "source": self.source,
            "dialect": self.dialect,
            "live": self.live,
            "facts": self.facts_source or None,
            "tables": self.tables,
            "findings": [f.as_dict() for f in self.findings],
            "rules_run": self.rules_run,
            "not_run": [n.as_dict() for n in self.not_run],
            "notices": self.notices,
            "emitted_spec": self.emitted_spec,
            "summary": {s.label: sum(1 for f in self.findings if f.severity == s)
                        for s in Severity},
        }
