"""Sharing the rules between processes changes the time a lint takes, never its result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dbarch.lint import parallel
from dbarch.lint.config import LintConfig
from dbarch.lint.rule import Finding
from dbarch.lint.run import enabled_rules, lint_paths

FIXTURES = Path(__file__).parent / "fixtures"
linux_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (Linux)")


def _corpus(tmp_path: Path) -> list[str]:
    """Every PostgreSQL statement of the lint corpus, as a few migration files."""
    files = sorted((FIXTURES / "lint_corpus").rglob("*.sql"))
    pg = [f for f in files if "mysql" not in f.as_posix()]
    assert len(pg) > 3
    out = []
    for number, chunk in enumerate([pg[: len(pg) // 2], pg[len(pg) // 2:]]):
        path = tmp_path / f"{number:04d}_part.sql"
        path.write_text("\n".join(f.read_text() for f in chunk))
        out.append(str(path))
    return out


@linux_fork
@pytest.mark.parametrize("enable", [[], ["all"]])
def test_two_and_three_processes_find_what_one_finds(tmp_path: Path, enable: list[str]) -> None:
    paths = _corpus(tmp_path)
    one = lint_paths(paths, LintConfig(enable=enable, jobs=1))
    assert len(one.findings) > 50
    for jobs in (2, 3):
        many = lint_paths(paths, LintConfig(enable=enable, jobs=jobs))
        assert many.as_dict() == one.as_dict()


@linux_fork
def test_findings_encoded_where_they_are_found_come_back_in_order(tmp_path: Path) -> None:
    paths = _corpus(tmp_path)

    def encode(finding: Finding) -> str:
        return f"{finding.code}@{finding.line}:{finding.message}"

    for jobs in (1, 2, 3):
        report = lint_paths(paths, LintConfig(jobs=jobs), encode=encode)
        assert report.encoded == [encode(f) for f in report.findings]
        assert len(report.findings) > 50
    assert lint_paths(paths, LintConfig(jobs=2)).encoded is None


def test_merge_keeps_texts_only_when_every_share_has_them() -> None:
    texts = parallel.Share(keys=[(0, 1, 0, 0), (0, 3, 0, 1)], findings=["b", "d"],  # type: ignore[list-item]
                           encoded=["B", "D"])
    other = parallel.Share(keys=[(0, 0, 1, 0), (0, 2, 1, 1)], findings=["a", "c"],  # type: ignore[list-item]
                           encoded=["A", "C"])
    merged = parallel.merge([texts, other])
    assert (merged.findings, merged.encoded) == (["a", "b", "c", "d"], ["A", "B", "C", "D"])
    other.encoded = None
    assert parallel.merge([texts, other]).encoded is None


@linux_fork
def test_a_failing_child_leaves_its_share_to_the_parent() -> None:
    def run(share: list[object]) -> parallel.Share:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return parallel.Share(keys=[(0, 0, len(share), 0)], findings=[len(share)])  # type: ignore[list-item]

    parent = os.getpid()
    results = parallel.run_shares([[1], [1, 2]], run)  # type: ignore[list-item]
    assert [r.findings for r in results] == [[1], [2]]


def test_shares_are_balanced_and_keep_rule_order() -> None:
    rules = enabled_rules(LintConfig(enable=["all"]))
    shares = parallel.deal(rules, 2)
    assert sorted(r.code for s in shares for r in s) == sorted(r.code for r in rules)
    data = parallel.cost_data()
    costs, together = data["rules"], data["together"]
    assert {r.code for r in rules if "postgresql" in r.dialects} <= set(costs)  # all measured
    groups = parallel.readings(rules)
    assert groups == {"schema-changes": ["L306", "L505"], "statement-locks": ["L601", "L602"]}
    assert set(groups) == set(together)
    weights = [float(data["parent"]), float(data["send"])]  # in a library call, not armed
    for number, share in enumerate(shares):
        codes = {r.code for r in share}
        for reading, group in groups.items():  # rules that share a reading go to one process
            assert set(group) <= codes or not set(group) & codes
            if set(group) <= codes:
                weights[number] += together[reading]
                codes -= set(group)
        weights[number] += sum(costs[code] for code in codes)
        assert [r.code for r in share] == sorted(r.code for r in share)
    assert abs(weights[0] - weights[1]) <= max([*costs.values(), *together.values()])


def test_a_group_with_a_rule_switched_off_is_dealt_rule_by_rule() -> None:
    rules = [r for r in enabled_rules(LintConfig()) if r.code != "L505"]
    units = parallel._units(rules, parallel.cost_data()["together"])
    assert all(len(unit) == 1 for unit, _ in units if unit[0].code == "L306")


def test_small_inputs_and_explicit_choices() -> None:
    assert parallel.choose_jobs(0, 10_000) == 1
    assert parallel.choose_jobs(1, 10**9) == 1
    if hasattr(os, "fork") and parallel.usable_cpus() > 1:
        assert parallel.choose_jobs(0, 10**9) >= 2
    assert parallel.choose_jobs(99, 10) <= parallel.MAX_JOBS


def test_a_share_crosses_the_pipe_whole() -> None:
    from dbarch.lint.rule import Severity

    finding = Finding(code="L101", name="n", severity=Severity.ERROR, message="m", file="f",
                      line=3, column=1, statement="s", fix="x", suppressed="why")
    share = parallel.Share(keys=[(0, 1, 2, 3)], findings=[finding], encoded=["{}"])
    back = parallel.unpack(parallel.pack(share))
    assert back == share and back.findings[0].severity is Severity.ERROR
    odd = parallel.Share(keys=[(0, 0, 0, 0)], findings=[7])  # type: ignore[list-item]
    assert parallel.pack(odd)[:1] == b"P" and parallel.unpack(parallel.pack(odd)) == odd
