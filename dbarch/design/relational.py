"""Relational schema design: a spec's relational entities as tables, keys, constraints,
indexes, partitions and the query each read access pattern becomes.

`design_relational(spec, decisions)` is the entry point. Each entity becomes one table in 3NF
(the spec already names one thing per entity; references become foreign keys, many-to-many
links become junction tables). Denormalization is only recommended, in `Table.notes`, where
an access pattern's rate makes the normalized read expensive, with the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.design import indexes, keys, partitioning, queries
from dbarch.schema.model import (
    Check,
    Column,
    ColumnType,
    Default,
    DefaultKind,
    ForeignKey,
    Index,
    IndexColumn,
    OnDelete,
    Schema,
    Table,
    TableRole,
    TypeKind,
    Unique,
)
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import (
    Attribute,
    AttrType,
    Op,
    PatternKind,
    Relationship,
    RelKind,
    Spec,
    WriteOp,
    snake,
)
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate


@dataclass
class Design:
    """What the design steps share: the tables so far and how spec names map onto them."""

    spec: Spec
    entities: list[str]
    tables: dict[str, Table] = field(default_factory=dict)  # entity -> its table
    junctions: dict[int, Table] = field(default_factory=dict)  # id(relationship) -> table
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # entity -> field -> col
    refs: dict[str, list[Relationship]] = field(default_factory=dict)  # child -> references
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # Spec.fields_of, cached
    elsewhere: dict[str, str] = field(default_factory=dict)  # pattern -> the store serving it

    def column_of(self, entity: str, field_name: str) -> str:
        """The column that stores a spec field (`user` → `user_id`, `id` → `id`)."""
        return self.columns[entity].get(field_name, field_name)


def design_relational(spec: Spec, decisions: Decisions) -> Schema:
    """The relational schema for `decisions.relational_entities` of `spec`."""
    # An entity may sit in two relational parts; it is still one table.
    entities = [e for e in dict.fromkeys(decisions.relational_entities) if e in spec.entities]
    d = Design(spec=spec, entities=entities, refs=references_by_child(spec),
               elsewhere=served_elsewhere(decisions))
    d.fields = {e: fields_of(spec, e, d.refs) for e in entities}
    for name in entities:
        d.tables[name] = entity_table(spec, name, set(entities), d.refs.get(name, []))
    taken = {t.name for t in d.tables.values()}
    for rel in spec.relationships:
        if rel.kind == RelKind.many_to_many and rel.from_ in d.tables and rel.to in d.tables:
            j = junction_table(spec, rel, d.tables)
            while j.name in taken:  # an entity (or another link) already has the name
                j = rename_table(j, keys.fit(f"{j.name}_links"))
            taken.add(j.name)
            d.junctions[id(rel)] = j
    for name in entities:
        d.columns[name] = field_columns(d.fields[name], d.tables[name])
    referenced = {fk.ref_table for t in all_tables(d) for fk in t.foreign_keys
                  if fk.ref_table != t.name}
    for name in entities:
        table = d.tables[name]
        partitioning.plan_partitioning(spec, name, table, table.name in referenced)
    for name in entities:
        note = ttl_note(spec, name, d.tables[name])
        if note:
            d.tables[name].notes.append(note)
    for note_table, note in elsewhere_notes(d):
        note_table.notes.append(note)
    drafted = queries.draft_queries(d)
    writes = queries.draft_write_lookups(d)
    tables = all_tables(d)
    indexes.design_indexes(tables, drafted + writes, cardinality_of(d), purge_columns(d),
                           group_limits(d), determined=determined_columns(d))
    for note_table, note in [*fan_in_notes(d), *redundant_reference_notes(d),
                             *unique_pair_notes(d)]:
        note_table.notes.append(note)
    return Schema(name=spec.system, tables=tables, queries=drafted)


def served_elsewhere(decisions: Decisions) -> dict[str, str]:
    """Patterns the selection gives to a non-relational store only (a search engine, a cache):
    the relational schema does not index for them. Pattern → the product serving it."""
    def in_schema(part: Decision) -> bool:
        return part.paradigm == Paradigm.relational or part.in_primary_schema

    relational = {p for part in decisions.parts if in_schema(part) for p in part.patterns}
    return {p: part.product_name for part in decisions.parts if not in_schema(part)
            for p in part.patterns if p not in relational}


def elsewhere_notes(d: Design) -> list[tuple[Table, str]]:
    """Say on each table which of its patterns another store answers, so no index is missed
    by mistake."""
    out = []
    for entity, table in d.tables.items():
        names = [p.name for p in d.spec.access_patterns
                 if p.entity == entity and p.name in d.elsewhere]
        for product in dict.fromkeys(d.elsewhere[n] for n in names):
            mine = [n for n in names if d.elsewhere[n] == product]
            out.append((table, f"{', '.join(mine)}: served by {product}, so this table carries "
                               "no index for them"))
    return out


def all_tables(d: Design) -> list[Table]:
    """Entity tables in spec order, then junction tables."""
    return [*d.tables.values(), *d.junctions.values()]


# --------------------------------------------------------------------------- entity tables


def references_by_child(spec: Spec) -> dict[str, list[Relationship]]:
    """`Spec.references_of` for every entity at once (one pass, not one per entity)."""
    out: dict[str, list[Relationship]] = {}
    for r in spec.relationships:
        if r.kind != RelKind.many_to_many:
            out.setdefault(r.child, []).append(r)
    return out


def fields_of(spec: Spec, entity: str, refs: dict[str, list[Relationship]]) -> dict[str, str]:
    """`Spec.fields_of(entity)`, computed from the references found in one pass; the test
    suite checks it equals the model's rule on every example."""
    fields = {"id": "builtin", "created_at": "builtin", "updated_at": "builtin"}
    fields.update({r.field_name: "reference" for r in refs.get(entity, [])})
    fields.update({a: "attribute" for a in spec.entities[entity].attributes})
    return fields


