"""Names and keys: plural snake_case table names, constraint names, primary keys with reasons.

Constraint and index names follow PostgreSQL's own conventions (`orders_pkey`,
`users_email_key`, `orders_user_id_fkey`, `orders_status_check`, `orders_user_id_idx`) and are
kept within 63 characters, so the name of a unique constraint is also the name of its index on
PostgreSQL and MySQL, and verification can recognise every index in a query plan.
"""

from __future__ import annotations

import hashlib
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design.ceilings import scaling_data
from dbarch.schema.model import Column, ColumnType, Default, DefaultKind, Table, TypeKind
from dbarch.spec.model import PatternKind, RelKind, Spec, snake
from dbarch.spec.quantities import human_bytes, human_count

MAX_NAME = 63  # PostgreSQL's NAMEDATALEN - 1, the smallest limit of the three engines


def design_data() -> dict[str, Any]:
    """The parsed `dbarch/data/design.yaml`."""
    return load_yaml("design.yaml")


def pluralize(word: str) -> str:
    """`order_item` → `order_items`, `category` → `categories`, `address` → `addresses`."""
    head, _, last = word.rpartition("_")
    plurals = design_data()["plurals"]
    if last in plurals["uncountable"]:
        plural = last
    elif last in plurals["irregular"]:
        plural = plurals["irregular"][last]
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        plural = last[:-1] + "ies"
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    else:
        plural = last + "s"
    return f"{head}_{plural}" if head else plural


def a_or_an(word: str) -> str:
    """`word` with its indefinite article: `an Order`, `an OpenSearch`, `a User`, `a Unit`.

    By sound, approximately: a leading u followed by a consonant and a vowel is a "you"
    sound (User, Unit, Usage), any other leading vowel takes "an"; an acronym spelled out
    letter by letter takes "an" when its first letter's name starts with a vowel (an S3,
    an SQL, an NFS, an HTTP, but a UUID), unlike a word (a MySQL, a Session).
    """
    low = word.lower()
    vowels = "aeiou"
    acronym = len(word) > 1 and word[0].isupper() and (word[1].isupper() or word[1].isdigit())
    you = low[:1] == "u" and (acronym or (len(low) > 2 and low[1] not in vowels
                                          and low[2] in vowels))
    spelled = acronym and word[0] in "FHLMNRSX"
    return f"{'an' if (low[:1] in vowels and not you) or spelled else 'a'} {word}"


def table_name(entity: str) -> str:
    """The table of an entity: plural snake_case (`OrderItem` → `order_items`), which also
    keeps clear of reserved words such as `user` and `order`."""
    return fit(pluralize(snake(entity)))


def fit(name: str, limit: int = MAX_NAME) -> str:
    """`name`, shortened with a stable hash when longer than the identifier limit."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}_{digest}"


def constraint_name(table: str, columns: list[str], suffix: str) -> str:
    """`orders_user_id_created_at_idx`, within 63 characters."""
    return fit(f"{table}_{'_'.join(columns)}_{suffix}")


def uuid_reason(spec: Spec, entity: str) -> str | None:
    """Why `entity` needs UUIDv7 keys, or None when a bigint identity is right."""
    e = spec.entities[entity]
    if e.public_id:
        return (
            "ids appear outside the database (URLs, APIs, e-mails): a sequence would leak "
            "the volume and growth and be guessable"
        )
    if spec.scale.multi_region_writes:
        return "rows are written in several regions at once: ids must be made without coordination"
    if len(spec.scale.regions) > 1:
        return (
            f"{len(spec.scale.regions)} regions ({', '.join(spec.scale.regions)}): ids made in "
            "any region never collide and survive moving data between regions"
        )
    return None


def key_type(spec: Spec, entity: str) -> ColumnType:
    """The type of `entity`'s primary key, which every reference to it shares."""
    kind = TypeKind.uuid if uuid_reason(spec, entity) else TypeKind.bigint
    return ColumnType(kind=kind)


def primary_key(spec: Spec, entity: str) -> tuple[Column, str]:
    """The `id` column of `entity` and the reason for its type, with numbers."""
    e = spec.entities[entity]
    horizon = spec.scale.horizon_years
    later = e.volume_at(horizon)
    volume = f"{human_count(e.volume)} rows now, {human_count(later)} in {horizon:g} years"
    why_uuid = uuid_reason(spec, entity)
    if why_uuid:
        col = Column(
            name="id",
            type=ColumnType(kind=TypeKind.uuid),
            default=Default(kind=DefaultKind.uuid_v7),
            comment="UUIDv7, made by the application",
        )
        reason = (
            f"UUIDv7: {why_uuid}. Its first 48 bits are a millisecond timestamp, so inserts "
            f"land at the right edge of the B-tree like a sequence (a random v4 would split "
            f"pages all over it); 16 bytes instead of 8 ({volume})"
        )
        return col, reason
    col = Column(name="id", type=ColumnType(kind=TypeKind.bigint), identity=True)
    reason = (
        f"bigint identity: ids stay internal and one region writes, so the database's own "
        f"sequence is the cheapest unique key, 8 bytes, always appended at the B-tree's right "
        f"edge ({volume}); bigint, not int, so no key migration is ever needed"
    )
    return col, reason


def id_in_use(spec: Spec, entity: str) -> str | None:
    """What needs `entity`'s surrogate `id`: a relationship pointing at it, a many-to-many
    using it, or an access pattern naming `id`; None when nothing does."""
    for r in spec.relationships:
        if r.kind == RelKind.many_to_many and entity in (r.from_, r.to):
            return f"the many-to-many {r.from_}–{r.to} links rows by id"
        if r.kind != RelKind.many_to_many and r.parent == entity:
            return f"{r.child}.{r.field_name} refers to it by id"
    for p in spec.access_patterns:
        if p.entity != entity or p.kind == PatternKind.write:
            continue
        fields = [*p.where, *(f for f, _ in p.sort), *p.project, *p.group_by]
        if "id" in fields:
            return f"{p.name} reads it by id"
    return None


def natural_key(spec: Spec, entity: str, table: Table) -> tuple[list[str], str] | None:
    """The first multi-column unique group of `table` as its primary key, and why, when the
    surrogate `id` would only cost space: the entity is append-only, nothing refers to it or
    reads it by id, and every column of the group is NOT NULL. None otherwise."""
    e = spec.entities[entity]
    if not e.append_only or id_in_use(spec, entity):
        return None
    group = next((u for u in table.uniques if len(u.columns) > 1), None)
    if group is None or any(table.column(c).nullable for c in group.columns):
        return None
    rules = design_data()["keys"]
    sizes = scaling_data()
    id_bytes = rules["uuid_bytes"] if uuid_reason(spec, entity) else rules["identity_bytes"]
    entry = (id_bytes + sizes["index_entry_overhead_bytes"]) / sizes["index_fill_factor"]
    rows = e.volume_at(spec.scale.horizon_years)
    cols = ", ".join(group.columns)
    reason = (
        f"natural key ({cols}): rows are append-only, nothing refers to them and no pattern "
        f"reads them by id, so the UNIQUE ({cols}) the spec asks for is the primary key and "
        f"no surrogate id is stored: {id_bytes} bytes less per row and no second B-tree of "
        f"~{entry:.0f} bytes per row to maintain on every insert; at "
        f"{human_count(rows)} rows in {spec.scale.horizon_years:g} years that is "
        f"~{human_bytes(rows * id_bytes)} of heap and ~{human_bytes(rows * entry)} of index "
        "not written"
    )
    return list(group.columns), reason
