"""Lint settings: `.dbarch.toml` and `pyproject.toml [tool.dbarch]` found from the working
directory up, unknown keys named with a suggestion, excluded paths, and the command line over
the file. Each case lints real files through `dbarch.api.lint` or the CLI, so a setting is
shown to change what runs, not only what is parsed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dbarch import api
from dbarch.cli import main
from dbarch.errors import InputError
from dbarch.lint.config import load_config
from dbarch.lint.rule import all_rules

# lock_timeout set: L601 stays quiet, so each file has exactly the findings a case is about.
INDEX = "SET lock_timeout = '2s';\nCREATE INDEX orders_user_idx ON orders (user_id);\n"
CONCURRENT = ("SET lock_timeout = '2s';\n"
              "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """project/db/0001.sql with a blocking CREATE INDEX; project/app/sub is a nested folder."""
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "0001.sql").write_text(INDEX)
    (tmp_path / "app" / "sub").mkdir(parents=True)
    return tmp_path


def _codes(project: Path, start: Path | None = None, **options: object) -> list[str]:
    report = api.lint([str(project / "db")], config_start=start or project,
                      **options)  # type: ignore[arg-type]
    return [f.code for f in report.active]


def test_dbarch_toml_is_found_from_a_subfolder(project: Path) -> None:
    assert _codes(project) == ["L101"]
    (project / ".dbarch.toml").write_text('disable = ["index-not-concurrent"]\n')
    assert _codes(project, start=project / "app" / "sub") == []


def test_pyproject_tool_dbarch_is_found_and_a_pyproject_without_it_is_passed_over(
    project: Path,
) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n'
                                            '[tool.dbarch]\ndisable = ["L101"]\n')
    (project / "app" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert _codes(project, start=project / "app" / "sub") == []
    config = load_config(project / "app", {})
    assert config.source == f"{project / 'pyproject.toml'} [tool.dbarch]"


def test_the_lint_subtable_is_read_too(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dbarch.lint]\ndisable = ["L101"]\n')
    assert _codes(project) == []


def test_dbarch_toml_wins_over_pyproject_in_the_same_folder(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.dbarch]\ndisable = ["L101"]\n')
    (project / ".dbarch.toml").write_text("pg-version = 14\n")
    assert _codes(project) == ["L101"]
    assert load_config(project, {}).pg_version == 14


def test_unknown_keys_are_named_with_a_suggestion(project: Path, monkeypatch:
                                                  pytest.MonkeyPatch) -> None:
    (project / ".dbarch.toml").write_text('pg_versoin = 13\nexlude = ["db/old/*"]\n')
    with pytest.raises(InputError) as raised:
        api.lint([str(project / "db")], config_start=project)
    messages = [(p.message, p.hint) for p in raised.value.problems]
    assert messages == [("unknown setting 'pg_versoin'", "did you mean 'pg-version'?"),
                        ("unknown setting 'exlude'", "did you mean 'exclude'?")]
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["lint", "db"])
    assert result.exit_code == 2
    assert f"{project / '.dbarch.toml'}: unknown setting 'exlude' (did you mean 'exclude'?)" in (
        " ".join(result.output.split()))


def test_bad_values_and_bad_toml_are_located(project: Path) -> None:
    (project / ".dbarch.toml").write_text('fail-on = "loud"\n')
    with pytest.raises(InputError, match="unknown severity 'loud'"):
        api.lint([str(project / "db")], config_start=project)
    (project / ".dbarch.toml").write_text('dialect = "postgresql"\ntool = alembic\n')
    with pytest.raises(InputError) as raised:
        api.lint([str(project / "db")], config_start=project)
    (problem,) = raised.value.problems
    assert problem.file == str(project / ".dbarch.toml")
    assert (problem.line, problem.column) == (2, 8)


def test_excluded_paths_are_not_linted(project: Path) -> None:
    (project / "db" / "legacy").mkdir()
    (project / "db" / "legacy" / "0000_old.sql").write_text(INDEX)
    (project / "db" / "0002.sql").write_text(INDEX)
    report = api.lint([str(project / "db")], config_start=project)
    assert len(report.files) == 3
    (project / ".dbarch.toml").write_text('exclude = ["db/legacy/*", "0002.sql"]\n')
    report = api.lint([str(project / "db")], config_start=project)
    assert report.files == [str(project / "db" / "0001.sql")]
    assert [f.file for f in report.findings] == report.files


def test_command_line_overrides_the_file(project: Path) -> None:
    (project / ".dbarch.toml").write_text(
        'dialect = "mysql"\npg-version = 11\ntool = "alembic"\nfail-on = "error"\n'
        'disable = ["L101"]\n')
    config = load_config(project, {"pg-version": 16, "tool": "plain", "fail-on": "info"})
    assert (config.pg_version, config.tool, config.fail_on) == (16, "plain", "info")
    assert config.dialect == "mysql", "a setting not given on the command line stays"
    # mysql from the file: no PostgreSQL-only rule runs; --dialect postgresql brings them back,
    # and --enable takes L101 off the file's disable list.
    registry = all_rules()
    rules = api.lint([str(project / "db")], config_start=project).rules
    assert all("mysql" in registry.rules[code].dialects for code in rules)
    assert _codes(project, dialect="postgresql") == []
    assert _codes(project, dialect="postgresql", enable=["L101"]) == ["L101"]


def test_tool_from_the_file_decides_transaction_wrapping(project: Path) -> None:
    """alembic wraps each migration in a transaction: CONCURRENTLY fails there (L103)."""
    (project / "db" / "0001.sql").write_text(CONCURRENT)
    (project / ".dbarch.toml").write_text('tool = "alembic"\n')
    assert _codes(project) == ["L103"]
    assert _codes(project, tool="plain") == []


def test_disable_all_in_the_file_keeps_the_rules_the_file_enables(project: Path) -> None:
    (project / "db" / "0002.sql").write_text(CONCURRENT)
    (project / ".dbarch.toml").write_text('tool = "alembic"\ndisable = ["all"]\n'
                                          'enable = ["L103"]\n')
    report = api.lint([str(project / "db")], config_start=project)
    assert report.rules == ["L103"]
    assert [f.code for f in report.active] == ["L103"]
    assert api.lint([str(project / "db")], config_start=project, enable=["L101"]).rules == [
        "L101", "L103"]


def test_cli_reads_the_config_of_the_working_directory(project: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "app")
    (project / ".dbarch.toml").write_text('disable = ["L101"]\n')
    result = CliRunner().invoke(main, ["lint", str(project / "db"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "L101" not in json.loads(result.output)["rules"]
    result = CliRunner().invoke(main, ["lint", str(project / "db"), "--enable", "L101"])
    assert result.exit_code == 1
