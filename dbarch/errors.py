"""Errors that reach the user: each names where the problem is and what was expected."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One located problem in a user's input (a spec, a DDL file, an artifact folder)."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    path: str = ""
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path + ': ' if self.path else ''}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict[str, object]:
        """The problem as plain data, for `--format json`."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class InputError(Exception):
    """Bad input from the user; the CLI prints every problem and exits with code 2."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class EngineError(Exception):
    """A database engine refused an artifact or could not be reached."""
