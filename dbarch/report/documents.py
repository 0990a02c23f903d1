"""`write_documents`: the architecture document, the ADRs and the diagrams of one design.

Everything the templates print is computed here or in `dbarch.design.scaling` /
`dbarch.design.operations`; the templates only lay it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from dbarch.data_files import load_yaml
from dbarch.design.index_order import order_break
from dbarch.design.operations import OperationsPlan, operations_plan
from dbarch.design.parts import PartDesign
from dbarch.design.scaling import CapacityModel, capacity_model
from dbarch.report import filters
from dbarch.report.adr import Adr, architecture_decisions, key_reasons
from dbarch.report.checklist import checklist
from dbarch.report.mermaid import er_model, mermaid_id
from dbarch.schema.model import ColumnType, Index, IndexColumn, IndexMethod, Schema, Table
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.select.recommend import LARGEST_NOTE
from dbarch.spec.model import AccessPattern, Consistency, Op, PatternKind, Spec
from dbarch.verify.model import VerifyReport


@cache
def environment() -> Environment:
    """The Jinja environment over `dbarch/report/templates` (strict: a missing value fails)."""
    env = Environment(
        loader=PackageLoader("dbarch.report", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    filters.install(env)
    return env


@dataclass(frozen=True)
class EntityRow:
    """One row of the entities table in the requirements summary."""

    name: str
    volume: int
    at_horizon: float
    growth: str
    ttl: float | None
    append_only: bool
    sensitive: list[str]
    part: str


@dataclass(frozen=True)
class PatternRow:
    """One row of the access patterns table."""

    name: str
    kind: str
    subject: str
    shape: str
    rate: float
    p99: float | None
    consistency: str


@dataclass(frozen=True)
class IndexRow:
    """One index (primary key, unique constraint or index) with the patterns it serves."""

    name: str
    table: str
    columns: str
    kind: str
    serves: list[tuple[str, float]]
    reason: str


_OPS = {Op.eq: "=", Op.in_: "IN", Op.range: "range", Op.prefix: "prefix", Op.text: "text search"}


def _growth_text(spec: Spec, name: str) -> str:
    g = spec.entities[name].growth
    parts = []
    if g.fraction:
        parts.append(f"{g.fraction:.0%}/year")
    if g.absolute:
        parts.append(f"+{filters.count(g.absolute)}/year")
    return " + ".join(parts) or "none stated"


def _shape(p: AccessPattern) -> str:
    if p.kind == PatternKind.write:
        txn = " in one transaction" if p.transaction else ""
        return f"{p.operation.value} {', '.join(p.touches)}{txn}"
    bits = [f"{f} {_OPS[op]}" for f, op in p.where.items()]
    if p.kind == PatternKind.traversal:
        bits.append(f"via {p.via}, {p.hops} hop(s)")
    if p.kind == PatternKind.aggregate:
        window = f" over {filters.duration(p.window)}" if p.window else ""
        group = f" by {', '.join(p.group_by)}" if p.group_by else ""
        bits.append(f"{p.measure or 'count'} on {p.time}{window}{group}")
    if p.order_by:
        bits.append("order by " + ", ".join(
            f"{f} desc" if d else f for f, d in p.sort))
    if p.limit:
        bits.append(f"limit {p.limit}")
    if p.project:
        bits.append(f"reads {', '.join(p.project)}")
    return "; ".join(bits) or "all rows"


def _part_name(decisions: Decisions, entity: str | None) -> str:
    """Every part holding `entity` (a blob part holds a projection of a relational entity)."""
    if entity is None:
        return "—"
    parts = [d.part for d in decisions.parts if entity in d.entities]
    return ", ".join(parts) or "unassigned"


def _entity_rows(spec: Spec, decisions: Decisions) -> list[EntityRow]:
    years = spec.scale.horizon_years
    return [
        EntityRow(
            name=n, volume=e.volume, at_horizon=e.volume_at(years), growth=_growth_text(spec, n),
            ttl=e.ttl, append_only=e.append_only,
            sensitive=[a for a, attr in e.attributes.items() if attr.sensitive],
            part=_part_name(decisions, n),
        )
        for n, e in spec.entities.items()
    ]


def _characteristics(spec: Spec) -> list[tuple[str, list[str]]]:
    """Attributes that shape the storage choice, by kind, as `Entity.attribute (detail)`."""
    groups: dict[str, list[str]] = {
        "Semi-structured (keys vary per row)": [],
        "Free-text search": [],
        "Large values": [],
        "Unique": [],
        "Lists": [],
    }
    for name, entity in spec.entities.items():
        for attr_name, a in entity.attributes.items():
            ref = f"{name}.{attr_name}"
            if a.varies or a.type.value == "map":
                groups["Semi-structured (keys vary per row)"].append(f"{ref} ({a.type.value})")
            if a.searchable:
                groups["Free-text search"].append(ref)
            if a.type.value in ("blob", "text", "json") and a.avg_size:
                groups["Large values"].append(f"{ref} (≈{filters.size(a.avg_size)})")
            elif a.type.value == "blob":
                groups["Large values"].append(f"{ref} (blob, size not stated)")
            if a.unique:
                groups["Unique"].append(ref)
            if a.type.value == "list":
                items = a.items.value if a.items else "values"
                groups["Lists"].append(f"{ref} (of {items})")
    return [(k, v) for k, v in groups.items() if v]


def _pattern_rows(spec: Spec) -> list[PatternRow]:
    return [
        PatternRow(p.name, p.kind.value,
                   p.entity if p.kind != PatternKind.write else ", ".join(p.touches),
                   _shape(p), p.rate, p.p99, p.consistency.value)
        for p in spec.access_patterns
    ]


def _index_rows(spec: Spec, schema: Schema) -> list[IndexRow]:
    rates = {p.name: p.rate for p in spec.access_patterns}
    served: dict[str, list[str]] = {}
    for q in schema.queries:
        if q.index:
            served.setdefault(q.index, []).append(q.pattern)

    def serves(name: str, declared: list[str]) -> list[tuple[str, float]]:
        names = list(dict.fromkeys(declared + served.get(name, [])))
        return [(n, rates.get(n, 0.0)) for n in names]

    def columns(ix: Index) -> str:
        cols = ", ".join(f"{c.name} DESC" if c.desc else c.name for c in ix.columns)
        if ix.include:
            cols += f" INCLUDE ({', '.join(ix.include)})"
        if ix.where:
            cols += f" WHERE {ix.where}"
        return cols

    rows: list[IndexRow] = []
    for t in schema.tables:
        pk = f"{t.name}_pkey"
        rows.append(IndexRow(pk, t.name, ", ".join(t.primary_key), "primary key",
                             serves(pk, []), "row identity; the key choice is in section 3"))
        for u in t.uniques:
            rows.append(IndexRow(u.name, t.name, ", ".join(u.columns), "unique",
                                 serves(u.name, []), "uniqueness required by the spec"))
        for ix in t.indexes:
            kind = ("unique " if ix.unique else "") + ix.method.value
            rows.append(IndexRow(ix.name, t.name, columns(ix), kind, serves(ix.name, ix.serves),
                                 ix.reason))
    return rows


def _consistency(spec: Spec) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {c.value: [] for c in Consistency}
    for p in spec.access_patterns:
        out[p.consistency.value].append(p.name)
    return out


def _part_patterns(spec: Spec, d: Decision) -> list[AccessPattern]:
    """The patterns a part's diagram shows: those it serves and the writes that change it.

    A projection (search index, object store) holds copies of entities the primary keeps;
    reads the primary answers (by id, by index) do not touch it, so they are left out.
    """
    if d.projection_of:
        return [p for p in spec.access_patterns
                if p.name in d.patterns
                or (p.kind == PatternKind.write and any(e in d.entities for e in p.touches))]
    return [p for p in spec.access_patterns
            if p.name in d.patterns or p.entity in d.entities
            or any(e in d.entities for e in p.touches)]


def _table_of(schema: Schema | None) -> dict[str, Table]:
    return {t.name: t for t in schema.tables} if schema else {}


_SQL_DIALECTS = ("postgresql", "mysql", "sqlite")
# The DDL dialect each verification engine exercises.
_DIALECT_OF_ENGINE = {"mariadb": "mysql", "mysql": "mysql", "postgresql": "postgresql",
                      "sqlite": "sqlite"}


def _sorted_labels(
    schema: Schema | None, verify: VerifyReport | None
) -> dict[tuple[str, str], str]:
    """(engine URL, pattern) → whether the engine sorted the rows itself, and whether the
    designed key could have returned them in order: `yes, expected` (the index reason says
    why not), `yes, planner's choice` (the key holds the order), `no`."""
    if schema is None or verify is None:
        return {}
    keys: dict[str, tuple[list[IndexColumn], IndexMethod]] = {}
    for t in schema.tables:
        keys[f"{t.name}_pkey"] = ([IndexColumn(name=c) for c in t.primary_key], IndexMethod.btree)
        for u in t.uniques:
            keys[u.name] = ([IndexColumn(name=c) for c in u.columns], IndexMethod.btree)
        for ix in t.indexes:
            keys[ix.name] = (list(ix.columns), ix.method)
    in_order = {q.pattern: order_break(*keys[q.index], q) is None
                for q in schema.queries if q.order_by and q.index in keys}
    out = {}
    for e in verify.engines:
        for c in e.checks:
            if c.sorted_by_engine is None:
                continue
            keeps = in_order.get(c.pattern)
            out[(e.url, c.pattern)] = (
                "no" if not c.sorted_by_engine else "yes" if keeps is None
                else "yes, planner's choice" if keeps else "yes, expected")
    return out


def _unverified(ddl: dict[str, str], verify: VerifyReport | None) -> list[str]:
    """Dialects whose DDL no engine in the report ran."""
    ran = {_DIALECT_OF_ENGINE.get(e.engine, e.engine) for e in verify.engines} if verify else set()
    return [d for d in ddl if d not in ran]


@dataclass(frozen=True)
class TypeRow:
    """A neutral column type and its spelling in each dialect."""

    neutral: str
    columns: int
    per_dialect: dict[str, str]


def _engine_types(schema: Schema, dialects: list[str]) -> list[TypeRow]:
    """Each distinct column type of the schema as every dialect renders it."""
    from dbarch.render.ddl import renderer_for

    renderers = {d: renderer_for(d) for d in dialects}
    seen: dict[ColumnType, int] = {}
    for t in schema.tables:
        for c in t.columns:
            seen[c.type] = seen.get(c.type, 0) + 1
    rows = []
    for ctype, n in seen.items():
        neutral = ctype.kind.value
        if ctype.length:
            neutral += f"({ctype.length})"
        elif ctype.precision:
            neutral += f"({ctype.precision},{ctype.scale or 0})"
        elif ctype.items:
            neutral += f" of {ctype.items.value}"
        elif ctype.values:
            neutral += f" ({len(ctype.values)} values)"
        rows.append(TypeRow(neutral, n, {d: r.column_type(ctype) for d, r in renderers.items()}))
    return sorted(rows, key=lambda r: r.neutral)


@dataclass(frozen=True)
class MigrationItem:
    """One product the team already runs, and what happens to it in this design."""

    product: str
    stays: bool
    parts: list[str]
    feed: str | None
    cache: bool
    relational: bool


def _catalogue() -> dict[str, object]:
    """The product catalogue (`dbarch/data/products.yaml`), for its ids and aliases."""
    return load_yaml("products.yaml")


def _catalogue_id(name: str) -> str:
    """The catalogue id for a product name the spec uses (`postgres` → `postgresql`)."""
    key = name.strip().lower()
    for pid, entry in _catalogue().items():
        if isinstance(entry, dict) and (key == pid or key in entry.get("aliases", [])):
            return str(pid)
    return key


def _migration(spec: Spec, decisions: Decisions) -> list[MigrationItem]:
    from dbarch.design.operations import product_ops

    items = []
    for name in spec.deployment.existing:
        pid = _catalogue_id(name)
        parts = [d.part for d in decisions.parts if d.product == pid]
        items.append(MigrationItem(
            product=name, stays=bool(parts), parts=parts,
            feed=product_ops(pid).get("change_capture"),
            cache=pid in ("redis", "memcached"),
            relational=any(d.paradigm == Paradigm.relational for d in decisions.parts
                           if d.product == pid),
        ))
    return items


@dataclass(frozen=True)
class OverviewNode:
    """One table node of the overview diagram."""

    id: str
    label: str


@dataclass(frozen=True)
class OverviewServer:
    """One database server of the overview diagram: its parts, entities and traffic now."""

    id: str
    label: str
    entities: list[OverviewNode]
    traffic: str


_OVERVIEW_MAX_ENTITIES = 12


def _consolidation_notes(decisions: Decisions, capacity: CapacityModel) -> list[str]:
    """The selection's notes, its rough size note swapped for section 5's sizes.

    Selection sizes entities before any schema exists (attribute widths, a flat index
    factor); the capacity model sizes the designed tables and their real indexes. Quoting
    both would give one table two sizes in one document.
    """
    sized = sorted(((t, part.part) for part in capacity.parts for t in part.tables),
                   key=lambda tp: -tp[0].total_bytes(tp[0].rows_horizon))[:3]
    note = ("Largest tables at the horizon, data + indexes as sized in section 5: " + "; ".join(
        f"{t.table} ({part}) {filters.count(t.rows_horizon)} rows ≈ "
        f"{filters.size(t.total_bytes(t.rows_horizon))}" for t, part in sized) + ".")
    notes = [note if n.startswith(LARGEST_NOTE) and sized else n for n in decisions.notes]
    # The document heads the list "Consolidation:"; a note repeating the label stutters.
    return [_sentence(n.removeprefix("Consolidation: ")) for n in notes]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _overview(capacity: CapacityModel) -> list[OverviewServer]:
    servers = []
    for n, part in enumerate(capacity.parts):
        now = part.point("now")
        nodes = [OverviewNode(f"s{n}_{mermaid_id(t.table)}",
                              f"{t.table} · {filters.count(t.rows_now)}")
                 for t in part.tables[:_OVERVIEW_MAX_ENTITIES]]
        hidden = len(part.tables) - len(nodes)
        if hidden > 0:
            nodes.append(OverviewNode(f"s{n}_more", f"and {hidden} more tables"))
        servers.append(OverviewServer(
            id=f"srv{n}_{mermaid_id(part.product)}",
            label=f"{part.ceiling.name}: {part.part}",
            entities=nodes,
            traffic=f"{filters.rate(now.read_rate)} reads, {filters.rate(now.write_rate)} "
                    "row writes",
        ))
    return servers


def _migration_target(spec: Spec, decisions: Decisions, ddl: dict[str, str]) -> str:
    """The DDL file a migration from the existing system aims at: the dialect of the product
    the team already runs, when the design keeps it."""
    chosen = {d.product for d in decisions.parts}
    for name in spec.deployment.existing:
        product = _catalogue_id(name)
        dialect = _DIALECT_OF_ENGINE.get(product)
        if product in chosen and dialect in ddl:
            return f"schema/{dialect}.sql"
    primary = decisions.parts[0].product if decisions.parts else ""
    dialect = _DIALECT_OF_ENGINE.get(primary) or next(iter(ddl), "postgresql")
    return f"schema/{dialect}.sql"


def _statements(sql: str) -> int:
    return len(re.findall(r";\s*(?:\n|$)", sql))


def write_documents(
    spec: Spec,
    decisions: Decisions,
    schema: Schema,
    verify: VerifyReport | None,
    ddl: dict[str, str],
    *,
    today: date | None = None,
    parts: list[PartDesign] | tuple[PartDesign, ...] = (),
) -> dict[str, str]:
    """The architecture document, ADRs and diagrams: relative path → text.

    `ARCHITECTURE.md`, `adr/NNNN-title.md` for each decision, `diagrams/er.mmd` for the
    relational schema and `diagrams/<part>.mmd` for each non-relational part. `ddl` maps a
    dialect to its DDL text (written by the caller as `schema/<dialect>.sql`).
    """
    env = environment()
    day = (today or date.today()).isoformat()
    has_tables = bool(schema is not None and schema.tables)
    capacity: CapacityModel = capacity_model(spec, decisions, schema if has_tables else None)
    ops: OperationsPlan = operations_plan(spec, decisions, capacity,
                                          schema if has_tables else None)
    adrs: list[Adr] = architecture_decisions(spec, decisions, schema if has_tables else None, day)
    files: dict[str, str] = {}
    er_text = ""
    if has_tables:
        entities, relations = er_model(schema)
        er_text = env.get_template("er.mmd.j2").render(entities=entities, relations=relations)
        files["diagrams/er.mmd"] = er_text
    part_diagrams: dict[str, str] = {}
    for d in decisions.parts:
        if d.paradigm == Paradigm.relational:
            continue
        path = f"diagrams/{mermaid_id(d.part)}.mmd"
        files[path] = env.get_template("part.mmd.j2").render(
            part=d, patterns=_part_patterns(spec, d), spec=spec, mermaid_id=mermaid_id)
        part_diagrams[d.part] = path
    overview = env.get_template("overview.mmd.j2").render(servers=_overview(capacity))
    files["diagrams/overview.mmd"] = overview
    for adr in adrs:
        files[adr.path] = env.get_template("adr.md.j2").render(adr=adr, spec=spec)
    items = checklist(spec, decisions, schema if has_tables else None, verify, ddl, capacity,
                      ops, len(adrs))
    files["ARCHITECTURE.md"] = env.get_template("architecture.md.j2").render(
        spec=spec,
        decisions=decisions,
        schema=schema if has_tables else None,
        verify=verify,
        ddl={d: _statements(text) for d, text in ddl.items()},
        entities=_entity_rows(spec, decisions),
        patterns=_pattern_rows(spec),
        characteristics=_characteristics(spec),
        consistency=_consistency(spec),
        indexes=_index_rows(spec, schema) if has_tables else [],
        tables=_table_of(schema if has_tables else None),
        capacity=capacity,
        ops=ops,
        adrs=adrs,
        er=er_text,
        overview=overview,
        part_diagrams=part_diagrams,
        part_designs={p.part: p for p in parts},
        part_checks={c.part: c for c in (verify.parts if verify is not None else [])},
        checklist=items,
        today=day,
        unverified=_unverified(ddl, verify),
        sorted_labels=_sorted_labels(schema if has_tables else None, verify),
        consolidation=_consolidation_notes(decisions, capacity),
        key_reasons=key_reasons(schema.tables) if has_tables else {},
        migration_target=_migration_target(spec, decisions, ddl),
        migration=_migration(spec, decisions),
        engine_types=_engine_types(schema, [d for d in ddl if d in _SQL_DIALECTS])
        if has_tables else [],
        totals=_totals(spec),
    )
    return files


def _totals(spec: Spec) -> dict[str, float]:
    years = spec.scale.horizon_years
    reads = sum(p.rate for p in spec.access_patterns if p.kind != PatternKind.write)
    writes = sum(p.rate for p in spec.access_patterns if p.kind == PatternKind.write)
    return {
        "rows_now": sum(e.volume for e in spec.entities.values()),
        "rows_horizon": sum(e.volume_at(years) for e in spec.entities.values()),
        "reads": reads,
        "writes": writes,
    }
