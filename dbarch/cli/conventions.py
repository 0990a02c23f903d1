"""What every dbarch command shares: exit codes, --format, consoles, and errors as exit code 2.

DESIGN.md promises the same contract from every command (text or json, exit 0 clean / 1
findings / 2 usage or input error, a located message instead of a traceback); it is kept here,
apart from the commands, so that each command module only declares its options and calls the
library.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import click

from dbarch.errors import EngineError, InputError, Problem

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for machines.",
)


def stdout_console() -> Console:
    # rich is imported where output is drawn: `dbarch lint --format json` in CI never needs it.
    from rich.console import Console

    return Console(soft_wrap=False)


def stderr_progress(fmt: str) -> Callable[[str], None] | None:
    """Progress lines on stderr for the long commands (indexes, shard, migrate rehearse).

    Only for text output: with --format json, stdout carries the result and nothing else is said.
    """
    if fmt != "text":
        return None
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)

    def progress(message: str) -> None:
        err.print(f"[dim]… {escape(message)}[/]", highlight=False)

    return progress


def handles_errors(command: Callable[..., int]) -> Callable[..., None]:
    """Turn input and engine errors into located messages and exit code 2; never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        fmt = kwargs.get("fmt", "text")
        try:
            code = command(*args, **kwargs)
        except InputError as exc:
            _report_problems(exc.problems, fmt)
            code = EXIT_INPUT
        except EngineError as exc:
            _report_problems([Problem("engine", str(exc))], fmt)
            code = EXIT_INPUT
        sys.exit(code)

    return wrapper


def _report_problems(problems: list[Problem], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"errors": [p.as_dict() for p in problems]}, indent=2))
    else:
        from rich.console import Console

        from dbarch.console import show_problems

        show_problems(Console(stderr=True), problems)
