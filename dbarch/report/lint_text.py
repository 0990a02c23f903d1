"""`dbarch lint` for people: compiler-style lines, then the lock, the fix and the note.

    migrations/0002_orders.sql:3:1: error L101 index-not-concurrent: CREATE INDEX ... blocks writes
      lock: SHARE on orders blocks INSERT, UPDATE and DELETE on the table (reads continue)
      fix:
        CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);

Colour only when the output is a terminal and NO_COLOR is not set (https://no-color.org);
never when piped, so the lines stay greppable and `file:line:col` stays clickable.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import IO

from rich.console import Console
from rich.text import Text

from dbarch.errors import Problem
from dbarch.lint.rule import Finding, Severity
from dbarch.lint.run import LintReport

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def use_colour(stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    """True when `stream` is a terminal and the environment does not ask for no colour."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render(report: LintReport, floor: Severity, *, colour: bool = False) -> str:
    """The whole report as text: diagnostics in file order, suppressed findings, a summary."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=colour, color_system="standard" if colour
                      else None, no_color=not colour, highlight=False, soft_wrap=True,
                      emoji=False, markup=False)
    for notice in report.notices:
        if notice.line is None:
            console.print(Text.assemble((f"{notice.file}: ", "dim"), notice.message))
    order = {name: position for position, name in enumerate(report.files)}
    entries: list[tuple[tuple[int, int, int, str], Finding | Problem, str]] = []
    for finding in report.active:
        key = (order.get(finding.file, len(order)), finding.line, finding.column, finding.code)
        entries.append((key, finding, "finding"))
    for problem in report.problems:
        key = (order.get(problem.file, len(order)), problem.line or 0, problem.column or 0, "")
        entries.append((key, problem, "error"))
    for notice in report.notices:
        if notice.line is not None:
            key = (order.get(notice.file, len(order)), notice.line, notice.column or 0, "~")
            entries.append((key, notice, "notice"))
    for _, item, kind in sorted(entries, key=lambda entry: entry[0]):
        if isinstance(item, Finding):
            _finding(console, item)
        else:
            _problem(console, item, kind)
    suppressed = [f for f in report.findings if f.suppressed is not None]
    if suppressed:
        console.print(Text(f"suppressed by dbarch-ignore ({len(suppressed)}):", style="dim"))
        for finding in suppressed:
            console.print(Text.assemble(
                "  ", (_where(finding.file, finding.line, finding.column), "bold"), ": ",
                (f"{finding.severity.label} ", STYLES[finding.severity]),
                (finding.code, "bold"), f" {finding.name}: ",
                ("reason: ", "dim"), finding.suppressed or "",
            ))
    console.print(_summary(report, floor))
    return buffer.getvalue()


def _where(file: str, line: int | None, column: int | None) -> str:
    text = file
    if line is not None:
        text += f":{line}"
        if column is not None:
            text += f":{column}"
    return text


def _finding(console: Console, finding: Finding) -> None:
    style = STYLES[finding.severity]
    console.print(Text.assemble(
        (_where(finding.file, finding.line, finding.column), "bold"), ": ",
        (finding.severity.label, style), " ", (finding.code, "bold"), f" {finding.name}: ",
        finding.message,
    ))
    if finding.lock:
        target = f" on {finding.table}" if finding.table else ""
        blocks = f" blocks {finding.blocks}" if finding.blocks else ""
        console.print(Text.assemble("  ", ("lock: ", "dim"), (finding.lock, "magenta"),
                                    f"{target}{blocks}"))
    if finding.fix:
        console.print(Text.assemble("  ", ("fix:", "dim")))
        for line in finding.fix.strip("\n").splitlines():
            console.print(Text(f"    {line}", style="green"))
    if finding.note:
        console.print(Text.assemble("  ", ("note: ", "dim"), finding.note))


def _problem(console: Console, problem: Problem, kind: str) -> None:
    style = "bold red" if kind == "error" else "blue"
    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    console.print(Text.assemble(
        (_where(problem.file, problem.line, problem.column), "bold"), ": ", (kind, style), ": ",
        message,
    ))


def _summary(report: LintReport, floor: Severity) -> Text:
    files, statements = len(report.files), report.statements
    scope = (f"{statements} statement{'s' * (statements != 1)} in {files} "
             f"file{'s' * (files != 1)}, {len(report.rules)} rule{'s' * (len(report.rules) != 1)}")
    active = report.active
    parts = []
    for severity in sorted(Severity, reverse=True):
        count = sum(1 for f in active if f.severity == severity)
        if count:
            noun = severity.label if severity == Severity.INFO or count == 1 else (
                severity.label + "s")
            parts.append(f"{count} {noun}")
    suppressed = len(report.findings) - len(active)
    tail = []
    if suppressed:
        tail.append(f"{suppressed} suppressed")
    if report.problems:
        errors = len(report.problems)
        tail.append(f"{errors} syntax or input error{'s' * (errors != 1)}")
    failing = len(report.failing(floor))
    if not parts:
        head = Text("no findings", style="bold green")
    else:
        head = Text(", ".join(parts), style="bold red" if failing else "bold yellow")
        head.append(f" ({failing} at or above {floor.label})", style="")
    return Text.assemble(head, f" — {scope}", *(f"; {t}" for t in tail))
