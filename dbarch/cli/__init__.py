"""The `dbarch` command line: parses arguments, calls `dbarch.api`, renders the result.

Exit codes (every command): 0 clean, 1 findings (a failed verification), 2 usage or input error.

This package holds the group `main` and the executable `run`; what every command shares is in
`conventions`, and each family of commands is a module that registers its commands on `main`
when it is imported, at the end of this file.
"""

from __future__ import annotations

import sys

import click

from dbarch import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbarch")
def main() -> None:
    """dbarch: a database architect in a box.

    Describe what your application stores and how it reads and writes it in a YAML spec
    (`dbarch spec schema` gives its JSON Schema); dbarch chooses the databases, designs the
    schema and indexes, writes the architecture document with ADRs, and verifies the DDL and
    every access pattern on real engines.

    \b
      dbarch recommend examples/shop.yaml
      dbarch design examples/shop.yaml -o out/
      dbarch verify out/ --engine postgresql://postgres@localhost/test
    """


def run() -> None:
    """The `dbarch` executable: `main`, then leave at once with its exit code.

    A run that read a large input ends holding millions of small objects; tearing the
    interpreter down would free them one by one after the output is written (see
    dbarch.process_exit). When another non-daemon thread still runs, it exits normally, to
    wait for it. Tests call `main` through click's runner, which never comes here.
    """
    import threading

    from dbarch import process_exit

    process_exit.arm()
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if any(t.is_alive() and not t.daemon and t is not threading.main_thread()
           for t in threading.enumerate()):
        raise SystemExit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit status 1
        print(code, file=sys.stderr)
        code = 1
    process_exit.leave(code)


# Imported last, once `main` exists: each module registers its commands on it. They import no
# more than click and the conventions at start-up (`dbarch lint` is timed from here).
from dbarch.cli import (  # noqa: E402, F401
    design_commands,
    lint_command,
    migrate_commands,
    review_commands,
    workload_commands,
)
