"""Operations reasoning: recovery targets, backups, monitoring points, maintenance and security.

Product knowledge lives in `dbarch/data/operations.yaml`; this module picks what applies to the
design and computes the numbers (downtime budget, derived RPO/RTO, restore time at the horizon).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design.scaling import CapacityModel
from dbarch.schema.model import Schema
from dbarch.select.model import Decisions
from dbarch.spec.model import Spec
from dbarch.spec.quantities import human_duration


def operations_data() -> dict[str, Any]:
    """The parsed `dbarch/data/operations.yaml` (loaded once)."""
    return load_yaml("operations.yaml")


def product_ops(product: str, offering: str = "") -> dict[str, Any]:
    """The operations entry of `product` (or the default entry) as it runs on `offering`.

    A managed service replaces the self-hosted backup, recovery and failover tooling (no
    Patroni or pgBackRest on Amazon RDS): its entry under `offerings` overrides those keys.
    """
    products = operations_data()["products"]
    ops = products.get(product) or products["default"]
    managed = (ops.get("offerings") or {}).get(offering)
    if not managed:
        return ops
    merged = {**ops, **managed}
    merged["security"] = {**ops.get("security", {}), **managed.get("security", {})}
    return merged


@dataclass
class Targets:
    """Availability, its downtime budget, and the recovery objectives with where they come from.

    Derived values keep their inputs (hours per year, the RTO's share of the budget) so the
    document can show the arithmetic.
    """

    availability: float
    hours_per_year: float
    downtime_seconds: float
    rpo_seconds: float
    rto_seconds: float
    rpo_from_spec: bool
    rto_from_spec: bool
    rpo_how: str
    rto_share: float


@dataclass
class Backup:
    """Backup, point-in-time recovery and failover of one part, with the restore time it implies."""

    part: str
    product_name: str
    method: str
    pitr: str
    ha: str
    failover_seconds: float
    bytes_at_horizon: float
    restore_seconds: float
    restore_bytes_per_second: float
    restore_within_rto: bool
    cadence: str
    managed: bool = False
    rebuildable: bool = False
    # How far behind now the newest restorable moment can be (a managed service's log upload
    # interval); a point-in-time restore loses up to this much.
    pitr_lag_seconds: float = 0.0


@dataclass(frozen=True)
class Monitor:
    """One monitoring point: what, the metric to read, and when to alert."""

    part: str
    what: str
    metric: str
    alert: str


@dataclass(frozen=True)
class Guard:
    """A measure for one subject (maintenance task, retention rule, security control)."""

    subject: str
    measure: str


@dataclass
class OperationsPlan:
    """Everything section 7 of the architecture document says."""

    targets: Targets
    backups: list[Backup]
    monitors: list[Monitor]
    maintenance: list[Guard]
    retention: list[Guard]
    security: list[Guard]
    compliance: list[Guard] = field(default_factory=list)


def _tier(tiers: list[dict[str, Any]], availability: float) -> dict[str, Any]:
    return next(t for t in tiers if availability >= t["min_availability"])


def recovery_targets(spec: Spec) -> Targets:
    """RPO and RTO from the spec, else derived from the availability target."""
    data = operations_data()
    a = spec.scale.availability
    hours = float(data["hours_per_year"])
    downtime = (1 - a / 100) * hours * 3600
    tiers = data["rpo_tiers"]
    tier = _tier(tiers, a)
    rpo = spec.scale.rpo if spec.scale.rpo is not None else float(tier["rpo_seconds"])
    # The mechanism is the cheapest tier that meets the RPO actually required.
    how = next((t["how"] for t in reversed(tiers) if t["rpo_seconds"] <= rpo), tiers[0]["how"])
    share = float(data["rto_share_of_budget"])
    rto = spec.scale.rto if spec.scale.rto is not None else downtime * share
    return Targets(a, hours, downtime, rpo, rto, spec.scale.rpo is not None,
                   spec.scale.rto is not None, how, share)


def operations_plan(
    spec: Spec, decisions: Decisions, capacity: CapacityModel, schema: Schema | None = None
) -> OperationsPlan:
    """Backups, monitoring, maintenance, retention and security for every part of the design."""
    data = operations_data()
    targets = recovery_targets(spec)
    cadence = _tier(data["restore_test_cadence"], spec.scale.availability)["cadence"]
    backups: list[Backup] = []
    monitors: list[Monitor] = []
    maintenance: list[Guard] = []
    retention: list[Guard] = []
    security: list[Guard] = []
    partitioned = {t.name for t in (schema.tables if schema else []) if t.partitioning}
    targets_p99 = {p.name: p.p99 for p in spec.access_patterns}
    # Tables the scaling plan partitions later expire by dropping partitions from then on.
    later = {s.part: s.when for s in capacity.steps if s.key == "partitioning"}
    offerings = {d.part: d.offering for d in decisions.parts}
    for part in capacity.parts:
        # Parts sharing one server run on the lead part's offering.
        lead = part.members[0] if part.members else part.part
        ops = product_ops(part.product, offerings.get(lead, ""))
        name = part.ceiling.name
        size = part.point("1x").total_bytes if "1x" in capacity.labels else 0.0
        restore = size / data["restore_bytes_per_second"]
        managed = bool(ops.get("managed_durability"))
        backups.append(Backup(
            part=part.part, product_name=name, method=ops["backup"], pitr=ops["pitr"],
            ha=ops["ha"], failover_seconds=float(ops["failover_seconds"]),
            bytes_at_horizon=size, restore_seconds=restore,
            restore_bytes_per_second=float(data["restore_bytes_per_second"]),
            # Managed, replicated services recover from node and zone loss without a restore;
            # their backups serve logical errors only, so the RTO does not hinge on restore time.
            restore_within_rto=managed or restore <= targets.rto_seconds,
            cadence=cadence,
            managed=managed,
            rebuildable=bool(ops.get("rebuildable")),
            pitr_lag_seconds=float(ops.get("pitr_lag_seconds", 0)),
        ))
        for pattern in part.patterns:
            # A fed write's latency is the primary's; the feed's lag is watched instead.
            p99 = None if pattern.fed else targets_p99.get(pattern.name)
            if p99 is not None:
                monitors.append(Monitor(part.part, f"{pattern.name} latency",
                                        f"p99 of {pattern.name} measured at the application",
                                        f"> {human_duration(p99)} (the spec's target) over 5 min"))
        monitors += [Monitor(part.part, m["what"], m["metric"], m["alert"])
                     for m in ops["monitoring"]]
        if any(t.table in partitioned for t in part.tables) and "partition_monitoring" in ops:
            m = ops["partition_monitoring"]
            monitors.append(Monitor(part.part, m["what"], m["metric"], m["alert"]))
        maintenance += [Guard(f"{name} ({part.part})", task) for task in ops["maintenance"]]
        # Only time ranges rotate; hash partitions are fixed at creation.
        rotated = sorted(t.table for t in part.tables
                         if (t.partitioned or "").startswith("range")
                         or (t.table in later.get(part.part, {}) and t.expires))
        if rotated and "partition_rotation" in ops:
            maintenance.append(Guard(f"{name} ({part.part}): partition rotation for "
                                     f"{', '.join(rotated)}", f"{ops['partition_rotation']}."))
        for t in part.tables:
            entity = spec.entities.get(t.entity) if t.entity else None
            method = ops["expiry_partitioned"] if t.table in partitioned else ops["expiry"]
            if t.table in later.get(part.part, {}):
                method = (f"{ops['expiry']}; once partitioned (section 5: from "
                          f"{later[part.part][t.table]}), {ops['expiry_partitioned']}")
            if entity is not None and entity.ttl:
                retention.append(Guard(t.table, f"rows expire after {human_duration(entity.ttl)}: "
                                                 f"{method}."))
            elif spec.compliance.retention and entity is not None and entity.append_only:
                # Retention ages out history (append-only rows); current-state rows live as
                # long as what they describe.
                retention.append(Guard(t.table, f"history kept "
                                                 f"{human_duration(spec.compliance.retention)} "
                                                 f"(compliance retention), then removed: "
                                                 f"{method}."))
        sec = ops["security"]
        sensitive = _sensitive_columns(spec, schema, part.tables)
        security.append(Guard(f"{name}: at rest", sec["at_rest"]))
        security.append(Guard(f"{name}: in transit", sec["in_transit"]))
        security.append(Guard(f"{name}: access", sec["access"]))
        if sensitive:
            security.append(Guard(f"{name}: sensitive columns {', '.join(sensitive)}",
                                  sec["column"]))
        if spec.compliance.audit:
            security.append(Guard(f"{name}: audit", sec["audit"]))
    compliance = [Guard(fw, rule) for fw in spec.compliance.frameworks
                  for rule in data["frameworks"].get(fw.upper(), [])]
    if spec.compliance.pii and not any(g.subject == "GDPR" for g in compliance):
        compliance.append(Guard("PII", "Personal data is listed per column above; logs, "
                                       "metrics and traces carry ids only, never these values."))
    return OperationsPlan(targets, backups, monitors, maintenance, retention, security, compliance)


def _sensitive_columns(spec: Spec, schema: Schema | None, tables: list[Any]) -> list[str]:
    names = {t.table for t in tables}
    out = []
    if schema is not None:
        for t in schema.tables:
            if t.name in names:
                out += [f"{t.name}.{c.name}" for c in t.columns if c.sensitive]
    in_schema = {t.name for t in schema.tables} if schema is not None else set()
    for t in tables:
        if t.table in in_schema:
            continue
        entity = spec.entities.get(t.entity) if t.entity else None
        if entity is not None:
            out += [f"{t.table}.{a}" for a, attr in entity.attributes.items() if attr.sensitive]
    return out
