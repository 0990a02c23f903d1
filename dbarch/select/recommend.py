"""`recommend(spec) -> Decisions`: the plan from `score` put into words and numbers.

Every Decision says what was chosen, the signals behind it with their evidence, what it was
weighed against (the runner-up paradigm and the other products, each with the reason), and the
consistency / availability / latency trade-off for that part.
"""

from __future__ import annotations

from collections import defaultdict

from dbarch.select.catalogue import Candidate, Needs, catalogue, evaluate
from dbarch.select.model import Decision, Decisions, Paradigm, ParadigmScore, Rejected, Signal
from dbarch.select.score import Option, PartPlan, Plan, plan
from dbarch.select.signals import Fact
from dbarch.select.tuning import Tuning, tuning
from dbarch.spec.model import Consistency, PatternKind, Spec, snake
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

_MAX_SIGNALS = 12   # per paradigm and part; the rest are summed into the last one shown
_MAX_VIABLE_ALTERNATIVES = 3
_MAX_RULED_OUT = 6
# Opens the selection's size note; the architecture document replaces that note by the
# capacity model's figures for the designed tables, so one document quotes one size.
LARGEST_NOTE = "Largest entities at the horizon: "


def recommend(spec: Spec) -> Decisions:
    """Choose the databases for `spec`: one Decision per part of its workload, primary first."""
    t = tuning()
    p = plan(spec)
    names = _part_names(p, t)
    decisions = [_Writer(spec, p, t, names).decision(i, part) for i, part in enumerate(p.parts)]
    return Decisions(system=spec.system, parts=decisions, notes=_notes(spec, p, t, names))


def _part_names(p: Plan, t: Tuning) -> list[str]:
    names: list[str] = []
    for i, part in enumerate(p.parts):
        if i == 0 and part.paradigm == Paradigm.relational:
            name = t.part_names[Paradigm.relational]
        elif len(part.entities) == 1 and not part.projection:
            name = _plural(snake(part.entities[0]))
        else:
            name = t.part_names[part.paradigm]
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _signals(facts: list[Fact], paradigm: Paradigm) -> list[Signal]:
    """The facts that move `paradigm`, merged by name, strongest first."""
    merged: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        if f.weights.get(paradigm, 0.0):
            merged[f.name].append(f)
    out = []
    for name, fs in merged.items():
        weight = round(sum(f.weights[paradigm] for f in fs), 3)
        texts = list(dict.fromkeys(f.evidence for f in fs))
        evidence = "; ".join(texts[:3])
        if len(texts) > 3:
            evidence += f" (+{len(texts) - 3} more)"
        out.append(Signal(name=name, weight=weight, evidence=evidence))
    out.sort(key=lambda s: (-abs(s.weight), s.name))
    return out[:_MAX_SIGNALS]


def _scores(facts: list[Fact]) -> list[ParadigmScore]:
    scores = []
    for paradigm in Paradigm:
        total = round(sum(f.weights.get(paradigm, 0.0) for f in facts), 2)
        scores.append(ParadigmScore(paradigm=paradigm, score=total,
                                    signals=_signals(facts, paradigm)))
    order = list(Paradigm)
    scores.sort(key=lambda s: (-s.score, order.index(s.paradigm)))
    return scores


