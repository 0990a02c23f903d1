"""Where each workload query would go once the tables are sharded on a key.

A query is single-shard when every co-located table it names is pinned to one key value (an
equality with a literal or a parameter, or an IN of one value) or joined on the key to one that
is; multi-shard when the key is an IN-list of a few values (or, under range sharding, a range);
scatter-gather otherwise. Reference tables are on every shard and never widen a query; a table
that is neither co-located nor a reference table makes a join cross shards. These are the
categories of MongoDB's analyzeShardKey readDistribution/writeDistribution.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, enums

from dbarch.advisor.query import Query
from dbarch.shard.model import MULTI, SCATTER, SINGLE, Route


@dataclass
class _Occurrence:
    """One table named in the query (a self-join names it twice)."""

    table: str
    alias: str
    key: list[str] | None  # its columns carrying the key, when co-located
    columns: set[str]
    values: dict[str, list[str | None]] = field(default_factory=dict)  # column → values
    ranged: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)  # compared with $n / = ANY($n)
    any_list: set[str] = field(default_factory=set)  # = ANY(parameter): a list, length unknown


@dataclass
class _Reading:
    occurrences: list[_Occurrence] = field(default_factory=list)
    joins: list[tuple[int, str, int, str]] = field(default_factory=list)
    inserted: list[tuple[str, ...]] | None = None  # INSERT … VALUES: the key per row
    insert_target: int | None = None


class Router:
    """Routes the queries of a workload for one key.

    `colocated` maps each co-located table (bare name) to its columns that carry the key, in
    the key's column order; `reference` names the reference tables; `columns` maps every table
    of the schema to its columns (to resolve unqualified column names).
    """

    def __init__(self, colocated: Mapping[str, list[str]], reference: set[str],
                 columns: Mapping[str, set[str]], max_in_list: int) -> None:
        self.colocated = colocated
        self.reference = reference
        self.columns = columns
        self.max_in_list = max_in_list

    def touches(self, query: Query) -> bool:
        """Whether the query names a co-located or reference table (queries on other tables
        are not this key's business)."""
        return any(t.rpartition(".")[2] in self.colocated or t.rpartition(".")[2]
                   in self.reference for t in query.tables)

    def route(self, query: Query) -> Route:
        """Where `query` goes under hash and under range sharding, and why."""
        from pglast import parser

        stmt = parser.parse_sql(query.sql)[0].stmt
        reading = _Reading()
        self._statement(stmt, reading)
        hash_, range_, values, parameterized, why = self._classify(reading, query.is_write)
        return Route(label=query.label, weight=query.weight, kind=query.kind, hash=hash_,
                     range=range_, values=values, parameterized=parameterized, why=why)

    # ----------------------------------------------------------------- reading

    def _statement(self, stmt: Any, reading: _Reading) -> None:
        if isinstance(stmt, ast.InsertStmt):
            target = self._occurrence(stmt.relation, reading)
            reading.insert_target = target
            if stmt.selectStmt is not None:
                select = stmt.selectStmt
                if select.valuesLists and target is not None:
                    reading.inserted = self._inserted(stmt, reading.occurrences[target])
                else:
                    self._statement(select, reading)
            return
        if isinstance(stmt, (ast.UpdateStmt, ast.DeleteStmt)):
            self._occurrence(stmt.relation, reading)
            others = stmt.fromClause if isinstance(stmt, ast.UpdateStmt) else stmt.usingClause
            for item in others or ():
                self._from(item, reading)
            self._conditions(stmt.whereClause, reading)
            return
        if isinstance(stmt, ast.SelectStmt):
            if stmt.withClause is not None:
                for cte in stmt.withClause.ctes or ():
                    self._statement(cte.ctequery, reading)
            if stmt.op is not None and stmt.op != enums.SetOperation.SETOP_NONE:
                self._statement(stmt.larg, reading)
                self._statement(stmt.rarg, reading)
                return
            for item in stmt.fromClause or ():
                self._from(item, reading)
            self._conditions(stmt.whereClause, reading)
            for sub in _sublinks(stmt.targetList):
                self._statement(sub, reading)

    def _from(self, item: Any, reading: _Reading) -> None:
        if isinstance(item, ast.RangeVar):
            self._occurrence(item, reading)
        elif isinstance(item, ast.JoinExpr):
            self._from(item.larg, reading)
            self._from(item.rarg, reading)
            for name in item.usingClause or ():
                self._using(name.sval, reading)
            self._conditions(item.quals, reading)
        elif isinstance(item, ast.RangeSubselect):
            self._statement(item.subquery, reading)

    def _occurrence(self, node: ast.RangeVar, reading: _Reading) -> int | None:
        name = node.relname
        alias = node.alias.aliasname if node.alias is not None else name
        reading.occurrences.append(_Occurrence(
            table=name, alias=alias, key=self.colocated.get(name),
            columns=set(self.columns.get(name, ()))))
        return len(reading.occurrences) - 1

    def _using(self, column: str, reading: _Reading) -> None:
        """JOIN … USING (col): an equality of the two sides' columns."""
        having = [i for i, o in enumerate(reading.occurrences) if column in o.columns]
        if len(having) >= 2:
            reading.joins.append((having[-2], column, having[-1], column))

    def _conditions(self, node: Any, reading: _Reading) -> None:
        if node is None:
            return
        if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
            for arg in node.args:
                self._conditions(arg, reading)
            return
        for sub in _sublinks(node):
            self._statement(sub, reading)
        if isinstance(node, ast.BoolExpr):
            return  # an OR (or NOT) pins nothing: either arm may reach any shard
        self._predicate(node, reading)

    def _predicate(self, node: Any, reading: _Reading) -> None:
        if not isinstance(node, ast.A_Expr) or not node.name:
            return
        kinds = enums.A_Expr_Kind
        op = node.name[-1].sval
        if node.kind == kinds.AEXPR_OP and op == "=":
            left, right = self._column(node.lexpr, reading), self._column(node.rexpr, reading)
            if left and right:
                reading.joins.append((*left, *right))
            elif left or right:
                (index, column), other = (left, node.rexpr) if left else (right, node.lexpr)
                self._pin(reading.occurrences[index], column, [other])
        elif node.kind == kinds.AEXPR_OP and op in ("<", ">", "<=", ">="):
            for side in (node.lexpr, node.rexpr):
                found = self._column(side, reading)
                if found:
                    reading.occurrences[found[0]].ranged.add(found[1])
        elif node.kind in (kinds.AEXPR_BETWEEN, kinds.AEXPR_BETWEEN_SYM):
            found = self._column(node.lexpr, reading)
            if found:
                reading.occurrences[found[0]].ranged.add(found[1])
        elif node.kind == kinds.AEXPR_IN and op == "=":
            found = self._column(node.lexpr, reading)
            if found:
                self._pin(reading.occurrences[found[0]], found[1], list(node.rexpr))
        elif node.kind == kinds.AEXPR_OP_ANY and op == "=":
            found = self._column(node.lexpr, reading)
            if found is None:
                return
            occurrence = reading.occurrences[found[0]]
            array = _unwrap(node.rexpr)
            if isinstance(array, ast.A_ArrayExpr):
                self._pin(occurrence, found[1], list(array.elements or ()))
            elif isinstance(array, ast.ParamRef):
                occurrence.any_list.add(found[1])

    def _pin(self, occurrence: _Occurrence, column: str, others: list[Any]) -> None:
        values: list[str | None] = []
        for other in others:
            other = _unwrap(other)
            if isinstance(other, ast.ParamRef):
                occurrence.params.add(column)
                values.append(None)
            elif isinstance(other, ast.A_Const) and not other.isnull:
                values.append(_literal(other))
            else:
                return  # an expression or a column of a subquery: not a known value
        occurrence.values.setdefault(column, []).extend(values)

    def _column(self, node: Any, reading: _Reading) -> tuple[int, str] | None:
        """(occurrence index, column) a ColumnRef names, when it can be told."""
        node = _unwrap(node)
        if not isinstance(node, ast.ColumnRef) or not all(
                isinstance(f, ast.String) for f in node.fields):
            return None
        names = [f.sval for f in node.fields]
        column = names[-1]
        if len(names) >= 2:
            found = [i for i, o in enumerate(reading.occurrences) if o.alias == names[-2]]
        else:
            found = [i for i, o in enumerate(reading.occurrences) if column in o.columns]
        # The latest occurrence is the innermost scope's: a subquery's FROM is read just
        # before its WHERE, as SQL resolves an unqualified name there first.
        return (found[-1], column) if found else None

    def _inserted(self, stmt: Any, target: _Occurrence) -> list[tuple[str, ...]] | None:
        """The key of each row of INSERT … VALUES (`$n` where it is not a literal), or None
        when the target is not co-located."""
        if target.key is None:
            return None
        names = [c.name for c in stmt.cols or ()]
        rows = []
        for row in stmt.selectStmt.valuesLists:
            given = dict(zip(names, row, strict=False))
            key = []
            for column in target.key:
                node = _unwrap(given.get(column))
                if isinstance(node, ast.A_Const) and not node.isnull:
                    key.append(_literal(node))
                else:
                    # A parameter, an expression or the column's default (a sequence): each
                    # row still goes to one shard, which one is not known here.
                    key.append(f"${len(rows)}")
            rows.append(tuple(key))
        return rows

    # ----------------------------------------------------------------- deciding

    def _classify(self, reading: _Reading, write: bool
                  ) -> tuple[str, str, list[tuple[str, ...]], bool, str]:
        occ = reading.occurrences
        if reading.inserted is not None:
            rows = reading.inserted
            literal = [r for r in rows if not any(v.startswith("$") for v in r)]
            distinct = set(rows)
            kind = SINGLE if len(distinct) == 1 else (
                MULTI if len(distinct) <= self.max_in_list else SCATTER)
            why = ("inserts one key value" if kind == SINGLE
                   else f"inserts {len(distinct)} key values")
            return kind, kind, sorted(set(literal)), len(literal) < len(rows), why
        grouped = [i for i, o in enumerate(occ) if o.key is not None]
        foreign = sorted({o.table for o in occ if o.key is None and o.table not in self.reference
                          and o.table in self.columns})
        if not grouped and write:
            return SCATTER, SCATTER, [], False, "writes a reference table: every shard's copy"
        if not grouped:
            return SINGLE, SINGLE, [], False, "reads reference tables only (a copy on any shard)"
        if foreign:
            why = f"joins {', '.join(foreign)}, neither co-located nor a reference table"
            return SCATTER, SCATTER, [], False, why
        # Occurrences joined on the key live on the same shards: one component is one route.
        parent = {i: i for i in grouped}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for a, col_a, b, col_b in reading.joins:
            key_a, key_b = occ[a].key, occ[b].key
            if key_a is None or key_b is None or col_a not in key_a or col_b not in key_b:
                continue
            if key_a.index(col_a) == key_b.index(col_b) and len(key_a) == 1:
                parent[find(a)] = find(b)
            elif key_a.index(col_a) == key_b.index(col_b):
                # A composite key co-locates only when every column is joined.
                pairs = {(key_a.index(x), key_b.index(y)) for i, x, j, y in reading.joins
                         if {i, j} == {a, b} and x in key_a and y in key_b}
                if all((n, n) in pairs for n in range(len(key_a))):
                    parent[find(a)] = find(b)
        rank = {SINGLE: 0, MULTI: 1, SCATTER: 2}
        best: dict[int, tuple[str, str, list[tuple[str, ...]], bool, str]] = {}
        for i in grouped:
            found = self._pinned(occ[i])
            held = best.get(find(i))
            if held is None or (rank[found[0]], rank[found[1]]) < (rank[held[0]],
                                                                   rank[held[1]]):
                best[find(i)] = found
        if len(best) == 1:
            return next(iter(best.values()))
        # Parts not joined on the key still meet on one shard when each is pinned to the
        # same literal value (a subquery repeating the tenant's filter).
        pinned = {tuple(found[2]) for found in best.values() if found[0] == SINGLE}
        if all(found[0] == SINGLE for found in best.values()) and len(pinned) == 1 \
                and next(iter(pinned)):
            first = next(iter(best.values()))
            return SINGLE, SINGLE, first[2], False, "every part pinned to the same key value"
        return SCATTER, SCATTER, [], False, "joins co-located tables on other columns " \
            "than the key (a cross-shard join)"

    def _pinned(self, o: _Occurrence) -> tuple[str, str, list[tuple[str, ...]], bool, str]:
        """How one occurrence's WHERE pins its key: (hash route, range route, values, …)."""
        key = o.key or []
        if all(c in o.values for c in key):
            lists = [o.values[c] for c in key]
            combos = 1
            for values in lists:
                combos *= len(set(values))
            literal = [tuple(v for v in combo) for combo in _product(lists)
                       if all(v is not None for v in combo)]
            params = any(c in o.params for c in key)
            if combos == 1:
                return SINGLE, SINGLE, [tuple(str(v) for v in x) for x in literal], params, \
                    f"{o.table}.{', '.join(key)} = one value"
            kind = MULTI if combos <= self.max_in_list else SCATTER
            return kind, kind, sorted({tuple(str(v) for v in x) for x in literal}), params, \
                f"{o.table}.{', '.join(key)} IN {combos} values"
        if any(c in o.any_list for c in key) and all(
                c in o.values or c in o.any_list for c in key):
            return MULTI, MULTI, [], True, f"{o.table}.{key[0]} = ANY(a list parameter)"
        lead = key[0] if key else ""
        pinned_prefix = lead in o.values and len(set(o.values[lead])) == 1
        if lead in o.ranged or (pinned_prefix and len(key) > 1):
            # A hash of the whole key scatters; ranges of the key's leading column are a few.
            return SCATTER, MULTI, [], False, f"{o.table}.{lead}: a range, not one value"
        return SCATTER, SCATTER, [], False, f"no condition on {o.table}.{', '.join(key)}"


def _product(lists: list[list[str | None]]) -> Iterator[tuple[str | None, ...]]:
    if not lists:
        yield ()
        return
    for head in dict.fromkeys(lists[0]):
        for rest in _product(lists[1:]):
            yield (head, *rest)


def _unwrap(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _literal(node: ast.A_Const) -> str:
    val = node.val
    for attr in ("sval", "ival", "fval", "boolval", "bsval"):
        if hasattr(val, attr):
            value = getattr(val, attr)
            return str(value).lower() if isinstance(value, bool) else str(value)
    return str(val)


def _sublinks(node: Any) -> Iterator[Any]:
    """The subqueries (EXISTS, IN (SELECT …), scalar) inside an expression."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _sublinks(item)
    elif isinstance(node, ast.SubLink):
        yield node.subselect
    elif isinstance(node, ast.Node):
        for name in node:
            yield from _sublinks(getattr(node, name))
