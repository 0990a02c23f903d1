"""`dbarch lint --format sarif`: a SARIF 2.1.0 log for GitHub code scanning.

What GitHub reads (docs.github.com, "SARIF support for code scanning"): `version`, `runs[]`,
`tool.driver.name` and `rules[]` (id, name, shortDescription, fullDescription, help,
defaultConfiguration.level), and per result `ruleId`, `level`, `message.text` and one
`physicalLocation` whose `artifactLocation.uri` is relative to the repository root, with
`region.startLine`. A finding silenced by `-- dbarch-ignore` is kept as a result with an
`inSource` suppression carrying the recorded reason, so the alert shows as dismissed with why.
`partialFingerprints` hash the rule, file and statement text, so an alert follows its statement
when lines above it move.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dbarch import __version__
from dbarch.errors import Problem
from dbarch.lint.rule import Finding, Rule, Severity, all_rules
from dbarch.lint.run import LintReport
from dbarch.report.lint_docs import docstring_markdown
from dbarch.report.lint_paths import relative_path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: LintReport, base: Path | None = None) -> dict[str, Any]:
    """The report as one SARIF run; every registered rule is described in the driver."""
    rules = all_rules().sorted()
    index = {rule.code: position for position, rule in enumerate(rules)}
    results = [_result(f, index, base) for f in report.findings]
    seen: dict[str, int] = {}
    for result in results:
        # The same statement twice in a file (two identical backfills) needs two fingerprints.
        key = result["partialFingerprints"]["dbarchStatement/v1"]
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            result["partialFingerprints"]["dbarchStatement/v1"] = f"{key}:{seen[key]}"
    notifications = [_notification(p, "error", base) for p in report.problems]
    notifications += [_notification(p, "note", base) for p in report.notices]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "dbarch",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_rule(rule) for rule in rules],
        }},
        "automationDetails": {"id": "dbarch-lint/"},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [{
            "executionSuccessful": not report.problems,
            "toolExecutionNotifications": notifications,
        }],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rule: type[Rule]) -> dict[str, Any]:
    doc = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary or doc.splitlines()[0]},
        "fullDescription": {"text": doc.splitlines()[0] if doc else rule.summary},
        "help": {"text": doc, "markdown": docstring_markdown(doc)},
        "defaultConfiguration": {"level": LEVELS[rule.severity],
                                 "enabled": rule.default_enabled},
        "properties": {"tags": ["migration", *sorted(rule.dialects)]},
    }


def _result(finding: Finding, index: dict[str, int], base: Path | None) -> dict[str, Any]:
    text = finding.message
    if finding.lock:
        target = f" on {finding.table}" if finding.table else ""
        blocks = f" blocks {finding.blocks}" if finding.blocks else ""
        text += f"\nLock: {finding.lock}{target}{blocks}."
    if finding.note:
        text += f"\nNote: {finding.note}"
    if finding.fix:
        text += f"\nFix:\n{finding.fix.strip()}"
    uri = _uri(finding.file, base)
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [_location(uri, finding.line, finding.column)],
        "partialFingerprints": {"dbarchStatement/v1": _fingerprint(finding, uri)},
        "properties": {k: v for k, v in {
            "lock": finding.lock, "table": finding.table, "fix": finding.fix,
            "note": finding.note}.items() if v is not None},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.suppressed is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    return result


def _notification(problem: Problem, level: str, base: Path | None) -> dict[str, Any]:
    note: dict[str, Any] = {"level": level, "message": {"text": problem.message}}
    if problem.line is not None:
        note["locations"] = [_location(_uri(problem.file, base), problem.line,
                                       problem.column or 1)]
    return note


def _location(uri: str, line: int, column: int) -> dict[str, Any]:
    return {"physicalLocation": {
        "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": line, "startColumn": column},
    }}


def _uri(file: str, base: Path | None) -> str:
    """A relative URI reference: forward slashes, percent-encoded (a space is %20)."""
    return quote(relative_path(file, base), safe="/-._~")


def _fingerprint(finding: Finding, uri: str) -> str:
    statement = re.sub(r"\s+", " ", finding.statement).strip().lower()
    digest = hashlib.sha256(f"{finding.code}\0{uri}\0{statement}".encode()).hexdigest()
    return digest[:32]
