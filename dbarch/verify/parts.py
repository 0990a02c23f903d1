"""Verification of the non-relational parts: each paradigm's verifier runs its part's design
on a real engine (Redis, DynamoDB on moto, Kuzu embedded, PostgreSQL for time series) and
reports what it checked.

A verifier module (registered in VERIFIERS) provides `SCHEMES` (the URL schemes it runs on;
empty for an embedded engine), optionally `OPTIONAL_SCHEMES` (servers it also uses when one is
given), and `verify_part(part: PartDesign, url: str | None) -> PartCheck`. `verify_parts`
gives each part the first engine URL of a scheme its verifier accepts, or None for an
embedded engine, and records a part it cannot run anywhere as not verified (never as passed).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from dbarch.design.parts import PartDesign

# paradigm (or a product id, which wins: see DESIGNERS) → verifier module
VERIFIERS: dict[str, str] = {
    "time-series": "dbarch.verify.timeseries",
    "document": "dbarch.verify.document",
    "dynamodb": "dbarch.verify.dynamodb",
    "graph": "dbarch.verify.graph",
    "key-value": "dbarch.verify.keyvalue",
}


class Check(BaseModel):
    """One thing verified: an artifact applied, an access pattern run, a size measured."""

    name: str
    ok: bool
    detail: str = ""


class PartCheck(BaseModel):
    """What verification found for one non-relational part."""

    part: str
    paradigm: str
    engine: str = Field("", description="Where it ran: redis 7.0.15, kuzu (embedded), …")
    url: str | None = None
    ran: bool = Field(False, description="False: no engine of its kind was given or found")
    checks: list[Check] = Field(default_factory=list)
    note: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.ran and self.error is None and all(c.ok for c in self.checks)


def verifier_for(paradigm: str) -> ModuleType | None:
    """The verifier module of a paradigm, imported on first use."""
    name = VERIFIERS.get(paradigm)
    return importlib.import_module(name) if name else None


def part_schemes() -> set[str]:
    """Every URL scheme some part verifier runs on (required or optional)."""
    found: set[str] = set()
    for paradigm in VERIFIERS:
        module = verifier_for(paradigm)
        if module is not None:
            found |= set(getattr(module, "SCHEMES", ()))
            found |= set(getattr(module, "OPTIONAL_SCHEMES", ()))
    return found


def verify_parts(parts: list[PartDesign], urls: list[str]) -> list[PartCheck]:
    """Verify each part that has a verifier, on the first URL of a scheme it runs on."""
    checks = []
    for part in parts:
        module = verifier_for(part.product) or verifier_for(part.paradigm)
        if module is None:
            continue
        schemes: tuple[str, ...] = tuple(getattr(module, "SCHEMES", ()))
        url = None
        # An embedded or offline verifier may also run on a server when one is given (MongoDB:
        # validators checked offline always, on a mongodb:// server when the user names one).
        optional = tuple(getattr(module, "OPTIONAL_SCHEMES", ()))
        if optional:
            url = next((u for u in urls
                        if urlsplit(u).scheme.split("+")[0].lower() in optional), None)
        if schemes:
            url = next((u for u in urls
                        if urlsplit(u).scheme.split("+")[0].lower() in schemes), None)
            if url is None:
                checks.append(PartCheck(
                    part=part.part, paradigm=part.paradigm,
                    note=f"no engine of its kind was given: pass one with --engine "
                         f"({' or '.join(s + '://…' for s in schemes)})"))
                continue
        checks.append(module.verify_part(part, url))
    return checks
