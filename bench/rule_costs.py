"""Measure what each PostgreSQL lint rule costs, for `dbarch lint`'s sharing of the rules.

    python bench/rule_costs.py            # prints the table
    python bench/rule_costs.py --write    # and rewrites dbarch/lint/data/rule_costs.yaml

When a large lint runs in several processes, each takes a share of the rules (see
dbarch/lint/parallel.py) and the run lasts as long as its heaviest share. How heavy a rule is
cannot be read from the rule (the node types it looks at say little: a rule on AlterTableStmt
alone may cost ten times another), so it is measured, once, here: each rule runs alone over
the generated history of bench/lint_speed.py (20,000 statements by default), with the
migration's context walked as the runner walks it, and its time is kept in milliseconds (the
median of a few rounds). The numbers are relative weights, not predictions; rerun this after
changing a rule's cost noticeably, or after adding a rule (an unlisted rule weighs as the
median one). It also measures what only one side does: the parent frees its parse tree when
the process does not end through dbarch.process_exit (a child never does), and a child packs
and sends its findings back while the parent waits for them.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lint_speed import generate

from dbarch.lint import parallel
from dbarch.lint.config import LintConfig
from dbarch.lint.run import LintReport, enabled_rules, lint_source, lint_text
from dbarch.lint.source import read_source
from dbarch.report import json_lines

DATA = Path(__file__).parent.parent / "dbarch" / "lint" / "data" / "rule_costs.yaml"


def freeing(text: str, rounds: int) -> float:
    """Milliseconds to free the parse tree of `text` (the parent's alone: children keep theirs
    until they leave), the median over `rounds`."""
    times = []
    for _ in range(rounds):
        source = read_source("history.sql", text, "postgresql")
        start = time.perf_counter()
        del source
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(text: str, rounds: int) -> dict[str, float]:
    """Milliseconds each rule spends on `text` when it runs alone (as it may, in its process),
    and the rules that share each per-statement reading run together (keyed by its name),
    the median over `rounds`: the walk with the rule, less the walk without it. Each round
    starts from new rule objects, and a rule alone pays for the readings of a statement it
    might otherwise share with another (the ALTER TABLE's subcommands, the schema changes
    L306 and L505 both keep)."""
    config = LintConfig(enable=["all"])
    rules = enabled_rules(config)
    source = read_source("history.sql", text, config.dialect)

    def walk(chosen: list[type]) -> float:
        instances = [rule() for rule in chosen]
        start = time.perf_counter()
        lint_source(source, config, instances, None, LintReport())
        return (time.perf_counter() - start) * 1000

    by_code = {rule.code: type(rule) for rule in rules}
    units = {rule.code: [type(rule)] for rule in rules}
    units.update({reading: [by_code[code] for code in codes]
                  for reading, codes in parallel.readings(rules).items()})
    times: dict[str, list[float]] = {name: [] for name in units}
    for _ in range(rounds):
        bare = walk([])
        for name, chosen in units.items():
            times[name].append(max(0.0, walk(chosen) - bare))
    return {name: statistics.median(values) for name, values in times.items()}


def sending(text: str, rounds: int) -> float:
    """Milliseconds a child spends sending its findings back once its rules are done: packing
    half the findings of the default rules (as `--format json` has them, encoded) and writing
    them to the pipe the parent reads. In a real fork, and on findings the child made itself
    (as a child's are; objects inherited from the parent would cost copy-on-write faults a
    real run does not pay). Unpacking is not counted: the parent does it once both are done,
    whichever process finished first."""
    report = lint_text(text, LintConfig(), path="history.sql")
    encoded = [json_lines.encode(finding.as_dict()) for finding in report.findings]
    packed = parallel.pack(parallel.Share([(0, n, 0, 0) for n in range(0, len(encoded), 2)],
                                          report.findings[::2], encoded[::2]))

    def send_once() -> float:
        ready_read, ready_write = os.pipe()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            os.close(read_end)
            share = parallel.unpack(packed)  # the child's own objects
            os.write(ready_write, b"1")
            with os.fdopen(write_end, "wb") as out:
                out.write(parallel.pack(share))
            os._exit(0)
        os.close(ready_write)
        os.close(write_end)
        os.read(ready_read, 1)
        start = time.perf_counter()
        with os.fdopen(read_end, "rb") as pipe:
            pipe.read()
        spent = (time.perf_counter() - start) * 1000
        os.close(ready_read)
        os.waitpid(pid, 0)
        return spent

    return statistics.median(send_once() for _ in range(rounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"rewrite {DATA.name}")
    args = parser.parse_args(argv)
    text = "\n".join(generate(args.statements, args.seed)) + "\n"
    gc.disable()  # as the lint runs
    costs = measure(text, args.rounds)
    parent = freeing(text, args.rounds)
    send = sending(text, args.rounds)
    lines = [f"  {code}: {max(1, round(ms))}" for code, ms in sorted(costs.items())
             if code[:1] == "L"]
    joint = [f"  {reading}: {max(1, round(ms))}" for reading, ms in sorted(costs.items())
             if reading[:1] != "L"]
    body = (f"parent: {round(parent)}\nsend: {round(send)}\nrules:\n" + "\n".join(lines)
            + "\ntogether:\n" + "\n".join(joint) + "\n")
    print(body, end="")
    if args.write:
        header = (
            "# Milliseconds on bench/lint_speed.py's history of"
            f" {args.statements:,} statements, the weights\n"
            "# dbarch/lint/parallel.py deals the rules between processes by: each rule's cost"
            " alone,\n# the joint cost of the rules that share a reading (Rule.shared_reading),"
            " the parent's extra\n# work when it frees its parse tree (children never do),"
            " and a child's extra work\n# sending its findings back.\n"
            "# Measured, not edited: python bench/rule_costs.py --write\n"
        )
        DATA.write_text(header + body, encoding="utf-8")
        print(f"wrote {DATA}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
