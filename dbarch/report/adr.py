"""Architecture decision records: one per significant choice, each built from the facts behind it.

A record holds its context, decision, rejected alternatives (with why) and consequences as
sentences computed from the spec, the decisions and the schema; `adr.md.j2` lays it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbarch.schema.model import DefaultKind, Schema, Table, TableRole, TypeKind
from dbarch.select.model import Decision, Decisions
from dbarch.spec.model import AttrType, Spec
from dbarch.spec.quantities import human_count, human_duration, human_rate


@dataclass(frozen=True)
class Alternative:
    """An option the decision record weighed and rejected, with why."""

    name: str
    why_not: str


@dataclass
class Adr:
    """One decision record."""

    number: int
    title: str
    context: list[str]
    decision: list[str]
    alternatives: list[Alternative]
    consequences: list[str]
    status: str = "Accepted"
    date: str = ""
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)

    @property
    def slug(self) -> str:
        """The title in kebab case, for the file name."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:60].rstrip("-")

    @property
    def path(self) -> str:
        """Where the record is written: adr/NNNN-title.md."""
        return f"adr/{self.number:04d}-{self.slug}.md"


def _patterns_text(spec: Spec, d: Decision) -> str:
    rates = {p.name: p.rate for p in spec.access_patterns}
    names = [n for n in d.patterns if n in rates]
    if not names:
        return "no access pattern of its own"
    return ", ".join(f"{n} ({human_rate(rates[n])})" for n in names)


def _volumes(spec: Spec, entities: list[str]) -> str:
    years = spec.scale.horizon_years
    return ", ".join(
        f"{e} {human_count(spec.entities[e].volume)} → "
        f"{human_count(spec.entities[e].volume_at(years))}"
        for e in entities if e in spec.entities
    )


def _part_adr(spec: Spec, d: Decision, primary: Decision | None) -> tuple[str, list[str],
                                                                          list[str],
                                                                          list[Alternative],
                                                                          list[str]]:
    years = spec.scale.horizon_years
    if primary is None:
        title = f"Use {d.product_name} as the primary database"
    else:
        title = f"Store {', '.join(d.entities)} in {d.product_name}"
    context = [
        f"Part `{d.part}` holds {', '.join(d.entities)}: volumes now → in "
        f"{years:g} years: {_volumes(spec, d.entities)}.",
        f"Its access patterns: {_patterns_text(spec, d)}.",
    ]
    if d.scores:
        best = d.scores[0]
        context += [f"Signal for {best.paradigm.value}: {s.evidence} ({s.weight:+.3g})."
                    for s in best.signals]
    if primary is not None:
        context.append(
            f"A dedicated store gains {d.split_gain:.3g} points of fit against an operational "
            f"cost of {d.split_cost:.3g} for one more database next to {primary.product_name}."
        )
    decision = [f"{d.product_name} ({d.paradigm.value}) stores part `{d.part}`."]
    decision += [r if r.endswith(".") else f"{r}." for r in d.reasons]
    alternatives = [Alternative(f"{r.product} ({r.paradigm.value})", r.reason) for r in d.rejected]
    silent = []
    for s in d.scores[1:]:
        if any(a.name.endswith(f"({s.paradigm.value})") for a in alternatives):
            continue
        if not s.signals and s.score == 0:
            # Nothing in the spec speaks for these: one row, not one "scored 0" row each.
            silent.append(s.paradigm.value)
            continue
        alternatives.append(Alternative(
            f"any {s.paradigm.value} store",
            f"scored {s.score:.3g} against {d.scores[0].score:.3g} for "
            f"{d.scores[0].paradigm.value}",
        ))
    if silent:
        alternatives.append(Alternative(
            f"any {', '.join(silent)} store",
            "nothing in the spec calls for one (no signal, score 0)"))
    consequences = [d.tradeoff] if d.tradeoff else []
    consequences += [f"{e} records expire after {human_duration(spec.entities[e].ttl or 0)}."
                     for e in d.entities if e in spec.entities and spec.entities[e].ttl]
    if primary is not None and primary.product == d.product:
        consequences.append(
            f"Same {d.product_name} server as part `{primary.part}`: one backup, monitoring "
            "and upgrade routine; its tables are sized, partitioned and expired on their own, "
            "and transactions and foreign keys may span both parts."
        )
    elif primary is not None:
        consequences.append(
            f"The team operates {primary.product_name} and {d.product_name}: two backup, "
            "monitoring and upgrade routines; no transaction spans both."
        )
    return title, context, decision, alternatives, consequences


# "(2M rows now, 5.49M in 3 years)": the only part of a key reason that differs per table.
_KEY_VOLUME = re.compile(r" \([^()]* rows now, [^()]* in [^()]* years?\)")


