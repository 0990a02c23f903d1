"""The pure half of `migrate rehearse`: attributing waits to statements, verdicts, extrapolation.

Observations are built by hand here (times in seconds on the client's monotonic clock), so each
rule of the analysis is pinned without a server; tests/test_rehearse_engine.py runs the real
thing on PostgreSQL.
"""

from __future__ import annotations

import pytest

from dbarch.migrate.rehearse import (
    QueryRun,
    QueryWait,
    Rehearsal,
    Sample,
    StatementResult,
    StatementRun,
    TableSize,
    Wait,
    WorkloadStats,
    analyse,
    blocked_by,
    judge,
    judge_all,
    lock_mode,
    scaling,
    workload_stats,
)

MIGRATION = 100  # the migration's backend pid
ORDERS = 16_384  # an oid
RELATIONS = {ORDERS: "public.orders"}
AE, RE = "AccessExclusiveLock", "RowExclusiveLock"


def run(index: int, start: float, end: float, txn: int, transaction: str = "own",
        **extra: object) -> StatementRun:
    return StatementRun(index=index, line=index + 1, sql=f"-- statement {index}",
                        kind="AlterTableStmt", start=start, end=end, transaction=transaction,
                        txn=txn, **extra)  # type: ignore[arg-type]


def sample(t: float, locks: list[tuple[int, str, bool]], *waits: Wait) -> Sample:
    return Sample(start=t - 0.001, end=t + 0.001, locks=locks, waits=list(waits))


def waiting(pid: int, wait_ms: float, *, by: tuple[int, ...] = (MIGRATION,),
            relation: int | None = ORDERS) -> Wait:
    return Wait(pid=pid, blockers=by, relation=relation, wait_ms=wait_ms)


@pytest.mark.parametrize(("pg", "doc"), [
    ("AccessExclusiveLock", "ACCESS EXCLUSIVE"),
    ("ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE"),
    ("ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE"),
    ("ShareLock", "SHARE"),
    ("RowExclusiveLock", "ROW EXCLUSIVE"),
    ("AccessShareLock", "ACCESS SHARE"),
])
def test_lock_mode_names_match_the_documentation(pg: str, doc: str) -> None:
    assert lock_mode(pg) == doc


def test_blocked_follows_the_lock_queue() -> None:
    # 1 waits on the migration; 2 queues behind 1; 3 waits on 4, which is not waiting on it
    waits = [waiting(1, 5), waiting(2, 5, by=(1,)), waiting(3, 5, by=(4,)),
             waiting(5, 5, by=(2, 4))]
    assert blocked_by(MIGRATION, waits) == {1, 2, 5}


def test_a_query_waiting_on_a_held_lock_is_charged_to_the_statement_that_took_it() -> None:
    runs = [run(0, 1.00, 1.30, txn=1), run(1, 1.31, 1.40, txn=2)]
    samples = [
        sample(1.05, [(ORDERS, AE, True)]),
        sample(1.10, [(ORDERS, AE, True)], waiting(7, 40.0)),
        sample(1.20, [(ORDERS, AE, True)], waiting(7, 140.0)),
        sample(1.35, []),
    ]
    queries = [QueryRun(7, "public.orders", "update", 1.06, 1.30),
               QueryRun(7, "public.orders", "read", 1.31, 1.3102)]
    first, second = analyse(runs, samples, queries, MIGRATION, RELATIONS, 50.0)
    assert (first.waited, first.longest_wait_ms) == (1, 140.0)
    assert first.waits == [QueryWait(table="public.orders", op="update", wait_ms=140.0)]
    assert first.locks[0].mode == "ACCESS EXCLUSIVE"
    assert first.locks[0].held_ms == pytest.approx(150.0)
    assert second.waited == 0 and second.locks == []


