"""What the advisor reads off a statement's parse tree (pglast): its kind, the relations it
names, its parameters, and expressions written back as SQL.

Shared by the workload readers (`dbarch.advisor.workload`) and the candidate generator
(`dbarch.advisor.candidates`), so both see one statement the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pglast import ast, enums
from pglast.visitors import Visitor

if TYPE_CHECKING:
    from dbarch.schema.model import Table

KINDS = {"SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update",
         "DeleteStmt": "delete"}
_DDL_PREFIXES = ("Create", "Alter", "Drop", "Rename", "Comment", "Index", "Truncate", "Grant",
                 "Reindex", "Cluster", "Refresh", "Define", "Composite", "View")


def statement_kind(stmt: Any) -> str | None:
    """select, insert, update or delete; None for any other statement."""
    kind = KINDS.get(type(stmt).__name__)
    if kind == "select" and stmt.intoClause is not None:
        return None  # SELECT … INTO creates a table: DDL, not a read
    return kind


def skip_reason(stmt: Any, word: str) -> str:
    """Why a statement that is not a query is left out of the workload; `word` is its first
    keyword as written, to name it the way the user wrote it."""
    name = type(stmt).__name__
    if name == "SelectStmt":
        return "SELECT … INTO creates a table (DDL), not a query to advise"
    if name.startswith(_DDL_PREFIXES) or name.endswith("TableAsStmt"):
        return f"{word} is DDL, not a query to advise"
    return f"{word} is a utility statement, not a query to advise"


def cte_names(stmt: Any) -> set[str]:
    """Every common table expression's name anywhere in the statement."""
    names: set[str] = set()

    class _Ctes(Visitor):  # type: ignore[misc]
        def visit_CommonTableExpr(self, ancestors: Any, node: Any) -> None:
            names.add(node.ctename)

    _Ctes()(stmt)
    return names


def relations(stmt: Any) -> tuple[str, ...]:
    """The relations the statement names (FROM, JOIN, UPDATE, DELETE, INSERT, subqueries), as
    written (`orders`, `tpch.lineitem`), in order of first appearance; CTE names excluded."""
    ctes = cte_names(stmt)
    found: list[tuple[int, str]] = []

    class _Relations(Visitor):  # type: ignore[misc]
        def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
            if node.schemaname is None and node.relname in ctes:
                return
            found.append((node.location or 0, qualified(node)))

    _Relations()(stmt)
    return tuple(dict.fromkeys(name for _, name in sorted(found)))


def qualified(node: ast.RangeVar) -> str:
    """A RangeVar's name as written: `schema.table` or `table`."""
    return f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname


def in_list_shape(stmt: Any) -> str:
    """How many values each IN list of `stmt` holds, as a suffix for its fingerprint: `""`
    when it has none of two or more values, else `/in:3,2` (in the order they appear).

    pglast's fingerprint counts `a = 42`, `a IN (1, 2)` and `a IN (1, 2, 3, 4)` as one shape;
    an index serves them alike, but a sharded table routes the first to one shard and the
    others to several, so the workload keeps them apart. A one-value IN is an equality
    (PostgreSQL plans `a IN (5)` as `a = 5`).
    """
    lengths = [len(node.rexpr) for node in _nodes(stmt, ast.A_Expr)
               if node.kind == enums.A_Expr_Kind.AEXPR_IN
               and isinstance(node.rexpr, (list, tuple)) and len(node.rexpr) > 1]
    return f"/in:{','.join(map(str, lengths))}" if lengths else ""


def max_parameter(stmt: Any) -> int:
    """The highest `$n` the statement uses (0 without parameters)."""
    highest = 0

    class _Params(Visitor):  # type: ignore[misc]
        def visit_ParamRef(self, ancestors: Any, node: Any) -> None:
            nonlocal highest
            highest = max(highest, node.number)

    _Params()(stmt)
    return highest


def deparse(node: Any) -> str:
    """An expression node as PostgreSQL SQL text."""
    from pglast.stream import RawStream

    return str(RawStream()(node))


def bare_deparse(node: Any) -> str:
    """An expression as SQL with its column references unqualified (`lower(u.email)` →
    `lower(email)`): index keys and partial predicates name the table's columns bare."""
    node = copy.deepcopy(node)

    class _Bare(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, ancestors: Any, ref: Any) -> None:
            if len(ref.fields) > 1 and isinstance(ref.fields[-1], ast.String):
                ref.fields = (ref.fields[-1],)

    _Bare()(node)
    return deparse(node)


