"""Every lint rule against its fixture file: SQL in, findings out (tests/fixtures/lint/CODE.yaml).

A fixture file lists `fail` cases (the rule must fire; `lines` pins where) and `pass` cases
(the rule must stay silent). `config` sets lint options for a case (pg-version, tool, dialect);
`catalog` gives the live-database numbers a `--db` run would see.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dbarch.lint.catalog import Catalog
from dbarch.lint.config import LintConfig
from dbarch.lint.rule import all_rules
from dbarch.lint.run import lint_text

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
REGISTRY = all_rules()


def _cases() -> list[pytest.param]:
    params = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text())
        for outcome in ("fail", "pass"):
            for case in data.get(outcome) or []:
                params.append(pytest.param(data["rule"], outcome, case,
                                           id=f"{data['rule']}-{outcome}-{case['name']}"))
    return params


def _run(code: str, case: dict) -> list:
    rule = REGISTRY.rules[code]
    options = {"enable": [code], **(case.get("config") or {})}
    options.setdefault("dialect", sorted(rule.dialects)[-1] if len(rule.dialects) == 1
                       else "postgresql")
    config = LintConfig.from_mapping(options)
    catalog = Catalog.model_validate(case["catalog"]) if case.get("catalog") else None
    report = lint_text(case["sql"], config, catalog)
    assert not report.problems, report.problems
    return [f for f in report.findings if f.code == code]


@pytest.mark.parametrize(("code", "outcome", "case"), _cases())
def test_fixture(code: str, outcome: str, case: dict) -> None:
    findings = _run(code, case)
    if outcome == "pass":
        assert findings == [], [f.message for f in findings]
        return
    assert findings, f"{code} did not fire on: {case['sql']}"
    if "lines" in case:
        assert sorted(f.line for f in findings) == case["lines"]
    if "severity" in case:
        assert {f.severity.label for f in findings} == {case["severity"]}
    for finding in findings:
        assert finding.message and finding.file and finding.line >= 1 and finding.column >= 1
        if "contains" in case:
            text = " ".join(filter(None, [finding.message, finding.fix, finding.note]))
            assert case["contains"] in text, text


@pytest.mark.parametrize("code", sorted(REGISTRY.rules))
def test_rule_is_documented_and_has_fixtures(code: str) -> None:
    rule = REGISTRY.rules[code]
    doc = rule.documentation()
    assert "Why:" in doc and "Instead:" in doc, f"{code} docstring lacks Why:/Instead:"
    assert rule.summary, f"{code} has no summary"
    path = FIXTURES / f"{code}.yaml"
    assert path.is_file(), f"{code} has no fixture file {path}"
    data = YAML(typ="safe").load(path.read_text())
    assert data["rule"] == code
    assert data.get("fail") and data.get("pass"), f"{code} needs fail and pass cases"