def entity_table(
    spec: Spec, entity: str, relational: set[str], refs: list[Relationship]
) -> Table:
    """The table of one entity: key, references, attributes, timestamps, constraints."""
    e = spec.entities[entity]
    name = keys.table_name(entity)
    pk, key_reason = keys.primary_key(spec, entity)
    table = Table(
        name=name,
        entity=entity,
        columns=[pk],
        primary_key=["id"],
        key_reason=key_reason,
        rows=e.volume,
        rows_at_horizon=int(e.volume_at(spec.scale.horizon_years)),
        comment=e.description,
    )
    for rel in refs:
        add_reference(spec, table, rel, relational)
    for attr_name, attr in e.attributes.items():
        if attr_name in ("id",):
            continue
        add_attribute(table, attr_name, attr, e.volume_at(spec.scale.horizon_years))
    uses_updated = e.append_only and any(
        p.entity == entity and ("updated_at" in p.where or "updated_at" in p.order_by
                                or "-updated_at" in p.order_by)
        for p in spec.access_patterns)
    for builtin in ("created_at", "updated_at"):
        if builtin in e.attributes:
            continue
        if builtin == "updated_at" and e.append_only and not uses_updated:
            table.notes.append("no updated_at: rows are append-only, never updated")
            continue
        table.columns.append(Column(
            name=builtin, type=ColumnType(kind=TypeKind.timestamp),
            default=Default(kind=DefaultKind.now),
        ))
    add_unique_groups(spec, entity, table, refs)
    natural = keys.natural_key(spec, entity, table)
    if natural:
        # The unique group becomes the primary key: one B-tree instead of two, no id column.
        table.primary_key, table.key_reason = natural
        table.columns = [c for c in table.columns if c.name != "id"]
        table.uniques = [u for u in table.uniques if u.columns != table.primary_key]
    return table


# A value no real row holds, to stand for NULL in a generated column (ids start at 1).
_SENTINELS = {TypeKind.bigint: "0", TypeKind.int: "0", TypeKind.string: "''",
              TypeKind.text: "''", TypeKind.uuid: "'00000000-0000-0000-0000-000000000000'"}


