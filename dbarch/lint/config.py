"""Lint settings: command-line options over `.dbarch.toml` over `pyproject.toml [tool.dbarch]`.

    [tool.dbarch]              # or the top level of .dbarch.toml
    dialect = "postgresql"     # or "mysql" (MariaDB too)
    pg-version = 15            # decides version-dependent rules; --db uses the server's
    tool = "alembic"           # plain | alembic | golang-migrate | flyway | django
    enable = ["L901"]          # switch on rules that are off by default (hygiene)
    disable = ["L603"]         # switch rules off, by code or name
    exclude = ["migrations/legacy/*"]
    fail-on = "warning"        # info | warning | error
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dbarch.errors import InputError, Problem
from dbarch.lint.rule import Severity
from dbarch.lint.statement import DIALECTS, POSTGRESQL


class LintConfig(BaseModel):
    """Everything that decides which rules run and how findings are judged."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    dialect: str = POSTGRESQL
    pg_version: int = Field(15, alias="pg-version")
    tool: str = "plain"
    enable: list[str] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    fail_on: str = Field("warning", alias="fail-on")
    # Below both, a table rewrite or scan is not an incident (with --db, findings drop to info).
    small_table_rows: int = Field(10_000, alias="small-table-rows")
    small_table_bytes: int = Field(64 * 1024 * 1024, alias="small-table-bytes")
    source: str | None = Field(None, exclude=True)

    def severity_floor(self) -> Severity:
        return Severity.parse(self.fail_on)


KEYS = sorted(
    {f.alias or name for name, f in LintConfig.model_fields.items() if name != "source"}
)


def find_config(start: Path) -> tuple[Path, dict] | None:
    """The nearest `.dbarch.toml`, or `pyproject.toml` with `[tool.dbarch]`, from `start` up."""
    start = start.resolve()
    for folder in [start, *start.parents] if start.is_dir() else start.parents:
        dotfile = folder / ".dbarch.toml"
        if dotfile.is_file():
            return dotfile, _read_toml(dotfile)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("dbarch")
            if table is not None:
                return pyproject, table
    return None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's error has no lineno attribute; its message ends "(at line L, column C)".
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(found[1]), int(found[2])) if found else (None, None)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise InputError([Problem(str(path), f"not valid TOML: {message}", line=line,
                                  column=column)]) from None


def load_config(start: Path, overrides: dict[str, object]) -> LintConfig:
    """The project's config (found from `start` upwards) with command-line `overrides` on top."""
    found = find_config(start)
    data: dict[str, object] = {}
    where = "command line"
    if found:
        path, table = found
        where = str(path) + (" [tool.dbarch]" if path.name == "pyproject.toml" else "")
        data.update({k: v for k, v in table.items() if k != "lint"})
        data.update(table.get("lint", {}))
    problems = [
        Problem(where, f"unknown setting {key!r}", hint=_did_you_mean(key))
        for key in data if key not in KEYS
    ]
    if problems:
        raise InputError(problems)
    data.update({k: v for k, v in overrides.items() if v not in (None, (), [])})
    try:
        config = LintConfig.model_validate({**data, "source": where if found else None})
    except ValidationError as exc:
        raise InputError([
            Problem(where, f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()
        ]) from None
    _check_choices(config, where)
    return config


def _check_choices(config: LintConfig, where: str) -> None:
    from dbarch.lint.context import migration_tools

    problems = []
    if config.dialect not in DIALECTS:
        problems.append(Problem(where, f"dialect {config.dialect!r} is not one of "
                                f"{', '.join(DIALECTS)}"))
    tools = migration_tools()
    if config.tool not in tools:
        problems.append(Problem(where, f"tool {config.tool!r} is not one of {', '.join(tools)}",
                                hint=_did_you_mean(config.tool, list(tools))))
    try:
        config.severity_floor()
    except ValueError as exc:
        problems.append(Problem(where, f"fail-on: {exc}"))
    if problems:
        raise InputError(problems)


def _did_you_mean(key: str, choices: list[str] | None = None) -> str | None:
    close = difflib.get_close_matches(key, choices or KEYS, n=1)
    return f"did you mean {close[0]!r}?" if close else None
