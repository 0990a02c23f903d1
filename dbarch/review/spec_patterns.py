"""Access patterns for `dbarch review --emit-spec`, from PostgreSQL's pg_stat_statements.

Each statement shape (pglast's fingerprint, as `dbarch indexes --from-stats` groups them) on
the schema's tables becomes one pattern: a read on the entity of the table its WHERE filters
(the driving table; the tables it joins are named in the pattern's description), with the
WHERE's filters by class (equality, IN, range, prefix) on the entity's fields, ORDER BY with
its direction, and LIMIT; INSERT, UPDATE and DELETE become writes with their operation. The
rate is the calls over the seconds since the statistics were reset. What the spec cannot say
is left out and counted in the spec's description, with the reason.

The statements are read by `dbarch.engines.review_facts` into `StatementLog` (pure values);
the SQL is read by `dbarch.advisor.workload` and `dbarch.advisor.sqlshape`.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbarch.review.facts import Facts

if TYPE_CHECKING:
    from dbarch.advisor.query import Query
    from dbarch.schema.model import Schema, Table

STATEMENTS_READ = 500
"""The statements read from pg_stat_statements, most total time first."""

HOW_TO = ("pg_stat_statements gives them: with it loaded (shared_preload_libraries = "
          "'pg_stat_statements', a restart) and created in this database (CREATE EXTENSION "
          "pg_stat_statements), let the application run a while, then emit the spec again")


@dataclass
class StatementLog:
    """What pg_stat_statements told, or why it told nothing.

    `rows` are (queryid, query text with `$n` placeholders, calls, total_exec_time ms);
    `mean_rows` the rows each call returned on average, by queryid; `seconds` how long the
    statistics have been gathered, by the clock `clock` names (`pg_stat_statements_info
    .stats_reset`, `pg_stat_database.stats_reset`, or the server's start); `total` how many
    statements the view holds for this database (`rows` holds the STATEMENTS_READ with the
    most total time). `missing`: why there are none (then the rest is empty).
    """

    schema: str = "public"
    rows: list[tuple[int, str, int, float]] = field(default_factory=list)
    mean_rows: dict[int, float] = field(default_factory=dict)
    seconds: float | None = None
    clock: str = ""
    since: str = ""
    total: int = 0
    missing: str | None = None
    other_schemas: int = 0  # other schemas of this database with tables


@dataclass
class StatementFacts(Facts):
    """A PostgreSQL's facts with its statement statistics (None: not read)."""

    statements: StatementLog | None = None


# ---------------------------------------------------------------------------- the patterns


@dataclass
class _Shape:
    """One pattern in the making: the spec's fields, its sources and notes."""

    body: dict[str, Any]
    calls: int
    queryids: list[int]
    sql: str
    notes: list[str]

    def signature(self) -> tuple[Any, ...]:
        b = self.body
        return (b.get("kind"), b["entity"], b.get("operation"), tuple(b.get("where", {}).items()),
                tuple(b.get("order_by", ())), b.get("limit"))


def access_patterns(schema: Schema, log: StatementLog, entities: Mapping[str, str],
                    fields: Mapping[str, Mapping[str, str]]) -> tuple[list[dict[str, Any]], str]:
    """The patterns pg_stat_statements shows, and the sentence the spec's description gets.

    `entities`: table → entity name (tables that are entities only); `fields`: table →
    column → the entity's field the spec names it by (`id`, an attribute, a reference).
    """
    from dbarch.advisor.workload import workload_from_statements

    if log.missing:
        return [], f"no access patterns: {log.missing}; {HOW_TO}"
    tables = {f"{log.schema}.{t.name}": t for t in schema.tables}
    workload = workload_from_statements(log.rows, log.mean_rows)
    skipped: Counter[str] = Counter()
    for problem in workload.problems:
        skipped[_reason(problem.message)] += 1
    shapes: list[_Shape] = []
    for query in workload.queries:
        made = _shape(query, tables, log.schema, entities, fields, query.mean_rows)
        if isinstance(made, str):
            skipped[made] += 1
        else:
            shapes.append(made)
    merged: dict[tuple[Any, ...], _Shape] = {}
    for shape in shapes:
        known = merged.get(shape.signature())
        if known is None:
            merged[shape.signature()] = shape
            continue
        known.calls += shape.calls
        known.queryids += shape.queryids
        known.notes += [n for n in shape.notes if n not in known.notes]
    patterns = [_finish(s, log.seconds) for s in sorted(merged.values(), key=lambda s: -s.calls)]
    _name_uniquely(patterns)
    return patterns, _summary(log, len(patterns), sum(skipped.values()), skipped)


def _shape(query: Query, tables: Mapping[str, Table], schema: str, entities: Mapping[str, str],
           fields: Mapping[str, Mapping[str, str]], mean_rows: float | None) -> _Shape | str:
    """The pattern one statement shape makes, or why it makes none."""
    from pglast import ast, enums, parser

    from dbarch.advisor.sqlshape import qualified, resolve_table

    stmt = parser.parse_sql(query.sql)[0].stmt
    if isinstance(stmt, ast.SelectStmt) and stmt.op not in (None, enums.SetOperation.SETOP_NONE):
        return "UNION, INTERSECT or EXCEPT: several reads in one statement"
    if stmt.withClause is not None:
        return "a WITH query: several statements in one"
    if _foreign_columns(stmt, tables, schema):
        return ("names columns its tables do not have here (a statement on another schema's "
                "tables of the same names?)")
    reader = _new_reader(tables, (schema,))
    uses = reader.read(stmt)
    notes: list[str] = []
    queryids = [int(s.rsplit(" ", 1)[1]) for s in query.sources
                if s.rsplit(" ", 1)[-1].lstrip("-").isdigit()]
    if isinstance(stmt, ast.InsertStmt):
        name = resolve_table(qualified(stmt.relation), tables, (schema,))
        if name is None:
            return "names no table of the schema"
        table = tables[name].name
        if table not in entities:
            return "writes a many-to-many link table (a relationship in the spec, not an entity)"
        conflict = stmt.onConflictClause is not None
        body = {"kind": "write", "entity": entities[table],
                "operation": "upsert" if conflict else "insert"}
        if stmt.selectStmt is not None and getattr(stmt.selectStmt, "fromClause", None):
            notes.append("INSERT … SELECT: the rows it reads are not a pattern of their own")
        return _Shape(body, int(query.weight), queryids, query.sql, notes)
    if not uses:
        return "names no table of the schema"
    if query.is_write:
        driver = next((u for u in uses if u.write), None)
        if driver is None:
            return "names no table of the schema"
    else:
        filtered = [u for u in uses if u.equality or u.ranges]
        if len({u.table for u in filtered}) > 1:
            return "its WHERE filters several tables: no one table drives it"
        sorted_ = [u for u in uses if id(u) in reader.sorts]
        driver = (filtered or sorted_ or (uses if len(uses) == 1 else [None]))[0]
        if driver is None:
            return "a join without a filter or an order: no one table drives it"
    table = tables[driver.table].name
    if table not in entities:
        return "reads a many-to-many link table (a relationship in the spec, not an entity)"
    names = fields[table]
    where: dict[str, str] = {}
    for item in driver.equality:
        op = "in" if item in reader.in_lists.get(id(driver), ()) else "eq"
        _filter(where, item, op, names, notes)
    for item in driver.ranges:
        column, _, opclass = item.partition(" ")
        if opclass:
            _filter(where, column, "prefix", names, notes)
            if column in reader.guessed.get(id(driver), ()):
                notes.append(f"{column} LIKE $n: taken as a prefix match (pg_stat_statements "
                             "hides the pattern)")
        else:
            _filter(where, item, "range", names, notes)
    for item in driver.loose:
        notes.append(f"not expressed: {item} is compared in one arm of an OR")
    notes += [f"not expressed: {text}" for text in reader.unclassified.get(id(driver), ())]
    if not where and any(n.startswith("not expressed") for n in notes):
        # a read the spec would take for a scan of the whole table
        return "filters only in ways the spec cannot say (expressions, OR, <> …)"
    others = [tables[u.table].name for u in uses if u.table != driver.table]
    if others:
        verb = "writes" if query.is_write else "reads"
        notes.append(f"joins {', '.join(dict.fromkeys(others))}; the pattern {verb} {table}, "
                     "the table its WHERE filters")
    body: dict[str, Any] = {"entity": entities[table]}
    if query.is_write:
        body = {"kind": "write", **body, "operation": query.kind}
    if where:
        body["where"] = where
    if not query.is_write:
        order = _order(reader.sorts.get(id(driver), []), names, notes)
        if reader.sorts and not order and not reader.sorts.get(id(driver)):
            notes.append("ordered by another table's columns: not expressed")
        if order:
            body["order_by"] = order
        limit = _limit(stmt, mean_rows, notes)
        if limit:
            body["limit"] = limit
    return _Shape(body, int(query.weight), queryids, query.sql, notes)


def _foreign_columns(stmt: Any, tables: Mapping[str, Table], schema: str) -> bool:
    """Whether `stmt`, all of whose relations are tables of the schema, names a column none
    of them has (nor an output name or alias gives): pg_stat_statements does not tell which
    schema a statement ran in, and another schema may have an `orders` of its own."""
    from pglast import ast

    from dbarch.advisor.sqlshape import _nodes, qualified, relations, resolve_table

    named = [resolve_table(r, tables, (schema,)) for r in relations(stmt)]
    if not named or None in named:
        return False
    known = {c.name for name in named if name for c in tables[name].columns}
    if isinstance(stmt, ast.InsertStmt):
        target = resolve_table(qualified(stmt.relation), tables, (schema,))
        columns = {c.name for c in tables[target].columns} if target else set()
        if any(c.name not in columns for c in stmt.cols or ()):
            return True
    known |= {t.name for t in _nodes(stmt, ast.ResTarget) if t.name}
    aliases = list(_nodes(stmt, ast.Alias))  # `generate_series(1, 9) i` names a column i
    known |= {a.aliasname for a in aliases} | {c.sval for a in aliases for c in a.colnames or ()}
    for ref in _nodes(stmt, ast.ColumnRef):
        last = ref.fields[-1]
        if isinstance(last, ast.String) and last.sval not in known:
            return True
    return False


def _filter(where: dict[str, str], item: str, op: str, names: Mapping[str, str],
            notes: list[str]) -> None:
    if item.startswith("(") or item not in names:
        notes.append(f"not expressed: the {op} filter on {item} (an expression, not a field)")
        return
    # equality beats IN beats range on one field (`a = $1 AND a < $2` finds at most one value)
    rank = {"eq": 0, "in": 1, "prefix": 2, "range": 3}
    name = names[item]
    if name not in where or rank[op] < rank[where[name]]:
        where[name] = op


def _order(keys: list[tuple[str, bool]], names: Mapping[str, str], notes: list[str]) -> list[str]:
    order = []
    for key, desc in keys:
        if key not in names:
            notes.append(f"ORDER BY {key}: an expression, not a field; order not expressed")
            return []
        order.append(("-" if desc else "") + names[key])
    return order


def _limit(stmt: Any, mean_rows: float | None, notes: list[str]) -> int | None:
    from pglast import ast

    count = getattr(stmt, "limitCount", None)
    if count is None:
        return None
    if isinstance(count, ast.A_Const) and isinstance(count.val, ast.Integer):
        return int(count.val.ival) or None
    if mean_rows is None:
        return None
    notes.append(f"LIMIT $n: the limit is the rows a call returned on average ({mean_rows:.3g})")
    return max(1, math.ceil(mean_rows - 1e-9))


def _finish(shape: _Shape, seconds: float | None) -> dict[str, Any]:
    body = shape.body
    rate = shape.calls / seconds if seconds else float(shape.calls)
    ids = ", ".join(str(q) for q in shape.queryids[:3]) + (
        " …" if len(shape.queryids) > 3 else "")
    sql = " ".join(shape.sql.split())
    text = (f"From pg_stat_statements (queryid {ids}): {shape.calls:,} calls of "
            f"{sql[:200]}{' …' if len(sql) > 200 else ''}")
    if shape.notes:
        text += ". " + "; ".join(shape.notes)
    return {"name": _name(body), **body, "rate": float(f"{rate:.4g}"), "description": text}


def _name(body: dict[str, Any]) -> str:
    from dbarch.review.spec_emit import entity_snake

    entity = entity_snake(body["entity"])
    where = "_".join(body.get("where", {}))
    if body.get("kind") == "write":
        name = f"{body['operation']}_{entity}" + (f"_by_{where}" if where else "")
    else:
        name = f"{entity}_by_{where}" if where else f"{entity}_list"
    return name[:60]


def _name_uniquely(patterns: list[dict[str, Any]]) -> None:
    seen: Counter[str] = Counter()
    for pattern in patterns:
        seen[pattern["name"]] += 1
        if seen[pattern["name"]] > 1:
            pattern["name"] = f"{pattern['name']}_{seen[pattern['name']]}"


def _reason(message: str) -> str:
    """A workload reader's notice as a reason to count: one per kind of statement."""
    reason = message.removeprefix("skipped: ")
    if " is a utility statement" in reason:
        return "utility statements (BEGIN, SET, SHOW …)"
    if " is DDL" in reason:
        return "DDL"
    if reason.startswith("syntax error"):
        return "texts that do not parse (truncated, or hidden by privileges)"
    return reason


def _summary(log: StatementLog, made: int, left_out: int, why: Counter[str]) -> str:
    from dbarch.spec.quantities import human_duration

    if log.seconds:
        clock = (f"rates are calls over the {human_duration(log.seconds)} since {log.clock}"
                 f"{f' ({log.since})' if log.since else ''}")
    else:
        clock = "rates are total calls (no clock for the statistics was found)"
    text = (f"{made or 'no'} access pattern{'s' * (made != 1)} from pg_stat_statements "
            f"({clock})")
    if len(log.rows) >= STATEMENTS_READ and log.total > len(log.rows):
        text += (f"; only the {len(log.rows)} statements with the most total time of the "
                 f"{log.total} it holds were read")
    if log.other_schemas:
        text += (f"; this database has {log.other_schemas} more schema"
                 f"{'s' * (log.other_schemas != 1)} with tables and pg_stat_statements does "
                 "not tell which one a statement ran in: a statement on their tables of the "
                 "same names counts here")
    if left_out:
        reasons = ", ".join(f"{n} {r}" for r, n in why.most_common())
        text += f"; {left_out} statement shape{'s' * (left_out != 1)} left out: {reasons}"
    return text


# ---------------------------------------------------------------------- the SQL reader


@functools.cache
def _reader_class() -> type:
    """UseReader, noting what the spec needs and it does not keep: which equalities are IN
    lists, LIKE with a parameter, ORDER BY as written (UseReader flips it for a backward
    scan), and conjuncts it does not classify."""
    from pglast import ast, enums

    from dbarch.advisor.sqlshape import UseReader, deparse

    class Reader(UseReader):  # type: ignore[misc]
        def __init__(self, tables: Mapping[str, Table], search_path: tuple[str, ...]) -> None:
            super().__init__(tables, search_path)
            self.in_lists: dict[int, set[str]] = {}
            self.guessed: dict[int, set[str]] = {}
            self.sorts: dict[int, list[tuple[str, bool]]] = {}
            self.unclassified: dict[int, list[str]] = {}

        def predicate(self, node: Any, scope: Any, loose: bool) -> None:
            kinds = enums.A_Expr_Kind
            op = node.name[-1].sval if isinstance(node, ast.A_Expr) and node.name else None
            if op == "~~" and node.kind == kinds.AEXPR_LIKE and isinstance(node.rexpr,
                                                                            ast.ParamRef):
                found = self.key(node.lexpr, scope)
                if found is not None and not found[1].startswith("("):
                    use, column = found
                    use.add(use.loose if loose else use.ranges, f"{column} text_pattern_ops")
                    self.guessed.setdefault(id(use), set()).add(column)
                    return
            before = self._state()
            super().predicate(node, scope, loose)
            if op == "=" and node.kind in (kinds.AEXPR_IN, kinds.AEXPR_OP_ANY):
                found = self.key(node.lexpr, scope)
                if found is not None and found[1] in found[0].equality:
                    self.in_lists.setdefault(id(found[0]), set()).add(found[1])
            if self._state() == before and not loose:
                owners = self.owners(node, scope) or []
                for use in owners[:1]:
                    self.unclassified.setdefault(id(use), []).append(deparse(node))

        def _state(self) -> tuple[int, ...]:
            return tuple(len(items) for u in self.uses
                         for items in (u.equality, u.ranges, u.joins, u.loose, u.constants))

        def ordering(self, items: Any, scope: Any) -> None:
            super().ordering(items, scope)
            keys = [(self.key(self.output(i.node, scope), scope),
                     i.sortby_dir == enums.SortByDir.SORTBY_DESC) for i in items]
            if keys and all(k is not None for k, _ in keys) and len(
                    {id(k[0]) for k, _ in keys}) == 1:
                self.sorts[id(keys[0][0][0])] = [(k[1], desc) for k, desc in keys]

    return Reader


def _new_reader(tables: Mapping[str, Table], search_path: tuple[str, ...]) -> Any:
    return _reader_class()(tables, search_path)
