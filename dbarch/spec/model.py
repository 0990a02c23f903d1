"""The requirements spec: what an application stores and how it reads and writes it.

Engine-neutral. Loaded from YAML by `dbarch.spec.load`, published as JSON Schema by
`dbarch spec schema`. Quantities written as text (`2M`, `200/s`, `24h`) are parsed on load
into numbers: counts are ints, rates are per second, durations are seconds.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dbarch.spec import quantities as q

Count = Annotated[
    int,
    BeforeValidator(q.parse_count),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0},
                   {"type": "string", "pattern": q.COUNT_PATTERN}],
         "description": "A count: 500, 500k, 2M, 1.5B"}
    ),
]
Rate = Annotated[
    float,
    BeforeValidator(q.parse_rate),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0},
                   {"type": "string", "pattern": q.RATE_PATTERN}],
         "description": "Operations per unit of time: 200/s, 5k/min, 3M/day"
                        " (bare number: per second)"}
    ),
]
Duration = Annotated[
    float,
    BeforeValidator(q.parse_duration),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0},
                   {"type": "string", "pattern": q.DURATION_PATTERN}],
         "description": "A duration: 20ms, 30s, 24h, 90d, 7y (bare number: seconds)"}
    ),
]


class Growth(BaseModel):
    """Yearly growth: a fraction of the current volume, an absolute number of rows, or both."""

    model_config = ConfigDict(frozen=True)
    fraction: float = 0.0
    absolute: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            fraction, absolute = q.parse_growth(value)
            return {"fraction": fraction, "absolute": absolute}
        return value

    def volume_after(self, volume: float, years: float) -> float:
        """The volume after `years` of this growth."""
        return volume * (1 + self.fraction) ** years + self.absolute * years


GrowthField = Annotated[
    Growth,
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0},
                   {"type": "string", "pattern": q.GROWTH_PATTERN}],
         "description": "Growth: 40%/year or 3%/month (compound), 5M/year (rows added per year);"
                        " a bare number is rows per year"}
    ),
]


class AttrType(StrEnum):
    """The engine-neutral attribute types a spec may use."""

    string = "string"
    text = "text"
    int = "int"
    bigint = "bigint"
    decimal = "decimal"
    money = "money"
    float = "float"
    bool = "bool"
    date = "date"
    timestamp = "timestamp"
    uuid = "uuid"
    email = "email"
    enum = "enum"
    json = "json"
    map = "map"
    list = "list"
    blob = "blob"
    geo = "geo"


class Attribute(BaseModel):
    """One attribute of an entity. `name: string` in YAML is short for `name: {type: string}`."""

    model_config = ConfigDict(extra="forbid")

    type: AttrType = Field(description="The engine-neutral type; engines map it to theirs")
    required: bool = Field(True, description="NOT NULL; set false for optional attributes")
    unique: bool = Field(False, description="No two records share a value: a unique index")
    sensitive: bool = Field(False, description="PII or secret: encrypted, masked, never logged")
    values: list[str] | None = Field(None, description="The allowed values of an enum")
    items: AttrType | None = Field(None, description="The element type of a list")
    max_length: int | None = Field(None, gt=0, description="For string: the longest value")
    precision: int | None = Field(None, gt=0, le=38, description="For decimal: total digits")
    scale: int | None = Field(None, ge=0, le=38, description="For decimal: digits after the point")
    varies: bool = Field(False, description="Semi-structured: keys differ from one row to another")
    searchable: bool = Field(False, description="Free-text search over this attribute")
    avg_size: Count | None = Field(None, description="Average size in bytes (blobs, json, text)")
    default: str | int | float | bool | None = Field(None, description="Value when none is given")
    description: str | None = Field(None, description="What the attribute holds, for documents")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"type": value}
        return value

    @model_validator(mode="after")
    def _check(self) -> Attribute:
        if self.type == AttrType.enum and not self.values:
            raise ValueError("an enum needs its values, e.g. {type: enum, values: [a, b]}")
        if self.values is not None and self.type != AttrType.enum:
            raise ValueError("values is only for type enum")
        if self.items is not None and self.type != AttrType.list:
            raise ValueError("items is only for type list")
        return self


_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Entity(BaseModel):
    """A thing the application stores, with its attributes and how many there are."""

    model_config = ConfigDict(extra="forbid")

    volume: Count = Field(0, description="How many exist now: 2M, 500k")
    growth: GrowthField = Field(default_factory=Growth)
    ttl: Duration | None = Field(None, description="Expire each record after this long")
    append_only: bool = Field(False, description="Rows are inserted, never updated (events, logs)")
    public_id: bool = Field(
        False, description="Ids are exposed outside (URLs, APIs) or made on many nodes: use UUIDv7"
    )
    attributes: dict[Annotated[str, Field(pattern=_NAME)], Attribute] = Field(
        default_factory=dict,
        description="Name → type (`email: string`) or {type, unique, required, …}; id, "
                    "created_at and updated_at exist without being declared",
    )
    unique: list[list[str]] = Field(
        default_factory=list,
        description="Uniqueness over several fields together: each item is a list of two or "
                    "more field names of this entity (attributes, references such as `product`, "
                    "created_at), e.g. [[product, warehouse]] for one stock row per product per "
                    "warehouse. Becomes a named UNIQUE constraint; the order given is its index's "
                    "column order, so put first the field reads filter on alone. A single field "
                    "is `unique: true` on the attribute (or a one-to-one relationship)",
    )
    description: str | None = Field(None, description="What the entity is, for documents")

    @field_validator("unique", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> Any:
        # [product, warehouse] could mean one pair or two single fields: ask for the nesting.
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            raise ValueError(
                "unique is a list of groups, each a list of fields: "
                f"[[{', '.join(value)}]] for one constraint over them together")
        return value

    def volume_at(self, years: float) -> float:
        """The volume after `years`."""
        return self.growth.volume_after(self.volume, years)


class RelKind(StrEnum):
    """How many of each side a relationship links, read from `from` to `to`."""

    one_to_one = "one-to-one"
    one_to_many = "one-to-many"
    many_to_one = "many-to-one"
    many_to_many = "many-to-many"


class Relationship(BaseModel):
    """A link between two entities. `owned` means composition: the `from` side dies with `to`.

    For many-to-one (and one-to-one), `from` holds the reference; `name` is how access patterns
    and the schema call it (default: `to` in snake_case, e.g. `user` → column `user_id`).
    A one-to-many is read as the mirrored many-to-one.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", description="An entity; for many-to-one, the one that refers")
    to: str = Field(description="An entity; for many-to-one, the one referred to")
    kind: RelKind = Field(description="Cardinality read from `from` to `to`")
    name: str | None = Field(
        None, pattern=_NAME, description="The reference's field name (default: `to` in snake_case)"
    )
    owned: bool = Field(False, description="Composition: deleting the owner deletes these")
    required: bool = Field(True, description="Every child has a parent (NOT NULL reference)")
    fanout: Count | None = Field(None, description="Average related records per owner")
    max_fanout: Count | None = Field(None, description="The largest number of related records")
    attributes: dict[Annotated[str, Field(pattern=_NAME)], Attribute] = Field(
        default_factory=dict, description="Attributes of a many-to-many link"
    )

    @property
    def child(self) -> str:
        """The entity that holds the reference (the many side)."""
        return self.to if self.kind == RelKind.one_to_many else self.from_

    @property
    def parent(self) -> str:
        """The entity referred to (the one side)."""
        return self.from_ if self.kind == RelKind.one_to_many else self.to

    @property
    def field_name(self) -> str:
        """The name of the reference on the child: `name`, else the parent in snake_case."""
        return self.name or snake(self.parent)


