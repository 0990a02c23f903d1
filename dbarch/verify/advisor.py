"""The index advisor over a design's access patterns, on the engine verification loaded.

Issue 4's last step: `dbarch design` proves its indexes with the same engine as `dbarch
indexes`. After the pattern checks on PostgreSQL, each check's rendered SQL becomes a workload
query weighted by the pattern's rate, and the advisor (HypoPG what-if costs over candidates
read off the SQL) says which indexes it would add to the designed ones and which designed
indexes no pattern's plan reads. The sample rows are small, so this is evidence beside the
checks and never a failure: `note` says why the advisor could not run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pglast import parser

from dbarch.advisor.advise import Advice
from dbarch.advisor.existing import DropCandidate
from dbarch.advisor.query import Query
from dbarch.advisor.select import Limits, cost_data
from dbarch.engines.advisor import advise_on
from dbarch.engines.base import Engine
from dbarch.errors import EngineError
from dbarch.schema.model import Schema
from dbarch.verify.model import (
    AdvisedIndex,
    AdvisedPattern,
    AdvisorCheck,
    IdleIndex,
    PatternCheck,
)

UNREAD = "no access pattern's plan reads it"


def advise_design(engine: Engine, schema: Schema, checks: Sequence[PatternCheck]) -> AdvisorCheck:
    """What the index advisor says of the designed indexes, given the checks already run on
    `engine` (a PostgreSQL whose namespace holds the schema and its sample rows).

    Every failure is recorded in `note`, none is raised: the checks stand on their own.
    """
    namespace = engine.namespace or "public"
    try:
        if not _hypopg_available(engine):
            major = engine.query("SHOW server_version_num")[0][0]
            return AdvisorCheck(note=(
                "HypoPG is not available on this server, so the index advisor did not run "
                f"(Debian/Ubuntu: apt-get install postgresql-{int(major) // 10000}-hypopg)"))
        queries, labels = workload(schema, checks, namespace)
        if not queries:
            return AdvisorCheck(note="no access pattern rendered to SQL, so nothing to advise")
        advice = _advise(engine, schema, queries, namespace)
    except EngineError as exc:  # the engines/ adapters raise no driver error past them
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return AdvisorCheck(note=f"the index advisor failed: {message}")
    return summarize(advice, labels, namespace, schema)


def workload(schema: Schema, checks: Sequence[PatternCheck],
             namespace: str) -> tuple[list[Query], dict[str, list[str]]]:
    """The checks' SQL as advisor queries, and the pattern names behind each fingerprint.

    Patterns that differ only in constants share a fingerprint and so are one query shape to
    the advisor: they become one query with their weights added.
    """
    rates = {q.pattern: q.rate for q in schema.queries}
    tables = {q.pattern: q.table for q in schema.queries}
    queries: dict[str, Query] = {}
    labels: dict[str, list[str]] = {}
    for check in checks:
        if not check.sql or check.pattern not in tables:
            continue
        # A pattern with no stated rate still counts, as once a second.
        weight = rates[check.pattern] if rates[check.pattern] > 0 else 1.0
        fingerprint = parser.fingerprint(check.sql)
        known = queries.get(fingerprint)
        if known is not None:
            known.weight += weight
            labels[fingerprint].append(check.pattern)
            known.label = ", ".join(labels[fingerprint])
            continue
        labels[fingerprint] = [check.pattern]
        queries[fingerprint] = Query(
            sql=check.sql, fingerprint=fingerprint, weight=weight, kind="select",
            tables=(f"{namespace}.{tables[check.pattern]}",),
            sources=[f"pattern {check.pattern}"], label=check.pattern,
        )
    return list(queries.values()), labels


def _advise(engine: Engine, schema: Schema, queries: list[Query], namespace: str) -> Advice:
    # install: verification already creates objects in this database; the extension lands in
    # the session's default schema, not the run's namespace, so dropping that leaves it be.
    return advise_on(engine.url, queries, {f"{namespace}.{t.name}": t for t in schema.tables},
                     namespace, Limits(), scope={namespace}, install=True,
                     search_path=(namespace,))


def summarize(advice: Advice, labels: dict[str, list[str]], namespace: str,
              schema: Schema | None = None) -> AdvisorCheck:
    """The advice as verification reports it: statements without the run's throwaway
    schema, each pattern by name, each idle index with the design's reason for it."""
    reasons = {i.name: i.reason for t in (schema.tables if schema else []) for i in t.indexes}
    add = []
    for rec in advice.recommendations:
        bare = dataclasses.replace(rec.candidate, table=_bare(rec.candidate.table, namespace))
        patterns = [AdvisedPattern(pattern=name, cost_before=round(q.before, 2),
                                   cost_after=round(q.after, 2))
                    for q in rec.queries for name in labels.get(q.fingerprint, [q.label])]
        add.append(AdvisedIndex(table=bare.table,
                                statement=bare.ddl(name=rec.candidate.name) + ";",
                                size_bytes=rec.size_bytes, patterns=patterns))
    return AdvisorCheck(
        add=add,
        idle=sorted((_idle(drop, namespace, reasons) for drop in advice.drops),
                    key=lambda i: i.index),
        patterns=sum(len(labels.get(q.fingerprint, [q.label])) for q in advice.queries),
        cost_before=round(advice.cost_before, 2),
        cost_after=round(advice.cost_after, 2),
        relative_cost=round(advice.relative_cost, 4),
        whatif_calls=advice.whatif_calls,
        candidates=advice.candidates,
        min_gain_share=float(cost_data()["min_gain_share"]),
        notices=[str(p) for p in advice.problems],
    )


def _idle(drop: DropCandidate, namespace: str, reasons: dict[str, str]) -> IdleIndex:
    # The advisor's "unused" speaks of scan statistics since a reset; here the fact is the
    # workload's: no pattern's plan reads it (it may still serve a foreign key or a write).
    detail = UNREAD if drop.reason == "unused" else drop.detail.replace(f"{namespace}.", "")
    name = _bare(drop.index.name, namespace)
    return IdleIndex(index=name, reason=drop.reason, detail=detail,
                     designed_for=reasons.get(name, ""))


def _bare(name: str, namespace: str) -> str:
    return name.removeprefix(f"{namespace}.")


def _hypopg_available(engine: Engine) -> bool:
    return bool(engine.query("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'"))


