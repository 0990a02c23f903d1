"""`dbarch lint` end to end: formats, exit codes, a broken file among good ones, rule listing and
documentation, colour only on a terminal, suppressions with their reasons.

Most cases run the click command in-process (CliRunner); colour needs a real terminal, so
those run the `dbarch` console script on a pseudo-terminal and through a pipe.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dbarch.cli import main
from dbarch.lint.rule import all_rules

ROOT = Path(__file__).resolve().parent.parent
DBARCH = shutil.which("dbarch") or "dbarch"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

BAD = ("CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\n"
       "CREATE INDEX orders_user_idx ON orders (user_id);\n")
SUPPRESSED = ("-- dbarch-ignore: L101 orders is empty until the launch\n"
              "CREATE INDEX orders_x_idx ON orders (x);\n")
BROKEN = "SELECT FROM WHERE;\nCREATE INDEX users_email_idx ON users (email);\n"
CLEAN = "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as the working directory, with no config above it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "db").mkdir()
    return tmp_path


def lint(*args: str) -> Result:
    # L101 alone: its behaviour is committed; other rules are still being written.
    return CliRunner().invoke(main, ["lint", "--disable", "all", "--enable", "L101", *args])


def test_clean_file_exits_0(project: Path) -> None:
    (project / "db/0001.sql").write_text(CLEAN)
    result = lint("db")
    assert result.exit_code == 0, result.output
    assert result.output == "no findings — 1 statement in 1 file, 1 rule\n"


def test_finding_exits_1_with_a_compiler_line_lock_and_fix(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD)
    result = lint("db/0001.sql")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("db/0001.sql:3:1: error L101 index-not-concurrent: CREATE INDEX "
                               "orders_user_idx on orders")
    assert lines[1] == ("  lock: SHARE on orders blocks INSERT, UPDATE and DELETE on the table "
                        "(reads continue)")
    assert lines[2:4] == ["  fix:", "    CREATE INDEX CONCURRENTLY orders_user_idx ON orders "
                          "(user_id)"]
    assert lines[-1].startswith("1 error (1 at or above warning) — 3 statements in 1 file")


def test_fail_on_is_compared_with_the_severity(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD)
    assert lint("db", "--fail-on", "error").exit_code == 1
    (project / ".dbarch.toml").write_text('fail-on = "error"\n')
    assert lint("db").exit_code == 1


def test_suppressed_findings_are_listed_with_their_reason_and_never_fail(project: Path) -> None:
    (project / "db/0001.sql").write_text(SUPPRESSED)
    result = lint("db")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "suppressed by dbarch-ignore (1):",
        "  db/0001.sql:2:1: error L101 index-not-concurrent: reason: orders is empty until the "
        "launch",
        "no findings — 1 statement in 1 file, 1 rule; 1 suppressed",
    ]
    payload = json.loads(lint("db", "--format", "json").output)
    assert payload["findings"][0]["suppressed"] == "orders is empty until the launch"


def test_a_syntax_error_is_located_and_the_other_files_still_linted(project: Path) -> None:
    (project / "db/0001.sql").write_text(BROKEN)
    (project / "db/0002.sql").write_text(BAD)
    result = lint("db")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert 'db/0001.sql:1:13: error: syntax error: syntax error at or near "WHERE"' in lines
    located = [ln.split(": ", 1)[0] for ln in lines if ": error L101" in ln]
    assert located == ["db/0001.sql:2:1", "db/0002.sql:3:1"]
    payload = json.loads(lint("db", "--format", "json").output)
    assert payload["errors"] == [{"file": "db/0001.sql", "line": 1, "column": 13, "path": "",
                                  "message": 'syntax error: syntax error at or near "WHERE"',
                                  "hint": None}]
    assert [f["file"] for f in payload["findings"]] == ["db/0001.sql", "db/0002.sql"]


def test_json_is_the_report(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD)
    result = lint("db", "--format", "json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["files"] == ["db/0001.sql"] and payload["statements"] == 3
    assert payload["rules"] == ["L101"]
    (finding,) = payload["findings"]
    assert {k: finding[k] for k in ("code", "severity", "line", "column", "table", "lock")} == {
        "code": "L101", "severity": "error", "line": 3, "column": 1, "table": "orders",
        "lock": "SHARE"}


def test_sarif_has_what_github_code_scanning_requires(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD + SUPPRESSED)
    (project / "db/0002.sql").write_text(BROKEN)
    result = lint("db", "--format", "sarif")
    assert result.exit_code == 2
    log = json.loads(result.output)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dbarch" and driver["version"]
    registry = all_rules()
    assert [r["id"] for r in driver["rules"]] == sorted(registry.rules)
    for rule in driver["rules"]:
        cls = registry.rules[rule["id"]]
        assert rule["name"] == cls.name
        assert rule["shortDescription"]["text"] == cls.summary
        assert rule["fullDescription"]["text"] and "Why:" in rule["help"]["text"]
        assert rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("L101", "error")] * 3
    for result_ in results:
        assert result_["message"]["text"]
        assert driver["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]
        (location,) = result_["locations"]
        physical = location["physicalLocation"]
        assert not physical["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert physical["region"]["startLine"] >= 1 and physical["region"]["startColumn"] >= 1
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris == ["db/0001.sql", "db/0001.sql", "db/0002.sql"]
    assert [r.get("suppressions") for r in results] == [
        None, [{"kind": "inSource", "justification": "orders is empty until the launch"}], None]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "db/0002.sql", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 13}}


def test_github_format_is_workflow_commands(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD + SUPPRESSED)
    result = lint("db", "--format", "github")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("::error file=db/0001.sql,line=3,col=1,"
                               "title=L101 index-not-concurrent::CREATE INDEX orders_user_idx")
    assert "%0Afix:%0ACREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id)" in lines[0]
    assert len([ln for ln in lines if ln.startswith("::")]) == 1, "suppressed one annotated"


def test_list_rules_prints_every_rule(project: Path) -> None:
    result = CliRunner().invoke(main, ["lint", "--list-rules"])
    assert result.exit_code == 0
    registry = all_rules()
    lines = result.output.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "default", "dialects", "summary"]
    for rule in registry.sorted():
        row = next(ln for ln in lines if ln.startswith(rule.code + " "))
        cells = row.split(None, 5)
        assert cells[:5] == [rule.code, rule.name, rule.severity.label,
                             "on" if rule.default_enabled else "off",
                             ",".join(sorted(rule.dialects))]
        assert cells[5] == rule.summary
    facts = json.loads(CliRunner().invoke(main, ["lint", "--list-rules", "--format", "json"]
                                          ).output)
    assert [f["code"] for f in facts] == sorted(registry.rules)
    mysql = CliRunner().invoke(main, ["lint", "--list-rules", "--dialect", "mysql"]).output
    for rule in registry.sorted():
        assert (f"\n{rule.code} " in mysql) == ("mysql" in rule.dialects)


def test_explain_prints_the_documentation_page(project: Path) -> None:
    by_code = CliRunner().invoke(main, ["lint", "--explain", "l101"])
    by_name = CliRunner().invoke(main, ["lint", "--explain", "index-not-concurrent"])
    assert by_code.exit_code == by_name.exit_code == 0
    assert by_code.output == by_name.output
    doc = all_rules().rules["L101"].documentation()
    head = "L101 index-not-concurrent — error, on by default, postgresql"
    assert by_code.output == f"{head}\n\n{doc}\n"
    unknown = CliRunner().invoke(main, ["lint", "--explain", "index-not-concurent"])
    assert unknown.exit_code == 2
    assert "no rule 'index-not-concurent' (did you mean index-not-concurrent?)" in unknown.output


def test_docs_page_is_the_generated_one() -> None:
    """docs/lint-rules.md is generated: regenerate it with the command in its header."""
    result = CliRunner().invoke(main, ["lint", "--list-rules", "--format", "markdown"])
    assert result.exit_code == 0
    committed = (ROOT / "docs" / "lint-rules.md").read_text()
    assert committed == result.output, (
        "docs/lint-rules.md is stale: dbarch lint --list-rules --format markdown > "
        "docs/lint-rules.md")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no FILE or DIR given"),
        (("missing.sql",), "missing.sql: no such file or folder"),
        (("db", "--format", "markdown"), "markdown is for --list-rules and --explain"),
        (("db", "--enable", "L999"), "unknown rule 'L999'"),
        (("db", "--tool", "alembik"), "did you mean 'alembic'?"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(project: Path, args: tuple[str, ...],
                                                 message: str) -> None:
    result = CliRunner().invoke(main, ["lint", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_disable_all_then_enable_runs_only_that_rule(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD)
    payload = json.loads(lint("db", "--format", "json").output)
    assert payload["rules"] == ["L101"]
    everything = json.loads(CliRunner().invoke(
        main, ["lint", "db", "--enable", "all", "--format", "json"]).output)
    assert everything["rules"] == sorted(
        c for c, r in all_rules().rules.items() if "postgresql" in r.dialects)


def _run_dbarch(args: list[str], cwd: Path, env: dict[str, str], tty: bool) -> str:
    """The console script's stdout, through a pseudo-terminal or a pipe."""
    if not tty:
        done = subprocess.run([DBARCH, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)
        return done.stdout
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([DBARCH, *args], cwd=cwd, env=env, stdout=follower,
                                   stderr=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_never_through_a_pipe_nor_with_no_color(project: Path) -> None:
    (project / "db/0001.sql").write_text(BAD)
    env = {"PATH": str(Path(DBARCH).parent) + ":/usr/bin:/bin", "TERM": "xterm-256color"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    args = ["lint", "db", "--disable", "all", "--enable", "L101"]
    on_terminal = _run_dbarch(args, project, env, tty=True)
    assert ANSI.search(on_terminal), on_terminal
    assert "index-not-concurrent" in on_terminal
    assert not ANSI.search(_run_dbarch(args, project, {**env, "NO_COLOR": "1"}, tty=True))
    piped = _run_dbarch(args, project, env, tty=False)
    assert not ANSI.search(piped) and "db/0001.sql:3:1: error L101" in piped
    assert ANSI.sub("", on_terminal).replace("\r\n", "\n") == piped
