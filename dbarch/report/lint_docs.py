"""The lint rules as documentation: the `--list-rules` table and the Markdown reference page.

Every word comes from the registry (each rule's attributes and docstring), so
docs/lint-rules.md is regenerated, never edited: `dbarch lint --list-rules --format markdown`.
"""

from __future__ import annotations

import re

from dbarch.rulebook import DocumentedRule

SECTIONS = ("Why:", "Lock:", "Instead:", "Exempt:", "Versions:")
COLUMNS = ("code", "name", "severity", "default", "dialects", "summary")


def rule_facts(rule: type[DocumentedRule]) -> dict[str, object]:
    """One rule as plain data: what `--list-rules` shows, plus its documentation page."""
    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.label,
        "default": "on" if rule.default_enabled else "off",
        "dialects": sorted(rule.dialects),
        "scales_with_table": rule.scales_with_table,
        "summary": rule.summary,
        "documentation": rule.documentation(),
    }


def rules_table(rules: list[type[DocumentedRule]]) -> str:
    """A plain aligned table, one rule a line, greppable by code or name."""
    rows = [COLUMNS] + [
        (r.code, r.name, r.severity.label, "on" if r.default_enabled else "off",
         ",".join(sorted(r.dialects)), r.summary)
        for r in rules
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)),
                        row[-1]]).rstrip() for row in rows]
    off = sum(1 for r in rules if not r.default_enabled)
    lines.append(f"{len(rules)} rules; {off} off by default (switch on with --enable CODE or "
                 "--enable all); dbarch lint --explain CODE prints a rule's page")
    return "\n".join(lines) + "\n"


def explain(rule: type[DocumentedRule]) -> str:
    """The rule's documentation page as `--explain` prints it, headed by its facts."""
    facts = (f"{rule.code} {rule.name} — {rule.severity.label}, "
             f"{'on' if rule.default_enabled else 'off'} by default, "
             f"{', '.join(sorted(rule.dialects))}")
    return f"{facts}\n\n{rule.documentation()}\n"


def page_markdown(rule: type[DocumentedRule], level: int = 2) -> str:
    """One rule's page in Markdown: facts line, then the docstring with SQL fenced."""
    dialects = ", ".join(sorted(rule.dialects))
    facts = [f"**{rule.severity.label}**", "on by default" if rule.default_enabled
             else "off by default (`--enable " + rule.code + "`)", dialects]
    if rule.scales_with_table:
        facts.append("with `--db`, a small table lowers it to info")
    heading = "#" * level
    return (f"{heading} {rule.code} {rule.name}\n\n{' · '.join(facts)}\n\n"
            f"{docstring_markdown(rule.documentation())}\n")


def docstring_markdown(doc: str) -> str:
    """A rule docstring as Markdown: section labels in bold, indented SQL as fenced blocks."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            while block and not block[-1].strip():
                block.pop()
            indent = min(len(line) - len(line.lstrip()) for line in block if line.strip())
            out.extend(["```sql", *(line[indent:] for line in block), "```"])
            block.clear()

    previous_blank = True
    for line in doc.splitlines():
        indented = line.startswith("    ") and line.strip()
        if block and (indented or not line.strip()):
            block.append(line)
            continue
        if indented and previous_blank:
            block.append(line)
            continue
        if block:
            flush()
            out.append("")
        label = next((s for s in SECTIONS if line.startswith(s)), None)
        out.append(f"**{label}**{line[len(label):]}" if label else line)
        previous_blank = not line.strip()
    flush()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def reference_markdown(rules: list[type[DocumentedRule]], command: str = "lint") -> str:
    """docs/<command>-rules.md: an index table, then every rule's page."""
    lines = [
        f"# dbarch {command} rules",
        "",
        f"Generated from the rule registry by `dbarch {command} --list-rules --format markdown`;",
        f"do not edit by hand. `dbarch {command} --explain CODE` prints one page.",
        "",
        "| code | name | severity | default | dialects | summary |",
        "|---|---|---|---|---|---|",
    ]
    for rule in rules:
        anchor = f"{rule.code}-{rule.name}".lower()
        summary = rule.summary.replace("|", "\\|")
        lines.append(f"| [{rule.code}](#{anchor}) | {rule.name} | {rule.severity.label} | "
                     f"{'on' if rule.default_enabled else 'off'} | "
                     f"{', '.join(sorted(rule.dialects))} | {summary} |")
    lines.append("")
    for rule in rules:
        lines.append(page_markdown(rule))
    return "\n".join(lines).rstrip() + "\n"
