"""The dbarch executable leaves without tearing the interpreter down: its exit codes and its
whole output survive that, and exit handlers still run."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dbarch import process_exit

RUN = "from dbarch.cli import run; run()"


def _dbarch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_exit_codes_and_the_whole_output_survive_the_hard_exit(tmp_path: Path) -> None:
    # enough findings that the output is far larger than a pipe's buffer
    sql = "".join(f"CREATE INDEX i{n} ON t (a);\n" for n in range(3000))
    (tmp_path / "m.sql").write_text(sql)
    found = _dbarch("lint", "--format", "json", "m.sql", cwd=tmp_path)
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert len(report["findings"]) >= 3000 and report["statements"] == 3000
    (tmp_path / "ok.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n")
    assert _dbarch("lint", "ok.sql", cwd=tmp_path).returncode == 0
    broken = _dbarch("lint", "--format", "json", "missing.sql", cwd=tmp_path)
    assert broken.returncode == 2 and "no such file" in broken.stdout
    version = _dbarch("--version", cwd=tmp_path)
    assert version.returncode == 0 and "dbarch" in version.stdout


def test_exit_handlers_run_before_the_process_leaves(tmp_path: Path) -> None:
    marker = tmp_path / "handled"
    code = (f"import atexit, pathlib; atexit.register(pathlib.Path({str(marker)!r}).touch)\n"
            "from dbarch import process_exit; print('out', end=''); process_exit.leave(3)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout) == (3, "out")
    assert marker.exists()


def test_only_an_armed_process_keeps_and_only_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process_exit, "_armed", False)
    monkeypatch.setattr(process_exit, "_kept", [])
    monkeypatch.setattr(process_exit, "_kept_size", 0)
    process_exit.keep("a", 1)
    assert process_exit._kept == []
    monkeypatch.setattr(process_exit, "_armed", True)
    process_exit.keep("b", process_exit.KEEP_LIMIT - 1)
    process_exit.keep("c", 2)  # over the limit: left to be freed as usual
    process_exit.keep("d", 1)
    assert process_exit._kept == ["b", "d"]
    try:  # and what is kept is out of the collector's sight
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