class _Writer:
    """Turns one PartPlan into a Decision."""

    def __init__(self, spec: Spec, p: Plan, t: Tuning, names: list[str]) -> None:
        self.spec, self.plan, self.t, self.names = spec, p, t, names
        self.primary = p.parts[0]
        self.part_of: dict[str, int] = {}
        for i, part in enumerate(p.parts):
            if not part.projection:
                for e in part.entities:
                    self.part_of.setdefault(e, i)

    def decision(self, i: int, part: PartPlan) -> Decision:
        cand = part.candidate
        product = cand.product
        scores = _scores(part.facts)
        if part.projection:
            # A projection's scores cover only the facts it serves (text search, traversals,
            # binaries); the entities' other facts stay with the primary.
            scores = [s for s in scores if s.paradigm in (part.paradigm, self.primary.paradigm)]
        reasons = self.reasons(i, part, scores)
        return Decision(
            part=self.names[i],
            entities=list(part.entities),
            patterns=list(part.patterns),
            paradigm=part.paradigm,
            product=product.id,
            product_name=product.name,
            scores=scores,
            reasons=reasons,
            rejected=self.rejected(i, part, scores),
            tradeoff=self.tradeoff(i, part),
            split_gain=part.gain if i else 0.0,
            split_cost=part.cost if i else 0.0,
            offering=cand.offering,
            projection_of=self.names[0] if part.projection else None,
            fields=dict(part.fields),
            in_primary_schema=self.in_primary_schema(i, part),
        )

    def in_primary_schema(self, i: int, part: PartPlan) -> bool:
        """Whether the part's entities are tables of the primary relational database."""
        product = part.candidate.product
        if i == 0:
            return part.paradigm == Paradigm.relational
        primary = self.primary.candidate.product
        return (
            not part.projection
            and self.primary.paradigm == Paradigm.relational
            and (product.id == primary.id or product.extends == primary.id)
        )

    # --- reasons -------------------------------------------------------------------------

    def reasons(self, i: int, part: PartPlan, scores: list[ParadigmScore]) -> list[str]:
        cand, prim = part.candidate, self.primary
        name = cand.product.name
        by = {s.paradigm: s.score for s in scores}
        runner = next((s for s in scores if s.paradigm != part.paradigm), None)
        out = []
        if i == 0:
            vs = (f" vs {runner.paradigm.value} {runner.score:.1f}" if runner else "")
            out.append(
                f"{name} is the primary store for {len(part.entities)} of "
                f"{len(self.spec.entities)} entities: {part.paradigm.value} scores "
                f"{by[part.paradigm]:.1f}{vs} over their signals.")
        elif part.projection:
            fields = "; ".join(f"{e}.{', '.join(fs)}" for e, fs in part.fields.items() if fs)
            top = max(part.gains, key=lambda e: part.gains[e])
            others = [f"{e} {g:.2f}" for e, g in part.gains.items() if e != top]
            joined = f"; {', '.join(others)} join it (> {self.t.cost.marginal:g} each)" if (
                others) else ""
            out.append(
                f"{name} holds a {part.paradigm.value} projection of {', '.join(part.entities)} "
                f"({fields}); the records of truth stay in {prim.candidate.product.name} "
                f"({self.names[0]}). Gain {part.gain:.2f} for {top} > cost {part.cost:.2f} "
                f"({cand.cost_reason}){joined}.")
        else:
            fit = cand.product.fit[part.paradigm]
            verb = "moves" if len(part.entities) == 1 else "move"
            out.append(
                f"{', '.join(part.entities)} {verb} out of {prim.candidate.product.name}: "
                f"{part.paradigm.value} on {name} (fit {fit:g}) scores "
                f"{sum(f.weights.get(part.paradigm, 0) for f in part.facts) * fit:.2f} vs "
                f"{prim.paradigm.value} {by.get(prim.paradigm, 0.0):.2f}; gain {part.gain:.2f} > "
                f"cost {part.cost:.2f} ({cand.cost_reason}).")
        chosen = next(s for s in scores if s.paradigm == part.paradigm)
        for sig in [s for s in chosen.signals if s.weight > 0][:4]:
            out.append(f"+{sig.weight:g} {sig.name}: {sig.evidence}")
        out.append(self.product_reason(part))
        out.extend(self.placement_reasons(i, part))
        if part.paradigm == Paradigm.time_series:
            caps = cand.product.capabilities
            how = [f"{c}: {caps[c]}" for c in ("partitioning", "retention", "compression",
                                              "continuous_aggregates") if c in caps]
            out.append(f"How {name} serves time-series: " + "; ".join(how) + ".")
        if i == 0:
            out.extend(self.stayed_reasons())
        else:
            out.extend(self.boundary_reasons(i, part))
        return out

    def product_reason(self, part: PartPlan) -> str:
        cand = part.candidate
        others = [c for c in part.alternatives
                  if c.product.id != cand.product.id and c.rejected is None]
        head = (f"{cand.product.name}: fit {cand.product.fit[part.paradigm]:g} for "
                f"{part.paradigm.value}, cost {cand.cost:g} ({cand.cost_reason})")
        if cand.product.preference and cand.product.preference_reason:
            head += f"; preferred on a tie: {cand.product.preference_reason}"
        if not others:
            return head + "; no other catalogue product qualifies."
        o = others[0]
        return (f"{head}; ranks {cand.rank:.1f} vs {o.product.name} {o.rank:.1f} "
                f"(fit {o.product.fit[part.paradigm]:g}, cost {o.cost:g}: {o.cost_reason}).")

    def placement_reasons(self, i: int, part: PartPlan) -> list[str]:
        cand = part.candidate
        out = [f"Runs as {cand.offering}; licence {cand.product.licence}."]
        needs = sorted({c for f in part.facts for c in f.requires})
        if self.spec.scale.availability >= self.t.availability_needs_failover:
            needs = sorted({*needs, "replication", "automatic_failover"})
        if needs:
            caps = cand.product.capabilities
            out.append("Needed and provided: " + "; ".join(
                f"{c} ({caps[c]})" for c in needs if c in caps) + ".")
        if cand.latency_note:
            out.append(f"Latency: {cand.latency_note}; measure before committing.")
        if i == 0 and (unknown := self.plan.context.unknown_existing):
            out.append(f"deployment.existing names {', '.join(unknown)}, not in the catalogue.")
        return out

    def stayed_reasons(self) -> list[str]:
        out = []
        for o in self.plan.kept:
            what = {
                Paradigm.search: "its full-text search",
                Paradigm.graph: "its traversals",
                Paradigm.blob: "its binaries",
            }.get(o.paradigm, f"it as {o.paradigm.value}")
            alt = o.candidate.product.name
            out.append(
                f"{', '.join(o.entities)} stays here with {what}: {alt} would gain "
                f"{o.gain:.2f}, not more than its cost {o.cost:.2f} ({o.candidate.cost_reason}).")
        served = self.served_here()
        out.extend(served)
        return out

    def served_here(self) -> list[str]:
        """Specialist needs the primary itself serves, named with the feature used."""
        out = []
        prim = self.primary
        product = prim.candidate.product
        split = {e for part in self.plan.parts[1:] if part.projection
                 and part.paradigm == Paradigm.search for e in part.entities}
        text = [f for f in prim.facts if f.name == "text_search" and f.entity not in split]
        if text and "full_text" in product.capabilities:
            out.append(f"Full-text search served by {product.name} "
                       f"({product.capabilities['full_text']}): "
                       + "; ".join(f.evidence for f in text) + ".")
        big = [f for f in prim.facts if f.name == "time_volume"]
        if big and "partitioning" in product.capabilities:
            out.append("Range-partition by time ("
                       f"{product.capabilities['partitioning']}): "
                       + "; ".join(f.evidence for f in big) + ".")
        large = [f for f in prim.facts if f.name == "horizon_size"]
        if large:
            out.append("Beyond one comfortable node at the horizon — plan partitioning, "
                       "archiving or sharding before it arrives: "
                       + "; ".join(f.evidence for f in large) + ".")
        ttl = [f for f in prim.facts if f.name == "ttl"]
        if ttl:
            out.append("Expiry in the primary is a scheduled batched DELETE (or dropped "
                       "partitions): " + "; ".join(f.evidence for f in ttl) + ".")
        return out

    def boundary_reasons(self, i: int, part: PartPlan) -> list[str]:
        """What crossing the store boundary costs: references, transactions, sync."""
        out = []
        if part.projection:
            out.append(
                f"Fed from {self.primary.candidate.product.name} by change data capture or a "
                "transactional outbox; rebuildable from it at any time.")
            return out
        members = set(part.entities)
        colocated = part.candidate.colocated
        for e in part.entities:
            for r in self.spec.references_of(e):
                if r.parent in members:
                    continue
                where = self.names[self.part_of.get(r.parent, 0)]
                if colocated:
                    out.append(f"{e}.{r.field_name} → {r.parent} ({where}) keeps its foreign key: "
                               f"same {self.primary.candidate.product.name} server.")
                else:
                    out.append(
                        f"{e}.{r.field_name} → {r.parent} ({where}) crosses stores: no foreign "
                        f"key; the application checks it and removes {e} rows of a deleted "
                        f"{r.parent}" + (" (or lets them expire)" if self.spec.entities[e].ttl
                                         else "") + ".")
        return out

    # --- rejected ------------------------------------------------------------------------

    def rejected(self, i: int, part: PartPlan, scores: list[ParadigmScore]) -> list[Rejected]:
        out = []
        runner = next((s for s in scores if s.paradigm != part.paradigm), None)
        if runner is not None:
            out.append(self.runner_up_paradigm(part, runner))
        chosen_id = part.candidate.product.id
        others = [c for c in part.alternatives if c.product.id != chosen_id]
        # The best viable alternatives, then the products ruled out, each with its reason.
        viable = [c for c in others if c.rejected is None][:_MAX_VIABLE_ALTERNATIVES]
        ruled_out = [c for c in others if c.rejected is not None][:_MAX_RULED_OUT]
        for c in viable + ruled_out:
            out.append(Rejected(product=c.product.id, paradigm=part.paradigm,
                                reason=self.product_rejection(part.candidate, c, part.paradigm)))
        return out

    def runner_up_paradigm(self, part: PartPlan, runner: ParadigmScore) -> Rejected:
        chosen = part.paradigm
        diffs = []
        for f in part.facts:
            d = f.weights.get(chosen, 0.0) - f.weights.get(runner.paradigm, 0.0)
            if d > 0:
                diffs.append((d, f))
        diffs.sort(key=lambda x: -x[0])
        why = "; ".join(f"{f.name} ({f.evidence})" for _, f in diffs[:2])
        ctx = self.plan.context
        best = None
        cat = catalogue()
        for product in cat.for_paradigm(runner.paradigm):
            if (product.id == self.primary.candidate.product.id
                    and runner.paradigm != self.primary.paradigm
                    and runner.paradigm not in product.own_part):
                continue   # the primary is already there; the alternative is a second store
            c = evaluate(product, runner.paradigm, ctx, Needs(), self.t, cat)
            if c.rejected is None and (best is None or c.rank > best.rank):
                best = c
        product = best.product.id if best else "none"
        own = sum(f.weights.get(chosen, 0.0) for f in part.facts)
        return Rejected(
            product=product, paradigm=runner.paradigm,
            reason=(f"{runner.paradigm.value} scores {runner.score:.1f} vs {chosen.value} "
                    f"{own:.1f}" + (f"; it loses most on {why}" if why else "")))

    def product_rejection(self, chosen: Candidate, c: Candidate, paradigm: Paradigm) -> str:
        if c.rejected:
            return c.rejected
        why = (f"ranks {c.rank:.1f} vs {chosen.rank:.1f}: fit {c.product.fit[paradigm]:g} vs "
               f"{chosen.product.fit[paradigm]:g}, cost {c.cost:g} ({c.cost_reason}) vs "
               f"{chosen.cost:g}")
        if c.latency_note:
            why += f"; {c.latency_note}"
        return why

    # --- trade-off -----------------------------------------------------------------------

    def tradeoff(self, i: int, part: PartPlan) -> str:
        product = part.candidate.product
        text = f"{product.name}: {product.tradeoff}"
        return f"{text} {self.clause(i, part)}".strip()

    def clause(self, i: int, part: PartPlan) -> str:
        scale = self.spec.scale
        served = set(part.patterns)
        pats = [p for p in self.spec.access_patterns if p.name in served]
        reads = [p for p in pats if p.kind != PatternKind.write]
        strong = [p.name for p in reads if p.consistency == Consistency.strong]
        if i == 0:
            hours = (1 - scale.availability / 100) * 365 * 24
            s = (f"Here: {scale.availability:g}% availability allows {hours:.1f} h of downtime "
                 f"a year ({hours * 60 / 12:.0f} min a month), which one hot standby with "
                 "automatic failover (60-120 s per failover) meets")
            if scale.rpo is not None:
                s += (f"; RPO {human_duration(scale.rpo)} " + (
                    "requires synchronous replication" if scale.rpo == 0 else
                    "is met by asynchronous replication plus continuous WAL/binlog archiving"))
            if scale.rto is not None:
                s += f"; RTO {human_duration(scale.rto)} bounds the restore size"
            if len(scale.regions) > 1 and not scale.multi_region_writes:
                s += (f"; {len(scale.regions)} regions with one writer each: cross-region "
                      "replicas serve local reads with replication lag")
            return s + "."
        if part.paradigm == Paradigm.blob:
            return ("Here: upload the object first, then commit the row that points to it; "
                    "delete the row first and the object after (a lifecycle rule or a daily "
                    "sweep removes orphans). Read-after-write is strong, so a committed key is "
                    "always readable.")
        if part.projection:
            if strong:
                return (f"Patterns {', '.join(strong)} ask for strong consistency: they must "
                        "read the primary, not this projection.")
            return ("Here every pattern served accepts eventual consistency: a result lagging "
                    "the primary by seconds is acceptable.")
        ttls = [self.spec.entities[e].ttl for e in part.entities]
        if part.paradigm == Paradigm.key_value and all(ttls):
            return (f"Acceptable here: {', '.join(part.entities)} records expire within "
                    f"{human_duration(max(t for t in ttls if t))} and are re-created on the next "
                    "request, so losing the last second costs at most a re-login or a recomputed "
                    "entry.")
        writes = [p for p in pats if p.kind == PatternKind.write]
        rate = sum(p.rate for p in writes)
        s = f"Here: {human_rate(rate)} of writes"
        if strong:
            s += (f"; {', '.join(strong[:4])} read with strong consistency, so they read the "
                  "primary node, never a replica")
        else:
            s += "; every read accepts eventual consistency, so replicas can serve reads"
        if not part.candidate.colocated:
            s += ("; producers retry unacknowledged writes, which covers the failover window")
        return s + "."


