"""The text report of `dbarch indexes`: a long list of statements left out (a
pg_stat_statements workload skips hundreds) is summed up by reason, not printed whole."""

from __future__ import annotations

from dbarch.advisor.advise import Advice, IndexAdvice
from dbarch.errors import Problem
from dbarch.report.indexes_text import render


def _report(problems: list[Problem]) -> str:
    return render(IndexAdvice(advice=Advice(problems=problems), seconds=0.1, source="stats"))


def test_a_few_left_out_are_listed_whole() -> None:
    text = _report([Problem("q1", "skipped: COPY is a utility statement")])
    assert "Left out (1):" in text and "q1: skipped: COPY is a utility statement" in text


def test_many_left_out_are_counted_by_reason() -> None:
    problems = [Problem(f"queryid {n}", "skipped: COPY is a utility statement")
                for n in range(40)]
    problems += [Problem(f"queryid {n}", "skipped: reads the system catalog")
                 for n in range(40, 50)]
    text = _report(problems)
    assert "Left out (50):" in text
    assert "40 × COPY is a utility statement" in text
    assert "10 × reads the system catalog" in text
    assert "… and 47 more (--format json lists every one)" in text
    assert "queryid 49" not in text
