"""What a rehearsal observed, what it means, and how it reads: the pure half of `migrate rehearse`.

`dbarch.engines.rehearse` runs a migration on a scratch copy of the schema under a concurrent
workload and hands over raw observations: each statement's run, each workload query (which
backend, when it started and ended), and samples of `pg_locks` / `pg_stat_activity` taken every
few milliseconds. This module turns them into per-statement results: the locks each statement
took and how long it held them, the workload queries it made wait and for how long, a verdict
(does it block production, and for how long at the real table size) and the report.

Two numbers are kept apart on purpose. Every DDL statement takes a lock, if only for a
millisecond, and a query arriving in that millisecond queues behind it: that is a *wait*, and the
safe recipes cause them too. A wait is a *block* when it lasted at least `tolerance_ms`, or when
the statement it waited on scanned or rewrote a table meanwhile (its time grows with the rows,
so at the real size the same wait is longer): that is what a verdict of "blocks production"
means.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dbarch.lint.locks import blocks_traffic, lock_table

DEFAULT_ROWS = 200_000
"""Synthetic rows per table: a scan or rewrite at this size holds its lock long enough (tens
to hundreds of ms) for the sampler and the workload to see it."""
DEFAULT_WORKERS = 4
TOLERANCE_MS = 50.0
"""A wait shorter than this, on a statement that neither scans nor rewrites, is the blip every
DDL lock causes (a commit's WAL flush alone can take milliseconds), not a block."""
SAMPLE_MS = 5.0
"""How often pg_locks is polled; a lock held for less may go unseen by the sampler (the locks a
statement takes inside its transaction are read exactly all the same)."""

SCALING_SHARE = 0.1
"""A statement scales with a table when it rewrote it or touched at least this share of its
rows. Not 1.0: a parallel index build counts only the leader's share of the scan in the
statistics the rehearsal reads (with two workers, about a third to a half)."""

READ, INSERT, UPDATE = "read", "insert", "update"

Status = Literal["blocks", "would-block", "ok", "failed", "not-run"]


# Raw observations, as the engine records them (many thousands per run: plain dataclasses).


@dataclass(slots=True)
class Wait:
    """A workload backend seen waiting for a lock in one sample."""

    pid: int
    blockers: tuple[int, ...]
    relation: int | None  # the oid of the relation it waits for; None for a row or xid lock
    wait_ms: float  # how long it had been waiting when sampled (server clock)


@dataclass(slots=True)
class Sample:
    """One poll of pg_locks / pg_stat_activity; `start`/`end` bracket it on the client's clock."""

    start: float
    end: float
    locks: list[tuple[int, str, bool]]  # the migration's (relation oid, pg_locks mode, granted)
    waits: list[Wait] = field(default_factory=list)


@dataclass(slots=True, eq=False)  # hashed by identity: two runs are never the same query
class QueryRun:
    """One workload query, timed on the client's monotonic clock (seconds)."""

    pid: int
    table: str
    op: str  # read, insert or update
    start: float
    end: float
    error: str | None = None


@dataclass(slots=True)
class StatementRun:
    """One migration statement as the engine ran it."""

    index: int
    line: int
    sql: str
    kind: str
    start: float
    end: float
    transaction: str  # "own" (a one-statement transaction), "block" (the file's), "none"
    txn: int = 0  # statements sharing a number ran in one transaction: their locks carry over
    error: str | None = None
    # (relation, pg_locks mode) it acquired, read inside its transaction; None outside one
    locks: list[tuple[str, str]] | None = None
    rewritten: list[str] = field(default_factory=list)
    rows: dict[str, int] | None = None  # rows it read or wrote per table; None: not measurable
    skipped: bool = False  # not run: an earlier statement failed


# The result model.


class LockUse(BaseModel):
    """A table lock a statement took."""

    relation: str
    mode: str = Field(description="the mode as PostgreSQL's documentation names it")
    blocks_traffic: bool = Field(description="the mode blocks application reads or writes")
    held_ms: float | None = Field(
        None, description="first to last sample that saw it granted (a lower bound), and for a "
        "lock taken in a transaction block at least until the block's COMMIT; None when no "
        "sample saw it: it was held for less than the sampling interval")
    queued_ms: float | None = Field(
        None, description="first to last sample that saw the migration waiting for it")


class Verdict(BaseModel):
    """Does the statement block production, and for how long at the real size."""

    status: Status
    blocks_production: bool
    scales: str | None = Field(
        None, description="why its time grows with the table (rewrite, rows read), if it does")
    ratio: float | None = Field(None, description="real rows / rehearsed rows of that table")
    estimate_ms: float | None = Field(
        None, description="its duration at the real size: linear in rows, an estimate")
    summary: str


class QueryWait(BaseModel):
    """A workload query that waited on a statement."""

    table: str
    op: str
    wait_ms: float = Field(description="its longest sampled wait (server clock): a lower bound")


class StatementResult(BaseModel):
    """One migration statement: its locks, the workload it made wait, its verdict."""

    index: int
    line: int
    sql: str
    kind: str
    started_ms: float = Field(description="since the first statement started")
    duration_ms: float
    transaction: str
    error: str | None = None
    locks: list[LockUse] = Field(default_factory=list)
    rewritten: list[str] = Field(default_factory=list)
    rows: dict[str, int] | None = None
    waits: list[QueryWait] = Field(default_factory=list)
    waited: int = Field(0, description="workload queries seen waiting on it")
    blocked: int = Field(0, description="of those, the ones that count as blocked (module doc)")
    blocked_reads: int = 0
    blocked_writes: int = 0
    longest_wait_ms: float | None = None
    verdict: Verdict | None = None


class TableSize(BaseModel):
    """A table the rehearsal filled, with its real size when a catalog gave it."""

    name: str
    rehearsed_rows: int
    real_rows: int | None = None
    real_bytes: int | None = None
    workload: bool = Field(description="the workload read and wrote it")


class OpStats(BaseModel):
    """Workload queries of one kind."""

    op: str
    queries: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class WorkloadStats(BaseModel):
    """The concurrent workload that ran during the migration."""

    workers: int
    queries: int
    errors: int
    per_second: float
    ops: list[OpStats] = Field(default_factory=list)
    error_messages: list[str] = Field(default_factory=list)


class Rehearsal(BaseModel):
    """The whole rehearsal: where it ran, at what size, and every statement's result."""

    migration: str
    server: str
    scratch_database: str
    scratch_dropped: bool
    rows: int
    sample_ms: float
    samples: int
    tolerance_ms: float
    real_catalog: str | None = Field(None, description="where the real table sizes came from")
    tables: list[TableSize] = Field(default_factory=list)
    statements: list[StatementResult] = Field(default_factory=list)
    workload: WorkloadStats
    notes: list[str] = Field(default_factory=list)

    @property
    def blocking(self) -> list[StatementResult]:
        """The statements that would block production (measured, or estimated at real size)."""
        return [s for s in self.statements if s.verdict and s.verdict.blocks_production]

    @property
    def failed(self) -> list[StatementResult]:
        return [s for s in self.statements if s.error]

    @property
    def ok(self) -> bool:
        """True when no statement blocked the workload, would block it, or failed."""
        return not self.blocking and not self.failed


# Analysis: samples and query timings → per-statement results.


def lock_mode(pg_mode: str) -> str:
    """pg_locks' `AccessExclusiveLock` → `ACCESS EXCLUSIVE`, the documentation's name (the
    lint's lock table, so rehearsal and lint name modes alike); other modes stay as they are."""
    from dbarch.lint.statement_lock import mode_from_pg

    try:
        return mode_from_pg(pg_mode)
    except KeyError:
        return pg_mode


def _strength(mode: str) -> int:
    modes = list(lock_table())
    return modes.index(mode) if mode in modes else -1


def blocked_by(migration_pid: int, waits: Iterable[Wait]) -> set[int]:
    """The backends waiting on the migration, directly or behind another backend that is.

    A query queued behind a query that waits for the migration's lock waits because of the
    migration too: PostgreSQL's lock queue makes the harm transitive.
    """
    blockers = {w.pid: set(w.blockers) for w in waits}
    blocked = {pid for pid, by in blockers.items() if migration_pid in by}
    grew = True
    while grew:
        more = {pid for pid, by in blockers.items() if pid not in blocked and by & blocked}
        grew = bool(more)
        blocked |= more
    return blocked


@dataclass
class _Episode:
    """A lock the migration held (or queued for) over consecutive samples."""

    oid: int
    mode: str
    statement: int
    held_first: float | None = None
    held_last: float | None = None
    queued_first: float | None = None
    queued_last: float | None = None


def analyse(
    runs: list[StatementRun],
    samples: list[Sample],
    queries: list[QueryRun],
    migration_pid: int,
    relations: dict[int, str],
    tolerance_ms: float,
) -> list[StatementResult]:
    """Per statement: locks with their sampled hold times, and the workload queries it held up.

    A waiting query is charged to the statement that first took the migration's strongest
    granted lock on the relation the query waits for (in a transaction block the lock outlives
    its statement); when the migration itself is queued for that lock, to the statement asking
    for it; for a row lock or anything else, to the statement running at the time. A sample
    taken while a statement began is left out: the server may have seen either statement.
    """
    ran = [r for r in runs if not r.skipped]
    starts = [r.start for r in ran]
    txn = {r.index: r.txn for r in ran}
    # Who took each lock, as each statement's own bookkeeping read it: the sampler may first see
    # a lock during a later statement of the same block (an instant ALTER, then an UPDATE).
    acquired: dict[tuple[int, str, str], int] = {}
    for r in ran:
        for relation, pg_mode in r.locks or []:
            acquired.setdefault((r.txn, relation, lock_mode(pg_mode)), r.index)

    def statement_at(t: float) -> int | None:
        i = bisect.bisect_right(starts, t) - 1
        return ran[i].index if i >= 0 else None

    episodes: list[_Episode] = []
    current: dict[tuple[int, str], _Episode] = {}
    blames: list[tuple[int, float, float, int, float]] = []  # pid, start, end, statement, wait
    for sample in sorted(samples, key=lambda s: s.start):
        t = (sample.start + sample.end) / 2
        now = statement_at(sample.start)
        if now != statement_at(sample.end):
            continue  # a statement began while the sample ran: which one the server saw is unknown
        present = {(oid, lock_mode(mode)): granted for oid, mode, granted in sample.locks}
        # a lock seen again in another transaction was released and taken again in between
        current = {key: ep for key, ep in current.items()
                   if key in present and now is not None and txn[ep.statement] == txn[now]}
        for key, granted in present.items():
            episode = current.get(key)
            if episode is None:
                if now is None:
                    continue
                owner = acquired.get((txn[now], relations.get(key[0], ""), key[1]), now)
                episode = _Episode(key[0], key[1], owner)
                current[key] = episode
                episodes.append(episode)
            if granted:
                episode.held_first = episode.held_first if episode.held_first is not None else t
                episode.held_last = t
            else:
                episode.queued_first = (
                    episode.queued_first if episode.queued_first is not None else t)
                episode.queued_last = t
        blocked = blocked_by(migration_pid, sample.waits)
        for wait in sample.waits:
            if wait.pid not in blocked:
                continue
            index = _culprit(wait, current, t) if wait.relation is not None else None
            index = index if index is not None else now
            if index is not None:
                blames.append((wait.pid, sample.start, sample.end, index, wait.wait_ms))

    charged = _charge_queries(queries, blames)
    results = []
    origin = ran[0].start if ran else 0.0
    # PostgreSQL releases table locks only when the transaction ends: a lock taken inside a
    # block is held at least until the block's last statement (its COMMIT) finished.
    block_end: dict[int, float] = {}
    for run in runs:
        if run.transaction == "block" and not run.skipped:
            block_end[run.txn] = max(block_end.get(run.txn, run.end), run.end)
    for run in runs:
        mine = [(q, wait) for q, (index, wait) in charged.items() if index == run.index]
        mine.sort(key=lambda item: item[0].start)
        duration = (run.end - run.start) * 1000 if not run.skipped else 0.0
        results.append(StatementResult(
            index=run.index, line=run.line, sql=run.sql, kind=run.kind,
            started_ms=round((run.start - origin) * 1000, 1) if not run.skipped else 0.0,
            duration_ms=round(duration, 1),
            transaction=run.transaction,
            error="not run: an earlier statement failed" if run.skipped else run.error,
            locks=_locks(run, [e for e in episodes if e.statement == run.index], relations,
                         duration if run.transaction == "own" else None,
                         (block_end[run.txn] - run.start) * 1000
                         if run.transaction == "block" and run.txn in block_end else None),
            rewritten=run.rewritten, rows=run.rows,
            waits=[QueryWait(table=q.table, op=q.op, wait_ms=round(w, 1)) for q, w in mine],
            waited=len(mine),
            longest_wait_ms=round(max(w for _, w in mine), 1) if mine else None,
        ))
    return results


def _culprit(wait: Wait, current: dict[tuple[int, str], _Episode], t: float) -> int | None:
    mine = [ep for (oid, _), ep in current.items() if oid == wait.relation]
    granted = [ep for ep in mine if ep.held_last == t]
    if granted:
        return max(granted, key=lambda ep: _strength(ep.mode)).statement
    return mine[0].statement if mine else None


def _charge_queries(
    queries: list[QueryRun], blames: list[tuple[int, float, float, int, float]]
) -> dict[QueryRun, tuple[int, float]]:
    """Each blamed sample → the query its backend was running then; the longest wait wins."""
    by_pid: dict[int, list[QueryRun]] = {}
    for query in sorted(queries, key=lambda q: q.start):
        by_pid.setdefault(query.pid, []).append(query)
    starts = {pid: [q.start for q in runs] for pid, runs in by_pid.items()}
    charged: dict[QueryRun, tuple[int, float]] = {}
    for pid, start, end, index, wait in blames:
        runs = by_pid.get(pid, [])
        i = bisect.bisect_right(starts.get(pid, []), end) - 1
        if i < 0 or runs[i].end < start:
            continue  # the query has not been recorded (the run stopped while it waited)
        query = runs[i]
        if query not in charged or wait >= charged[query][1]:
            charged[query] = (index, wait)
    return charged


def _locks(
    run: StatementRun, episodes: list[_Episode], relations: dict[int, str], cap: float | None,
    until_commit: float | None = None,
) -> list[LockUse]:
    """The statement's locks with their sampled spans; in a transaction of its own a lock
    cannot outlive the statement, so `cap` (its duration) bounds the sampled span. In a
    transaction block, a lock the statement acquired is held at least `until_commit` ms (from
    its start to the end of the block), whatever the sampler happened to see."""
    uses: dict[tuple[str, str], LockUse] = {}
    for ep in episodes:
        name = relations.get(ep.oid, str(ep.oid))
        key = (name, ep.mode)
        held = _span(ep.held_first, ep.held_last)
        if held is not None and cap is not None:
            held = min(held, round(cap, 1))
        queued = _span(ep.queued_first, ep.queued_last)
        use = uses.get(key)
        if use is None:
            uses[key] = LockUse(relation=name, mode=ep.mode, blocks_traffic=blocks_traffic(ep.mode),
                                held_ms=held, queued_ms=queued)
        else:  # released and taken again within the statement: add the spans up
            use.held_ms = _add(use.held_ms, held)
            use.queued_ms = _add(use.queued_ms, queued)
    for relation, pg_mode in run.locks or []:
        mode = lock_mode(pg_mode)
        if (relation, mode) not in uses:
            uses[(relation, mode)] = LockUse(relation=relation, mode=mode,
                                             blocks_traffic=blocks_traffic(mode))
        if until_commit is not None:
            use = uses[(relation, mode)]
            use.held_ms = round(max(use.held_ms or 0.0, until_commit), 1)
    return sorted(uses.values(), key=lambda u: (u.relation, -_strength(u.mode)))


def _span(first: float | None, last: float | None) -> float | None:
    return None if first is None or last is None else round((last - first) * 1000, 1)


def _add(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


# Verdicts and extrapolation.


def scaling(
    result: StatementResult, tables: dict[str, TableSize]
) -> tuple[str, float | None] | None:
    """Why the statement's time grows with a table's rows, and real/rehearsed rows for it.

    Measured, not looked up: the statement rewrote the table (its relfilenode changed) or read
    or wrote at least SCALING_SHARE of its rows. None when it touched no table that much.
    """
    reasons: list[tuple[str, float | None]] = []
    for name in result.rewritten:
        reasons.append((f"rewrote {name}", _ratio(tables.get(name))))
    for name, rows in (result.rows or {}).items():
        size = tables.get(name)
        if name in result.rewritten or size is None or size.rehearsed_rows <= 0:
            continue
        if rows >= SCALING_SHARE * size.rehearsed_rows:
            reasons.append((f"read or wrote {rows:,} of {size.rehearsed_rows:,} rows of {name}",
                            _ratio(size)))
    if not reasons:
        return None
    known = [r for r in reasons if r[1] is not None]
    return max(known, key=lambda r: r[1] or 0.0) if known else reasons[0]


def _ratio(size: TableSize | None) -> float | None:
    if size is None or size.real_rows is None or size.rehearsed_rows <= 0:
        return None
    return size.real_rows / size.rehearsed_rows


def judge(result: StatementResult, tables: dict[str, TableSize], tolerance_ms: float) -> Verdict:
    """The verdict on one statement; sets its blocked counts (see the module doc).

    blocks: workload queries were blocked by it at the rehearsed size.
    would-block: none waited, but it held a lock that blocks traffic while doing work that grows
    with the rows, and at the real size that work takes at least `tolerance_ms`.
    """
    if result.error:
        status: Status = "not-run" if result.error.startswith("not run") else "failed"
        return Verdict(status=status, blocks_production=False, summary=result.error)
    scale = scaling(result, tables)
    reason, ratio = scale if scale else (None, None)
    blocked = [w for w in result.waits if scale or w.wait_ms >= tolerance_ms]
    result.blocked = len(blocked)
    result.blocked_reads = sum(1 for w in blocked if w.op == READ)
    result.blocked_writes = len(blocked) - result.blocked_reads
    estimate = round(result.duration_ms * ratio, 1) if ratio is not None else None
    blocking = sorted({f"{u.mode} on {u.relation}" for u in result.locks if u.blocks_traffic})
    grows = (f"; ~{_ms(estimate)} at the real size (estimate, linear in rows)"
             if estimate is not None else f"; {reason}: it grows with the table" if reason
             else "")
    if blocked:
        longest = max(w.wait_ms for w in blocked)
        summary = (f"blocked {_what(result)} for up to {_ms(longest)} "
                   f"({', '.join(blocking) or 'row locks'}){grows}")
        if result.transaction == "block" and any(
                u.blocks_traffic and (u.held_ms or 0) > result.duration_ms for u in result.locks):
            summary += "; its lock stayed held until the transaction ended, after the statement"
        return Verdict(status="blocks", blocks_production=True, scales=reason, ratio=ratio,
                       estimate_ms=estimate, summary=summary)
    if blocking and estimate is not None and estimate >= tolerance_ms:
        summary = (f"held {', '.join(blocking)} for {_ms(result.duration_ms)} here: "
                   f"~{_ms(estimate)} at the real size (estimate, linear in rows)")
        return Verdict(status="would-block", blocks_production=True, scales=reason, ratio=ratio,
                       estimate_ms=estimate, summary=summary)
    parts = []
    if blocking:
        parts.append(f"took {', '.join(blocking)} briefly")
    if result.waited:
        parts.append(f"{result.waited} queries waited, each under {_ms(tolerance_ms)}")
    if reason:
        parts.append(f"{reason}: its time grows with the table"
                     + (f" (~{_ms(estimate)} at the real size)" if estimate is not None else ""))
    return Verdict(status="ok", blocks_production=False, scales=reason, ratio=ratio,
                   estimate_ms=estimate, summary="; ".join(parts) or "no traffic blocked")


def _what(result: StatementResult) -> str:
    kinds = []
    if result.blocked_writes:
        kinds.append(f"{result.blocked_writes} writes")
    if result.blocked_reads:
        kinds.append(f"{result.blocked_reads} reads")
    return " and ".join(kinds)


def judge_all(rehearsal: Rehearsal) -> Rehearsal:
    """Fill in every statement's verdict."""
    tables = {t.name: t for t in rehearsal.tables}
    for result in rehearsal.statements:
        result.verdict = judge(result, tables, rehearsal.tolerance_ms)
    return rehearsal


def workload_stats(queries: list[QueryRun], workers: int, seconds: float) -> WorkloadStats:
    """Counts and latency percentiles of the workload, per kind of query."""
    ops = []
    for op in (READ, INSERT, UPDATE):
        mine = [q for q in queries if q.op == op]
        if not mine:
            continue
        times = sorted((q.end - q.start) * 1000 for q in mine if q.error is None)
        ops.append(OpStats(
            op=op, queries=len(mine), errors=sum(1 for q in mine if q.error),
            p50_ms=_percentile(times, 0.50), p99_ms=_percentile(times, 0.99),
            max_ms=round(times[-1], 2) if times else None,
        ))
    messages = sorted({q.error for q in queries if q.error})
    return WorkloadStats(
        workers=workers, queries=len(queries), errors=sum(1 for q in queries if q.error),
        per_second=round(len(queries) / seconds, 1) if seconds > 0 else 0.0, ops=ops,
        error_messages=messages[:5],
    )


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(share * len(values)))], 2)