class Op(StrEnum):
    """How an access pattern filters on a field."""

    eq = "eq"
    in_ = "in"
    range = "range"
    prefix = "prefix"
    text = "text"


class PatternKind(StrEnum):
    """What an access pattern does."""

    read = "read"
    write = "write"
    traversal = "traversal"
    aggregate = "aggregate"


class Consistency(StrEnum):
    """What a read must see of earlier writes."""

    strong = "strong"
    eventual = "eventual"
    read_your_writes = "read-your-writes"


class WriteOp(StrEnum):
    """What a write pattern does to its rows."""

    insert = "insert"
    update = "update"
    upsert = "upsert"
    delete = "delete"


class AccessPattern(BaseModel):
    """One way the application reads or writes, with its rate and latency target.

    read: `entity` + `where` (field → eq/in/range/prefix/text) or `key`, `order_by`
    (`-created_at` for descending), `limit`, `project`.
    write: `touches` (entities written together), `transaction`, `operation`.
    traversal: `entity` + `via` + `hops`. `via` names one relationship that touches `entity`
    (on either side), either by its field name (`name`, else the parent in snake_case, e.g.
    `manager`) or by the entity at its other end (`User`); when the other entity is linked to
    `entity` by more than one relationship, only the field name is unambiguous.
    aggregate: `entity` + `time` (timestamp attribute) + `window` + `group_by` + `measure`.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME, description="Unique name; labels indexes and reports")
    kind: PatternKind = Field(PatternKind.read, description="read, write, traversal or aggregate")
    entity: str | None = Field(None, description="The entity read (or written)")
    key: str | None = Field(None, description="Lookup by this one field: short for where {key: eq}")
    where: dict[str, Op] = Field(
        default_factory=dict, description="Field → eq, in, range, prefix or text"
    )
    order_by: list[str] = Field(default_factory=list, description="Fields; prefix - for descending")
    limit: int | None = Field(None, gt=0, description="At most this many rows are read")
    project: list[str] = Field(default_factory=list, description="Only these fields are read")
    touches: list[str] = Field(default_factory=list, description="Entities a write changes")
    operation: WriteOp = Field(WriteOp.insert, description="What a write does to its rows")
    transaction: bool = Field(False, description="All entities in touches change atomically")
    via: str | None = Field(None, description="The relationship a traversal follows")
    hops: int = Field(1, ge=1, le=10, description="How many times a traversal follows via")
    time: str | None = Field(None, description="The timestamp an aggregate windows over")
    window: Duration | None = Field(None, description="The time bucket an aggregate sums over")
    group_by: list[str] = Field(default_factory=list, description="Fields an aggregate groups by")
    measure: str | None = Field(None, description="e.g. avg(value), count, sum(amount)")
    rate: Rate = Field(1.0, description="How often: 200/s")
    p99: Duration | None = Field(None, description="Latency target at the 99th percentile")
    consistency: Consistency = Field(
        Consistency.strong, description="What a read must see of earlier writes"
    )
    description: str | None = Field(None, description="What the pattern is for, for documents")

    @field_validator("order_by", "touches", "project", "group_by", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> AccessPattern:
        if self.key is not None:
            # A dumped and reloaded pattern already carries its key in where.
            if self.where.get(self.key, Op.eq) != Op.eq:
                raise ValueError(f"key {self.key!r} is also in where with another operator")
            self.where = {self.key: Op.eq, **self.where}
        if self.kind == PatternKind.write:
            if not self.touches and self.entity:
                self.touches = [self.entity]
            if not self.touches:
                raise ValueError("a write names the entities it changes in touches (or entity)")
        elif self.entity is None:
            raise ValueError(f"a {self.kind.value} pattern needs an entity")
        if self.kind == PatternKind.traversal and self.via is None:
            raise ValueError("a traversal needs via: the relationship it follows")
        if self.kind == PatternKind.aggregate and self.time is None:
            raise ValueError("an aggregate needs time: the timestamp attribute it windows over")
        return self

    @property
    def sort(self) -> list[tuple[str, bool]]:
        """order_by as (field, descending) pairs."""
        return [(f.lstrip("-+"), f.startswith("-")) for f in self.order_by]


class Hosting(StrEnum):
    """Where the databases may run."""

    any = "any"
    cloud = "cloud"
    self_hosted = "self-hosted"


class Scale(BaseModel):
    """System-wide scale and availability."""

    model_config = ConfigDict(extra="forbid")

    horizon_years: float = Field(3, gt=0, le=20, description="Plan capacity this many years out")
    availability: float = Field(99.9, ge=90, lt=100, description="Target uptime in percent")
    regions: list[str] = Field(default_factory=list, description="Where users are, e.g. eu-west")
    multi_region_writes: bool = Field(False, description="Writes accepted in every region")
    rpo: Duration | None = Field(None, description="Data loss tolerated on disaster")
    rto: Duration | None = Field(None, description="Time to recover from disaster")


class Deployment(BaseModel):
    """Where the databases run and what the team already operates."""

    model_config = ConfigDict(extra="forbid")

    hosting: Hosting = Field(Hosting.any, description="any, cloud or self-hosted")
    cloud: str | None = Field(None, description="aws, gcp, azure")
    existing: list[str] = Field(
        default_factory=list, description="Products the team already runs, e.g. [postgresql]"
    )


class Compliance(BaseModel):
    """Regulatory constraints on the data."""

    model_config = ConfigDict(extra="forbid")

    pii: bool = Field(False, description="Personal data is stored")
    audit: bool = Field(False, description="Every change must be traceable")
    retention: Duration | None = Field(
        None, description="Keep data at most (or at least) this long"
    )
    frameworks: list[str] = Field(default_factory=list, description="GDPR, HIPAA, PCI-DSS …")


class Spec(BaseModel):
    """The requirements of one system: entities, relationships, access patterns, scale."""

    model_config = ConfigDict(extra="forbid", title="dbarch requirements spec")

    system: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", description="The system's name")
    description: str | None = Field(None, description="What the system does, for documents")
    scale: Scale = Field(default_factory=Scale, description="Horizon, availability, regions")
    deployment: Deployment = Field(default_factory=Deployment, description="Where it runs")
    compliance: Compliance = Field(default_factory=Compliance, description="PII, audit, retention")
    entities: dict[Annotated[str, Field(pattern=_NAME)], Entity] = Field(
        description="Name (CamelCase) → what is stored and how much"
    )
    relationships: list[Relationship] = Field(
        default_factory=list, description="Links between entities, with cardinality"
    )
    access_patterns: list[AccessPattern] = Field(
        default_factory=list, description="Every read and write, with rate and latency target"
    )

    def relationships_of(self, entity: str) -> list[Relationship]:
        """Relationships that touch `entity` on either side."""
        return [r for r in self.relationships if entity in (r.from_, r.to)]

    def references_of(self, entity: str) -> list[Relationship]:
        """Many-to-one and one-to-one relationships where `entity` holds the reference."""
        return [
            r for r in self.relationships
            if r.kind != RelKind.many_to_many and r.child == entity
        ]

    def fields_of(self, entity: str) -> dict[str, str]:
        """Every field name an access pattern may use on `entity`, with what it is.

        `attribute` (declared), `reference` (a relationship's field_name: `user` for the
        Order → User link), or `builtin` (`id`, `created_at`, `updated_at`, which every
        entity has).
        """
        fields = {"id": "builtin", "created_at": "builtin", "updated_at": "builtin"}
        fields.update({r.field_name: "reference" for r in self.references_of(entity)})
        fields.update({a: "attribute" for a in self.entities[entity].attributes})
        return fields

    def patterns_on(self, entity: str) -> list[AccessPattern]:
        """Access patterns that read or write `entity`."""
        return [p for p in self.access_patterns if p.entity == entity or entity in p.touches]


def snake(name: str) -> str:
    """`OrderItem` → `order_item`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
