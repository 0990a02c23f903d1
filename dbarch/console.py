"""Terminal rendering of results with rich: decisions, verification, problems.

Documents (Markdown, ADRs) are rendered by `dbarch.report`; this module only shows results on
a terminal, so the CLI stays a thin layer of argument parsing.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dbarch.errors import Problem
from dbarch.select.model import Decisions
from dbarch.verify.model import AdvisorCheck, VerifyReport


def show_problems(console: Console, problems: list[Problem]) -> None:
    """Each problem on its own line, located: `file:line:col: path: message (hint)`."""
    for problem in problems:
        console.print(f"[bold red]error[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    noun = "problem" if len(problems) == 1 else "problems"
    console.print(f"{len(problems)} {noun} found", highlight=False)


def show_decisions(console: Console, decisions: Decisions) -> None:
    """The database per part of the workload, its reasons and what was rejected."""
    table = Table(title=f"{decisions.system}: recommended databases", show_lines=True)
    table.add_column("part")
    table.add_column("database")
    table.add_column("entities")
    table.add_column("why")
    table.add_column("rejected")
    for part in decisions.parts:
        table.add_row(
            part.part,
            f"{part.product_name}\n({part.paradigm.value})",
            ", ".join(part.entities),
            escape("\n".join(f"• {r}" for r in part.reasons)),
            escape("\n".join(f"• {r.product}: {r.reason}" for r in part.rejected)),
        )
    console.print(table)
    for part in decisions.parts:
        if part.tradeoff:
            console.print(
                f"[bold]{part.part}[/] trade-off: {escape(part.tradeoff)}", highlight=False
            )
    for note in decisions.notes:
        console.print(f"note: {escape(note)}", highlight=False)


def show_parts(console: Console, decisions: Decisions) -> None:
    """One line per part: its database and entities (`dbarch recommend` gives the reasons)."""
    for part in decisions.parts:
        role = "primary" if part is decisions.parts[0] else (
            f"projection of {part.projection_of}" if part.projection_of else "split out")
        console.print(
            f"[bold]{escape(part.part)}[/]: {escape(part.product_name)} "
            f"({part.paradigm.value}, {role}) — {escape(', '.join(part.entities))}",
            highlight=False,
        )


def show_verification(console: Console, report: VerifyReport) -> None:
    """Per engine: did the DDL apply, and per access pattern the plan's access path."""
    for engine in report.engines:
        status = "[green]ok[/]" if engine.ok else "[red]FAILED[/]"
        console.print(
            f"[bold]{engine.engine}[/] {engine.version} at {engine.url}: {status} — "
            f"{engine.tables} tables, {engine.rows_loaded} sample rows",
            highlight=False,
        )
        if engine.error:
            console.print(f"  [red]{escape(engine.error)}[/]", highlight=False)
        if not engine.checks:
            continue
        table = Table(show_edge=False, pad_edge=False)
        table.add_column("pattern")
        table.add_column("designed index")
        table.add_column("plan")
        table.add_column("cost", justify="right")
        table.add_column("")
        for check in engine.checks:
            table.add_row(
                check.pattern,
                check.expected_index or "—",
                escape(check.access_path)
                + (f"\n[red]{escape(check.problem)}[/]" if check.problem else ""),
                f"{check.cost:.2f}" if check.cost is not None else "—",
                "[green]✓[/]" if check.ok else "[red]✗[/]",
            )
        console.print(table)
        if engine.advisor is not None:
            show_advisor(console, engine.advisor)
    for part in report.parts:
        if not part.ran:
            console.print(f"[bold]{escape(part.part)}[/] ({part.paradigm}): [yellow]"
                          f"{escape(part.note)}[/]", highlight=False)
            continue
        status = "[green]ok[/]" if part.ok else "[red]FAILED[/]"
        console.print(f"[bold]{escape(part.part)}[/] ({part.paradigm}) on {escape(part.engine)}:"
                      f" {status}", highlight=False)
        if part.error:
            console.print(f"  [red]{escape(part.error)}[/]", highlight=False)
        for check in part.checks:
            mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
            console.print(f"  {mark} {escape(check.name)}"
                          + (f": {escape(check.detail)}" if check.detail else ""),
                          highlight=False)


def show_advisor(console: Console, advisor: AdvisorCheck) -> None:
    """The index advisor's word on the designed indexes: nothing to add, or the CREATE INDEX
    lines with the patterns each serves; then the designed indexes no pattern's plan reads."""
    if advisor.note:
        console.print(f"  index advisor: [yellow]{escape(advisor.note)}[/]", highlight=False)
        return
    facts = (f"{advisor.patterns} patterns on the sample rows, {advisor.whatif_calls} what-if "
             "calls")
    if not advisor.add:
        console.print(f"  index advisor ({facts}): the designed indexes leave nothing to add",
                      highlight=False)
    else:
        noun = "index" if len(advisor.add) == 1 else "indexes"
        console.print(
            f"  index advisor ({facts}): would add {len(advisor.add)} {noun}, workload cost "
            f"{advisor.cost_before:.2f} → {advisor.cost_after:.2f} "
            f"(×{advisor.relative_cost:.3f})", highlight=False)
        for index in advisor.add:
            console.print(f"    {escape(index.statement)}", highlight=False, soft_wrap=True)
            served = ", ".join(f"{p.pattern} {p.cost_before:.2f} → {p.cost_after:.2f}"
                               for p in index.patterns)
            console.print(f"      serves {escape(served)}", highlight=False)
    if advisor.idle:
        idle = ", ".join(f"{i.index} ({i.reason})" for i in advisor.idle)
        console.print(f"  designed indexes no pattern's plan reads: {escape(idle)}",
                      highlight=False)
    for notice in advisor.notices:
        console.print(f"  [yellow]{escape(notice)}[/]", highlight=False)


def show_written(console: Console, out: Path, paths: list[Path]) -> None:
    """The files a command wrote, relative to its output folder."""
    console.print(f"wrote {len(paths)} files to {out}/", highlight=False)
    for path in paths:
        console.print(f"  {path.relative_to(out)}", highlight=False)

