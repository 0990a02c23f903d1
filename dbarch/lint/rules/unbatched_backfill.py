"""L505 unbatched-backfill."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint.context import Context
from dbarch.lint.pg import relation, unwrap
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.rules.change_column_type import SchemaMemory
from dbarch.lint.statement import MYSQL, POSTGRESQL, Statement

# Rows one statement may touch before it is worth batching: about one batch of the recipe.
BATCH_ROWS = 10_000
# The column a batch is keyed on when dbarch cannot see the primary key.
KEY = "id"


@register
class UnbatchedBackfill(Rule):
    """A backfill UPDATE that touches an unbounded set of rows in one statement.

    Why: one UPDATE over millions of rows runs as one transaction: it holds a row lock on
    every row it changed until it commits (any application write to those rows waits), writes
    a new version of each row (the table and its indexes bloat by the rows touched), produces
    the whole WAL at once (replicas fall behind) and, if it fails or is cancelled at 90%, rolls
    everything back. Autovacuum cannot clean behind it until it ends.

    Lock: ROW EXCLUSIVE on the table (no reads or writes blocked) plus a row lock on every
    updated row until commit: writes to those rows wait for the whole statement.

    Instead: update in batches keyed on the primary key, each batch its own transaction, with
    a pause between batches so replicas and vacuum keep up; make each batch resumable by
    skipping rows already done.

        UPDATE orders SET region = 'eu' WHERE region IS NULL AND id BETWEEN 1 AND 10000;
        -- commit, pause, then id BETWEEN 10001 AND 20000, … up to max(id)

    dbarch counts an UPDATE as one batch when its WHERE bounds a key range (`BETWEEN` or a
    lower and an upper bound on the same column), picks rows by `id =` / `id IN (…)` or by
    equality on a one-column primary key or unique index created in the migrations linted
    (`WHERE alembic_version.version_num = '…'`), selects
    them through a subquery with LIMIT (`WHERE id IN (SELECT id … LIMIT 1000)`), or (MySQL)
    carries a LIMIT. An UPDATE with no WHERE at all is L504's, except a MySQL UPDATE … JOIN …
    ON, which updates every row the join matches.

    Exempt: a table created earlier in the same migration; with `--db`, a table the catalog
    says holds fewer rows than one batch (10,000).
    """

    code = "L505"
    shared_reading = "schema-changes"  # change_column_type._schema_changes
    name = "unbatched-backfill"
    severity = Severity.WARNING
    nodes = ("UpdateStmt", "Update", "CreateStmt", "AlterTableStmt", "IndexStmt", "DropStmt")
    dialects = frozenset({POSTGRESQL, MYSQL})
    scales_with_table = True
    summary = "a backfill UPDATE over an unbounded set of rows runs as one huge transaction"
    updates = ("UpdateStmt", "Update")

    def __init__(self) -> None:
        # primary keys and unique indexes seen so far in this run: `key = …` is one row
        self.schema = SchemaMemory(types=False)

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if stmt.kind not in self.updates:
            self.schema.learn(stmt)
            return
        if stmt.dialect == POSTGRESQL:
            table = relation(stmt.node.get("relation"))
            where = stmt.node.get("whereClause")
            keys = self.schema.unique_columns(table) if table else set()
            if not where or _pg_bounded(where, keys | {KEY}):
                return
        else:
            table, where = mysql_target(stmt)
            if stmt.node.args.get("limit") is not None:
                return
            # a joined UPDATE without WHERE (UPDATE t JOIN u ON … SET …) is a backfill of every
            # matching row; with neither it is L504's
            if where is None and not mysql_joined(stmt):
                return
            if where is not None and _mysql_bounded(where):
                return
        if table is None or ctx.created_here(table):
            return
        stats = ctx.stats(table)
        if stats is not None and stats.rows < BATCH_ROWS:
            return
        size = f" (~{stats.rows:,} rows)" if stats is not None else ""
        yield self.finding(
            stmt,
            f"UPDATE of {table}{size} touches every row its WHERE matches in one transaction: "
            "row locks held to the end, bloat, a burst of WAL; batch it by primary key",
            table=table, fix=batched(stmt),
        )


def batched(stmt: Statement) -> str:
    """The statement as its first batch over the primary key, with how to go on."""
    return (f"-- one batch per transaction ({KEY} = the primary key), pausing between batches:\n"
            f"{with_key_range(stmt)};\n"
            f"-- then {KEY} BETWEEN {BATCH_ROWS + 1} AND {2 * BATCH_ROWS}, … up to max({KEY})")


def with_key_range(stmt: Statement) -> str:
    """The UPDATE/DELETE with `id BETWEEN 1 AND 10000` ANDed onto its WHERE."""
    low, high = 1, BATCH_ROWS
    if stmt.dialect == POSTGRESQL:
        from dbarch.lint.pg_names import quote_name
        from dbarch.lint.statement_text import StatementText

        source = StatementText(stmt.text, stmt)
        key = KEY
        if source.node.get("fromClause") or source.node.get("usingClause"):
            # joined: name the target's key, or `id` is ambiguous
            target = source.node.get("relation") or {}
            alias = (target.get("alias") or {}).get("aliasname") or target["relname"]
            key = f"{quote_name(alias)}.{KEY}"
        top: dict[str, tuple[int, int]] = {}
        for (begin, stop, name), depth in zip(source.tokens, source.depth, strict=True):
            if depth == 0 and name in ("WHERE", "RETURNING"):
                top.setdefault(name, (begin, stop))
        tail = top["RETURNING"][0] if "RETURNING" in top else len(source.text)
        key_range = f"{key} BETWEEN {low} AND {high}"
        if "WHERE" in top:
            after = source.next_token(top["WHERE"][1])
            begin = after[0] if after else tail
            condition = source.text[begin:source.before(begin, tail)]
            if any(name == "OR" and depth == 0 and begin <= start < tail
                   for (start, _, name), depth in zip(source.tokens, source.depth,
                                                      strict=True)):
                condition = f"({condition})"
            source.replace(begin, source.before(begin, tail), f"{condition} AND {key_range}")
        else:
            end = source.before(0, tail)
            source.insert(end, f" WHERE {key_range}")
        return source.result()
    from sqlglot import exp

    node = stmt.node.copy()
    target = node.this if isinstance(node.this, exp.Table) else node.find(exp.Table)
    joined = target is not None and (target.args.get("joins") or node.args.get("tables"))
    qualifier = (target.alias_or_name if joined else None) if target is not None else None
    condition = exp.Between(this=exp.column(KEY, table=qualifier), low=exp.Literal.number(low),
                            high=exp.Literal.number(high))
    current = node.args.get("where")
    node.set("where", exp.Where(this=exp.and_(current.this, condition) if current else condition))
    return str(node.sql(dialect="mysql"))


# --- PostgreSQL ---------------------------------------------------------------------------
def _pg_bounded(where: dict[str, Any], keys: set[str]) -> bool:
    """True when the WHERE limits the statement to one batch of rows (`keys`: columns whose
    equality picks one row)."""
    conjuncts = _pg_conjuncts(where)
    lower: set[str] = set()
    upper: set[str] = set()
    for kind, body in conjuncts:
        if kind == "A_Expr":
            expr_kind = body.get("kind")
            rexpr = body.get("rexpr") or {}
            if "SubLink" in rexpr and _pg_limited(rexpr["SubLink"].get("subselect")):
                return True  # ctid = ANY(ARRAY(SELECT ctid … LIMIT n))
            column = _pg_column(body.get("lexpr"))
            if column is None:
                continue
            if expr_kind == "AEXPR_BETWEEN" and _pg_constant(body.get("rexpr")):
                return True
            operator = _pg_operator(body)
            constant = _pg_constant(body.get("rexpr"))
            if expr_kind == "AEXPR_OP" and constant:
                if operator == "=" and column in keys:
                    return True
                if operator in (">", ">="):
                    lower.add(column)
                elif operator in ("<", "<="):
                    upper.add(column)
            if expr_kind == "AEXPR_IN" and column in keys and constant:
                return True
        elif kind == "SubLink" and _pg_limited(body.get("subselect")):
            return True
    return bool(lower & upper)


def _pg_conjuncts(where: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    kind, body = unwrap(where)
    if kind == "BoolExpr" and body.get("boolop") == "AND_EXPR":
        out: list[tuple[str, dict[str, Any]]] = []
        for arg in body.get("args") or []:
            out.extend(_pg_conjuncts(arg))
        return out
    return [(kind, body)]


def _pg_column(expr: dict[str, Any] | None) -> str | None:
    if not expr:
        return None
    kind, body = unwrap(expr)
    if kind == "TypeCast":
        return _pg_column(body.get("arg"))
    if kind != "ColumnRef":
        return None
    fields = [next(iter(f.values())).get("sval") for f in body.get("fields") or []]
    return str(fields[-1]).lower() if fields and fields[-1] else None


def _pg_operator(body: dict[str, Any]) -> str:
    names = [next(iter(n.values())).get("sval", "") for n in body.get("name") or []]
    return names[-1] if names else ""


def _pg_constant(expr: Any) -> bool:
    """A literal, a parameter, or a list of them (IN lists, BETWEEN bounds)."""
    if isinstance(expr, list):
        return bool(expr) and all(_pg_constant(item) for item in expr)
    if not isinstance(expr, dict) or not expr:
        return False
    kind, body = unwrap(expr)
    if kind in ("A_Const", "ParamRef"):
        return True
    if kind == "TypeCast":
        return _pg_constant(body.get("arg"))
    if kind == "List":
        return _pg_constant(body.get("items"))
    return False


def _pg_limited(select: dict[str, Any] | None) -> bool:
    if not select:
        return False
    _, body = unwrap(select)
    return body.get("limitCount") is not None


# --- MySQL --------------------------------------------------------------------------------
def mysql_target(stmt: Statement) -> tuple[str | None, Any]:
    """The table a MySQL UPDATE/DELETE changes and its WHERE condition (None without one)."""
    from sqlglot import exp

    node = stmt.node
    target = node.this if isinstance(node.this, exp.Table) else node.find(exp.Table)
    where = node.args.get("where")
    return (target.name if target is not None else None), (where.this if where else None)


def mysql_joined(stmt: Statement) -> bool:
    """True when a MySQL UPDATE/DELETE joins its target to another table ON a condition."""
    from sqlglot import exp

    return any(join.args.get("on") is not None or join.args.get("using")
               for join in stmt.node.find_all(exp.Join))


def _mysql_bounded(where: Any) -> bool:
    from sqlglot import exp

    lower: set[str] = set()
    upper: set[str] = set()
    for part in where.flatten() if isinstance(where, exp.And) else [where]:
        column = part.this if isinstance(part.this, exp.Column) else None
        name = column.name.lower() if column is not None else None
        if isinstance(part, exp.Between) and name:
            return True
        if isinstance(part, exp.In) and name == KEY and not part.args.get("query"):
            return True
        query = part.args.get("query") if isinstance(part, exp.In) else None
        if query is not None and query.find(exp.Limit) is not None:
            return True
        if not name or not isinstance(part.expression, exp.Literal | exp.Placeholder):
            continue
        if isinstance(part, exp.EQ) and name == KEY:
            return True
        if isinstance(part, exp.GT | exp.GTE):
            lower.add(name)
        elif isinstance(part, exp.LT | exp.LTE):
            upper.add(name)
    return bool(lower & upper)
