"""Run the review rules over a schema (and a live database's facts) into a ReviewReport.

Pure: the schema comes parsed or introspected, the facts fetched by
dbarch/engines/review_facts.py; `dbarch.api.review` does the reading.
"""

from __future__ import annotations

from collections.abc import Iterable

from dbarch.errors import InputError, Problem
from dbarch.parse import ParsedSchema
from dbarch.review.context import ReviewContext
from dbarch.review.facts import NEEDS_LIVE, Facts
from dbarch.review.model import NotRun, ReviewReport
from dbarch.review.rule import ReviewRule, all_rules


def select_rules(enable: Iterable[str] = (), disable: Iterable[str] = ()) -> list[type[ReviewRule]]:
    """The rules to run: those on by default, `disable` taken off (`all` for every rule), then
    `enable` added; keys are codes or names, comma-separated lists allowed."""
    registry = all_rules()

    def codes(keys: Iterable[str], option: str) -> list[str]:
        found = []
        for key in (part.strip() for k in keys for part in k.split(",") if part.strip()):
            if key.lower() == "all":
                found.append("all")
                continue
            rule = registry.find(key)
            if rule is None:
                raise InputError([Problem(option, f"no review rule {key!r}",
                                          hint="dbarch review --list-rules shows every rule")])
            found.append(rule.code)
        return found

    on, off = codes(enable, "--enable"), codes(disable, "--disable")
    chosen = {code for code, rule in registry.rules.items() if rule.default_enabled}
    chosen = set() if "all" in off else chosen - set(off)
    chosen |= set(registry.rules) if "all" in on else set(on)
    return [registry.rules[code] for code in sorted(chosen)]


def review_schema(
    parsed: ParsedSchema,
    dialect: str,
    facts: Facts | None = None,
    *,
    source: str = "",
    rules: list[type[ReviewRule]] | None = None,
) -> ReviewReport:
    """Every selected rule's findings on `parsed`; rules that cannot run here are listed with
    the reason (a dialect they do not apply to, live facts a DDL file or the engine lacks)."""
    ctx = ReviewContext(parsed.schema, dialect, facts)
    report = ReviewReport(source=source, dialect=dialect, live=facts is not None,
                          tables=len(parsed.schema.tables),
                          notices=[str(p) for p in parsed.notices],
                          facts_source=facts.source if facts else "")
    for rule_class in select_rules() if rules is None else rules:
        reason = _cannot_run(rule_class, dialect, facts)
        if reason:
            report.not_run.append(NotRun(rule_class.code, rule_class.name, reason))
            continue
        report.rules_run.append(rule_class.code)
        report.findings.extend(rule_class().check(ctx))
    report.findings.sort(key=lambda f: (f.table is not None, f.table or "", -f.severity,
                                        f.code, f.column or ""))
    return report


def _cannot_run(rule: type[ReviewRule], dialect: str, facts: Facts | None) -> str | None:
    if dialect not in rule.dialects:
        return f"not for {dialect}: {rule.not_applicable}" if rule.not_applicable \
            else f"not for {dialect}"
    if not rule.requires:
        return None
    if facts is None:
        return NEEDS_LIVE
    missing = sorted(rule.requires - facts.provides)
    return "; ".join(facts.why_missing(kind) for kind in missing) or None
