"""The lint renderers on reports built by hand: text (exact lines), github, SARIF, Markdown.

The reports here hold findings of every severity, a multi-line fix, a suppressed finding, a
syntax error and notices, so each renderer is checked on all it must show without depending on
which rules exist yet; tests/test_cli_lint.py runs the same renderers on real lint runs.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from dbarch.errors import Problem
from dbarch.lint.rule import Finding, Severity, all_rules
from dbarch.lint.run import LintReport
from dbarch.report import lint_github, lint_sarif, lint_text
from dbarch.report.lint_docs import docstring_markdown, reference_markdown

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _finding(**fields: object) -> Finding:
    base: dict[str, object] = {
        "code": "L101", "name": "index-not-concurrent", "severity": Severity.ERROR,
        "message": "CREATE INDEX i on orders without CONCURRENTLY blocks writes",
        "file": "db/0002_orders.sql", "line": 3, "column": 1,
        "statement": "CREATE INDEX i ON orders (user_id)", "table": "orders",
        "lock": "SHARE", "blocks": "INSERT, UPDATE and DELETE on the table (reads continue)",
        "fix": "CREATE INDEX CONCURRENTLY i ON orders (user_id);",
    }
    base.update(fields)
    return Finding(**base)  # type: ignore[arg-type]


def _report() -> LintReport:
    return LintReport(
        files=["db/0001_init.sql", "db/0002_orders.sql"],
        statements=9,
        rules=["L101", "L301"],
        findings=[
            _finding(),
            _finding(code="L301", name="set-not-null", severity=Severity.WARNING,
                     message="SET NOT NULL on orders.paid scans the whole table",
                     file="db/0001_init.sql", line=7, column=3, lock="ACCESS EXCLUSIVE",
                     blocks="every read and write on the table, SELECT included",
                     statement="ALTER TABLE orders ALTER COLUMN paid SET NOT NULL",
                     fix="ALTER TABLE orders ADD CONSTRAINT paid_nn CHECK (paid IS NOT NULL) "
                         "NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT paid_nn;",
                     note="orders holds ~300,000 rows, 12.5 MB on the server"),
            _finding(severity=Severity.INFO, line=9, lock=None, blocks=None, fix=None,
                     message="a small table", note="orders is small"),
            _finding(line=12, suppressed="orders is empty until the launch"),
        ],
        problems=[Problem("db/0002_orders.sql", 'syntax error: at or near "WHERE"', line=5,
                          column=13)],
        notices=[Problem("postgresql://app@db/shop", "postgresql 15, 2 tables"),
                 Problem("db/0002_orders.sql", "dbarch-ignore without a reason suppresses "
                         "nothing", line=11, column=1, hint="write the reason")],
    )


def test_text_reads_like_a_compiler_in_file_order() -> None:
    text = lint_text.render(_report(), Severity.WARNING)
    assert text.splitlines() == [
        "postgresql://app@db/shop: postgresql 15, 2 tables",
        "db/0001_init.sql:7:3: warning L301 set-not-null: SET NOT NULL on orders.paid scans the "
        "whole table",
        "  lock: ACCESS EXCLUSIVE on orders blocks every read and write on the table, SELECT "
        "included",
        "  fix:",
        "    ALTER TABLE orders ADD CONSTRAINT paid_nn CHECK (paid IS NOT NULL) NOT VALID;",
        "    ALTER TABLE orders VALIDATE CONSTRAINT paid_nn;",
        "  note: orders holds ~300,000 rows, 12.5 MB on the server",
        "db/0002_orders.sql:3:1: error L101 index-not-concurrent: CREATE INDEX i on orders "
        "without CONCURRENTLY blocks writes",
        "  lock: SHARE on orders blocks INSERT, UPDATE and DELETE on the table (reads continue)",
        "  fix:",
        "    CREATE INDEX CONCURRENTLY i ON orders (user_id);",
        'db/0002_orders.sql:5:13: error: syntax error: at or near "WHERE"',
        "db/0002_orders.sql:9:1: info L101 index-not-concurrent: a small table",
        "  note: orders is small",
        "db/0002_orders.sql:11:1: notice: dbarch-ignore without a reason suppresses nothing "
        "(write the reason)",
        "suppressed by dbarch-ignore (1):",
        "  db/0002_orders.sql:12:1: error L101 index-not-concurrent: reason: orders is empty "
        "until the launch",
        "1 error, 1 warning, 1 info (2 at or above warning) — 9 statements in 2 files, 2 rules; "
        "1 suppressed; 1 syntax or input error",
    ]


def test_text_summary_counts_against_the_fail_on_floor() -> None:
    text = lint_text.render(_report(), Severity.ERROR)
    assert "(1 at or above error)" in text.splitlines()[-1]
    clean = lint_text.render(LintReport(files=["a.sql"], statements=1, rules=["L101"]),
                             Severity.WARNING)
    assert clean == "no findings — 1 statement in 1 file, 1 rule\n"


def test_colour_only_changes_escapes_not_the_text() -> None:
    report = _report()
    plain = lint_text.render(report, Severity.WARNING, colour=False)
    coloured = lint_text.render(report, Severity.WARNING, colour=True)
    assert not ANSI.search(plain)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured) == plain


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colour_needs_a_terminal_and_no_NO_COLOR() -> None:
    assert lint_text.use_colour(_Stream(tty=True), {}) is True
    assert lint_text.use_colour(_Stream(tty=False), {}) is False
    assert lint_text.use_colour(_Stream(tty=True), {"NO_COLOR": "1"}) is False
    # no-color.org: the variable counts when it is present and not empty.
    assert lint_text.use_colour(_Stream(tty=True), {"NO_COLOR": ""}) is True


def test_github_escapes_messages_and_properties_as_the_toolkit_does() -> None:
    assert lint_github.escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert lint_github.escape_property("dir,x/a:b.sql\n") == "dir%2Cx/a%3Ab.sql%0A"
    line = lint_github.command("warning", "a\nb", file="x,y.sql", line=3, col=None, title="T:1")
    assert line == "::warning file=x%2Cy.sql,line=3,title=T%3A1::a%0Ab"


def test_github_annotates_active_findings_and_errors_only() -> None:
    lines = lint_github.render(_report()).splitlines()
    commands = [ln for ln in lines if ln.startswith("::")]
    assert [ln.split(" ", 1)[0] for ln in commands] == [
        "::error", "::warning", "::notice", "::error", "::notice"]
    first = commands[0]
    assert first.startswith("::error file=db/0002_orders.sql,line=3,col=1,"
                            "title=L101 index-not-concurrent::CREATE INDEX i on orders")
    assert "%0Afix:%0ACREATE INDEX CONCURRENTLY i ON orders (user_id);" in first
    assert "\n" not in first
    assert all("line=12," not in ln for ln in commands), "a suppressed finding was annotated"
    assert commands[3].startswith("::error file=db/0002_orders.sql,line=5,col=13,")


def test_github_paths_are_relative_to_the_working_tree(tmp_path: Path) -> None:
    report = LintReport(files=[str(tmp_path / "m.sql")],
                        findings=[_finding(file=str(tmp_path / "db" / "m.sql"))])
    line = lint_github.render(report, base=tmp_path).splitlines()[0]
    assert line.startswith("::error file=db/m.sql,line=3,")


def test_sarif_results_levels_suppressions_and_locations(tmp_path: Path) -> None:
    report = _report()
    report.findings.append(_finding(file=str(tmp_path / "sub dir" / "m.sql"), line=2))
    log = lint_sarif.render(report, base=tmp_path)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbarch"
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == sorted(all_rules().rules)
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error", "error"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in results][-1] == "sub%20dir/m.sql"
    region = results[1]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 7, "startColumn": 3}
    assert "Fix:\nALTER TABLE orders ADD CONSTRAINT" in results[1]["message"]["text"]
    assert results[3]["suppressions"] == [
        {"kind": "inSource", "justification": "orders is empty until the launch"}]
    assert all("suppressions" not in r for i, r in enumerate(results) if i != 3)
    for result in results:
        if result["ruleId"] in ids:  # L301 may not be registered: then no index to give
            assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        else:
            assert "ruleIndex" not in result
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    error = invocation["toolExecutionNotifications"][0]
    assert error["level"] == "error"
    assert error["locations"][0]["physicalLocation"]["region"] == {"startLine": 5,
                                                                   "startColumn": 13}


def test_sarif_fingerprints_follow_the_statement_not_its_line() -> None:
    moved = LintReport(findings=[_finding(line=3), _finding(line=40)])
    fingerprints = [r["partialFingerprints"]["dbarchStatement/v1"]
                    for r in lint_sarif.render(moved)["runs"][0]["results"]]
    assert fingerprints[1] == fingerprints[0] + ":2", "identical statements must stay distinct"
    alone = lint_sarif.render(LintReport(findings=[_finding(line=40)]))["runs"][0]["results"]
    assert alone[0]["partialFingerprints"]["dbarchStatement/v1"] == fingerprints[0]
    other = lint_sarif.render(LintReport(findings=[_finding(statement="CREATE INDEX j ON t (a)")]))
    assert other["runs"][0]["results"][0]["partialFingerprints"] != {
        "dbarchStatement/v1": fingerprints[0]}


def test_docstring_markdown_fences_sql_and_bolds_sections() -> None:
    doc = ("Does a bad thing.\n\nWhy: it hurts.\n\nInstead: do this,\nin two steps.\n\n"
           "    ALTER TABLE t ADD c int;\n      -- indented more\n\n    UPDATE t SET c = 1;\n\n"
           "Exempt: new tables.")
    assert docstring_markdown(doc) == (
        "Does a bad thing.\n\n**Why:** it hurts.\n\n**Instead:** do this,\nin two steps.\n\n"
        "```sql\nALTER TABLE t ADD c int;\n  -- indented more\n\nUPDATE t SET c = 1;\n```\n\n"
        "**Exempt:** new tables."
    )


def test_reference_markdown_has_an_index_and_a_page_per_rule() -> None:
    rules = all_rules().sorted()
    text = reference_markdown(rules)
    for rule in rules:
        anchor = f"{rule.code}-{rule.name}".lower()
        assert f"| [{rule.code}](#{anchor}) | {rule.name} |" in text
        assert f"\n## {rule.code} {rule.name}\n" in text
    assert text.count("```sql") == text.count("```") // 2