def substitute_parameters(sql: str, values: dict[int, str]) -> str:
    """`sql` with each `$n` that has a value replaced by it (values are SQL literals as the
    server logs them: `'42'`, `NULL`). The scanner finds the placeholders, so a `$1` inside a
    string or comment stays."""
    from pglast import parser

    tokens = [t for t in parser.scan(sql) if t.name == "PARAM"]
    for token in reversed(tokens):
        number = int(sql[token.start + 1:token.end + 1])
        if number in values:
            sql = sql[:token.start] + values[number] + sql[token.end + 1:]
    return sql


# --------------------------------------------------------- what a query asks of each table


def resolve_table(name: str, tables: Mapping[str, Table],
                  search_path: Sequence[str] = ("public",)) -> str | None:
    """The catalog's schema-qualified name for a relation as a query writes it (`orders` →
    `public.orders` through the search path), or None when the schema does not hold it."""
    if "." in name:
        return name if name in tables else None
    for schema in search_path:
        if f"{schema}.{name}" in tables:
            return f"{schema}.{name}"
    return name if name in tables else None


@dataclass(eq=False)  # two occurrences of a table are two uses, however alike
class TableUse:
    """What one query asks of one occurrence of a table (a self-join has two).

    Key items are column names, `(expression)`s, or `column <opclass>` for a LIKE prefix;
    each list is in the query's order without repeats.
    """

    table: str  # schema-qualified, as the catalog names it
    columns: tuple[str, ...]  # the table's columns
    equality: list[str] = field(default_factory=list)  # =, IN, = ANY, IS NULL
    ranges: list[str] = field(default_factory=list)  # <, >, BETWEEN, LIKE 'prefix%'
    joins: list[str] = field(default_factory=list)  # = a column of another table
    order: list[str] = field(default_factory=list)  # `key` or `key DESC`
    group: list[str] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)  # compared in one arm of an OR
    constants: list[Constant] = field(default_factory=list)
    referenced: list[str] = field(default_factory=list)  # plain columns the query reads
    all_columns: bool = False  # SELECT * or t.*
    write: bool = False  # the UPDATE or DELETE target

    def add(self, items: list[str], item: str) -> None:
        """Append `item` to `items` unless it is there already."""
        if item not in items:
            items.append(item)


@dataclass(frozen=True)
class Constant:
    """A predicate on constants only (`status = 'open'`, `deleted_at IS NULL`): a partial
    index can hold just the rows it selects. `key` is the column or expression it tests,
    `categorical` whether its value names a category (text, boolean, NULL) rather than one
    row or instant (a number, a date: a partial index per such value would serve one query)."""

    sql: str
    key: str
    categorical: bool


class _Scope:
    """The relations one SELECT (or UPDATE/DELETE) can name, by alias."""

    def __init__(self, parent: _Scope | None) -> None:
        self.parent = parent
        self.names: dict[str, TableUse | None] = {}  # None: a CTE, subquery or function
        self.uses: list[TableUse] = []
        self.targets: dict[str, Any] = {}  # output names, for ORDER BY/GROUP BY aliases
        self.target_list: list[Any] = []

    def column(self, ref: Any) -> tuple[TableUse, str] | None:
        """The table occurrence and column a ColumnRef names, looked up outward."""
        fields = ref.fields
        if not all(isinstance(f, ast.String) for f in fields):
            return None
        column = fields[-1].sval
        scope: _Scope | None = self
        while scope is not None:
            if len(fields) > 1:
                if fields[-2].sval in scope.names:
                    use = scope.names[fields[-2].sval]
                    return (use, column) if use is not None and column in use.columns else None
            else:
                owners = [u for u in scope.uses if column in u.columns]
                if len(owners) == 1:
                    return owners[0], column
                if owners or any(u is None for u in scope.names.values()):
                    return None  # ambiguous, or maybe a derived table's column
            scope = scope.parent
        return None


