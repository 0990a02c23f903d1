"""The product catalogue (`data/products.yaml`) and choosing a product for a part.

A product is ranked for a paradigm by how well it fits (0..1), what it costs to run given what
the team already operates and where it is hosted, and whether the spec's cloud sells it.
Products that cannot do what the part needs (a capability, an item size, failover for the
availability target, the hosting model) are rejected with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from dbarch.data_files import load_yaml
from dbarch.select.model import Paradigm
from dbarch.select.tuning import Tuning
from dbarch.spec.model import Hosting, Spec
from dbarch.spec.quantities import human_bytes


class Offering(BaseModel):
    """A managed service that runs the product in one cloud."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    first_party: bool = False
    in_primary: bool = False


class Limit(BaseModel):
    """A hard limit with where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float
    source: str


# Limits that bound one record (document, item, value) of a part.
_ITEM_LIMITS = ("max_item_bytes", "max_value_bytes")


class Product(BaseModel):
    """One database product as the catalogue describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    fit: dict[Paradigm, float]
    own_part: list[Paradigm] = Field(default_factory=list)
    extends: str | None = None
    capabilities: dict[str, str] = Field(default_factory=dict)
    consistency: list[str] = Field(default_factory=list)
    limits: dict[str, Limit] = Field(default_factory=dict)
    latency_ms: float
    managed: dict[str, list[Offering]] = Field(default_factory=dict)
    self_hosted_as: str | None = None
    self_hostable: bool
    serverless: bool = False
    licence: str
    tradeoff: str
    preference: float = 0.0
    preference_reason: str = ""

    def item_limit(self) -> tuple[str, Limit] | None:
        """The limit on one stored record, if the product has one."""
        for key in _ITEM_LIMITS:
            if key in self.limits:
                return key, self.limits[key]
        return None


class Catalogue(BaseModel):
    """Every product, and what each capability id means."""

    products: dict[str, Product]
    capabilities: dict[str, str]

    def find(self, name: str) -> Product | None:
        """The product called `name` (its id or an alias, any case and punctuation)."""
        key = _norm(name)
        for p in self.products.values():
            if key == _norm(p.id) or key in (_norm(a) for a in p.aliases):
                return p
        return None

    def for_paradigm(self, paradigm: Paradigm) -> list[Product]:
        """Products that serve `paradigm`, in catalogue order."""
        return [p for p in self.products.values() if paradigm in p.fit]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@cache
def catalogue() -> Catalogue:
    """The catalogue in `data/products.yaml`."""
    raw = dict(load_yaml("products.yaml"))
    caps = raw.pop("capabilities")
    products = {pid: Product.model_validate({"id": pid, **body}) for pid, body in raw.items()}
    return Catalogue(products=products, capabilities=caps)


@dataclass(frozen=True)
class Context:
    """Where the parts run: hosting, cloud, what the team runs, and the primary product."""

    hosting: Hosting
    cloud: str | None
    existing: frozenset[str]
    primary: Product | None = None
    unknown_existing: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: Spec, cat: Catalogue) -> Context:
        """The context of `spec`, with `deployment.existing` resolved to catalogue ids."""
        known, unknown = set(), []
        for name in spec.deployment.existing:
            product = cat.find(name)
            if product is None:
                unknown.append(name)
            else:
                known.add(product.id)
        cloud = spec.deployment.cloud.lower() if spec.deployment.cloud else None
        return cls(spec.deployment.hosting, cloud, frozenset(known), None, tuple(unknown))

    def with_primary(self, primary: Product) -> Context:
        """This context once the primary product is chosen."""
        return Context(self.hosting, self.cloud, self.existing, primary, self.unknown_existing)


@dataclass(frozen=True)
class Needs:
    """What a part asks of its product."""

    capabilities: frozenset[str] = frozenset()
    item_bytes: int = 0
    p99_ms: float | None = None
    p99_pattern: str = ""


@dataclass(frozen=True)
class Candidate:
    """A product considered for a part, with how it would run and what it costs."""

    product: Product
    paradigm: Paradigm
    offering: str
    managed: bool
    first_party: bool
    colocated: bool
    cost: float
    cost_reason: str
    rank: float = 0.0
    rejected: str | None = None
    latency_note: str | None = None


