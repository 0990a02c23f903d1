"""Paths as CI annotations want them: relative to the repository root, with forward slashes."""

from __future__ import annotations

from pathlib import Path


def relative_path(file: str, base: Path | None = None) -> str:
    """`file` relative to `base` (default: the working directory) when it lies below it."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to((base or Path.cwd()).resolve())
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")