class UseReader:
    """Reads a statement's parse tree into one TableUse per table occurrence it names."""

    def __init__(self, tables: Mapping[str, Table], search_path: Sequence[str] = ("public",),
                 c_collation: bool = False) -> None:
        self.tables = tables
        self.search_path = search_path
        self.c_collation = c_collation
        self.uses: list[TableUse] = []

    def read(self, stmt: Any) -> list[TableUse]:
        """The uses of every table `stmt` names (INSERT targets excepted: no index speeds an
        insert, though the SELECT feeding one is read like any other)."""
        self.uses = []
        self.statement(stmt, None)
        return self.uses

    # ------------------------------------------------------------------ statements

    def statement(self, stmt: Any, parent: _Scope | None) -> None:
        if isinstance(stmt, ast.SelectStmt):
            self.select(stmt, parent)
        elif isinstance(stmt, ast.InsertStmt):
            self.ctes(stmt.withClause, parent)
            if stmt.selectStmt is not None:
                self.statement(stmt.selectStmt, parent)
        elif isinstance(stmt, (ast.UpdateStmt, ast.DeleteStmt)):
            self.ctes(stmt.withClause, parent)
            scope = _Scope(parent)
            target = self.relation(stmt.relation, scope)
            if target is not None:
                target.write = True
            others = stmt.fromClause if isinstance(stmt, ast.UpdateStmt) else stmt.usingClause
            for item in others or ():
                self.from_item(item, scope)
            self.conditions(stmt.whereClause, scope)
            # PostgreSQL 18's parser (pglast 8) wraps RETURNING in a clause of its own
            returning = getattr(stmt, "returningClause", None) or getattr(
                stmt, "returningList", None)
            self.reads(getattr(returning, "exprs", returning), scope)

    def ctes(self, with_clause: Any, parent: _Scope | None) -> None:
        for cte in (with_clause.ctes if with_clause is not None else ()) or ():
            self.statement(cte.ctequery, parent)

    def select(self, stmt: Any, parent: _Scope | None) -> None:
        self.ctes(stmt.withClause, parent)
        if stmt.op is not None and stmt.op != enums.SetOperation.SETOP_NONE:
            self.select(stmt.larg, parent)
            self.select(stmt.rarg, parent)
            return
        scope = _Scope(parent)
        for item in stmt.fromClause or ():
            self.from_item(item, scope)
        scope.target_list = list(stmt.targetList or ())
        scope.targets = {t.name: t.val for t in scope.target_list if t.name}
        for target in scope.target_list:
            self.reads(target.val, scope)
        self.conditions(stmt.whereClause, scope)
        self.reads(stmt.havingClause, scope)
        for values in stmt.valuesLists or ():
            self.reads(values, scope)
        self.grouping(stmt.groupClause or (), scope)
        self.ordering(stmt.sortClause or (), scope)

    def from_item(self, item: Any, scope: _Scope) -> None:
        if isinstance(item, ast.RangeVar):
            self.relation(item, scope)
        elif isinstance(item, ast.JoinExpr):
            before = len(scope.uses)
            self.from_item(item.larg, scope)
            middle = len(scope.uses)
            self.from_item(item.rarg, scope)
            for name in item.usingClause or ():
                left = [u for u in scope.uses[before:middle] if name.sval in u.columns]
                right = [u for u in scope.uses[middle:] if name.sval in u.columns]
                if left and right:
                    left[-1].add(left[-1].joins, name.sval)
                    right[0].add(right[0].joins, name.sval)
            self.conditions(item.quals, scope)
        elif isinstance(item, ast.RangeSubselect):
            self.statement(item.subquery, scope if item.lateral else scope.parent)
            if item.alias is not None:
                scope.names[item.alias.aliasname] = None
        elif isinstance(item, ast.RangeFunction) and item.alias is not None:
            scope.names[item.alias.aliasname] = None

    def relation(self, node: ast.RangeVar, scope: _Scope) -> TableUse | None:
        alias = node.alias.aliasname if node.alias is not None else node.relname
        name = resolve_table(qualified(node), self.tables, self.search_path)
        if name is None:
            scope.names[alias] = None  # a CTE, or a table the schema does not know
            return None
        use = TableUse(name, tuple(c.name for c in self.tables[name].columns))
        scope.names[alias] = use
        scope.uses.append(use)
        self.uses.append(use)
        return use

    # ------------------------------------------------------------------ predicates

    def conditions(self, node: Any, scope: _Scope, loose: bool = False) -> None:
        """A WHERE or ON clause: each conjunct classified; every column it names is read."""
        if node is None:
            return
        if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
            for arg in node.args:
                self.conditions(arg, scope, loose)
            return
        if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.OR_EXPR:
            # Each arm can use an index of its own (a BitmapOr): its columns are single-column
            # candidates, never composites with the other conjuncts.
            for arg in node.args:
                self.conditions(arg, scope, True)
            return
        self.reads(node, scope)
        self.predicate(node, scope, loose)

    def predicate(self, node: Any, scope: _Scope, loose: bool) -> None:
        kind = enums.A_Expr_Kind
        if isinstance(node, ast.A_Expr) and node.name:
            op = node.name[-1].sval
            if node.kind == kind.AEXPR_OP and op in ("=", "<", ">", "<=", ">="):
                for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                    self.compare(side, [other], "equality" if op == "=" else "ranges",
                                 node, scope, loose)
            elif node.kind in (kind.AEXPR_IN, kind.AEXPR_OP_ANY) and op == "=":
                others = list(node.rexpr) if isinstance(node.rexpr, (list, tuple)) else [
                    node.rexpr]
                self.compare(node.lexpr, others, "equality", node, scope, loose)
            elif node.kind in (kind.AEXPR_BETWEEN, kind.AEXPR_BETWEEN_SYM):
                self.compare(node.lexpr, list(node.rexpr), "ranges", None, scope, loose)
            elif node.kind == kind.AEXPR_LIKE and op == "~~" and _prefix_pattern(node.rexpr):
                found = self.key(node.lexpr, scope)
                if found is not None and not found[1].startswith("("):
                    use, column = found
                    if not self.c_collation:
                        column += " " + self.pattern_opclass(use, column)
                    use.add(use.loose if loose else use.ranges, column)
        elif isinstance(node, ast.NullTest):
            found = self.key(node.arg, scope)
            if found is not None:
                use, key = found
                is_null = node.nulltesttype == enums.NullTestType.IS_NULL
                if is_null:
                    use.add(use.loose if loose else use.equality, key)
                if not loose:
                    use.constants.append(Constant(bare_deparse(node), key, True))
        elif isinstance(node, (ast.BooleanTest, ast.ColumnRef)) or (
                isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.NOT_EXPR
                and isinstance(node.args[0], ast.ColumnRef)):
            target = node.arg if isinstance(node, ast.BooleanTest) else (
                node.args[0] if isinstance(node, ast.BoolExpr) else node)
            found = self.key(target, scope)
            if found is not None and not loose:
                found[0].constants.append(Constant(bare_deparse(node), found[1], True))
        elif isinstance(node, ast.SubLink) and node.subLinkType == enums.SubLinkType.ANY_SUBLINK:
            # col IN (SELECT …): a semi-join, each outer row looked up by col
            found = self.key(node.testexpr, scope) if node.testexpr is not None else None
            if found is not None:
                found[0].add(found[0].loose if loose else found[0].joins, found[1])

    def compare(self, side: Any, others: list[Any], bucket: str, node: Any, scope: _Scope,
                loose: bool) -> None:
        """`side` compared with `others`: a key of its table when the others do not read that
        table; a join column when they read another table, a constant when they are literals."""
        found = self.key(side, scope)
        if found is None:
            return
        use, key = found
        other_uses = [self.owners(o, scope) for o in others]
        if any(owners is None or use in owners for owners in other_uses):
            return  # the other side reads this table too (a = b), or is not understood
        if any(other_uses):
            use.add(use.loose if loose else use.joins, key)
            return
        use.add(getattr(use, "loose" if loose else bucket), key)
        if node is not None and bucket == "equality" and not loose and all(
                _constant(o) for o in others):
            use.constants.append(Constant(bare_deparse(node), key,
                                          self.categorical(use, key, others)))

    def key(self, node: Any, scope: _Scope) -> tuple[TableUse, str] | None:
        """The table occurrence and key item (`column` or `(expression)`) `node` is."""
        if isinstance(node, ast.ColumnRef):
            return scope.column(node)
        owners = self.owners(node, scope)
        if not owners or len(owners) != 1 or _has(node, (ast.ParamRef, ast.SubLink)):
            return None
        if _has(node, (ast.FuncCall,)) and _aggregate(node):
            return None
        return owners[0], f"({bare_deparse(node)})"

    def owners(self, node: Any, scope: _Scope) -> list[TableUse] | None:
        """The table occurrences `node`'s columns belong to (empty for a value; None when a
        column cannot be resolved, or a subquery hides what it reads)."""
        found: list[TableUse] = []
        for ref in _nodes(node, ast.ColumnRef):
            resolved = scope.column(ref)
            if resolved is None:
                return None
            if resolved[0] not in found:
                found.append(resolved[0])
        if _has(node, (ast.SubLink,)):
            return None if found else []
        return found

    def categorical(self, use: TableUse, key: str, others: list[Any]) -> bool:
        if key.startswith("(") or not all(_constant(o, text_only=True) for o in others):
            return False
        table = self.tables[use.table]
        keyed = {*table.primary_key, *(c for u in table.uniques for c in u.columns),
                 *(c for fk in table.foreign_keys for c in fk.columns)}
        kind = table.column(key).type.kind.value
        return key not in keyed and kind in ("string", "text", "enum", "bool")

    def pattern_opclass(self, use: TableUse, column: str) -> str:
        native = (self.tables[use.table].column(column).type.native or "").lower()
        return "bpchar_pattern_ops" if native.startswith(("character(", "char(", "bpchar")) \
            else "text_pattern_ops"

    # ------------------------------------------------------------ reads, order, groups

    def reads(self, node: Any, scope: _Scope) -> None:
        """Every column `node` reads (for covering indexes); subqueries read as their own
        scopes, correlated with this one."""
        if node is None:
            return
        for item in _walk(node, self, scope):
            if isinstance(item, ast.ColumnRef):
                if isinstance(item.fields[-1], ast.A_Star):
                    self.star(item, scope)
                    continue
                found = scope.column(item)
                if found is not None:
                    found[0].add(found[0].referenced, found[1])

    def star(self, ref: Any, scope: _Scope) -> None:
        if len(ref.fields) == 1:
            for use in scope.uses:
                use.all_columns = True
        elif isinstance(ref.fields[-2], ast.String):
            use = scope.names.get(ref.fields[-2].sval)
            if use is not None:
                use.all_columns = True

    def output(self, node: Any, scope: _Scope) -> Any:
        """An ORDER BY/GROUP BY item with output names and positions replaced by what they
        name (`ORDER BY 2`, `ORDER BY total`)."""
        if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Integer):
            position = node.val.ival
            if 0 < position <= len(scope.target_list):
                return scope.target_list[position - 1].val
        if (isinstance(node, ast.ColumnRef) and len(node.fields) == 1
                and isinstance(node.fields[0], ast.String)
                and node.fields[0].sval in scope.targets and scope.column(node) is None):
            return scope.targets[node.fields[0].sval]
        return node

    def ordering(self, items: Sequence[Any], scope: _Scope) -> None:
        keys = []
        for item in items:
            node = self.output(item.node, scope)
            self.reads(node, scope)
            keys.append((self.key(node, scope), item.sortby_dir == enums.SortByDir.SORTBY_DESC))
        uses = {id(k[0]) for k, _ in keys if k is not None}
        if not keys or any(k is None for k, _ in keys) or len(uses) != 1:
            return  # only an index on one table can hand rows over in this order
        flip = keys[0][1]  # a B-tree scans backwards: (a DESC, b) serves as (a, b DESC)
        use = keys[0][0][0]
        for (_, key), desc in keys:
            use.add(use.order, key + (" DESC" if desc != flip else ""))

    def grouping(self, items: Sequence[Any], scope: _Scope) -> None:
        keys = []
        for item in items:
            node = self.output(item, scope)
            self.reads(node, scope)
            keys.append(self.key(node, scope))
        if keys and all(k is not None for k in keys) and len({id(k[0]) for k in keys}) == 1:
            for use, key in keys:
                use.add(use.group, key)