# Rendering.


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 60_000:
        return f"{value / 60_000:.1f} min"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _lock_text(use: LockUse, sample_ms: float) -> str:
    held = f"~{_ms(use.held_ms)}" if use.held_ms else f"<{_ms(sample_ms)}"
    queued = f", queued {_ms(use.queued_ms)}" if use.queued_ms else ""
    colour = "red" if use.blocks_traffic else "green"
    return f"[{colour}]{escape(use.mode)}[/] {escape(use.relation)} {held}{queued}"


def show_rehearsal(console: Console, rehearsal: Rehearsal) -> None:
    """The rehearsal as a table, one row per statement, then what it means."""
    dropped = "dropped" if rehearsal.scratch_dropped else "[red]NOT dropped[/]"
    console.print(
        f"[bold]{escape(rehearsal.migration)}[/] rehearsed on {escape(rehearsal.server)}, "
        f"scratch database {rehearsal.scratch_database} ({dropped})", highlight=False)
    for size in rehearsal.tables:
        real = (f", real {size.real_rows:,} rows" if size.real_rows is not None else "")
        role = "workload" if size.workload else "referenced"
        console.print(f"  {escape(size.name)}: {size.rehearsed_rows:,} synthetic rows ({role})"
                      f"{real}", highlight=False)
    w = rehearsal.workload
    latency = ", ".join(f"{o.op} p50 {_ms(o.p50_ms)} p99 {_ms(o.p99_ms)} max {_ms(o.max_ms)}"
                        for o in w.ops)
    console.print(f"  workload: {w.workers} workers, {w.queries:,} queries ({w.per_second:,.0f}/s"
                  f", {w.errors} errors); {latency}", highlight=False)
    console.print(f"  locks sampled every {_ms(rehearsal.sample_ms)} ({rehearsal.samples:,} "
                  f"samples); blocked = waited ≥ {_ms(rehearsal.tolerance_ms)}", highlight=False)
    table = Table(show_edge=False, pad_edge=False)
    for header in ("line", "time"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("locks (held)", min_width=18)
    for header in ("waits", "blocked", "max wait"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    colours = {"blocks": "red", "would-block": "yellow", "ok": "green", "failed": "red",
               "not-run": "dim"}
    for s in rehearsal.statements:
        status = s.verdict.status if s.verdict else "ok"
        table.add_row(
            str(s.line), _ms(s.duration_ms) if status != "not-run" else "—",
            "\n".join(_lock_text(u, rehearsal.sample_ms) for u in s.locks) or "—",
            str(s.waited), str(s.blocked), _ms(s.longest_wait_ms),
            f"[{colours[status]}]{status.upper()}[/]",
        )
    console.print(table)
    for s in rehearsal.statements:
        verdict = s.verdict
        if verdict is None or verdict.status == "not-run":
            continue
        colour = colours[verdict.status]
        rewrote = f" [red]rewrote {escape(', '.join(s.rewritten))}[/]." if s.rewritten else ""
        console.print(f"line {s.line} [bold]{escape(_short(s.sql, 70))}[/]\n  "
                      f"[{colour}]{verdict.status}[/]: {escape(verdict.summary)}.{rewrote}",
                      highlight=False)
    for note in rehearsal.notes:
        console.print(f"note: {escape(note)}", highlight=False)
    blocking, failed = rehearsal.blocking, rehearsal.failed
    if failed:
        console.print(f"[red]the migration failed at line {failed[0].line}[/]", highlight=False)
    if blocking:
        lines = ", ".join(str(s.line) for s in blocking)
        console.print(f"[red]{len(blocking)} of {len(rehearsal.statements)} statements block "
                      f"production[/] (line {lines})", highlight=False)
    elif not failed:
        console.print(f"[green]no statement blocked the workload[/] "
                      f"({len(rehearsal.statements)} statements)", highlight=False)


def _short(sql: str, limit: int = 120) -> str:
    lines = [line.strip() for line in sql.splitlines()
             if line.strip() and not line.strip().startswith("--")]
    text = " ".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"