def key_reasons(tables: list[Table]) -> dict[str, str]:
    """Each table's key reason, the argument written out once per kind of key.

    Tables whose reason repeats an earlier one except for the row counts point to that
    table instead: nine copies of the same paragraph would drown the tables that differ.
    """
    first: dict[str, str] = {}
    out: dict[str, str] = {}
    for t in tables:
        reason = t.key_reason or "—"
        generic = _KEY_VOLUME.sub("", reason)
        if reason != "—" and generic in first:
            kind = reason.split(":", 1)[0]
            out[t.name] = f"{kind}, for the same reason as {first[generic]}"
        else:
            first.setdefault(generic, t.name)
            out[t.name] = reason
    return out


def _key_adr(spec: Spec, schema: Schema) -> tuple[str, list[str], list[str],
                                                  list[Alternative], list[str]] | None:
    groups: dict[str, list[Table]] = {}
    kinds: dict[str, str] = {}
    for t in schema.tables:
        if t.role == TableRole.junction:
            kind = "composite key of the two references"
        elif len(t.primary_key) > 1 and "id" not in t.primary_key:
            kind = "natural key: the spec's unique group, no surrogate id"
        else:
            col = t.column(t.primary_key[0]) if t.primary_key else None
            if col is None:
                continue
            if col.default is not None and col.default.kind == DefaultKind.uuid_v7:
                # No engine of the three generates v7 (PostgreSQL 15 has no uuidv7(); the
                # DDL has no default): the application makes the id, as the DDL comment says.
                kind = "UUIDv7 made by the application"
            elif col.type.kind == TypeKind.uuid:
                kind = "UUID"
            elif col.identity:
                kind = f"{col.type.kind.value} identity"
            else:
                kind = f"{col.type.kind.value} key"
        groups.setdefault(kind, []).append(t)
        kinds[t.name] = kind
    if not groups:
        return None
    public = [e for e, ent in spec.entities.items() if ent.public_id]
    context = [f"{len(schema.tables)} tables need a primary key."]
    if public:
        context.append(f"Ids of {', '.join(public)} are exposed outside or made on many nodes "
                       "(public_id in the spec).")
    decision = [f"{kind}: {', '.join(t.name for t in tables)}."
                for kind, tables in groups.items()]
    alternatives = [
        Alternative("UUIDv4 (random)", "random keys insert all over the B-tree: page splits, "
                    "a cache-hostile working set and WAL full-page writes on every insert"),
        Alternative("natural keys (email, name) on referenced tables", "they change; every "
                    "referencing row would change with them"),
    ]
    natural = [t.name for t in schema.tables if kinds.get(t.name, "").startswith("natural")]
    if natural:
        alternatives.append(Alternative(
            f"a surrogate id on {', '.join(natural)}", "append-only rows that nothing refers "
            "to or reads by id: the id would add bytes to every row and a second B-tree that "
            "every insert maintains, beside the unique index the spec already requires"))
    if public:
        alternatives.append(Alternative(
            "bigint identity for every table", f"ids of {', '.join(public)} would be "
            "enumerable in URLs and cannot be generated on several nodes without coordination"))
    consequences = [
        "bigint keys cost 8 bytes per row and per referencing row; UUID keys 16 bytes.",
        "Time-ordered keys keep inserts at the right edge of the primary key index.",
    ]
    if natural:
        consequences.append(
            f"{', '.join(natural)} {'has' if len(natural) == 1 else 'have'} no id column: a "
            "later foreign key to "
            f"{'it' if len(natural) == 1 else 'them'} must reference the whole natural key, or "
            "add a surrogate id first (a table rewrite).")
    reasons = key_reasons([t for t in schema.tables if t.name in kinds])
    rows = [[t.name, ", ".join(t.primary_key), kinds[t.name], reasons[t.name]]
            for t in schema.tables if t.name in kinds]
    return "Primary key strategy", context, decision, alternatives, consequences, rows


def _partition_adr(spec: Spec, schema: Schema) -> tuple[str, list[str], list[str],
                                                        list[Alternative], list[str]] | None:
    tables = [t for t in schema.tables if t.partitioning]
    if not tables:
        return None
    context = [f"{t.name}: {human_count(t.rows)} rows now, {human_count(t.rows_at_horizon)} at "
               f"the horizon." for t in tables]
    decision = []
    for t in tables:
        p = t.partitioning
        assert p is not None
        shape = (f"{p.partitions} hash partitions" if p.partitions
                 else f"one partition per {p.interval}" if p.interval else p.kind.value)
        decision.append(f"{t.name}: PARTITION BY {p.kind.value.upper()} ({p.column}), {shape}"
                        + (f" — {p.reason}." if p.reason else "."))
    alternatives = [Alternative("one unpartitioned table", "expiry would be DELETE plus vacuum "
                                "on the whole table, and every index grows with the table")]
    days = spec.scale.horizon_years * 365
    kinds = {t.partitioning.kind.value for t in tables if t.partitioning}
    if "range" in kinds:
        alternatives.append(Alternative(
            "HASH partitions", "time-range reads would visit every partition and expiry would "
            "stay a DELETE; ranges prune and drop whole"))
        if any(t.partitioning and t.partitioning.interval == "month" for t in tables):
            alternatives.append(Alternative(
                "one partition per day",
                f"{days:.0f} partitions over the {spec.scale.horizon_years:g}-year horizon: "
                "planning time and lock overhead grow with the partition count"))
    if "hash" in kinds:
        alternatives.append(Alternative(
            "RANGE partitions by time", "the reads go by key, not by time, so time ranges "
            "would not prune; hash spreads rows and vacuum evenly"))
    consequences = [
        "Every primary key and unique constraint includes the partition key.",
        "Queries that do not filter on the partition key visit every partition.",
    ]
    if any(t.partitioning and t.partitioning.interval for t in tables):
        consequences.append("Future partitions must be created ahead of time (monitored, see "
                            "the operations section).")
    return "Partition large tables", context, decision, alternatives, consequences


