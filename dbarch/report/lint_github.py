"""`dbarch lint --format github`: GitHub Actions workflow commands, one annotation a finding.

    ::error file=db/0002.sql,line=3,col=1,title=L101 index-not-concurrent::CREATE INDEX ...

Escaping follows GitHub's toolkit (actions/toolkit, packages/core/src/command.ts): in the
message `%`, CR and LF become %25, %0D and %0A; in a property value `:` and `,` also become
%3A and %2C, since they separate properties. Suppressed findings are not annotated.
"""

from __future__ import annotations

from pathlib import Path

from dbarch.errors import Problem
from dbarch.lint.rule import Finding, Severity
from dbarch.lint.run import LintReport
from dbarch.report.lint_paths import relative_path

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as a message, and `:` and `,` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: object) -> str:
    """One `::level k=v,...::message` line; properties that are None are left out."""
    props = ",".join(f"{key}={escape_property(str(value))}"
                     for key, value in properties.items() if value is not None)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def render(report: LintReport, base: Path | None = None) -> str:
    """Every active finding, syntax error and located notice as a workflow command."""
    lines = [_finding(f, base) for f in report.active]
    lines.extend(_problem(p, "error", base) for p in report.problems)
    lines.extend(_problem(p, "notice", base) for p in report.notices if p.line is not None)
    suppressed = len(report.findings) - len(report.active)
    lines.append(f"dbarch lint: {_count(len(report.active), 'finding')}, {suppressed} suppressed, "
                 f"{_count(len(report.problems), 'error')} in {_count(len(report.files), 'file')}")
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


def _finding(finding: Finding, base: Path | None) -> str:
    body = [finding.message]
    if finding.lock:
        target = f" on {finding.table}" if finding.table else ""
        blocks = f" blocks {finding.blocks}" if finding.blocks else ""
        body.append(f"lock: {finding.lock}{target}{blocks}")
    if finding.fix:
        body.append("fix:\n" + finding.fix.strip("\n"))
    if finding.note:
        body.append(f"note: {finding.note}")
    return command(LEVELS[finding.severity], "\n".join(body),
                   file=relative_path(finding.file, base), line=finding.line,
                   col=finding.column, title=f"{finding.code} {finding.name}")


def _problem(problem: Problem, level: str, base: Path | None) -> str:
    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    return command(level, message, file=relative_path(problem.file, base), line=problem.line,
                   col=problem.column, title="dbarch lint")
