"""Running a large lint in several processes, each with a share of the rules.

A lint is sequential per file (each rule sees the statements in order, with the migration's
context as it stood), so the work cannot be cut between statements; it can be cut between
rules. Each process reads the files into statements itself and runs its share of the rules
over every statement. Decoding twice costs CPU, not time, on a machine with a core to spare,
and it keeps the children free of the parent's Python objects: forking after that would copy
their pages as both processes touch them. (The first file's libpg_query parse, one JSON
string, is made once before the fork; see run.parse_ahead.) Rules are dealt by their measured
cost. A child keeps its tree until it exits rather than free it object by object, and so does
the parent when the process ends through dbarch.process_exit (the executable); otherwise the
parent's share is dealt a head start for freeing its own. Children send their findings back
through a pipe (see `pack`), each keyed by (file, statement, rule rank, order of emission),
and the parent merges them into exactly the order a single process produces. A child that
fails leaves its share to the parent, which runs it itself, so parallelism can change the
time, never the result.

Only on Linux (fork is cheap and safe there), only with more than one usable CPU, and only for
inputs large enough that a second process pays for itself.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dbarch import process_exit
from dbarch.lint.rule import Finding, Rule, Severity

PARALLEL_BYTES = 256 * 1024
"""Below this much SQL a second process costs more (fork, pickling) than it saves."""

MAX_JOBS = 4

Key = tuple[int, int, int, int]  # file number, statement number, rule rank, emission order


@dataclass
class Share:
    """What one process's share of the rules found."""

    keys: list[Key]
    findings: list[Finding]
    encoded: list[str] | None = None  # each finding's JSON text, when the run encodes them


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return 1


def choose_jobs(requested: int, total_bytes: int) -> int:
    """How many processes to lint with: `requested` when set (0 means decide), else two or
    more when the input is large and the CPUs are there."""
    if not hasattr(os, "fork") or sys.platform != "linux":
        return 1
    if requested > 0:
        return min(requested, MAX_JOBS)
    if total_bytes < PARALLEL_BYTES:
        return 1
    return max(1, min(usable_cpus(), MAX_JOBS))


