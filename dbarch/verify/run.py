"""`dbarch verify`: apply the DDL on real engines, load sample rows, and check every read
access pattern's plan uses the index designed for it.

A pattern passes only when the planner, left to its own costing on realistically sized data,
searches the designed index and reads no table in full. Nothing is forced to make a check
pass. Two diagnostics, PostgreSQL only, are reported beside a failing check and never counted
as ok: `index_usable` (the plan with sequential scans disabled) tells "the index cannot serve
this query" from "the planner preferred a scan"; `designed_cost` (the plan with the index the
planner chose dropped, in a rolled-back transaction) prices the designed index against it.
Every namespace created is dropped afterwards unless `keep` is set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

from dbarch.engines import SCHEMES, engine_for, redact
from dbarch.engines.base import Engine, Plan
from dbarch.errors import EngineError
from dbarch.render.query import render_query
from dbarch.schema.model import AccessQuery, FilterOp, Schema
from dbarch.spec.model import Spec
from dbarch.verify.advisor import advise_design
from dbarch.verify.model import EngineReport, PatternCheck, VerifyReport
from dbarch.verify.params import choose_params
from dbarch.verify.sample import MIN_ROWS, Sample, generate
from dbarch.verify.tuning import verify_tuning

PRIMARY_NAMES = ("PRIMARY",)
"""How plans name a primary-key access where the key has no index name of its own."""


def verify(
    schema: Schema,
    ddl: Mapping[str, str],
    urls: list[str],
    *,
    spec: Spec | None = None,
    keep: bool = False,
    seed: int = 7,
    sample: Sample | None = None,
) -> VerifyReport:
    """Verify `schema` on each engine in `urls`.

    `ddl` maps a dialect (postgresql, mysql, sqlite) to the script that creates the schema in
    it. The same sample rows (generated from `schema`, and `spec` when given) are loaded on
    every engine, so the engines are compared on identical data.
    """
    if not urls:
        return VerifyReport(engines=[])
    # Engines are independent servers, each with its own connection: verify them side by side,
    # and generate the rows while they connect and apply the DDL.
    with ThreadPoolExecutor(max_workers=len(urls) + 1) as pool:
        rows: Future[Sample] = Future()
        if sample is not None:
            rows.set_result(sample)
        else:
            rows = pool.submit(generate, schema, spec, seed=seed)
        runs = [pool.submit(_verify_on, url, schema, ddl, rows.result, keep) for url in urls]
        return VerifyReport(engines=[run.result() for run in runs])


def verify_on(
    url: str, schema: Schema, ddl: Mapping[str, str], sample: Sample, *, keep: bool = False
) -> EngineReport:
    """Verify on one engine; every failure is recorded in the report, none is raised."""
    return _verify_on(url, schema, ddl, lambda: sample, keep)


def _verify_on(
    url: str,
    schema: Schema,
    ddl: Mapping[str, str],
    sample: Callable[[], Sample],
    keep: bool,
) -> EngineReport:
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    report = EngineReport(engine=SCHEMES.get(scheme, scheme), url=redact(url), applied=False)
    try:
        engine = engine_for(url, keep=keep)
    except EngineError as exc:
        report.error = str(exc)
        return report
    try:
        _run(engine, schema, ddl, sample, report)
    except EngineError as exc:
        report.error = report.error or str(exc)
    finally:
        try:
            engine.close()
        except EngineError as exc:  # the namespace may be left behind: say which
            report.error = report.error or str(exc)
    return report


def _run(
    engine: Engine,
    schema: Schema,
    ddl: Mapping[str, str],
    get_sample: Callable[[], Sample],
    report: EngineReport,
) -> None:
    report.engine = engine.name
    report.namespace = engine.namespace
    report.version = engine.version()
    script = ddl.get(engine.dialect) or ddl.get(engine.name)
    if not script:
        have = ", ".join(sorted(ddl)) or "none"
        report.error = f"no DDL for dialect {engine.dialect} (have: {have})"
        return
    engine.apply(script)
    report.applied = True
    report.tables = len(schema.tables)
    sample = get_sample()
    for table in sample.tables.values():
        report.rows_loaded += engine.load(table.name, table.columns, table.rows)
    engine.analyze()
    for q in schema.queries:
        report.checks.append(check_pattern(engine, schema, q, sample))
    if engine.name == "postgresql":
        # The same engine as `dbarch indexes`, with the patterns as the workload: evidence on
        # the sample rows beside the checks, never part of ok.
        report.advisor = advise_design(engine, schema, report.checks)


def check_pattern(engine: Engine, schema: Schema, q: AccessQuery, sample: Sample) -> PatternCheck:
    """Run one access pattern through EXPLAIN (and for real, to count its rows) and judge it."""
    expected = q.index
    try:
        params = choose_params(q, sample.tables[q.table])
        sql = render_query(q, engine.dialect, params)
    except KeyError as exc:
        return PatternCheck(
            pattern=q.pattern, sql="", expected_index=expected, ok=False,
            problem=f"pattern {q.pattern}: {exc.args[0]} is not a table/column of the schema",
        )
    check = PatternCheck(pattern=q.pattern, sql=sql, expected_index=expected, ok=False)
    try:
        plan = engine.explain(sql)
        # A partition the sample left empty or nearly so (one created ahead for future dates,
        # the current period's) costs nothing to read whole, and a planner rightly does.
        small = verify_tuning().judge.small_partition_rows
        plan.full_scans = [t for t in plan.full_scans
                           if t == q.table or engine.row_count(t) > small]
        check.rows = len(engine.query(sql))
        indexes = engine.indexes(q.table)
    except EngineError as exc:
        check.problem = str(exc)
        return check
    check.used_indexes = plan.indexes
    check.access_path = plan.access_path
    check.cost = plan.cost
    check.estimated_rows = plan.rows
    if q.order_by:
        check.sorted_by_engine = plan.sorts
    check.ok, check.problem = judge(q, plan, schema, indexes, sample)
    others = [i for i in plan.indexes if i != expected and indexes.get(i) is not None]
    if not check.ok and expected and not plan.full_scans and others:
        # Price the plan the planner turned down: a tie says the sample cannot tell the two
        # indexes apart; a clear gap says the designed index is the wrong one for the query.
        alternative = engine.explain_without(sql, others)
        if alternative is not None and alternative.cost is not None:
            check.designed_cost = alternative.cost
            if _serves(q, alternative, schema, indexes) and plan.cost is not None:
                check.problem = (
                    f"{check.problem}; with {', '.join(others)} dropped the planner uses "
                    f"{expected} at cost {alternative.cost:.2f} against {plan.cost:.2f}"
                )
    if not check.ok and plan.full_scans:
        # Only a full scan raises the question "could the index serve at all?"
        forced = engine.explain_without_scans(sql)
        if forced is not None:
            check.index_usable = _serves(q, forced, schema, indexes)
            check.forced_access_path = forced.access_path
    return check


def judge(
    q: AccessQuery,
    plan: Plan,
    schema: Schema,
    indexes: Mapping[str, list[str]],
    sample: Sample,
) -> tuple[bool, str | None]:
    """Whether the plan serves `q` with its designed index, and if not, why not."""
    if _serves(q, plan, schema, indexes):
        return True, None
    rows = len(sample.tables[q.table].rows) if q.table in sample.tables else 0
    expected = q.index
    if expected is not None and expected not in plan.indexes and (
        _columns_of(expected, q.table, schema, indexes) is None
    ):
        return False, (
            f"index {expected} designed for {q.pattern} does not exist on {q.table} "
            f"(indexes there: {', '.join(sorted(indexes)) or 'none'})"
        )
    missing = f"index {expected} not used" if expected else "no index was designed for it"
    if plan.full_scans:
        scanned = ", ".join(dict.fromkeys(plan.full_scans))
        problem = (
            f"planner chose a full scan of {scanned} ({plan.access_path}) over {rows} sample "
            f"rows; {missing}"
        )
        expected_rows = _expected_rows(schema, q.table)
        if expected_rows and expected_rows <= MIN_ROWS:
            problem += (
                f" (the table is expected to hold {expected_rows} rows: reading it whole is "
                "the cheapest plan until it grows)"
            )
        return False, problem
    if not plan.indexes:
        return False, f"plan reads no index ({plan.access_path}); {missing}"
    if q.filters and all(i in plan.full_index_scans for i in plan.indexes):
        read = ", ".join(dict.fromkeys(plan.full_index_scans))
        return False, (
            f"planner reads all of index {read} ({plan.access_path}) over {rows} sample rows "
            f"instead of searching an index for the filter; {missing}"
        )
    return False, (
        f"planner used {', '.join(plan.indexes)} instead of {expected} ({plan.access_path})"
    )


def _serves(
    q: AccessQuery, plan: Plan, schema: Schema, indexes: Mapping[str, list[str]]
) -> bool:
    """True when the plan searches the designed index (by name, or by its exact key columns,
    as SQLite names the index behind a UNIQUE constraint sqlite_autoindex_<table>_N) and
    reads no table in full. Without a designed index, any index search will do."""
    if plan.full_scans or not plan.indexes:
        return False
    if q.filters and all(i in plan.full_index_scans for i in plan.indexes):
        return False
    if q.index is None or q.index in plan.indexes:
        return True
    wanted = _columns_of(q.index, q.table, schema, indexes)
    if wanted is None:
        return False
    if any(indexes.get(used) == wanted for used in plan.indexes):
        return True
    # Equality filters bound a search the same in any column order: an index that leads with
    # the designed index's columns in another order, all of them compared with = or IN,
    # searches exactly the same entries.
    equal = {f.column for f in q.filters if f.op in (FilterOp.eq, FilterOp.in_)}
    if set(wanted) <= equal:
        return any(set(_effective(used, indexes)[: len(wanted)]) == set(wanted)
                   for used in plan.indexes if used in indexes)
    # On a table clustered on its primary key, a search of the primary key bounded by every
    # equality filter of the query reads the matching rows themselves, in key order, where a
    # secondary index costs a primary-key lookup per entry: with the sample's range keeping
    # half of those rows InnoDB rightly takes the primary key (at a day's window of a week's
    # rows, 14%, it takes the designed index). Only that case passes: the designed index must
    # be the equality columns plus the range, and the primary key must lead with them.
    pk = next((p for p in PRIMARY_NAMES if p in indexes and p in plan.indexes), None)
    ranged = [f.column for f in q.filters if f.op == FilterOp.range]
    if pk is None or not equal or len(ranged) != 1:
        return False
    leading = set(indexes[pk][: len(equal)])
    return leading == equal and set(wanted) == equal | set(ranged)


def _effective(name: str, indexes: Mapping[str, list[str]]) -> list[str]:
    """The key an index searches by: on a table clustered on its primary key (InnoDB, whose
    primary key MariaDB names PRIMARY) every secondary entry ends with the primary key's
    columns, so `(user_id)` is searched as `(user_id, post_id)` when the key is (post_id,
    user_id)."""
    cols = list(indexes[name])
    pk = next((indexes[p] for p in PRIMARY_NAMES if p in indexes), None)
    if pk is None or name in PRIMARY_NAMES:
        return cols
    return cols + [c for c in pk if c not in cols]


def _columns_of(
    name: str, table_name: str, schema: Schema, indexes: Mapping[str, list[str]]
) -> list[str] | None:
    """The key columns of index `name`: from the engine when it knows the name, else from the
    schema's indexes, unique constraints and primary key."""
    if name in indexes:
        return list(indexes[name])
    try:
        table = schema.table(table_name)
    except KeyError:
        return None
    for ix in table.indexes:
        if ix.name == name:
            return ix.column_names if _exists(ix.column_names, indexes) else None
    for u in table.uniques:
        if u.name == name:
            return list(u.columns) if _exists(u.columns, indexes) else None
    if name in (*PRIMARY_NAMES, f"{table_name}_pkey") and table.primary_key:
        return list(table.primary_key)
    return None


def _expected_rows(schema: Schema, table: str) -> int:
    try:
        return schema.table(table).rows
    except KeyError:
        return 0


def _exists(columns: list[str], indexes: Mapping[str, list[str]]) -> bool:
    return any(list(cols) == list(columns) for cols in indexes.values())
