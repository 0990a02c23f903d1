"""The checklist that closes the architecture document: each item ticked or flagged from facts.

An item is ticked only when the fact holds for every subject it covers; a flagged item names
the subjects that fail, so the reader knows exactly what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbarch.design.operations import OperationsPlan
from dbarch.design.scaling import CapacityModel
from dbarch.schema.model import Schema
from dbarch.select.model import Decisions, Paradigm
from dbarch.spec.model import PatternKind, Spec
from dbarch.verify.model import VerifyReport


@dataclass(frozen=True)
class CheckItem:
    """One checklist line: ticked or flagged, with the reason computed from facts."""

    area: str
    ok: bool
    text: str
    reason: str


def _names(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _item(area: str, text: str, failing: list[str], ok_reason: str, fail_reason: str) -> CheckItem:
    if failing:
        return CheckItem(area, False, text, f"{fail_reason}: {_names(failing)}")
    return CheckItem(area, True, text, ok_reason)


def _indexed(schema: Schema) -> list[str]:
    """Foreign keys whose columns do not lead any index, primary key or unique constraint."""
    missing = []
    for t in schema.tables:
        leads = [t.primary_key] + [u.columns for u in t.uniques]
        leads += [ix.column_names for ix in t.indexes]
        for fk in t.foreign_keys:
            if not any(cols[: len(fk.columns)] == fk.columns for cols in leads):
                missing.append(f"{t.name}({', '.join(fk.columns)})")
    return missing


def checklist(spec: Spec, decisions: Decisions, schema: Schema | None,
              verify: VerifyReport | None, ddl: dict[str, str], capacity: CapacityModel,
              ops: OperationsPlan, adr_count: int) -> list[CheckItem]:
    """Every checklist item, in the document's section order."""
    items: list[CheckItem] = []
    patterns = spec.access_patterns
    items.append(_item(
        "Requirements", "Every entity states its volume",
        [e for e, ent in spec.entities.items() if ent.volume == 0],
        f"all {len(spec.entities)} entities", "no volume for"))
    items.append(_item(
        "Requirements", "Every entity states its growth",
        [e for e, ent in spec.entities.items()
         if "growth" not in ent.model_fields_set and not ent.ttl],
        "growth stated (or bounded by a TTL) for every entity",
        "no growth stated, so the horizon equals today's volume, for"))
    items.append(_item(
        "Requirements", "Every access pattern states its rate",
        [p.name for p in patterns if "rate" not in p.model_fields_set],
        f"all {len(patterns)} patterns", "rate defaulted to 1/s for"))
    items.append(_item(
        "Requirements", "p99 latency targets", [p.name for p in patterns if p.p99 is None],
        "every pattern has a p99 target", "no p99 target for"))
    assigned = {e for d in decisions.parts for e in d.entities}
    items.append(_item(
        "Selection", "Every entity has a database",
        [e for e in spec.entities if e not in assigned],
        f"{len(spec.entities)} entities in {len(decisions.parts)} part(s)", "unassigned"))
    items.append(_item(
        "Selection", "Every choice names its rejected alternatives",
        [d.part for d in decisions.parts if not d.rejected],
        "each part lists what was rejected and why", "no rejected alternative recorded for"))
    items.append(_item(
        "Selection", "Every extra database pays for itself",
        [d.part for d in decisions.parts[1:] if d.split_gain <= d.split_cost],
        "each split-out part gains more fit than its operational cost"
        if len(decisions.parts) > 1 else "one database: nothing split out",
        "split gain does not exceed its cost for"))
    if schema is not None and schema.tables:
        rel = set(decisions.relational_entities)
        tabled = {t.entity for t in schema.tables}
        items.append(_item(
            "Schema", "Every relational entity has a table", sorted(rel - tabled),
            f"{len(schema.tables)} tables", "no table for"))
        items.append(_item(
            "Schema", "Every table has a primary key",
            [t.name for t in schema.tables if not t.primary_key],
            "all tables keyed", "no primary key on"))
        items.append(_item(
            "Schema", "Every foreign key is indexed", _indexed(schema),
            "each foreign key leads an index, so cascades and joins avoid scans",
            "unindexed foreign keys"))
        items.append(_item(
            "Schema", "DDL rendered for every dialect",
            [d for d, text in ddl.items() if not text.strip()] or ([] if ddl else ["all"]),
            f"{', '.join(ddl)}", "no DDL for"))
        if verify is not None:
            items.append(_item(
                "Schema", "DDL applied on a real engine",
                [f"{e.engine} ({e.error})" for e in verify.engines if not e.applied],
                f"applied on {', '.join(e.engine for e in verify.engines)}", "failed on"))
        else:
            items.append(CheckItem("Schema", False, "DDL applied on a real engine",
                                   "not verified: run dbarch verify"))
        unindexed = [q.pattern for q in schema.queries if not q.index]
        failed = [f"{c.pattern} on {e.engine}" for e in (verify.engines if verify else [])
                  for c in e.checks if not c.ok]
        # A search index or another store outside the schema answers its own patterns
        # (a full-text search on a relational entity is the search part's, not an index's).
        elsewhere = {n for d in decisions.parts
                     if d.paradigm != Paradigm.relational and not d.in_primary_schema
                     for n in d.patterns}
        reads = [p.name for p in patterns if p.kind == PatternKind.read
                 and p.entity in rel and p.name not in elsewhere]
        answered = {q.pattern for q in schema.queries}
        unanswered = [n for n in reads if n not in answered]
        ok_reason = f"{len(schema.queries)} read patterns each have an index"
        ok_reason += (f", and every check passed on {', '.join(e.engine for e in verify.engines)}"
                      if verify else " (not verified on an engine)")
        items.append(_item(
            "Indexes", "Every read pattern has an index",
            [f"{n} (no index)" for n in unindexed] + [f"{n} (no query)" for n in unanswered]
            + [f"{f} (planner did not use it)" for f in failed],
            ok_reason, "not served"))
        items.append(_item(
            "Indexes", "Every index has a reason",
            [ix.name for t in schema.tables for ix in t.indexes if not ix.serves and not ix.reason],
            "each index serves a pattern or a stated need", "no pattern or reason for"))
    due = [f"{s.title.lower()} ({s.part})" for s in capacity.steps if s.fires_at == "now"]
    items.append(CheckItem(
        "Scaling", True, "Every scaling step has a computed trigger",
        f"{len(capacity.steps)} steps evaluated at {', '.join(capacity.labels)}"))
    items.append(_item(
        "Scaling", "Nothing must scale before launch", due,
        "no step fires at today's load", "due now, before launch"))
    if spec.deployment.existing:
        items.append(CheckItem(
            "Migration", False, "Migration from the existing system planned",
            f"from {', '.join(spec.deployment.existing)}: outline only; the step-by-step plan "
            "comes from dbarch migrate plan"))
    else:
        items.append(CheckItem("Migration", True, "Migration", "greenfield: nothing to move"))
    t = ops.targets
    items.append(_item(
        "Operations", "RPO and RTO stated in the spec",
        [n for n, given in (("RPO", t.rpo_from_spec), ("RTO", t.rto_from_spec)) if not given],
        "both given", "derived from the availability target, confirm with the business"))
    items.append(_item(
        "Operations", "A restore from backup fits the RTO",
        [f"{b.part} ({b.product_name})" for b in ops.backups if not b.restore_within_rto],
        "every part restores within the RTO at the horizon size",
        "restore slower than the RTO; the RTO relies on failover for"))
    sensitive = [e for e, ent in spec.entities.items()
                 if any(a.sensitive for a in ent.attributes.values())]
    items.append(CheckItem(
        "Operations", True, "Sensitive data has a protection",
        f"column protection listed for {', '.join(sensitive)}" if sensitive
        else "no attribute is marked sensitive"))
    expiring = [e for e, ent in spec.entities.items() if ent.ttl]
    covered = {g.subject for g in ops.retention}
    tables_of = {tb.entity: tb.table for p in capacity.parts for tb in p.tables}
    items.append(_item(
        "Operations", "Every TTL and retention rule is enforced",
        [e for e in expiring if tables_of.get(e) not in covered],
        "expiry mechanism named for each expiring table" if expiring or spec.compliance.retention
        else "no TTL or retention in the spec", "no expiry mechanism for"))
    items.append(CheckItem(
        "Documentation", True, "Architecture document, ADRs and diagrams written",
        f"8 sections, {adr_count} ADRs, ER diagram in diagrams/er.mmd"
        if schema is not None and schema.tables else f"8 sections, {adr_count} ADRs"))
    return items
