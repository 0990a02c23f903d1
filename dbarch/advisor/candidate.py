"""One index the advisor may recommend: a table, key columns or expressions, INCLUDE columns
and an optional partial predicate, with the DDL that creates it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
NAME_LIMIT = 63  # PostgreSQL's NAMEDATALEN - 1


def quote(identifier: str) -> str:
    """`identifier` as PostgreSQL needs it written: bare when lowercase and plain."""
    if _PLAIN.match(identifier):
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class IndexCandidate:
    """A B-tree (or other method) index on `table`.

    `table` is the relation as the catalog names it, schema-qualified (`public.orders`).
    `keys` are the key items in order, each a column name (unquoted, as the catalog spells it)
    or an expression in parentheses (`(lower(email))`), a column may be followed by an
    operator class (`email text_pattern_ops`), and any item by ` DESC`.
    `include` are covering columns; `where` is a partial-index predicate as SQL text.
    """

    table: str
    keys: tuple[str, ...]
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"

    def __lt__(self, other: IndexCandidate) -> bool:
        """A stable order (table, keys, …) so configurations sort the same in every run."""
        return self._order() < other._order()

    def _order(self) -> tuple[str, tuple[str, ...], tuple[str, ...], str, str]:
        return (self.table, self.keys, self.include, self.where or "", self.method)

    @property
    def columns(self) -> tuple[str, ...]:
        """The key items without direction, as written in `keys`."""
        return tuple(k.removesuffix(" DESC") for k in self.keys)

    @property
    def is_expression(self) -> bool:
        return any(k.startswith("(") for k in self.keys)

    def leads(self, other: IndexCandidate) -> bool:
        """Whether this index's keys are a left prefix of `other`'s on the same table, method
        and predicate, so `other` serves every lookup this one serves (INCLUDE aside)."""
        return (self.table == other.table and self.method == other.method
                and self.where == other.where
                and other.keys[: len(self.keys)] == self.keys)

    @property
    def name(self) -> str:
        """A deterministic name: idx_<table>_<keys>, shortened with a hash past 63 bytes."""
        bare = self.table.rsplit(".", 1)[-1]
        words = [re.sub(r"[^a-z0-9]+", "_", k.lower()).strip("_") for k in self.keys]
        name = "_".join(["idx", bare, *words])
        if self.include:
            name += "_incl"
        if self.where:
            name += "_part"
        if len(name.encode()) > NAME_LIMIT or not _PLAIN.match(name):
            digest = hashlib.sha1(repr(self).encode()).hexdigest()[:8]
            name = re.sub(r"[^a-z0-9_]", "_", name)[: NAME_LIMIT - 9] + "_" + digest
        return name

    def ddl(self, *, name: str | None = None, concurrently: bool = True) -> str:
        """The CREATE INDEX statement (CONCURRENTLY unless told otherwise), without `;`."""
        table = ".".join(quote(part) for part in self.table.split("."))
        keys = ", ".join(_key(k) for k in self.keys)
        sql = "CREATE INDEX " + ("CONCURRENTLY " if concurrently else "")
        sql += f"{quote(name or self.name)} ON {table}"
        if self.method != "btree":
            sql += f" USING {self.method}"
        sql += f" ({keys})"
        if self.include:
            sql += " INCLUDE (" + ", ".join(quote(c) for c in self.include) + ")"
        if self.where:
            sql += f" WHERE {self.where}"
        return sql

    def __str__(self) -> str:
        text = f"{self.table}({', '.join(self.keys)})"
        if self.include:
            text += f" INCLUDE ({', '.join(self.include)})"
        if self.where:
            text += f" WHERE {self.where}"
        return text


def _key(item: str) -> str:
    body, desc = (item[:-5], " DESC") if item.endswith(" DESC") else (item, "")
    if body.startswith("("):
        return body + desc
    column, _, opclass = body.partition(" ")
    return quote(column) + (f" {opclass}" if opclass else "") + desc
