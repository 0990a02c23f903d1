"""Cross-reference checks on a validated Spec: every name a spec uses must name something.

The pydantic model checks each entity, relationship and pattern on its own; these checks need
the whole spec (which entities exist, which fields `Spec.fields_of` gives each one). Each
finding carries the path of the offending YAML node so the loader can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from dbarch.spec.hints import did_you_mean
from dbarch.spec.model import (
    AccessPattern,
    AttrType,
    Op,
    PatternKind,
    Relationship,
    RelKind,
    Spec,
    snake,
)

Step = str | int

_TEXT_TYPES = {AttrType.string, AttrType.text}
# Values no engine compares whole in a B-tree (PostgreSQL has no equality on json or geography,
# a large blob moves to object storage): they cannot be part of a unique group.
_NOT_UNIQUE_TYPES = {AttrType.json, AttrType.map, AttrType.list, AttrType.blob, AttrType.geo}
_TIME_TYPES = {AttrType.timestamp, AttrType.date}
# Builtin fields every entity has (Spec.fields_of); created_at/updated_at are timestamps.
_BUILTIN_TIMESTAMPS = {"created_at", "updated_at"}
_BUILTINS = {"id", *_BUILTIN_TIMESTAMPS}
# `sum(amount)`, `avg(value)`: the field inside is checked; `count` and `count(*)` name none.
_MEASURE = re.compile(r"^\s*[A-Za-z_]\w*\s*\(\s*([A-Za-z_]\w*)\s*\)\s*$")


@dataclass(frozen=True)
class Finding:
    """A broken reference: where it is (`path` into the YAML), what is wrong, what may fix it."""

    path: tuple[Step, ...]
    message: str
    hint: str | None = None
    at_key: bool = False  # point at the key (a `where` field is a key) rather than its value


def check_references(
    spec: Spec,
    *,
    unsure: Collection[str] = (),
    relationship_index: Sequence[int] | None = None,
    pattern_index: Sequence[int] | None = None,
) -> list[Finding]:
    """Every cross-reference problem in `spec`, in the order they appear in it.

    The loader also runs this on the parts of a spec that validated when others did not, so
    that one run reports everything: then `unsure` names entities whose fields are not known
    (the entity, or a relationship touching it, did not validate) and whose field-level checks
    are left out, and the two index lists give each kept relationship and pattern its position
    in the YAML.
    """
    rel_at = list(relationship_index or range(len(spec.relationships)))
    pattern_at = list(pattern_index or range(len(spec.access_patterns)))
    checker = _Checker(spec, set(unsure))
    for index, rel in enumerate(spec.relationships):
        checker.relationship(rel_at[index], rel)
    checker.reference_names(rel_at)
    for name in spec.entities:
        if name not in checker.unsure:
            checker.unique_groups(name)
    seen: dict[str, int] = {}
    for index, pattern in enumerate(spec.access_patterns):
        at = pattern_at[index]
        if pattern.name in seen:
            checker.add(
                ("access_patterns", at, "name"),
                f"duplicate access pattern name {pattern.name!r} "
                f"(also access_patterns[{seen[pattern.name]}])",
                "each pattern needs its own name: it labels indexes and reports",
            )
        else:
            seen[pattern.name] = at
        checker.pattern(at, pattern)
    return checker.findings


class _Checker:
    def __init__(self, spec: Spec, unsure: set[str]) -> None:
        self.spec = spec
        self.unsure = unsure
        self.findings: list[Finding] = []
        self._fields: dict[str, dict[str, str]] = {}

    def add(self, path: tuple[Step, ...], message: str, hint: str | None = None,
            *, at_key: bool = False) -> None:
        self.findings.append(Finding(path, message, hint, at_key))

    def fields(self, entity: str) -> dict[str, str]:
        # fields_of scans every relationship; a spec with 2,000 patterns asks it once per entity.
        if entity not in self._fields:
            self._fields[entity] = self.spec.fields_of(entity)
        return self._fields[entity]

    def entity(self, path: tuple[Step, ...], name: str, what: str) -> bool:
        """True when `name` is an entity; else a finding with the closest entity."""
        if name in self.spec.entities:
            return True
        self.add(path, f"{what} {name!r} is not an entity of this spec",
                 did_you_mean(name, self.spec.entities, listing="entities"))
        return False

    def relationship(self, index: int, rel: Relationship) -> None:
        base: tuple[Step, ...] = ("relationships", index)
        known_from = self.entity((*base, "from"), rel.from_, "from")
        known_to = self.entity((*base, "to"), rel.to, "to")
        if not (known_from and known_to) or {rel.from_, rel.to} & self.unsure:
            return
        where = (*base, "name") if rel.name else base
        if rel.kind == RelKind.many_to_many:
            # Not a column, but `via` names it: an attribute of either side would shadow it.
            for side in dict.fromkeys((rel.from_, rel.to)):
                if rel.name and rel.name in self.spec.entities[side].attributes:
                    self.add(where, f"relationship {rel.from_} ↔ {rel.to} is called "
                                    f"{rel.name!r}, and {side} has an attribute {rel.name!r}",
                             "rename the attribute or the relationship")
            return
        child = rel.child
        if rel.field_name in _BUILTINS:
            self.add(where, f"relationship {rel.from_} → {rel.to} would be the field "
                            f"{rel.field_name!r} of {child}, which every entity has already",
                     f"name it for its role, or drop the name to get {snake(rel.parent)!r}")
        elif rel.field_name in self.spec.entities[child].attributes:
            self.add(
                where,
                f"relationship {rel.from_} → {rel.to} is the field {rel.field_name!r} of "
                f"{child}, and {child} already has an attribute {rel.field_name!r}",
                "rename the attribute or the relationship" if rel.name else
                f"name the relationship for its role (e.g. name: {rel.field_name}_ref) "
                "or drop the attribute: the reference already is a field",
            )

    def reference_names(self, rel_at: list[int]) -> None:
        """Two references on one entity with the same field name would be one column."""
        owner: dict[tuple[str, str], int] = {}
        for rel, index in zip(self.spec.relationships, rel_at, strict=True):
            if (rel.kind == RelKind.many_to_many or rel.from_ not in self.spec.entities
                    or rel.to not in self.spec.entities):
                continue
            slot = (rel.child, rel.field_name)
            if slot not in owner:
                owner[slot] = index
                continue
            where = ("relationships", index, "name") if rel.name else ("relationships", index)
            self.add(
                where,
                f"{rel.child} already has a reference called {rel.field_name!r} "
                f"(relationships[{owner[slot]}])",
                "give each a name for its role (e.g. name: author, name: reviewer)",
            )

    def unique_groups(self, entity: str) -> None:
        """Each `unique` group of `entity`: two or more distinct fields of it, none already
        unique on its own, no group implied by another."""
        groups = self.spec.entities[entity].unique
        base: tuple[Step, ...] = ("entities", entity, "unique")
        checked: list[tuple[int, frozenset[str]]] = []
        for i, group in enumerate(groups):
            if self.unique_group(entity, (*base, i), group):
                checked.append((i, frozenset(group)))
        for i, names in checked:
            for k, other in checked:
                if k == i or not other <= names or (other == names and k > i):
                    continue
                same = other == names
                self.add((*base, i), f"unique group of {entity}: unique[{i}] "
                                     f"{'names the same fields as' if same else 'is implied by'}"
                                     f" unique[{k}] ({', '.join(groups[k])})",
                         "drop this group: " + ("one constraint is enough" if same else
                                                "a superset of unique fields is unique already"))
                break

    def unique_group(self, entity: str, path: tuple[Step, ...], group: list[str]) -> bool:
        """Whether one group is well formed; a finding for each thing wrong with it."""
        fields = self.fields(entity)
        attributes = self.spec.entities[entity].attributes
        what = f"unique group of {entity}:"
        if not group:
            self.add(path, f"{what} it names no field",
                     "list two or more fields that are unique together, e.g. [product, warehouse]")
            return False
        ok = True
        seen: set[str] = set()
        for j, name in enumerate(group):
            if name not in fields:
                self.add((*path, j), f"{what} {name!r} is not a field of {entity}",
                         did_you_mean(name, fields, listing=f"fields of {entity}"))
                ok = False
            elif name in seen:
                self.add((*path, j), f"{what} {name!r} is named twice", "name it once")
                ok = False
            elif (kind := self.attr_type(entity, name)) in _NOT_UNIQUE_TYPES:
                assert kind is not None
                self.add((*path, j), f"{what} {entity}.{name} is {_a(kind.value + ' attribute')}"
                                     ", which no engine compares whole in a unique index",
                         "make it unique through a scalar attribute (a hash, a code)")
                ok = False
            elif name == "updated_at":
                self.add((*path, j), f"{what} updated_at changes on every write, so it cannot "
                                     "identify a row", "name the fields that identify the row")
                ok = False
            seen.add(name)
        if not ok:
            return False
        if len(group) == 1:
            self.add(path, f"{what} it has one field, {group[0]!r}; a group is for two or "
                           "more fields together", self.single_unique_hint(entity, group[0]))
            return False
        for j, name in enumerate(group):
            alone = self.unique_alone(entity, name)
            if alone:
                self.add((*path, j), f"{what} {entity}.{name} is {alone}, so the "
                                     "group is unique already",
                         "drop the group, or drop `unique: true` from the attribute if it is "
                         "unique only together with the others" if name in attributes else
                         "drop the group, or drop the field from it")
                return False
        return True

    def unique_alone(self, entity: str, name: str) -> str | None:
        """Why `name` is unique on its own (a primary key, `unique: true`, one-to-one), if it is."""
        if name == "id":
            return "the primary key"
        attribute = self.spec.entities[entity].attributes.get(name)
        if attribute is not None and attribute.unique:
            return "declared unique: true"
        if any(r.field_name == name and r.kind == RelKind.one_to_one
               for r in self.spec.references_of(entity)):
            return "a one-to-one reference"
        return None

    def single_unique_hint(self, entity: str, name: str) -> str:
        """Where a one-field uniqueness is said instead of a group."""
        alone = self.unique_alone(entity, name)
        if alone:
            return f"drop the group: {name} is {alone}"
        kind = self.fields(entity)[name]
        if kind == "attribute":
            return f"write `unique: true` on the attribute {name}"
        if kind == "reference":
            return f"declare the relationship behind {name} one-to-one"
        return f"declare {name} as an attribute with `unique: true`"

    def pattern(self, index: int, p: AccessPattern) -> None:
        base: tuple[Step, ...] = ("access_patterns", index)
        what = f"pattern {p.name!r}:"
        known = p.entity is not None and self.entity((*base, "entity"), p.entity,
                                                     f"{what} entity")
        for j, name in enumerate(p.touches):
            if name != p.entity:  # a write's entity fills touches; reported once, above
                self.entity((*base, "touches", j), name, f"{what} touches")
        if not known or p.entity is None or p.entity in self.unsure:
            return
        fields = self.fields(p.entity)

        def check_field(path: tuple[Step, ...], name: str, role: str, *,
                        at_key: bool = False) -> bool:
            if name in fields:
                return True
            self.add(path, f"{what} {role} {name!r} is not a field of {p.entity}",
                     did_you_mean(name, fields, listing=f"fields of {p.entity}"), at_key=at_key)
            return False

        if p.key is not None:
            check_field((*base, "key"), p.key, "key")
        for name, op in p.where.items():
            if name == p.key:
                continue
            if check_field((*base, "where", name), name, "where", at_key=True) and op == Op.text:
                self.text_search((*base, "where", name), p, name)
        for j, name in enumerate(p.order_by):
            check_field((*base, "order_by", j), name.lstrip("-+"), "order_by")
        for j, name in enumerate(p.project):
            check_field((*base, "project", j), name, "project")
        for j, name in enumerate(p.group_by):
            check_field((*base, "group_by", j), name, "group_by")
        if p.time is not None and check_field((*base, "time"), p.time, "time") and (
            p.kind == PatternKind.aggregate
        ):
            self.time_field((*base, "time"), p, p.time)
        if p.via is not None:
            self.via((*base, "via"), p, p.via)
        measured = _MEASURE.match(p.measure or "")
        if measured:
            check_field((*base, "measure"), measured.group(1), "measure")

    def attr_type(self, entity: str, name: str) -> AttrType | None:
        attribute = self.spec.entities[entity].attributes.get(name)
        return attribute.type if attribute is not None else None

    def text_search(self, path: tuple[Step, ...], p: AccessPattern, name: str) -> None:
        assert p.entity is not None
        kind = self.attr_type(p.entity, name)
        if kind in _TEXT_TYPES:
            return
        is_what = _a(f"{kind.value} attribute" if kind else self.fields(p.entity)[name])
        self.add(path, f"pattern {p.name!r}: text search needs a string or text attribute; "
                       f"{p.entity}.{name} is {is_what}",
                 "use eq, in, range or prefix here, or search a text attribute")

    def time_field(self, path: tuple[Step, ...], p: AccessPattern, name: str) -> None:
        assert p.entity is not None
        kind = self.attr_type(p.entity, name)
        if kind in _TIME_TYPES or (kind is None and name in _BUILTIN_TIMESTAMPS):
            return
        is_what = _a(f"{kind.value} attribute" if kind else self.fields(p.entity)[name])
        timestamps = [f for f in self.fields(p.entity)
                      if self.attr_type(p.entity, f) in _TIME_TYPES or f in _BUILTIN_TIMESTAMPS]
        self.add(path, f"pattern {p.name!r}: an aggregate windows over a timestamp or date; "
                       f"{p.entity}.{name} is {is_what}",
                 did_you_mean(name, timestamps, listing=f"timestamps of {p.entity}"))

    def via(self, path: tuple[Step, ...], p: AccessPattern, via: str) -> None:
        """`via` names a relationship of the entity by its field name or its other end."""
        assert p.entity is not None
        rels = self.spec.relationships_of(p.entity)
        by_field = [r for r in rels if r.field_name == via]
        if by_field:
            return
        by_other = [r for r in rels if _other_end(r, p.entity) == via]
        if len(by_other) == 1:
            return
        if by_other:
            names = ", ".join(sorted({repr(r.field_name) for r in by_other}))
            self.add(path, f"pattern {p.name!r}: via {via!r} is ambiguous: {p.entity} and "
                           f"{via} are linked by {len(by_other)} relationships",
                     f"name one by its field name: {names}")
            return
        names = sorted({r.field_name for r in rels} | {_other_end(r, p.entity) for r in rels})
        if not rels:
            hint = f"declare a relationship of {p.entity} under relationships first"
        else:
            hint = did_you_mean(via, names, listing=f"relationships of {p.entity}")
        self.add(path, f"pattern {p.name!r}: via {via!r} is not a relationship of {p.entity}",
                 hint)


def _other_end(rel: Relationship, entity: str) -> str:
    return rel.to if rel.from_ == entity else rel.from_


def _a(noun: str) -> str:
    """`int attribute` → `an int attribute`."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