def _walk(node: Any, reader: UseReader, scope: _Scope) -> Iterator[Any]:
    """`node` and its descendants, except that a subquery is handed to `reader` as a scope
    of its own (its columns are not this scope's reads)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item, reader, scope)
        return
    if not isinstance(node, ast.Node):
        return
    if isinstance(node, ast.SubLink):
        reader.statement(node.subselect, scope)
        yield from _walk(node.testexpr, reader, scope)
        return
    yield node
    for name in node:
        yield from _walk(getattr(node, name), reader, scope)


def _nodes(node: Any, kind: type) -> Iterator[Any]:
    """The nodes of `kind` in `node`, subqueries included."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _nodes(item, kind)
    elif isinstance(node, ast.Node):
        if isinstance(node, kind):
            yield node
        for name in node:
            yield from _nodes(getattr(node, name), kind)


def _has(node: Any, kinds: tuple[type, ...]) -> bool:
    return any(True for _ in _nodes(node, kinds))


_AGGREGATES = frozenset({"count", "sum", "avg", "min", "max", "array_agg", "string_agg",
                         "bool_and", "bool_or", "every", "json_agg", "jsonb_agg"})


def _aggregate(node: Any) -> bool:
    return any(f.funcname[-1].sval in _AGGREGATES or f.over is not None
               for f in _nodes(node, ast.FuncCall))


def _constant(node: Any, text_only: bool = False) -> bool:
    """Whether `node` is a literal (a cast of one included), not a parameter or expression;
    `text_only` also asks that it be a string, a boolean or NULL."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_ArrayExpr):
        return all(_constant(e, text_only) for e in node.elements or ())
    if not isinstance(node, ast.A_Const):
        return False
    return not text_only or node.isnull or isinstance(node.val, (ast.String, ast.Boolean))


def _prefix_pattern(node: Any) -> bool:
    """A LIKE pattern an index range can serve: a literal that does not start with a
    wildcard."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return (isinstance(node, ast.A_Const) and isinstance(node.val, ast.String)
            and node.val.sval[:1] not in ("", "%", "_", "\\"))