def add_unique_groups(spec: Spec, entity: str, table: Table, refs: list[Relationship]) -> None:
    """A named UNIQUE constraint for each `unique` group of the entity, in the spec's column
    order (references as their `<name>_id` column); a note where an optional field leaves
    rows unchecked."""
    references = {r.field_name: r for r in refs}
    attributes = spec.entities[entity].attributes
    for group in spec.entities[entity].unique:
        cols = [f"{f}_id" if f in references else f for f in group]
        table.uniques.append(Unique(
            name=keys.constraint_name(table.name, cols, "key"), columns=cols))
        optional = [c for f, c in zip(group, cols, strict=True)
                    if (f in references and not references[f].required)
                    or (f in attributes and not attributes[f].required)]
        if optional:
            col = optional[0]
            sentinel = _SENTINELS.get(table.column(col).type.kind)
            instead = (f"; MySQL and SQLite need a generated column COALESCE({col}, "
                       f"{sentinel}) in the constraint in its place" if sentinel else "")
            table.notes.append(
                f"UNIQUE ({', '.join(cols)}) checks only rows where {', '.join(optional)} "
                f"{'is' if len(optional) == 1 else 'are'} set: PostgreSQL, MySQL and SQLite "
                "treat NULLs as distinct, so two rows with a NULL there never conflict; "
                f"where they should, PostgreSQL 15 says UNIQUE NULLS NOT DISTINCT{instead}")


def ttl_note(spec: Spec, entity: str, table: Table) -> str | None:
    """How expired rows leave the table, for entities with a TTL."""
    ttl = spec.entities[entity].ttl
    if not ttl:
        return None
    p = table.partitioning
    if p is not None:
        return (f"rows expire {human_duration(ttl)} after {p.column}: whole {p.interval} "
                "partitions are dropped once past it (DROP TABLE on a partition: no row-by-row "
                "DELETE, no bloat)")
    col = expiry_column(table)
    when = (f"once {col} has passed (the row's own expiry, which updates may push forward)"
            if col != "created_at" else f"{human_duration(ttl)} after created_at")
    cutoff = f"{col} < now()" if col != "created_at" else f"created_at < now() - {interval(ttl)}"
    return (f"rows expire {when}: a scheduled job deletes WHERE {cutoff} in batches of 10k "
            f"through the {col} index, so each DELETE holds its locks briefly and VACUUM "
            "keeps up")


def interval(seconds: float) -> str:
    """A SQL interval literal in the largest whole unit: `interval '30 days'`."""
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"interval '{int(seconds // size)} {unit}'"
    return f"interval '{int(seconds)} seconds'"


def expiry_column(table: Table) -> str:
    """The timestamp a TTL purge deletes by: the entity's own expiry column, else created_at."""
    names = {c.name for c in table.columns if c.type.kind == TypeKind.timestamp}
    return next((c for c in keys.design_data()["expiry_columns"] if c in names), "created_at")


def add_reference(spec: Spec, table: Table, rel: Relationship, relational: set[str]) -> None:
    """The `<field>_id` column of a many-to-one or one-to-one link, and its foreign key."""
    col_name = f"{rel.field_name}_id"
    parent_type = keys.key_type(spec, rel.parent)
    optional = not rel.required
    table.columns.append(Column(
        name=col_name, type=parent_type, nullable=optional,
        comment=None if rel.parent in relational else
        f"refers to {rel.parent}, stored outside this database: no foreign key",
    ))
    if rel.kind == RelKind.one_to_one:
        table.uniques.append(Unique(
            name=keys.constraint_name(table.name, [col_name], "key"), columns=[col_name]))
    if rel.parent not in relational:
        return
    if rel.owned:
        on_delete, why = OnDelete.cascade, f"owned by {rel.parent}: deleted with it"
    elif optional:
        on_delete, why = OnDelete.set_null, f"optional link: deleting the {rel.parent} clears it"
    else:
        on_delete, why = OnDelete.restrict, (
            f"{keys.a_or_an(rel.parent)} cannot be deleted while "
            f"{keys.a_or_an(table.entity or '')} refers to it")
    table.foreign_keys.append(ForeignKey(
        name=keys.constraint_name(table.name, [col_name], "fkey"),
        columns=[col_name],
        ref_table=keys.table_name(rel.parent),
        ref_columns=["id"],
        on_delete=on_delete,
        reason=why,
    ))


