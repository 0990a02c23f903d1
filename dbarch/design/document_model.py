"""The document designer's working model: its knowledge, the records it builds, the part's facts.

`dbarch/data/document.yaml` (read once; `dbarch.verify.document` reads the same limits), the
records every step of the designer fills in (`Field`, `Link`, `Collection`) and
`DocumentFacts`, the part being designed and the facts about it that each step reads. The
steps are mixins over `DocumentFacts` in their own modules (document_links, document_fields,
document_indexes, document_collections, document_sizing); `dbarch.design.document` puts them
together. Kept apart so each step reads one shared state without importing another step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design.parts import PartFinding
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision
from dbarch.spec.model import AccessPattern, Op, PatternKind, Relationship, Spec

Field = dict[str, Any]
"""One field of a collection as the model stores it: name, bson, type, required, and the
bounds the validator enforces (enum, max_length, max_items, nested fields)."""


@cache
def document_data() -> dict[str, Any]:
    """The parsed `dbarch/data/document.yaml`."""
    data: dict[str, Any] = load_yaml("document.yaml")
    return data


def _limit(name: str) -> int:
    return int(document_data()["limits"][name]["value"])


def _rule(name: str) -> Any:
    return document_data()["rules"][name]


@dataclass
class Link:
    """How one relationship of the part is stored."""

    parent: str
    child: str
    kind: str          # embed, outlier, subset, reference, bucket, tree, refs, link
    cardinality: str
    bound: int | None
    path: str          # the array (or reference) field it adds
    reason: str
    rel: Relationship | None = None


@dataclass
class Collection:
    """One collection being designed."""

    name: str
    entity: str
    fields: list[Field] = field(default_factory=list)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    patterns: list[tuple[str, str]] = field(default_factory=list)   # (pattern name, reason)
    embedded: dict[str, str] = field(default_factory=dict)          # child entity → array path
    record_bytes: int = 0
    avg_bytes: int = 0
    max_bytes: int = 0
    size_parts: list[str] = field(default_factory=list)
    rows_now: int = 0
    rows_horizon: int = 0
    index_bytes_per_doc: int = 0


class DocumentFacts:
    """The part being designed, what has been designed so far, and the facts every step reads."""

    def __init__(self, spec: Spec, decision: Decision) -> None:
        self.spec, self.decision = spec, decision
        self.entities = list(decision.entities)
        self.members = set(self.entities)
        self.patterns = [p for p in spec.access_patterns if p.name in set(decision.patterns)]
        self.findings: list[PartFinding] = []
        self.links: list[Link] = []
        self.collections: dict[str, Collection] = {}
        self.home: dict[str, tuple[str, str]] = {}   # entity → (collection, array path or "")
        self.queries: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.sizes = {e: entity_size(spec, e) for e in self.entities}

    def reads_of(self, entity: str) -> list[AccessPattern]:
        return [p for p in self.patterns if p.entity == entity and p.kind != PatternKind.write]

    def writes_of(self, entity: str) -> list[AccessPattern]:
        return [p for p in self.patterns if p.kind == PatternKind.write and entity in p.touches]

    def key_read_rate(self, entity: str) -> float:
        """Reads of `entity` that fetch one record by a key (what an embedded array rides on)."""
        return sum(p.rate for p in self.reads_of(entity) if len(p.where) == 1
                   and next(iter(p.where.values())) == Op.eq and not p.order_by)

    def warn(self, message: str, severity: str = "warning", pattern: str | None = None) -> None:
        self.findings.append(PartFinding(severity=severity, message=message,  # type: ignore[arg-type]
                                         pattern=pattern))

    def collection_named(self, name: str) -> Collection:
        return next(c for c in self.collections.values() if c.name == name)
