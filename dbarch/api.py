"""The public API: every CLI command is one call here, usable from Python too.

This module orchestrates; the reasoning lives in spec, select, design, render and report, and
only `dbarch.verify` (through `dbarch.engines`) opens connections.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from dbarch.design.relational import design_relational
from dbarch.design.result import Design
from dbarch.errors import InputError, Problem
from dbarch.render.ddl import render_ddl
from dbarch.report import write_documents
from dbarch.select import recommend as select_databases
from dbarch.select.model import Decisions
from dbarch.spec import load_spec
from dbarch.spec.model import Spec
from dbarch.verify.model import VerifyReport

DIALECTS = ("postgresql", "mysql", "sqlite")
DESIGN_FILE = "design.json"


def recommend(spec: Spec | str | Path) -> Decisions:
    """The database for each part of the workload described by `spec` (a Spec or a YAML path)."""
    return select_databases(_spec(spec))


def plan(spec: Spec | str | Path) -> Design:
    """Select the databases and design the relational schema; pure, no connection opened."""
    spec = _spec(spec)
    decisions = select_databases(spec)
    return Design(spec=spec, decisions=decisions, relational=design_relational(spec, decisions))


def render_ddls(design: Design) -> dict[str, str]:
    """The relational schema's DDL for every dialect, keyed by dialect name."""
    return {dialect: render_ddl(design.relational, dialect) for dialect in DIALECTS}


def artifacts(design: Design, report: VerifyReport | None = None) -> dict[str, str]:
    """Every file `dbarch design` writes, relative path → text."""
    ddl = render_ddls(design)
    files = {f"schema/{dialect}.sql": text for dialect, text in ddl.items()}
    files.update(write_documents(design.spec, design.decisions, design.relational, report, ddl))
    files[DESIGN_FILE] = design.to_json()
    return files


def design(
    spec: Spec | str | Path, out: str | Path, engines: list[str] | None = None
) -> tuple[Design, VerifyReport | None, list[Path]]:
    """Design the system in `spec` and write the artifacts into `out`.

    `engines` are the URLs to verify on before the document is written (default: an in-memory
    SQLite, so the main job always proves its own DDL); pass `[]` to skip verification.
    """
    from dbarch.verify.run import verify as run_verify

    result = plan(spec)
    urls = ["sqlite://"] if engines is None else engines
    report = (
        run_verify(result.relational, render_ddls(result), urls, spec=result.spec) if urls else None
    )
    written = write_files(Path(out), artifacts(result, report))
    return result, report, written


def verify(out: str | Path, engines: list[str]) -> VerifyReport:
    """Apply the artifacts in `out` on each engine URL and run every read access pattern."""
    from dbarch.verify.run import verify as run_verify

    result = load_design(out)
    folder = Path(out)
    ddl = {}
    for dialect in DIALECTS:
        path = folder / "schema" / f"{dialect}.sql"
        ddl[dialect] = path.read_text() if path.exists() else render_ddl(result.relational, dialect)
    return run_verify(result.relational, ddl, engines, spec=result.spec)


def default_engines() -> list[str]:
    """SQLite in memory, then the local PostgreSQL and MariaDB servers that answer now."""
    from dbarch.engines.discover import default_urls

    return default_urls()


def load_design(out: str | Path) -> Design:
    """Read back `OUT/design.json`, with a located error if the folder is not a design."""
    path = Path(out) / DESIGN_FILE
    if not path.is_file():
        raise InputError([Problem(
            str(path), "not found: is this a folder written by `dbarch design -o`?",
            hint=f"run `dbarch design SPEC.yaml -o {out}` first",
        )])
    try:
        return Design.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise InputError([
            Problem(str(path), e["msg"], path=".".join(str(p) for p in e["loc"]))
            for e in exc.errors()
        ]) from None


def write_files(out: Path, files: dict[str, str]) -> list[Path]:
    """Write each file under `out`, creating folders; returns the paths written."""
    written = []
    for relative, text in sorted(files.items()):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n")
        written.append(path)
    return written


def _spec(spec: Spec | str | Path) -> Spec:
    return spec if isinstance(spec, Spec) else load_spec(spec)
