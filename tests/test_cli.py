"""The command line end to end: the commands of the README, their files, exit codes and errors.

Runs the real `dbarch` console script in a subprocess, so the entry point, exit codes and the
absence of tracebacks are what a user sees.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MARIADB_URL, POSTGRESQL_URL

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
DBARCH = shutil.which("dbarch") or "dbarch"


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run `dbarch ARGS` the way a user does; the output is wide so tables do not fold."""
    return subprocess.run(
        [DBARCH, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={"PATH": str(Path(DBARCH).parent) + ":/usr/bin:/bin", "COLUMNS": "200"},
    )


def test_every_example_is_found() -> None:
    assert {p.stem for p in EXAMPLES} >= {"shop", "saas", "social", "iot", "catalog"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_design_writes_every_artifact_and_proves_it_on_sqlite(
    example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run("design", example, "-o", out, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    for name in ("ARCHITECTURE.md", "design.json", "diagrams/er.mmd",
                 "schema/postgresql.sql", "schema/mysql.sql", "schema/sqlite.sql"):
        assert (out / name).stat().st_size > 0, name
    adrs = sorted((out / "adr").glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert adrs, "no ADR written"
    verification = payload["verification"]
    assert [e["engine"] for e in verification["engines"]] == ["sqlite"]
    sqlite = verification["engines"][0]
    assert sqlite["applied"] and sqlite["checks"]
    assert all(c["ok"] for c in sqlite["checks"]), [c for c in sqlite["checks"] if not c["ok"]]


def test_design_then_verify_on_postgresql_and_mariadb(tmp_path: Path) -> None:
    """The README's third command: what design wrote runs on the real servers."""
    out = tmp_path / "shop"
    assert run("design", ROOT / "examples/shop.yaml", "-o", out, "--no-verify").returncode == 0
    result = run("verify", out, "--engine", POSTGRESQL_URL, "--engine", MARIADB_URL,
                 "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [e["engine"] for e in report["engines"]] == ["postgresql", "mariadb"]
    for engine in report["engines"]:
        assert engine["applied"], engine["error"]
        assert engine["checks"] and all(c["ok"] for c in engine["checks"])
        assert all(c["used_indexes"] for c in engine["checks"])


def test_verify_defaults_to_sqlite_and_the_local_servers(tmp_path: Path) -> None:
    out = tmp_path / "saas"
    assert run("design", ROOT / "examples/saas.yaml", "-o", out, "--no-verify").returncode == 0
    result = run("verify", out)
    assert result.returncode == 0, result.stdout + result.stderr
    for engine in ("sqlite", "postgresql", "mariadb"):
        assert engine in result.stdout


def test_verify_text_output_names_each_pattern_and_its_index(tmp_path: Path) -> None:
    out = tmp_path / "shop"
    run("design", ROOT / "examples/shop.yaml", "-o", out, "--no-verify")
    result = run("verify", out, "--engine", "sqlite://")
    assert result.returncode == 0
    assert "user_orders" in result.stdout and "orders_user_id" in result.stdout


def test_recommend_json_splits_sessions_out_of_postgresql() -> None:
    result = run("recommend", ROOT / "examples/shop.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    parts = json.loads(result.stdout)["parts"]
    assert parts[0]["product"] == "postgresql"
    session = next(p for p in parts if "Session" in p["entities"])
    assert session["product"] == "redis"
    assert all(p["reasons"] and p["rejected"] for p in parts)


def test_recommend_text_is_a_table_with_reasons() -> None:
    result = run("recommend", ROOT / "examples/shop.yaml")
    assert result.returncode == 0
    assert "PostgreSQL" in result.stdout and "Redis" in result.stdout
    assert "trade-off" in result.stdout


def test_spec_schema_is_json_schema() -> None:
    result = run("spec", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "json-schema.org" in schema["$schema"]
    assert {"system", "entities", "access_patterns"} <= set(schema["properties"])


def test_spec_check_summarises_a_valid_spec() -> None:
    result = run("spec", "check", ROOT / "examples/shop.yaml")
    assert result.returncode == 0
    assert "entities" in result.stdout


BROKEN = {
    "typo_in_key": (
        "system: s\nentities:\n  User:\n    volumn: 2M\n",
        {"line": 4, "path": "entities.User.volumn", "hint": "volume"},
    ),
    "wrong_type": (
        "system: s\nentities:\n  User:\n    attributes:\n      email: {type: emial}\n",
        {"line": 5, "hint": "email"},
    ),
    "unknown_entity_in_relationship": (
        "system: s\nentities:\n  Order: {}\n  User: {}\n"
        "relationships:\n  - {from: Order, to: Usr, kind: many-to-one}\n",
        {"line": 6, "hint": "User"},
    ),
    "yaml_syntax": (
        "system: s\nentities:\n  User: {volume: 2M\n  Order: {}\n",
        {"line": 4, "hint": "line 3"},
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("command", ["design", "recommend", "spec check"])
def test_broken_spec_is_a_located_error_with_exit_code_2(
    case: str, command: str, tmp_path: Path
) -> None:
    text, expected = BROKEN[case]
    spec = tmp_path / f"{case}.yaml"
    spec.write_text(text)
    args = [*command.split(), spec]
    if command == "design":
        args += ["-o", tmp_path / "out"]
    result = run(*args, "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert errors and all(e["file"] == str(spec) for e in errors)
    first = errors[0]
    assert first["line"] == expected["line"], errors
    if "path" in expected:
        assert first["path"] == expected["path"]
    if "hint" in expected:
        assert expected["hint"] in (first["hint"] or ""), errors
    assert not (tmp_path / "out").exists(), "nothing is written from a broken spec"

    text_result = run(*args)
    assert text_result.returncode == 2
    assert f"{spec}:{expected['line']}" in text_result.stderr
    assert "Traceback" not in text_result.stderr


def test_several_errors_are_reported_at_once(tmp_path: Path) -> None:
    spec = tmp_path / "many.yaml"
    spec.write_text(
        "system: s\nentities:\n  User:\n    volumn: 2M\n  Order:\n    growht: 5%/year\n"
        "relationships:\n  - {from: Order, to: Usr, kind: many-to-one}\n"
    )
    result = run("spec", "check", spec, "--format", "json")
    assert result.returncode == 2
    assert len(json.loads(result.stdout)["errors"]) >= 3


def test_missing_spec_file_is_an_input_error(tmp_path: Path) -> None:
    result = run("recommend", tmp_path / "nope.yaml")
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_verify_on_a_folder_that_is_no_design(tmp_path: Path) -> None:
    result = run("verify", tmp_path, "--engine", "sqlite://")
    assert result.returncode == 2
    assert "design.json" in result.stderr


def test_verify_reports_an_unreachable_server_without_a_traceback(tmp_path: Path) -> None:
    out = tmp_path / "shop"
    run("design", ROOT / "examples/shop.yaml", "-o", out, "--no-verify")
    result = run("verify", out, "--engine", "postgresql://nobody:secret@127.0.0.1:1/none")
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stdout + result.stderr


def test_usage_error_is_exit_code_2() -> None:
    assert run("design").returncode == 2
    assert run("frobnicate").returncode == 2