def column_type(attr: Attribute) -> tuple[ColumnType, dict[str, object]]:
    """The neutral type of an attribute and the mapping's extra options (not_blank …)."""
    mapping = dict(keys.design_data()["attribute_types"][attr.type.value])
    kind = TypeKind(mapping.pop("kind"))
    bounded = mapping.pop("bounded_up_to", None)
    if kind == TypeKind.text and attr.max_length and bounded and attr.max_length <= bounded:
        kind = TypeKind.string
    length = attr.max_length or mapping.pop("length", None)
    precision = attr.precision or mapping.pop("precision", None)
    scale = attr.scale if attr.scale is not None else mapping.pop("scale", None)
    mapping.pop("length", None), mapping.pop("precision", None), mapping.pop("scale", None)
    items = None
    if attr.type == AttrType.list:
        item_attr = attr.items or AttrType.string
        items = TypeKind(keys.design_data()["attribute_types"][item_attr.value]["kind"])
    ctype = ColumnType(
        kind=kind,
        length=length if kind == TypeKind.string else None,
        precision=precision if kind == TypeKind.decimal else None,
        scale=scale if kind == TypeKind.decimal else None,
        values=tuple(attr.values) if attr.values else None,
        items=items,
    )
    return ctype, mapping


def non_negative(name: str, attr: Attribute) -> bool:
    """Whether the attribute is money or a quantity that cannot go below zero."""
    rules = keys.design_data()["non_negative"]
    words = set(name.split("_"))
    if attr.type == AttrType.money:
        return bool(rules["money"]) and not words & set(rules["signed_money_names"])
    if attr.type in (AttrType.int, AttrType.bigint):
        return name in rules["int_names"] or name.endswith(tuple(rules["int_suffixes"]))
    return False


def add_attribute(table: Table, name: str, attr: Attribute, rows: float) -> None:
    """A column for one attribute, with its CHECK and UNIQUE constraints."""
    ctype, extra = column_type(attr)
    comment = "; ".join(str(c) for c in (attr.description, extra.get("comment")) if c) or None
    threshold = keys.design_data()["blob"]["object_storage_bytes"]
    if attr.type == AttrType.blob and (attr.avg_size or 0) > threshold:
        size = attr.avg_size or 0
        table.notes.append(
            f"{name}: {human_bytes(size)} on average × {human_count(rows)} rows = "
            f"{human_bytes(size * rows)} at the horizon: stored in object storage (S3, GCS, "
            f"Azure Blob), the row keeps its key in {name}_key; above "
            f"{human_bytes(threshold)} a blob bloats backups, replication and the buffer cache"
        )
        name = f"{name}_key"
        ctype = ColumnType(kind=TypeKind.string, length=keys.design_data()["blob"]["key_length"])
        comment = f"object storage key of the {name[:-4]} ({human_bytes(size)} on average)"
    default = None
    if attr.default is not None:
        if attr.type == AttrType.timestamp and str(attr.default).lower() in ("now", "now()"):
            default = Default(kind=DefaultKind.now)
        else:
            default = Default(kind=DefaultKind.value, value=attr.default)
    table.columns.append(Column(
        name=name, type=ctype, nullable=not attr.required, default=default,
        comment=comment, sensitive=attr.sensitive,
    ))
    check = Check(name=keys.constraint_name(table.name, [name], "check"), column=name)
    if ctype.kind == TypeKind.enum:
        check.values = list(ctype.values or ())
    if extra.get("not_blank"):
        check.not_blank = True
    if non_negative(name, attr):
        check.min = 0
    if check.values is not None or check.not_blank or check.min is not None:
        table.checks.append(check)
    if attr.unique:
        table.uniques.append(Unique(
            name=keys.constraint_name(table.name, [name], "key"), columns=[name]))