def test_in_a_transaction_block_the_lock_outlives_its_statement() -> None:
    # BEGIN; ALTER (takes ACCESS EXCLUSIVE); UPDATE …; COMMIT — the wait during the UPDATE is
    # the ALTER's doing: its lock is the one the query waits for
    runs = [run(0, 1.00, 1.01, txn=1, transaction="block"),
            run(1, 1.01, 1.05, txn=1, transaction="block"),
            run(2, 1.05, 1.50, txn=1, transaction="block"),
            run(3, 1.50, 1.51, txn=1, transaction="block")]
    samples = [sample(1.03, [(ORDERS, AE, True)]),
               sample(1.30, [(ORDERS, AE, True), (ORDERS, RE, True)], waiting(8, 250.0))]
    queries = [QueryRun(8, "public.orders", "read", 1.04, 1.51)]
    results = analyse(runs, samples, queries, MIGRATION, RELATIONS, 50.0)
    assert [r.waited for r in results] == [0, 1, 0, 0]
    assert results[1].longest_wait_ms == 250.0


def test_a_lock_taken_again_in_the_next_transaction_starts_a_new_hold() -> None:
    # two autocommit ALTERs back to back: no sample falls between them, yet the second one's
    # ACCESS EXCLUSIVE is its own (the first was released at its commit)
    runs = [run(0, 1.00, 1.10, txn=1), run(1, 1.10, 1.60, txn=2)]
    samples = [sample(1.05, [(ORDERS, AE, True)]),
               sample(1.20, [(ORDERS, AE, True)], waiting(9, 90.0)),
               sample(1.50, [(ORDERS, AE, True)], waiting(9, 390.0))]
    queries = [QueryRun(9, "public.orders", "read", 1.11, 1.60)]
    first, second = analyse(runs, samples, queries, MIGRATION, RELATIONS, 50.0)
    assert first.waited == 0
    assert second.waited == 1 and second.longest_wait_ms == 390.0
    assert second.locks[0].held_ms == pytest.approx(300.0)


def test_a_sample_taken_while_a_statement_began_is_left_out() -> None:
    runs = [run(0, 1.00, 1.10, txn=1), run(1, 1.1005, 1.20, txn=2)]
    samples = [Sample(1.099, 1.101, [(ORDERS, AE, True)], [waiting(3, 60.0)])]
    queries = [QueryRun(3, "public.orders", "read", 1.04, 1.11)]
    results = analyse(runs, samples, queries, MIGRATION, RELATIONS, 50.0)
    assert [r.waited for r in results] == [0, 0]


def test_the_migration_queued_for_a_lock_is_charged_with_the_queue_behind_it() -> None:
    runs = [run(0, 1.00, 1.50, txn=1)]
    samples = [sample(1.10, [(ORDERS, AE, False)], waiting(4, 80.0), waiting(5, 70.0, by=(4,)))]
    queries = [QueryRun(4, "public.orders", "update", 1.01, 1.2),
               QueryRun(5, "public.orders", "read", 1.02, 1.2)]
    (result,) = analyse(runs, samples, queries, MIGRATION, RELATIONS, 50.0)
    assert result.waited == 2
    assert result.locks[0].held_ms is None and result.locks[0].queued_ms == 0.0


def test_locks_read_inside_the_transaction_appear_even_when_no_sample_saw_them() -> None:
    runs = [run(0, 1.00, 1.002, txn=1, locks=[("public.orders", AE)])]
    (result,) = analyse(runs, [], [], MIGRATION, RELATIONS, 50.0)
    assert [(u.mode, u.blocks_traffic, u.held_ms) for u in result.locks] == [
        ("ACCESS EXCLUSIVE", True, None)]


def test_a_lock_taken_in_a_block_is_held_until_its_commit_even_unsampled() -> None:
    # the sampler saw nothing (a starved thread on a busy machine): the hold is still known
    runs = [run(0, 1.00, 1.01, txn=1, transaction="block", locks=[("public.orders", AE)]),
            run(1, 1.01, 1.40, txn=1, transaction="block"),
            run(2, 1.40, 1.41, txn=1, transaction="block")]
    alter, _, _ = analyse(runs, [], [], MIGRATION, RELATIONS, 50.0)
    (use,) = alter.locks
    assert use.held_ms == 410.0 and use.held_ms > alter.duration_ms