def _notes(spec: Spec, p: Plan, t: Tuning, names: list[str]) -> list[str]:
    c = t.cost
    primary = p.parts[0].candidate.product.name
    notes = [
        f"Consolidation: an entity leaves {primary} only when a specialist beats it by more "
        f"than the cost of running one more store — {c.new_product:g} for a new product "
        f"({c.new_product_self_hosted:g} self-hosted), {c.existing_product:g} for one the team "
        f"runs, {c.extension_of_primary:g} for an extension inside the primary, "
        f"{c.same_product:g} for a separate part on the primary itself, {c.serverless:g} for "
        f"a serverless service; {c.marginal:g} for each further entity in a store already added "
        "(data/selection.yaml)."
    ]
    for i, part in enumerate(p.parts[1:], start=1):
        verb = "projected to" if part.projection else "moved to"
        notes.append(
            f"{names[i]}: {', '.join(part.entities)} {verb} {part.candidate.product.name} "
            f"({part.paradigm.value}) — gain {part.gain:.2f} > cost {part.cost:.2f} "
            f"({part.candidate.cost_reason}).")
    for o in p.kept:
        notes.append(_kept_note(o, primary))
    notes.extend(p.considered)
    sizes = sorted(p.facts.values(), key=lambda ef: -ef.size.table_bytes)[:3]
    if sizes:
        notes.append(LARGEST_NOTE + "; ".join(
            f"{ef.entity} {human_count(ef.size.rows_at_horizon)} rows ≈ "
            f"{human_bytes(ef.size.table_bytes)}" for ef in sizes) + ".")
    if spec.scale.multi_region_writes:
        notes.append("multi_region_writes: only products with multi-region writes qualify; "
                     "concurrent writes to one record in two regions resolve by the product's "
                     "rule (last writer wins or serializable conflict retry).")
    return notes


def _kept_note(o: Option, primary: str) -> str:
    return (f"{', '.join(o.entities)} stays in {primary}: {o.paradigm.value} on "
            f"{o.candidate.product.name} would gain {o.gain:.2f}, not more than its cost "
            f"{o.cost:.2f} ({o.candidate.cost_reason}).")


