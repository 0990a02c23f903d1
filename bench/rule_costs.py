"""Measure what each PostgreSQL lint rule costs, for `dbarch lint`'s sharing of the rules.

    python bench/rule_costs.py            # prints the table
    python bench/rule_costs.py --write    # and rewrites dbarch/lint/data/rule_costs.yaml

When a large lint runs in several processes, each takes a share of the rules (see
dbarch/lint/parallel.py) and the run lasts as long as its heaviest share. How heavy a rule is
cannot be read from the rule (the node types it looks at say little: a rule on AlterTableStmt
alone may cost ten times another), so it is measured, once, here: every rule runs over the
generated history of bench/lint_speed.py (20,000 statements by default), with the migration's
context walked as the runner walks it, and its time is kept in milliseconds (the median of a
few rounds). The numbers are relative weights, not predictions; rerun this after changing a
rule's cost noticeably, or after adding a rule (an unlisted rule weighs as the median one).
It also measures what only the parent process does: free its parse tree (a child leaves with
os._exit and skips that), a head start its share is dealt with.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lint_speed import generate

from dbarch.lint.config import LintConfig
from dbarch.lint.context import Context
from dbarch.lint.run import enabled_rules
from dbarch.lint.source import read_source

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
    """Milliseconds each rule spends on `text`, the median over `rounds`."""
    config = LintConfig(enable=["all"])
    rules = enabled_rules(config)
    source = read_source("history.sql", text, config.dialect)
    times: dict[str, list[float]] = {rule.code: [] for rule in rules}
    clock = time.perf_counter
    for _ in range(rounds):
        ctx = Context(statements=len(source.statements))
        spent = dict.fromkeys(times, 0.0)
        dispatch: dict[str, list] = {}
        for rule in rules:
            for node in rule.nodes:
                dispatch.setdefault(node, []).append(rule)
        for stmt in source.statements:
            for rule in dispatch.get(stmt.kind, ()):
                start = clock()
                for _finding in rule.check(stmt, ctx):
                    pass
                spent[rule.code] += clock() - start
            ctx.advance(stmt)
        for code, seconds in spent.items():
            times[code].append(seconds * 1000)
    return {code: statistics.median(values) for code, values in times.items()}


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
    lines = [f"  {code}: {max(1, round(ms))}" for code, ms in sorted(costs.items())]
    body = f"parent: {round(parent)}\nrules:\n" + "\n".join(lines) + "\n"
    print(body, end="")
    if args.write:
        header = (
            "# Milliseconds on bench/lint_speed.py's history of"
            f" {args.statements:,} statements, the weights\n"
            "# dbarch/lint/parallel.py deals the rules between processes by: each rule's cost,"
            " and the\n# parent's extra work (freeing its parse tree, which children skip).\n"
            "# Measured, not edited: python bench/rule_costs.py --write\n"
        )
        DATA.write_text(header + body, encoding="utf-8")
        print(f"wrote {DATA}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