def _placement(p: Product, ctx: Context) -> tuple[str, bool, bool, bool] | str:
    """(offering, managed, first_party, in_primary) for `p` under `ctx`, or why it cannot run."""
    cloud = ctx.cloud
    self_hosted = f"self-hosted ({p.self_hosted_as})" if p.self_hosted_as else "self-hosted"
    if ctx.hosting == Hosting.self_hosted:
        if not p.self_hostable:
            return "a managed service only; deployment.hosting is self-hosted"
        return self_hosted, False, False, False
    if cloud is None and not p.self_hostable and len(p.managed) == 1:
        only = next(iter(p.managed))
        return (f"runs only on {only} and the spec names no cloud (set deployment.cloud to "
                "consider it)")
    offerings = p.managed.get(cloud, []) if cloud else [o for v in p.managed.values() for o in v]
    if offerings:
        best = next((o for o in offerings if o.first_party), offerings[0])
        if cloud is None and ctx.hosting == Hosting.any:
            clouds = ", ".join(f"{o.name} ({c})" for c, v in p.managed.items() for o in v[:1])
            label = f"managed ({clouds})" + (f" or {self_hosted}" if p.self_hostable else "")
            return label, True, False, best.in_primary
        return best.name, True, best.first_party, best.in_primary
    if ctx.hosting == Hosting.cloud:
        where = f"on {cloud}" if cloud else "as a managed service"
        return f"not offered {where}; deployment.hosting is cloud"
    if cloud and not p.self_hostable:
        return f"not offered on {cloud} and cannot be self-hosted"
    return self_hosted, False, False, False


def evaluate(p: Product, paradigm: Paradigm, ctx: Context, needs: Needs, t: Tuning,
             cat: Catalogue) -> Candidate:
    """`p` as a candidate for a part of `paradigm` needing `needs`: cost, placement, or why not."""
    place = _placement(p, ctx)
    if isinstance(place, str):
        return Candidate(p, paradigm, "", False, False, False, 0.0, "", rejected=place)
    offering, managed, first_party, in_primary = place
    primary = ctx.primary
    colocated = False
    if primary is not None and p.id == primary.id:
        cost, why, colocated = t.cost.same_product, f"same product as the primary ({p.name})", True
    elif primary is not None and p.extends == primary.id and (not managed or in_primary):
        cost, colocated = t.cost.extension_of_primary, True
        why = f"an extension inside the {primary.name} primary"
        offering = f"the {p.id} extension inside the {primary.name} primary ({offering})"
    elif p.id in ctx.existing:
        cost, why = t.cost.existing_product, "the team already runs it"
    elif primary is not None and p.extends == primary.id:
        cost = t.cost.new_product
        why = (f"not available inside the managed {primary.name} service here, so a separate "
               f"{offering} service to run")
    elif paradigm == Paradigm.blob and managed:
        cost, why = t.cost.blob_store, "managed object storage: a bucket, not a database"
    elif p.serverless and managed:
        cost, why = t.cost.serverless, "serverless: nothing to size or patch"
    elif managed:
        cost, why = t.cost.new_product, "a new product for the team (managed)"
    else:
        cost, why = t.cost.new_product_self_hosted, "a new product the team must operate"
    missing = sorted(c for c in needs.capabilities if c not in p.capabilities)
    rejected = None
    if missing:
        rejected = "lacks " + "; ".join(f"{cat.capabilities.get(c, c)}" for c in missing)
    limit = p.item_limit()
    if rejected is None and limit and needs.item_bytes > limit[1].value:
        rejected = (f"one record is ≈{human_bytes(needs.item_bytes)}, above its "
                    f"{human_bytes(limit[1].value)} limit ({limit[1].source})")
    latency = None
    if needs.p99_ms is not None and p.latency_ms > needs.p99_ms:
        latency = (f"typical p99 ≈{p.latency_ms:g} ms is above the {needs.p99_ms:g} ms target "
                   f"of {needs.p99_pattern}")
    bonus = 0.0
    if ctx.cloud and managed:
        bonus = t.cloud_bonus.first_party if first_party else t.cloud_bonus.third_party
    rank = (t.fit_scale * p.fit[paradigm] - cost + bonus - (t.latency_penalty if latency else 0.0)
            + p.preference)
    return Candidate(p, paradigm, offering, managed, first_party, colocated, cost, why,
                     rank, rejected, latency)


def rank_products(paradigm: Paradigm, ctx: Context, needs: Needs, t: Tuning) -> list[Candidate]:
    """Every product serving `paradigm`, viable ones first by rank, then the rejected."""
    cat = catalogue()
    found = [evaluate(p, paradigm, ctx, needs, t, cat) for p in cat.for_paradigm(paradigm)]
    viable = sorted((c for c in found if c.rejected is None), key=lambda c: -c.rank)
    return viable + [c for c in found if c.rejected is not None]
