"""`dbarch shard` as text: the ranked keys with their metrics and reasons, the tables around
the best one, and its configuration for Citus, Vitess and MongoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbarch.shard.model import KeyReport, ShardReport


def render(report: ShardReport) -> str:
    """The report, ending with a newline."""
    out = [f"{report.table}: {report.rows:,} rows, {len(report.keys)} candidate keys over "
           f"{report.shards} simulated shards"
           + (f"; workload {report.workload}" if report.workload else "")]
    out.extend(f"note: {n}" for n in report.notices)
    out.append("")
    for number, key in enumerate(report.keys, 1):
        out.extend(_key(number, key, report.shards))
        out.append("")
    best = report.best
    if best is None:
        return "\n".join(out) + "\n"
    out.append(f"Recommended: {best.name} ({best.strategy})")
    if len(best.colocated) > 1:
        out.append("Co-located (carry the key):")
        for table, columns in best.colocated.items():
            out.append(f"  {table} ({', '.join(columns)})")
    if report.reference:
        out.append("Reference tables (a copy on every shard):")
        out.extend(f"  {t}: {report.reference_why[t]}" for t in report.reference)
    if report.other:
        out.append("Other tables:")
        out.extend(f"  {t}: {why}" for t, why in sorted(report.other.items()))
    for product, title in (("citus", "Citus"), ("vitess", "Vitess VSchema"),
                           ("mongodb", "MongoDB")):
        if product in report.config:
            out.append("")
            out.append(f"{title}:")
            out.extend("  " + line for line in report.config[product].rstrip("\n").splitlines())
    return "\n".join(out) + "\n"


def _key(number: int, key: KeyReport, shards: int) -> list[str]:
    s = key.stats
    rows = max(s.rows_read - s.nulls, 1)
    common = ", ".join(f"{v} {c / rows:.2%}" for v, c in s.most_common[:3])
    sample = f" (sample: {s.rows_read:,} rows)" if s.sampled else ""
    corr = "n/a" if s.correlation is None else f"{s.correlation:.2f}"
    lines = [
        f"{number}. {key.name}  score {key.score:.3f}, {key.strategy}  "
        f"[{'; '.join(key.origin)}]",
        f"   numDistinctValues {s.distinct:,}{sample}; mostCommonValues {common or '-'}",
        f"   monotonicity: {key.monotonicity} (correlation {corr} with {s.order_by})",
        f"   rows per shard, max/mean: hash {key.load['hash']:.2f}, range "
        f"{key.load['range']:.2f}; new rows: hash {key.insert_load['hash']:.2f}, range "
        f"{key.insert_load['range']:.2f}",
    ]
    if key.routes:
        h, r = key.reads["hash"], key.reads["range"]
        hw, rw = key.writes["hash"], key.writes["range"]
        lines.append(f"   reads  single/multi/scatter: hash {h.single:.0f}/{h.multi:.0f}/"
                     f"{h.scatter:.0f}%, range {r.single:.0f}/{r.multi:.0f}/{r.scatter:.0f}%")
        lines.append(f"   writes single/multi/scatter: hash {hw.single:.0f}/{hw.multi:.0f}/"
                     f"{hw.scatter:.0f}%, range {rw.single:.0f}/{rw.multi:.0f}/"
                     f"{rw.scatter:.0f}%")
        flows = [f"{k} {v:.2f}" for k, v in key.traffic.items() if v is not None]
        if flows:
            lines.append(f"   workload traffic per shard, max/mean: {', '.join(flows)}")
    lines.extend(f"   + {reason}" for reason in key.reasons)
    lines.extend(f"   ! {warning}" for warning in key.warnings)
    return lines
