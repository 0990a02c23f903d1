"""The physical schema: tables, columns, keys, constraints, indexes, partitions.

Engine-neutral where it can be. Produced by `dbarch.design` from a spec (and later by parsing
DDL and introspecting live databases); rendered to each dialect's DDL by `dbarch.render`.
Column types are neutral kinds; each dialect maps them through `dbarch/data/types.yaml`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TypeKind(StrEnum):
    """Neutral column types. A dialect renders each through its type map."""

    smallint = "smallint"
    int = "int"
    bigint = "bigint"
    decimal = "decimal"
    float = "float"
    bool = "bool"
    string = "string"
    text = "text"
    date = "date"
    timestamp = "timestamp"
    uuid = "uuid"
    json = "json"
    blob = "blob"
    enum = "enum"
    geo = "geo"
    array = "array"


class ColumnType(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: TypeKind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] | None = None
    items: TypeKind | None = Field(None, description="Element type of an array")
    native: str | None = Field(
        None,
        description="The type as the source dialect spells it, for schemas read from DDL or a "
        "live database (`varchar(20)`, `timestamp`, `inet`): the neutral kind loses such detail",
    )


class DefaultKind(StrEnum):
    now = "now"
    value = "value"
    uuid_v7 = "uuid_v7"
    expression = "expression"  # any other SQL expression, kept as text (parsed schemas)


class Default(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: DefaultKind
    value: str | int | float | bool | None = None


class Column(BaseModel):
    name: str
    type: ColumnType
    nullable: bool = False
    identity: bool = Field(False, description="Generated always by the database (identity/serial)")
    default: Default | None = None
    comment: str | None = None
    sensitive: bool = False


class OnDelete(StrEnum):
    cascade = "CASCADE"
    restrict = "RESTRICT"
    set_null = "SET NULL"
    no_action = "NO ACTION"


class ForeignKey(BaseModel):
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    on_delete: OnDelete = OnDelete.restrict
    reason: str = ""


class Unique(BaseModel):
    name: str
    columns: list[str]


class Check(BaseModel):
    """A CHECK constraint, structured so every dialect can render it."""

    name: str
    column: str
    values: list[str] | None = Field(None, description="column IN (values)")
    min: float | None = Field(None, description="column >= min")
    max: float | None = None
    not_blank: bool = Field(False, description="column <> ''")
    expression: str | None = Field(
        None, description="The condition as SQL, for checks read from DDL or a live database"
    )


class IndexColumn(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    desc: bool = False
    pattern_ops: bool = Field(
        False,
        description="Serves prefix matching (LIKE 'abc%'): PostgreSQL needs text_pattern_ops "
        "for it unless the column's collation is C",
    )


class IndexMethod(StrEnum):
    btree = "btree"
    brin = "brin"
    gin = "gin"
    hash = "hash"


class Index(BaseModel):
    """An index and why it exists: the access patterns it serves."""

    name: str
    columns: list[IndexColumn]
    unique: bool = False
    include: list[str] = Field(default_factory=list, description="Covering columns")
    method: IndexMethod = IndexMethod.btree
    where: str | None = Field(None, description="Partial index predicate (neutral SQL)")
    serves: list[str] = Field(default_factory=list, description="Access pattern names")
    reason: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


class PartitionKind(StrEnum):
    range = "range"
    hash = "hash"
    list = "list"


class Partitioning(BaseModel):
    kind: PartitionKind
    column: str
    interval: str | None = Field(None, description="For time ranges: day, week, month, year")
    partitions: int | None = Field(None, description="For hash: the modulus")
    reason: str = ""


class TableRole(StrEnum):
    entity = "entity"
    junction = "junction"


class Table(BaseModel):
    name: str
    entity: str | None = Field(None, description="The spec entity this table stores")
    role: TableRole = TableRole.entity
    columns: list[Column]
    primary_key: list[str]
    key_reason: str = ""
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    uniques: list[Unique] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    partitioning: Partitioning | None = None
    rows: int = Field(0, description="Expected rows now")
    rows_at_horizon: int = 0
    comment: str | None = None
    notes: list[str] = Field(default_factory=list, description="Denormalizations and such")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")


class FilterOp(StrEnum):
    eq = "eq"
    in_ = "in"
    range = "range"
    prefix = "prefix"
    text = "text"


class QueryFilter(BaseModel):
    column: str
    op: FilterOp


class QueryOrder(BaseModel):
    column: str
    desc: bool = False


class AccessQuery(BaseModel):
    """A read access pattern as the schema answers it: one table, filters, order, limit.

    Verification renders it per dialect, runs EXPLAIN, and checks that `index` is used.
    """

    pattern: str
    table: str
    filters: list[QueryFilter] = Field(default_factory=list)
    order_by: list[QueryOrder] = Field(default_factory=list)
    limit: int | None = None
    project: list[str] = Field(default_factory=list, description="Empty: all columns")
    index: str | None = Field(None, description="The index designed to serve it")
    rate: float = 0.0
    group_by: list[str] = Field(default_factory=list, description="An aggregate's groups")
    aggregate: str | None = Field(
        None, description="An aggregate's function over `measured`: count, sum, avg, min, max"
    )
    measured: str | None = Field(None, description="The column the aggregate reads")


class Schema(BaseModel):
    """A whole relational schema for one system."""

    name: str
    tables: list[Table]
    queries: list[AccessQuery] = Field(default_factory=list)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)
