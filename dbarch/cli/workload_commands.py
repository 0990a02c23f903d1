"""`dbarch indexes` and `dbarch shard`: advice from a live PostgreSQL and its workload.

Both measure on a live database (its planner, its data), take the workload as weighted
queries ('-- weight: N'), and report progress on stderr while they measure.
"""

from __future__ import annotations

import json

import click

from dbarch.cli import main
from dbarch.cli.conventions import EXIT_FINDINGS, EXIT_OK, FORMAT, handles_errors, stderr_progress


@main.command()
@click.option("--db", required=True, metavar="URL",
              help="The PostgreSQL database to advise (postgresql://…), with HypoPG installed. "
              "Only hypothetical indexes are made there, in this session's memory; put the "
              "schema first on the search_path with ?options=-csearch_path%3Dname.")
@click.option("--workload", type=click.Path(dir_okay=False), metavar="FILE.sql",
              help="The queries, one statement each; '-- weight: N' and '-- name: label' on "
              "the lines before a statement set how often it runs and what to call it.")
@click.option("--from-stats", is_flag=True,
              help="Take the workload from pg_stat_statements (weight = calls).")
@click.option("--log", type=click.Path(dir_okay=False), metavar="FILE",
              help="Take the workload from a PostgreSQL log with log_min_duration_statement "
              "lines (weight = occurrences).")
@click.option("--budget", metavar="SIZE", help="Most disk the new indexes may take: 500MB, 2GB.")
@click.option("--max-indexes", type=click.IntRange(min=1), metavar="N",
              help="Most indexes to recommend.")
@click.option("--install-hypopg", is_flag=True,
              help="CREATE EXTENSION hypopg in --db when it is missing (needs the package).")
@click.option("--validate", is_flag=True,
              help="Build the recommended indexes for real (CONCURRENTLY), re-plan every "
              "query, then drop them. On a production database, prefer a scratch copy.")
@click.option("--keep", is_flag=True, help="With --validate, keep the indexes built.")
@FORMAT
@handles_errors
def indexes(db: str, workload: str | None, from_stats: bool, log: str | None,
            budget: str | None, max_indexes: int | None, install_hypopg: bool, validate: bool,
            keep: bool, fmt: str) -> int:
    """Recommend indexes for a workload, each proven on the PostgreSQL planner.

    Every query shape is planned with and without hypothetical indexes (HypoPG): candidates
    come from its predicates, joins, ORDER BY and GROUP BY (composite, covering, partial and
    expression indexes), and a greedy search prices each against those already chosen, within
    --budget and --max-indexes, charging each index the cost of the writes that maintain it.
    An index is recommended only when plans read it. Existing duplicate, redundant and unused
    indexes are listed with the DROP that removes each.

    \b
      dbarch indexes --db postgresql://app@localhost/shop --workload queries.sql
      dbarch indexes --db postgresql://app@localhost/shop --from-stats --budget 2GB
      dbarch indexes --db ... --log postgresql.log --max-indexes 5 --format json

    Exit code: 0 when nothing is to change, 1 when indexes are recommended or can be dropped,
    2 on bad input or an unreachable server.
    """
    from dbarch import api

    progress = stderr_progress(fmt)

    result = api.indexes(db, workload=workload, from_stats=from_stats, log=log, budget=budget,
                         max_indexes=max_indexes, install_hypopg=install_hypopg,
                         validate=validate, keep=keep, progress=progress)
    if fmt == "json":
        from dbarch.report.json_lines import dumps

        click.echo(dumps(result.as_dict()))
    else:
        from dbarch.report.indexes_text import render

        click.echo(render(result), nl=False)
    changes = result.advice.recommendations or result.advice.drops
    return EXIT_FINDINGS if changes else EXIT_OK


@main.command()
@click.option("--db", required=True, metavar="URL",
              help="The PostgreSQL database holding the table (postgresql://…). Only read: "
              "the session is read-only.")
@click.option("--table", required=True, metavar="T",
              help="The table to shard: name or schema.name.")
@click.option("--key", "keys", multiple=True, metavar="K",
              help="A candidate key: a column, or a,b for a composite key. Repeat for several. "
              "Default: proposed from the schema (owner/tenant columns, the primary key, "
              "foreign keys) and the workload's equality filters.")
@click.option("--shards", type=click.IntRange(min=2), default=None, metavar="N",
              help="Shards to simulate.  [default: 16]")
@click.option("--workload", type=click.Path(dir_okay=False), metavar="FILE.sql",
              help="Queries to route, one statement each; '-- weight: N' and '-- name: label' "
              "on the lines before a statement set how often it runs and what to call it.")
@FORMAT
@handles_errors
def shard(db: str, table: str, keys: tuple[str, ...], shards: int | None,
          workload: str | None, fmt: str) -> int:
    """Choose a shard key for TABLE from its data and its workload.

    For each candidate key, computed in the database with SQL aggregates (on a TABLESAMPLE for
    large tables): numDistinctValues, the most common values and their share, monotonicity
    (correlation with insertion order: a hot tail for range sharding), rows and new rows per
    shard over N simulated shards by hash and by range (max/mean), and with --workload the
    share of the queries' weight that is single-shard, multi-shard or scatter-gather, and the
    traffic per shard. Metric names follow MongoDB's analyzeShardKey. The keys are ranked with
    reasons; the tables that co-locate through foreign keys and the reference tables are
    listed, and the best key's configuration is written for Citus, Vitess and MongoDB.

    \b
      dbarch shard --db postgresql://app@localhost/shop --table orders
      dbarch shard --db ... --table orders --key tenant_id --key customer_id \\
          --workload queries.sql --shards 32 --format json

    Exit code: 0 when the recommended key (and every --key given) has no warning, 1 when one
    has (skew, a hot shard, too few values, a monotonic range key, mostly scatter-gather),
    2 on bad input (an unknown table or column) or an unreachable server.
    """
    from dbarch import api

    progress = stderr_progress(fmt)

    report = api.shard(db, table, keys=keys, shards=shards, workload=workload,
                       progress=progress)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        from dbarch.report.shard_text import render

        click.echo(render(report), nl=False)
    judged = report.keys if keys else report.keys[:1]
    return EXIT_FINDINGS if any(k.warnings for k in judged) else EXIT_OK
