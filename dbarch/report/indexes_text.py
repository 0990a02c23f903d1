"""`dbarch indexes` as text: each recommended index with its statement, size and the queries
it serves (planner cost before → after), then the existing indexes that can go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dbarch.spec.quantities import human_bytes

if TYPE_CHECKING:
    from dbarch.advisor.advise import IndexAdvice


def render(result: IndexAdvice) -> str:
    """The report, ending with a newline."""
    advice = result.advice
    out: list[str] = []
    limits = []
    if advice.limits.budget is not None:
        limits.append(f"budget {human_bytes(advice.limits.budget)}")
    if advice.limits.max_indexes is not None:
        limits.append(f"at most {advice.limits.max_indexes} indexes")
    out.append(f"workload: {len(advice.queries)} query shapes from {result.source or 'input'}"
               + (f"; {', '.join(limits)}" if limits else ""))
    out.append(f"searched {advice.candidates} candidates with {advice.whatif_calls} what-if "
               f"plans in {result.seconds:.1f}s")
    out.append("")
    if not advice.recommendations:
        out.append("No new index lowers the workload's planner cost enough to be worth it.")
    for number, rec in enumerate(advice.recommendations, 1):
        out.append(f"{number}. {rec.statement}")
        detail = f"   ~{human_bytes(rec.size_bytes)}"
        if rec.maintenance:
            detail += f", write cost {rec.maintenance:,.0f}"
        out.append(detail + "; serves:")
        for q in rec.queries:
            out.append(f"     {q.label} (weight {q.weight:g}): cost {q.before:,.1f} → "
                       f"{q.after:,.1f}")
    if advice.recommendations:
        out.append("")
        out.append(f"workload cost {advice.cost_before:,.0f} → {advice.cost_after:,.0f} "
                   f"({advice.relative_cost:.1%} of today's), new indexes "
                   f"{human_bytes(advice.size_bytes)}")
    if advice.drops:
        out.append("")
        out.append("Existing indexes that can go:")
        for drop in advice.drops:
            out.append(f"  {drop.statement};  -- {drop.reason}: {drop.detail}, frees "
                       f"{human_bytes(drop.frees_bytes)}")
    validation = result.validation
    if validation is not None:
        out.append("")
        verb = "kept" if validation.kept else "built, measured and dropped again"
        out.append(f"Validation: {len(validation.built)} indexes {verb}")
        for label, (before, after) in validation.costs.items():
            out.append(f"  {label}: cost {before:,.1f} → {after:,.1f}")
        for name in validation.unused:
            out.append(f"  warning: {name} was built but no plan reads it")
        for problem in validation.problems:
            out.append(f"  {problem}")
    if advice.problems:
        out.append("")
        out.append(f"Left out ({len(advice.problems)}):")
        out.extend(_left_out(advice.problems))
    return "\n".join(out) + "\n"


SHOWN = 8  # a pg_stat_statements workload can leave out hundreds: the reasons, then examples


def _left_out(problems: list[Any]) -> list[str]:
    """The statements left out: all of them when few, else a count per reason and the first
    few (`--format json` lists every one)."""
    if len(problems) <= SHOWN:
        return [f"  {problem}" for problem in problems]
    reasons: dict[str, int] = {}
    for problem in problems:
        reason = str(problem.message).split(": ", 1)[-1]
        reasons[reason] = reasons.get(reason, 0) + 1
    lines = [f"  {count} × {reason}" for reason, count in
             sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:SHOWN]]
    lines += [f"  {problem}" for problem in problems[:3]]
    lines.append(f"  … and {len(problems) - 3} more (--format json lists every one)")
    return lines