def deal(rules: list[Rule], jobs: int) -> list[list[Rule]]:
    """Split the rules into `jobs` shares of about equal work, keeping their order in each.

    A rule's work is its measured cost alone (data/rule_costs.yaml, written by
    bench/rule_costs.py: the node types a rule looks at say little about it, one rule on
    AlterTableStmt costs ten times another); an unmeasured rule weighs as the median one.
    Rules that share a per-statement reading (Rule.shared_reading) go as one unit, at the
    measured cost of all of them together when they are all enabled. Each unit goes, heaviest
    first, to the lightest share so far. Each child's share
    starts with the cost of sending its findings back; the parent's with the cost of freeing
    its parse tree when it pays that (not when the process ends through dbarch.process_exit,
    as the executable does; children never do).
    """
    costs = cost_data()
    measured = costs["rules"]
    typical = sorted(measured.values())[len(measured) // 2] if measured else 1
    units = _units(rules, costs.get("together") or {})
    weight = [sum(measured.get(rule.code, typical) for rule in unit) if cost is None else cost
              for unit, cost in units]
    shares: list[list[Rule]] = [[] for _ in range(jobs)]
    head_start = 0.0 if process_exit.armed() else float(costs["parent"])
    loads = [head_start] + [float(costs.get("send", 0))] * (jobs - 1)
    for number in sorted(range(len(units)), key=lambda n: -weight[n]):
        lightest = loads.index(min(loads))
        shares[lightest].extend(units[number][0])
        loads[lightest] += weight[number]
    order = {id(rule): number for number, rule in enumerate(rules)}
    return [sorted(share, key=lambda r: order[id(r)]) for share in shares if share]


def _units(rules: list[Rule], together: dict[str, float]) -> list[tuple[list[Rule], float | None]]:
    """The rules grouped for dealing: the rules of each shared reading in one unit, with its
    measured joint cost when every rule of that reading is here (None: weigh them one by one),
    and every other rule alone."""
    from dbarch.lint.rule import all_rules

    readers: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.shared_reading:
            readers.setdefault(rule.shared_reading, []).append(rule)
    registered = readings(all_rules().rules.values())
    units: list[tuple[list[Rule], float | None]] = []
    for reading, unit in readers.items():
        whole = {rule.code for rule in unit} == set(registered[reading])
        joint = together.get(reading) if whole else None
        units.append((unit, None if joint is None else float(joint)))
    units += [([rule], None) for rule in rules if not rule.shared_reading]
    return units


def readings(rules: Iterable[type[Rule] | Rule]) -> dict[str, list[str]]:
    """The codes of the rules that share each per-statement reading, by its name."""
    found: dict[str, list[str]] = {}
    for rule in rules:
        if rule.shared_reading:
            found.setdefault(rule.shared_reading, []).append(rule.code)
    return found


def cost_data() -> dict[str, Any]:
    """data/rule_costs.yaml, in milliseconds on bench/lint_speed.py's history: `rules`, each
    rule's cost alone by code; `together`, the joint cost of the rules sharing each reading,
    by its name; `parent`, the parent's cost of freeing its tree; `send`, a child's of sending its
    findings back."""
    from dbarch.lint.data_files import data_file

    return data_file("rule_costs.yaml")


def run_shares(shares: list[list[Rule]], run: Callable[[list[Rule]], Share]) -> list[Share]:
    """`run` each share: the first in this process, the others in forked children."""
    children = []
    for share in shares[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: run its share, send it, leave without cleanup handlers
            process_exit.arm()  # what it reads is kept, never freed object by object
            os.close(read_end)
            code = 0
            try:
                payload = pack(run(share))
            except BaseException:  # the parent re-runs this share and reports the error
                payload, code = b"", 1
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            os._exit(code)
        os.close(write_end)
        children.append((pid, read_end, share))
    results = [run(shares[0])]
    for pid, read_end, share in children:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        # A child writes its findings only once they are all packed, and then exits 0; so
        # they are read while it is still tearing down its memory (~15 ms), and waited for after.
        result = None
        if payload:
            try:
                result = unpack(payload)  # our own child's bytes
            except Exception:  # cut short: the share is run again here
                result = None
        _, status = os.waitpid(pid, 0)
        results.append(result if status == 0 and result is not None else run(share))
    return results


_FIELDS = tuple(field.name for field in dataclasses.fields(Finding))


def pack(share: Share) -> bytes:
    """A share as bytes for the pipe: with marshal, each finding as a tuple of its fields,
    three times quicker both ways than pickling the Finding objects (20 ms on the 2,600
    findings of a 20,000-statement history); pickle for anything marshal cannot hold."""
    try:
        rows = [tuple(getattr(finding, name) for name in _FIELDS) for finding in share.findings]
        rows = [(*row[:2], int(row[2]), *row[3:]) for row in rows]  # Severity, an IntEnum
        return b"M" + marshal.dumps((share.keys, rows, share.encoded))
    except (AttributeError, TypeError, ValueError):
        return b"P" + pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(payload: bytes) -> Share:
    """The share `pack` sent."""
    if payload[:1] == b"P":
        share = pickle.loads(payload[1:])
        assert isinstance(share, Share)
        return share
    keys, rows, encoded = marshal.loads(payload[1:])
    severity = Severity
    findings = [Finding(*row[:2], severity(row[2]), *row[3:]) for row in rows]
    return Share(keys, findings, encoded)


def merge(results: list[Share]) -> Share:
    """The findings of every share (and their JSON texts, when every share has them) in the
    order one process would have produced them."""
    keys = [key for share in results for key in share.keys]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    findings = [finding for share in results for finding in share.findings]
    encoded = None
    if all(share.encoded is not None for share in results):
        texts = [text for share in results for text in share.encoded or ()]
        encoded = [texts[n] for n in order]
    return Share([keys[n] for n in order], [findings[n] for n in order], encoded)
