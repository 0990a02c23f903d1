"""The lint run: which rules run, which files are read in which order, suppression, exit data."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbarch.errors import InputError
from dbarch.lint.config import LintConfig
from dbarch.lint.rule import Severity
from dbarch.lint.run import collect_files, enabled_rules, lint_paths, lint_text


def test_disable_by_code_or_name_and_enable_off_by_default_rules() -> None:
    codes = {r.code for r in enabled_rules(LintConfig(disable=["index-not-concurrent"]))}
    assert "L101" not in codes
    everything = {r.code for r in enabled_rules(LintConfig(enable=["all"]))}
    default = {r.code for r in enabled_rules(LintConfig())}
    assert default <= everything


def test_unknown_rule_names_are_input_errors() -> None:
    with pytest.raises(InputError) as err:
        enabled_rules(LintConfig(disable=["L999"]))
    assert "L999" in str(err.value)


def test_folders_are_read_in_migration_order_and_excludes_apply(tmp_path: Path) -> None:
    for name in ["V10__b.sql", "V2__a.sql", "V1__x.sql", "legacy/V0__old.sql", "notes.txt"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("SELECT 1;")
    files = collect_files([str(tmp_path)], LintConfig(exclude=["legacy/*"]))
    assert [f.name for f in files] == ["V1__x.sql", "V2__a.sql", "V10__b.sql"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        collect_files([str(tmp_path / "nope.sql")], LintConfig())


def test_each_file_is_its_own_migration(tmp_path: Path) -> None:
    (tmp_path / "1.sql").write_text("CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);")
    (tmp_path / "2.sql").write_text("CREATE INDEX j ON t (a);")
    report = lint_paths([str(tmp_path)], LintConfig())
    assert [(Path(f.file).name, f.line) for f in report.findings if f.code == "L101"] == [
        ("2.sql", 1)
    ]


def test_suppressed_findings_keep_their_reason_and_do_not_fail() -> None:
    report = lint_text("-- dbarch-ignore: L101 built before launch\nCREATE INDEX i ON t (a);",
                       LintConfig())
    (finding,) = [f for f in report.findings if f.code == "L101"]
    assert finding.suppressed == "built before launch"
    assert report.failing(Severity.INFO) == [] or all(f.code != "L101"
                                                      for f in report.failing(Severity.INFO))


def test_not_utf8_file_is_a_located_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_bytes(b"SELECT '\xff';")
    report = lint_paths([str(path)], LintConfig())
    assert report.problems and "UTF-8" in report.problems[0].message


def test_disable_all_then_enable_one_runs_that_one() -> None:
    rules = enabled_rules(LintConfig(disable=["all"], enable=["L101"]))
    assert [r.code for r in rules] == ["L101"]


def test_a_broken_config_file_is_located(tmp_path: Path) -> None:
    from dbarch.lint.config import load_config

    (tmp_path / ".dbarch.toml").write_text('dialect = "postgresql"\ntool = \n')
    with pytest.raises(InputError) as err:
        load_config(tmp_path, {})
    (problem,) = err.value.problems
    assert problem.line == 2 and problem.column is not None


def test_linting_loads_neither_pydantic_nor_the_designer() -> None:
    # `dbarch lint` runs on every CI push: its start-up must not pay for the models and the
    # designer (pydantic alone is a tenth of a second). Checked in a fresh interpreter.
    import subprocess
    import sys

    code = ("import sys, dbarch.api, dbarch.cli, dbarch.lint.run, dbarch.lint.rule as r; "
            "r.all_rules(); "
            "print(sorted(m for m in ('pydantic', 'dbarch.design', 'dbarch.select', "
            "'dbarch.schema.model', 'rich.console') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_a_whole_lint_run_loads_neither(fmt: str, tmp_path: Path) -> None:
    # The same, through the command line and each output format: a renderer that pulls in the
    # document writer (as dbarch.report's package init once did) costs every run 0.4 s.
    import subprocess
    import sys

    migration = tmp_path / "m.sql"
    migration.write_text("CREATE INDEX i ON t (c);\n")
    code = ("import sys\nfrom dbarch.cli import main\n"
            f"sys.argv = ['dbarch', 'lint', '--format', {fmt!r}, {str(migration)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pydantic', 'dbarch.design', 'dbarch.select', "
            "'dbarch.schema.model', 'dbarch.report.documents') if m in sys.modules), "
            "file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "L101" in run.stdout or "index-not-concurrent" in run.stdout, run.stdout
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr


def test_a_per_statement_reading_is_made_once_for_each_statement_in_turn() -> None:
    from dbarch.lint.source import read_source
    from dbarch.lint.statement import per_statement

    calls: list[int] = []

    @per_statement
    def reading(stmt: object) -> int:
        calls.append(stmt.index)  # type: ignore[attr-defined]
        return len(calls)

    first, second = read_source("m.sql", "SELECT 1;\nSELECT 2;\n", "postgresql").statements
    assert [reading(first), reading(first), reading(second), reading(second), reading(first)] \
        == [1, 1, 2, 2, 3]
    assert calls == [0, 1, 0]