def test_a_lock_first_sampled_during_a_later_statement_of_its_block_is_charged_to_its_taker(
) -> None:
    # the ALTER was instant: the sampler first saw its ACCESS EXCLUSIVE during the UPDATE
    runs = [run(0, 1.00, 1.01, txn=1, transaction="block", locks=[("public.orders", AE)]),
            run(1, 1.01, 1.40, txn=1, transaction="block", locks=[("public.orders", RE)]),
            run(2, 1.40, 1.41, txn=1, transaction="block")]
    samples = [sample(1.2, [(ORDERS, AE, True), (ORDERS, RE, True)],
                      waiting(7, 180.0, relation=ORDERS))]
    queries = [QueryRun(pid=7, start=1.02, end=1.41, op="read", table="public.orders")]
    alter, update, _ = analyse(runs, samples, queries, MIGRATION, RELATIONS, 50.0)
    assert (alter.waited, update.waited) == (1, 0)


def result(**fields: object) -> StatementResult:
    base: dict[str, object] = {"index": 0, "line": 1, "sql": "x", "kind": "AlterTableStmt",
                               "started_ms": 0.0, "duration_ms": 200.0, "transaction": "own"}
    base.update(fields)
    return StatementResult(**base)  # type: ignore[arg-type]


def lock(mode: str) -> dict[str, object]:
    from dbarch.lint.locks import blocks_traffic

    return {"relation": "public.orders", "mode": mode, "blocks_traffic": blocks_traffic(mode)}


TABLES = {"public.orders": TableSize(name="public.orders", rehearsed_rows=200_000,
                                     real_rows=50_000_000, workload=True)}
UNKNOWN = {"public.orders": TableSize(name="public.orders", rehearsed_rows=200_000,
                                      workload=True)}


def test_a_rewrite_scales_linearly_to_the_real_rows() -> None:
    reason, ratio = scaling(result(rewritten=["public.orders"]), TABLES)  # type: ignore[misc]
    assert reason == "rewrote public.orders" and ratio == 250.0


@pytest.mark.parametrize(("rows", "scales"), [(200_000, True), (20_000, True), (19_999, False)])
def test_a_statement_scales_when_it_touches_a_tenth_of_the_rows(rows: int, scales: bool) -> None:
    assert (scaling(result(rows={"public.orders": rows}), TABLES) is not None) is scales


def test_a_long_wait_blocks() -> None:
    r = result(locks=[lock("SHARE")], waits=[QueryWait(table="public.orders", op="insert",
                                                       wait_ms=180.0)], waited=1)
    verdict = judge(r, UNKNOWN, 50.0)
    assert verdict.status == "blocks" and verdict.blocks_production
    assert (r.blocked, r.blocked_writes, r.blocked_reads) == (1, 1, 0)


def test_a_short_wait_on_a_brief_lock_is_a_blip_not_a_block() -> None:
    r = result(duration_ms=3.0, locks=[lock("ACCESS EXCLUSIVE")], waited=2,
               waits=[QueryWait(table="public.orders", op="read", wait_ms=2.5),
                      QueryWait(table="public.orders", op="update", wait_ms=1.0)])
    verdict = judge(r, TABLES, 50.0)
    assert verdict.status == "ok" and not verdict.blocks_production and r.blocked == 0


def test_a_short_wait_on_a_scanning_statement_blocks_it_grows_with_the_table() -> None:
    # SET NOT NULL on a small rehearsal: a 20 ms scan under ACCESS EXCLUSIVE
    r = result(duration_ms=25.0, locks=[lock("ACCESS EXCLUSIVE")], waited=1,
               rows={"public.orders": 200_000},
               waits=[QueryWait(table="public.orders", op="read", wait_ms=20.0)])
    verdict = judge(r, TABLES, 50.0)
    assert verdict.status == "blocks" and r.blocked == 1
    assert verdict.estimate_ms == pytest.approx(25.0 * 250)


def test_no_wait_but_a_scan_under_a_blocking_lock_would_block_at_the_real_size() -> None:
    r = result(duration_ms=4.0, locks=[lock("ACCESS EXCLUSIVE")], rewritten=["public.orders"])
    verdict = judge(r, TABLES, 50.0)
    assert verdict.status == "would-block" and verdict.blocks_production
    assert verdict.estimate_ms == pytest.approx(1000.0)
    # … and the same at a real size where it stays under the tolerance does not
    small = {"public.orders": TABLES["public.orders"].model_copy(update={"real_rows": 400_000})}
    assert judge(r, small, 50.0).status == "ok"