def _money_adr(spec: Spec, schema: Schema) -> tuple[str, list[str], list[str],
                                                    list[Alternative], list[str]] | None:
    money = [(e, a) for e, ent in spec.entities.items() for a, attr in ent.attributes.items()
             if attr.type == AttrType.money]
    if not money:
        return None
    money_of: dict[str, set[str]] = {}
    for e, a in money:
        money_of.setdefault(e, set()).add(a)
    columns = [(t.name, c) for t in schema.tables for c in t.columns
               if c.name in money_of.get(t.entity or "", ())]
    shapes = sorted({
        f"decimal({c.type.precision},{c.type.scale or 0})" if c.type.kind == TypeKind.decimal
        else c.type.kind.value for _, c in columns
    })
    context = [f"Money attributes: {', '.join(f'{e}.{a}' for e, a in money)}."]
    decision = [
        f"Store money as {' / '.join(shapes) if shapes else 'exact decimal'}: "
        f"{', '.join(f'{t}.{c.name}' for t, c in columns) or 'in the relational schema'}.",
        "Rounding happens once, in the application, with the currency's rule.",
    ]
    alternatives = [
        Alternative("float / double", "binary floating point cannot represent 0.10 exactly; "
                    "sums drift by cents"),
        Alternative("PostgreSQL money type", "formatted by lc_monetary, holds no currency and "
                    "does not exist in MySQL or SQLite"),
        Alternative("integer minor units (cents)", "exact, but the number of decimals differs "
                    "per currency (JPY 0, BHD 3) and every reader must know it"),
    ]
    consequences = ["Decimal arithmetic is slower than integer arithmetic; negligible at these "
                    "rates.", "SQLite stores decimals as its NUMERIC affinity; exactness there "
                    "relies on the application."]
    return "Represent money as exact decimals", context, decision, alternatives, consequences


def _json_adr(spec: Spec, schema: Schema) -> tuple[str, list[str], list[str],
                                                   list[Alternative], list[str]] | None:
    varying = [(e, a) for e, ent in spec.entities.items() for a, attr in ent.attributes.items()
               if attr.varies]
    stored = [(t.name, c.name) for t in schema.tables for c in t.columns
              if c.type.kind == TypeKind.json and any(t.entity == e and c.name == a
                                                      for e, a in varying)]
    if not stored:
        return None
    context = [f"{e}.{a} has keys that differ from one row to another (varies: true)."
               for e, a in varying]
    decision = [f"Keep {', '.join(f'{t}.{c}' for t, c in stored)} as a JSON column inside the "
                "relational schema: jsonb in PostgreSQL, JSON in MySQL/MariaDB, JSON text in "
                "SQLite."]
    alternatives = [
        Alternative("entity-attribute-value tables", "every read becomes a pivot over many rows; "
                    "no types, no constraints"),
        Alternative("a separate document database", "a second database to operate for one "
                    "attribute; the rest of the row stays relational"),
    ]
    consequences = ["Keys inside the document are not covered by foreign keys or CHECKs; the "
                    "application validates them.", "Filtering on a key inside the document "
                    "needs an expression or GIN index."]
    return "Semi-structured attributes as JSON columns", context, decision, alternatives, \
        consequences


def architecture_decisions(spec: Spec, decisions: Decisions, schema: Schema | None,
                           today: str) -> list[Adr]:
    """Every ADR for this design, numbered in order of significance."""
    drafts = []
    primary = decisions.parts[0] if decisions.parts else None
    for d in decisions.parts:
        drafts.append(_part_adr(spec, d, None if d is primary else primary))
    if schema is not None and schema.tables:
        for build in (_key_adr, _partition_adr, _money_adr, _json_adr):
            draft = build(spec, schema)
            if draft is not None:
                drafts.append(draft)
    adrs = []
    for n, draft in enumerate(drafts, 1):
        title, context, decision, alternatives, consequences = draft[:5]
        adr = Adr(n, title, context, decision, alternatives, consequences, date=today)
        if len(draft) > 5:
            adr.table_header = ["Table", "Primary key", "Kind", "Why"]
            adr.table_rows = draft[5]  # type: ignore[misc]
        adrs.append(adr)
    return adrs