def field_columns(fields: dict[str, str], table: Table) -> dict[str, str]:
    """Every spec field of an entity (Spec.fields_of) and the column that stores it."""
    present = {c.name for c in table.columns}
    out: dict[str, str] = {}
    for f, what in fields.items():
        if what == "reference":
            out[f] = f"{f}_id"
        elif f in present:
            out[f] = f
        elif f"{f}_key" in present:  # a blob moved to object storage
            out[f] = f"{f}_key"
    return out


# --------------------------------------------------------------------------- junctions


def rename_table(table: Table, name: str) -> Table:
    """The same table under another name, its constraint and index names following it."""
    def moved(n: str) -> str:
        """A constraint or index name with the old table-name prefix replaced."""
        return keys.fit(name + n[len(table.name):]) if n.startswith(table.name) else n

    return table.model_copy(update={
        "name": name,
        "foreign_keys": [f.model_copy(update={"name": moved(f.name)})
                         for f in table.foreign_keys],
        "indexes": [i.model_copy(update={"name": moved(i.name)}) for i in table.indexes],
        "checks": [c.model_copy(update={"name": moved(c.name)}) for c in table.checks],
        "uniques": [u.model_copy(update={"name": moved(u.name)}) for u in table.uniques],
    })


def junction_names(rel: Relationship) -> tuple[str, str, str]:
    """The junction table's name and its two reference columns."""
    left, right = snake(rel.from_), snake(rel.to)
    if rel.name:
        name = rel.name if rel.name.startswith(left) else f"{left}_{rel.name}"
    else:
        name = f"{left}_{keys.pluralize(right)}"
    right_col = f"{right}_id" if left != right else f"{rel.name or 'related'}_{right}_id"
    return keys.fit(name), f"{left}_id", right_col


def junction_table(spec: Spec, rel: Relationship, tables: dict[str, Table]) -> Table:
    """The table of a many-to-many link: both references as a composite key, the link's
    attributes, and the reverse-direction index."""
    name, left_col, right_col = junction_names(rel)
    left_t, right_t = tables[rel.from_], tables[rel.to]
    fanout = rel.fanout or 1
    horizon = spec.scale.horizon_years
    table = Table(
        name=name,
        role=TableRole.junction,
        columns=[
            Column(name=left_col, type=keys.key_type(spec, rel.from_)),
            Column(name=right_col, type=keys.key_type(spec, rel.to)),
        ],
        primary_key=[left_col, right_col],
        rows=int(spec.entities[rel.from_].volume * fanout),
        rows_at_horizon=int(spec.entities[rel.from_].volume_at(horizon) * fanout),
        comment=f"{rel.from_} {rel.name or 'to'} {rel.to} (many-to-many)",
    )
    table.key_reason = (
        f"composite key ({left_col}, {right_col}): one row per link, so the pair is unique by "
        f"definition and no surrogate id is needed; its B-tree serves {rel.from_} → {rel.to} "
        f"(~{human_count(fanout)} links each), the reverse index serves {rel.to} → {rel.from_}"
    )
    for attr_name, attr in rel.attributes.items():
        add_attribute(table, attr_name, attr, table.rows_at_horizon)
    if "created_at" not in rel.attributes:
        table.columns.append(Column(name="created_at", type=ColumnType(kind=TypeKind.timestamp),
                                    default=Default(kind=DefaultKind.now)))
    else:
        created = table.column("created_at")
        if created.type.kind == TypeKind.timestamp and created.default is None:
            created.default = Default(kind=DefaultKind.now)
    for col, parent in ((left_col, left_t), (right_col, right_t)):
        table.foreign_keys.append(ForeignKey(
            name=keys.constraint_name(name, [col], "fkey"), columns=[col],
            ref_table=parent.name, ref_columns=["id"], on_delete=OnDelete.cascade,
            reason=(f"a link dies with either end: deleting "
                    f"{keys.a_or_an(parent.entity or '')} deletes its links"),
        ))
    table.indexes.append(Index(
        name=keys.constraint_name(name, [right_col, left_col], "idx"),
        columns=[IndexColumn(name=right_col), IndexColumn(name=left_col)],
        reason=(f"reverse direction {rel.to} → {rel.from_}, and the foreign key to "
                f"{right_t.name}: deleting {keys.a_or_an(rel.to)} finds its links without scanning "
                f"{human_count(table.rows_at_horizon)} rows"),
    ))
    return table


