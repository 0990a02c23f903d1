"""Every review rule against its fixture file: DDL (and live facts) in, findings out
(tests/fixtures/review/CODE.yaml).

A fixture file lists `fail` cases (the rule must fire; `expect` pins the [table, column]
pairs it fires on) and `pass` cases (the rule must stay silent). `dialect` is postgresql unless
given; `facts` stands for what a live database's catalog would tell (rows, column statistics,
sequences, index scans). Pure: no server is needed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dbarch.parse import parse_ddl
from dbarch.review.context import ReviewContext
from dbarch.review.facts import KINDS, ColumnStats, Facts, SequenceFacts, TableFacts
from dbarch.review.rule import all_rules
from dbarch.review.run import review_schema

FIXTURES = Path(__file__).parent / "fixtures" / "review"
REGISTRY = all_rules()


def _cases() -> list[pytest.param]:
    params = []
    for path in sorted(FIXTURES.glob("R*.yaml")):
        data = YAML(typ="safe").load(path.read_text())
        for outcome in ("fail", "pass"):
            for case in data.get(outcome) or []:
                params.append(pytest.param(data["rule"], outcome, case,
                                           id=f"{data['rule']}-{outcome}-{case['name']}"))
    return params


def _facts(data: dict, dialect: str, ddl_schema: object) -> Facts:
    """Facts from a fixture's `facts` mapping; `index_scans` overlays the model's indexes."""
    tables = {}
    for name, table in (data.get("tables") or {}).items():
        rows = int(table.get("rows", 0))
        columns = {c: ColumnStats(null_frac=s.get("null_frac"), n_distinct=s.get("n_distinct"),
                                  common_values=tuple(s.get("common_values") or ()))
                   for c, s in (table.get("columns") or {}).items()}
        tables[name] = TableFacts(rows=rows, stats_rows=int(table.get("stats_rows", rows)),
                                  reads=table.get("reads"), columns=columns)
    facts = Facts(source="fixture", provides=frozenset(data.get("provides") or KINDS),
                  tables=tables,
                  sequences=[SequenceFacts(**s) for s in data.get("sequences") or []])
    scans = data.get("index_scans")
    if scans is not None:
        model = ReviewContext(ddl_schema, dialect).existing_indexes()
        facts.indexes = [dataclasses.replace(i, idx_scan=scans.get(i.name, 0)) for i in model]
    return facts


def _run(code: str, case: dict) -> list:
    dialect = case.get("dialect", "postgresql")
    parsed = parse_ddl(case["ddl"], dialect)
    facts = _facts(case["facts"], dialect, parsed.schema) if "facts" in case else None
    report = review_schema(parsed, dialect, facts, rules=[REGISTRY.rules[code]])
    assert report.rules_run == [code], report.not_run
    return report.findings


@pytest.mark.parametrize(("code", "outcome", "case"), _cases())
def test_fixture(code: str, outcome: str, case: dict) -> None:
    findings = _run(code, case)
    if outcome == "pass":
        assert findings == [], [f.message for f in findings]
        return
    assert findings, f"{code} did not fire on: {case['ddl']}"
    if "expect" in case:
        assert sorted([f.table, f.column] for f in findings) == sorted(case["expect"])
    if "severity" in case:
        assert {f.severity.label for f in findings} == {case["severity"]}
    for finding in findings:
        assert finding.code == code and finding.message and finding.why
        if "contains" in case:
            text = " ".join(filter(None, [finding.message, finding.fix, finding.note]))
            assert case["contains"] in text, text


@pytest.mark.parametrize("code", sorted(REGISTRY.rules))
def test_rule_is_documented_and_has_fixtures(code: str) -> None:
    rule = REGISTRY.rules[code]
    doc = rule.documentation()
    assert "Why:" in doc and "Instead:" in doc, f"{code} docstring lacks Why:/Instead:"
    assert rule.summary and rule.code.startswith("R")
    if rule.requires:
        assert "Needs:" in doc, f"{code} needs live facts but its page does not say so"
    path = FIXTURES / f"{code}.yaml"
    assert path.is_file(), f"{code} has no fixture file {path}"
    data = YAML(typ="safe").load(path.read_text())
    assert data["rule"] == code
    assert data.get("fail") and data.get("pass"), f"{code} needs fail and pass cases"


def test_live_rules_are_listed_as_not_run_on_ddl() -> None:
    parsed = parse_ddl("CREATE TABLE t (id int PRIMARY KEY);", "postgresql")
    report = review_schema(parsed, "postgresql")
    not_run = {n.code: n.reason for n in report.not_run}
    assert set(not_run) == {c for c, r in REGISTRY.rules.items() if r.requires}
    assert all("live database" in reason for reason in not_run.values())


def test_rules_not_for_a_dialect_say_why() -> None:
    parsed = parse_ddl("CREATE TABLE t (id int PRIMARY KEY);", "mysql")
    report = review_schema(parsed, "mysql")
    not_run = {n.code: n.reason for n in report.not_run}
    assert "InnoDB" in not_run["R102"] and "time zone" in not_run["R107"]
