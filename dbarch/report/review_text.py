"""`dbarch review`'s text output: findings grouped by table, each with why and the fix SQL,
then the rules that could not run on this input and why."""

from __future__ import annotations

from dbarch.review.model import ReviewReport


def render(report: ReviewReport) -> str:
    """The report as plain text, for people."""
    origin = "live database" if report.live else "DDL"
    lines = [f"{report.source} ({report.dialect}, {origin}): {report.tables} tables, "
             f"{len(report.rules_run)} rules run"]
    if report.facts_source:
        lines.append(f"  facts: {report.facts_source}")
    lines.append("")
    current: str | None = "\0"
    for finding in report.findings:
        if finding.table != current:
            current = finding.table
            lines.append(f"{current or 'schema'}")
        lines.append(f"  {finding.code} {finding.name} [{finding.severity.label}] "
                     f"{finding.where}: {finding.message}")
        lines.append(f"      why: {finding.why}")
        if finding.note:
            lines.append(f"      note: {finding.note}")
        if finding.fix:
            lines.append("      fix:")
            lines.extend(f"        {line}" for line in finding.fix.splitlines())
    if report.findings:
        lines.append("")
    if report.not_run:
        lines.append("not run:")
        lines.extend(f"  {n.code} {n.name}: {n.reason}" for n in report.not_run)
        lines.append("")
    if report.emitted_spec:
        lines.append(f"spec written: {report.emitted_spec} (check it with dbarch spec check; "
                     "add the access patterns before dbarch design)")
    for notice in report.notices:
        lines.append(f"notice: {notice}")
    counts = {}
    for finding in report.findings:
        counts[finding.severity.label] = counts.get(finding.severity.label, 0) + 1
    summary = ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "no findings"
    lines.append(f"{len(report.findings)} findings ({summary})" if report.findings
                 else "no findings")
    return "\n".join(lines) + "\n"
