"""Lint settings: command-line options over `.dbarch.toml` over `pyproject.toml [tool.dbarch]`.

    [tool.dbarch]              # or the top level of .dbarch.toml
    dialect = "postgresql"     # or "mysql" (MariaDB too)
    pg-version = 15            # decides version-dependent rules; --db uses the server's
    tool = "alembic"           # plain | alembic | golang-migrate | flyway | django
    enable = ["L901"]          # switch on rules that are off by default (hygiene)
    disable = ["L603"]         # switch rules off, by code or name
    exclude = ["migrations/legacy/*"]
    fail-on = "warning"        # info | warning | error
    jobs = 0                   # processes for a large lint; 0: decide from the input and CPUs
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dbarch.errors import InputError, Problem
from dbarch.lint.rule import Severity
from dbarch.lint.statement import DIALECTS, POSTGRESQL


@dataclass
class LintConfig:
    """Everything that decides which rules run and how findings are judged.

    A plain dataclass checked by `from_mapping`, not a pydantic model: `dbarch lint` runs on
    every CI push, and importing pydantic alone costs a tenth of a second there.
    """

    dialect: str = POSTGRESQL
    pg_version: int = 15
    tool: str = "plain"
    enable: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    fail_on: str = "warning"
    # Below both, a table rewrite or scan is not an incident (with --db, findings drop to info).
    small_table_rows: int = 10_000
    small_table_bytes: int = 64 * 1024 * 1024
    jobs: int = 0  # 0: one process for small inputs, one per CPU (up to 4) for large ones
    source: str | None = None  # where the settings came from, for messages

    def severity_floor(self) -> Severity:
        return Severity.parse(self.fail_on)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> LintConfig:
        """Settings from a TOML table or options; keys as in the file (`pg-version`) or in
        Python (`pg_version`). Raises ValueError naming each bad key or value."""
        kinds = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        errors = []
        for key, value in data.items():
            name = key.replace("-", "_")
            if name not in kinds:
                errors.append(f"{key}: unknown setting")
                continue
            expected = kinds[name]
            if expected == "int":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif expected == "list[str]":
                ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
                value = list(value) if ok else value
            elif expected == "str | None":
                ok = value is None or isinstance(value, str)
            else:
                ok = isinstance(value, str)
            if not ok:
                want = {"int": "an integer", "list[str]": "a list of strings"}.get(
                    str(expected), "a string")
                errors.append(f"{key}: expected {want}, got {value!r}")
                continue
            values[name] = value
        if errors:
            raise ValueError("; ".join(errors))
        return cls(**values)


KEYS = sorted(f.name.replace("_", "-") for f in fields(LintConfig) if f.name != "source")


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
        config = LintConfig.from_mapping({**data, "source": where if found else None})
    except ValueError as exc:
        raise InputError([Problem(where, part) for part in str(exc).split("; ")]) from None
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