def test_a_scan_under_a_lock_that_blocks_no_traffic_is_fine_at_any_size() -> None:
    # VALIDATE CONSTRAINT: SHARE UPDATE EXCLUSIVE, reads every row
    r = result(locks=[lock("SHARE UPDATE EXCLUSIVE")], rows={"public.orders": 200_000})
    verdict = judge(r, TABLES, 50.0)
    assert verdict.status == "ok" and verdict.estimate_ms == pytest.approx(50_000.0)


def test_failed_and_skipped_statements() -> None:
    assert judge(result(error="column \"x\" does not exist"), TABLES, 50.0).status == "failed"
    assert judge(result(error="not run: an earlier statement failed"), TABLES,
                 50.0).status == "not-run"


def rehearsal(*statements: StatementResult) -> Rehearsal:
    return Rehearsal(migration="m.sql", server="PostgreSQL 15", scratch_database="s",
                     scratch_dropped=True, rows=200_000, sample_ms=5.0, samples=10,
                     tolerance_ms=50.0, tables=list(TABLES.values()), statements=list(statements),
                     workload=WorkloadStats(workers=1, queries=0, errors=0, per_second=0.0))


def test_the_rehearsal_is_ok_only_without_blocking_or_failing_statements() -> None:
    safe = result(duration_ms=2.0, locks=[lock("ACCESS EXCLUSIVE")])
    unsafe = result(index=1, rewritten=["public.orders"], locks=[lock("ACCESS EXCLUSIVE")])
    assert judge_all(rehearsal(safe)).ok
    both = judge_all(rehearsal(safe.model_copy(), unsafe))
    assert not both.ok and [s.index for s in both.blocking] == [1]
    assert not judge_all(rehearsal(result(error="boom"))).ok
    assert Rehearsal.model_validate_json(both.model_dump_json()) == both


def test_workload_stats_per_kind() -> None:
    queries = [QueryRun(1, "t", "read", i, i + 0.001) for i in range(99)]
    queries.append(QueryRun(1, "t", "read", 200.0, 200.5))
    queries.append(QueryRun(1, "t", "insert", 300.0, 300.002, error="duplicate key"))
    stats = workload_stats(queries, workers=1, seconds=10.0)
    read, insert = stats.ops
    assert (read.queries, read.errors, read.p50_ms, read.max_ms) == (100, 0, 1.0, 500.0)
    assert (insert.queries, insert.errors, insert.p50_ms) == (1, 1, None)
    assert stats.errors == 1 and stats.per_second == 10.1
    assert stats.error_messages == ["duplicate key"]


def test_the_text_report_gives_every_statement_its_verdict() -> None:
    from rich.console import Console

    from dbarch.migrate.rehearse import show_rehearsal

    statements = [
        result(index=0, line=1, sql="ALTER TABLE orders ADD COLUMN a int",
               duration_ms=2.0, locks=[lock("ACCESS EXCLUSIVE")]),
        result(index=1, line=2, sql="ALTER TABLE orders ALTER b TYPE text",
               rewritten=["public.orders"], locks=[lock("ACCESS EXCLUSIVE")]),
        result(index=2, line=3, sql="ALTER TABLE orders ALTER c SET NOT NULL",
               error='column "c" contains null values'),
        result(index=3, line=4, sql="CREATE INDEX CONCURRENTLY i ON orders (d)",
               error="not run: an earlier statement failed"),
    ]
    console = Console(record=True, width=100, color_system=None)
    show_rehearsal(console, judge_all(rehearsal(*statements)))
    text = console.export_text()
    verdicts = [line.split()[0] for line in text.splitlines()
                if line.startswith("  ") and ":" in line and line.split()[0] in
                ("ok:", "would-block:", "failed:")]
    assert verdicts == ["ok:", "would-block:", "failed:"]  # the skipped one gets no verdict line
    assert "rewrote public.orders" in text and "~50.0 s at the real size" in text
    assert "the migration failed at line 3" in text
