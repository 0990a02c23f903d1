"""What the benchmarks that time dbarch as a subprocess share: finding the executables, writing
dbarch's bytecode first, running one command under `os.wait4`, and saying when the machine was
too busy for the numbers to be compared with a goal.

    from bench.subprocesses import busy_note, compile_dbarch, executable, timed
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Timed:
    """One finished command: wall seconds, CPU seconds (user + system, its forked processes
    included: steadier than wall time on a busy machine), its own peak RSS in MB (the largest
    `ru_maxrss` of it and of the processes it forked, not their sum), and its exit code."""

    seconds: float
    cpu: float
    peak_mb: float
    code: int


def timed(command: list[str], stdout: Path, stderr: Path | None = None) -> Timed:
    """Run `command` with its output in `stdout` (its errors in `stderr`, else dropped) and
    NO_COLOR set; measured by `os.wait4` on the child itself."""
    with stdout.open("wb") as out, (stderr or Path(os.devnull)).open("wb") as err:
        start = time.perf_counter()
        pid = os.posix_spawnp(command[0], command, dict(os.environ, NO_COLOR="1"),
                              file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                            (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - start
    # ru_maxrss is in kilobytes on Linux
    return Timed(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                 os.waitstatus_to_exitcode(status))


def executable(name: str) -> str | None:
    """The tool's own executable: the one installed beside this Python when there is one.

    A version manager's shim (pyenv's `shims/dbarch` is a bash script that runs `pyenv exec`)
    adds a tenth of a second to every start; timing the shim would measure pyenv, not the tool.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def compile_dbarch() -> str:
    """Write dbarch's bytecode as `pip install` would, so no timed run compiles modules (an
    editable checkout with PYTHONDONTWRITEBYTECODE set would, on every run); says so."""
    import compileall

    import dbarch

    folder = Path(dbarch.__file__).parent
    ok = compileall.compile_dir(str(folder), quiet=1)
    return (f"dbarch's modules compiled to bytecode first ({folder}), as an installed "
            f"package's are{'' if ok else ' (some failed to compile)'}")


def busy_note() -> str | None:
    """A line to print when the load average says other work shared the CPUs."""
    load = os.getloadavg()[0]
    if load <= (os.cpu_count() or 1) * 0.5:
        return None
    return (f"note: load average {load:.1f} on {os.cpu_count()} CPUs; rerun on an idle machine "
            "before comparing with the goals")