# --------------------------------------------------------------------------- statistics


def cardinality_of(d: Design) -> dict[tuple[str, str], float]:
    """Estimated distinct values per (table, column), where the spec tells them."""
    out: dict[tuple[str, str], float] = {}
    for entity, table in d.tables.items():
        rows = max(table.rows_at_horizon, 1)
        out[(table.name, "id")] = rows
        for u in table.uniques:
            if len(u.columns) == 1:
                out[(table.name, u.columns[0])] = rows
        for rel in d.refs.get(entity, []):
            parent = d.spec.entities[rel.parent]
            out[(table.name, f"{rel.field_name}_id")] = min(
                rows, max(parent.volume_at(d.spec.scale.horizon_years), 1))
        for col in table.columns:
            if col.type.kind == TypeKind.enum and col.type.values:
                out[(table.name, col.name)] = len(col.type.values)
            elif col.type.kind == TypeKind.bool:
                out[(table.name, col.name)] = 2
    for table in d.junctions.values():
        for fk in table.foreign_keys:
            parent = next(t for t in d.tables.values() if t.name == fk.ref_table)
            out[(table.name, fk.columns[0])] = max(parent.rows_at_horizon, 1)
    return out


def group_limits(d: Design) -> dict[tuple[str, str], int]:
    """The most rows that share one reference value, where the spec gives max_fanout."""
    return {
        (d.tables[e].name, f"{r.field_name}_id"): r.max_fanout
        for e in d.entities for r in d.refs.get(e, []) if r.max_fanout
    }


def determined_columns(d: Design) -> dict[tuple[str, str], set[str]]:
    """Per (table, reference column), the reference columns whose value follows from it:
    a reading's site_id from its device_id, when Reading → Site repeats Reading → Device →
    Site (each link unnamed, so the same fact; the device's link required and the only one)."""
    out: dict[tuple[str, str], set[str]] = {}
    for entity, table in d.tables.items():
        refs = d.refs.get(entity, [])
        for via in refs:
            for direct in refs:
                if direct is via or direct.name is not None or direct.parent == entity:
                    continue
                ups = [r for r in d.refs.get(via.parent, []) if r.parent == direct.parent]
                if len(ups) == 1 and ups[0].required and ups[0].name is None:
                    out.setdefault((table.name, f"{via.field_name}_id"), set()).add(
                        f"{direct.field_name}_id")
    return out


def purge_columns(d: Design) -> dict[str, str]:
    """Tables whose rows expire (TTL) and are not partitioned: the column a purge job scans."""
    return {
        t.name: expiry_column(t) for e, t in d.tables.items()
        if d.spec.entities[e].ttl and t.partitioning is None
        and any(c.name == expiry_column(t) for c in t.columns)
    }


def fan_in_notes(d: Design) -> list[tuple[Table, str]]:
    """Denormalization recommended where a read fans in over many parents at a high rate."""
    data = keys.design_data()["denormalize"]
    out = []
    for p in d.spec.access_patterns:
        # The shape that hurts: one sorted page merged from many parents (a feed).
        if p.kind != PatternKind.read or p.entity not in d.tables or not p.order_by:
            continue
        for f, op in p.where.items():
            kind = d.fields[p.entity].get(f)
            if op != Op.in_ or kind != "reference":
                continue
            n = data["default_in_list"]
            probes = p.rate * n
            if probes >= data["fan_in_probes_per_second"]:
                out.append((d.tables[p.entity], (
                    f"denormalize for {p.name}: {human_rate(p.rate)} × ~{n} {f} ids per IN "
                    f"list (assumed) = {human_count(probes)} index probes/s, each followed by "
                    f"a sort to merge the lists; precompute it instead: a table keyed by "
                    f"reader (reader_id, created_at DESC, {snake(p.entity)}_id) filled on "
                    f"write (fan-out on write), or a cache of the first page per reader"
                )))
    return out


def redundant_reference_notes(d: Design) -> list[tuple[Table, str]]:
    """Where a table repeats a reference it could reach through another (3NF says drop it):
    kept, and said so, when reads filter on it often enough; flagged otherwise.

    Only containment chains count: E owned by P owned by T, with P referring to T once and
    neither link to T given a role name, so E's T is P's T by construction (a task's tenant
    is its project's tenant). A link with a role (a comment's `author`, a post's `author`)
    is a different fact even when it points at the same entity.
    """
    threshold = keys.design_data()["denormalize"]["redundant_reference_rate"]
    out = []
    for entity, table in d.tables.items():
        refs = d.refs.get(entity, [])
        for direct in refs:
            if direct.parent == entity or direct.name is not None:
                continue
            chain = None
            for via in refs:
                if via is direct or not via.owned or via.parent not in d.tables:
                    continue
                ups = [r for r in d.refs.get(via.parent, []) if r.parent == direct.parent]
                if len(ups) == 1 and ups[0].owned and ups[0].name is None:
                    chain = (via, ups[0])
                    break
            if chain is None:
                continue
            via, up = chain
            col, via_col, up_col = (f"{direct.field_name}_id", f"{via.field_name}_id",
                                    f"{up.field_name}_id")
            parent_table = d.tables[via.parent].name
            users = [p for p in d.spec.access_patterns
                     if p.entity == entity and p.kind != PatternKind.write
                     and direct.field_name in p.where]
            rate = sum(p.rate for p in users)
            path = f"{entity} → {via.parent} → {direct.parent}"
            if rate >= threshold:
                named = ", ".join(f"{p.name} ({human_rate(p.rate)})" for p in users[:4])
                out.append((table, (
                    f"denormalized: {col} repeats {parent_table}.{up_col} ({path}); kept because "
                    f"{len(users)} read pattern(s) filter on it directly, {human_rate(rate)} in "
                    f"all ({named}), each of which would otherwise join {parent_table}. Keep it "
                    f"equal to the parent's: set both in one statement, or enforce it with a "
                    f"foreign key ({via_col}, {col}) → {parent_table} (id, {up_col})")))
            else:
                out.append((table, (
                    f"{col} repeats {parent_table}.{up_col} ({path}) and reads filter on it at "
                    f"only {human_rate(rate)} (under {threshold}/s): a candidate to drop for "
                    f"3NF, reaching {direct.parent} through {via_col}")))
    return out


def unique_pair_notes(d: Design) -> list[tuple[Table, str]]:
    """A write that finds its row by equality on two or more references alone (unlike a post
    by user and post) suggests one row per combination: where the spec declares no such
    `unique` group, say how to."""
    out = []
    for p in d.spec.access_patterns:
        if (p.kind != PatternKind.write or p.entity not in d.tables or len(p.where) < 2
                or p.operation not in (WriteOp.update, WriteOp.delete, WriteOp.upsert)):
            continue
        fields = d.fields[p.entity]
        if not all(op == Op.eq and fields.get(f) == "reference" for f, op in p.where.items()):
            continue
        table = d.tables[p.entity]
        cols = [d.column_of(p.entity, f) for f in p.where]
        if any(set(k) <= set(cols)
               for k in [table.primary_key, *(u.columns for u in table.uniques)]):
            continue
        out.append((table, (
            f"{p.name} finds its row by ({', '.join(cols)}) alone: if there is one "
            f"{p.entity} per combination, declare UNIQUE ({', '.join(cols)}) with "
            f"`unique: [[{', '.join(p.where)}]]` on {p.entity} in the spec, so the database "
            "refuses duplicates under concurrent writes")))
    return out
