"""Size estimates from a spec: bytes per row from attribute types, rows and bytes at the horizon.

Estimates, not measurements: they decide between "fits one node" and "does not", which an
order of magnitude settles. Bytes per type are in `data/selection.yaml` with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbarch.select.tuning import Tuning
from dbarch.spec.model import Attribute, AttrType, Entity, Spec


@dataclass(frozen=True)
class EntitySize:
    """How big one entity is now and at the horizon."""

    rows_now: float
    rows_at_horizon: float
    row_bytes: int        # one row without its blob attributes, heap overhead included
    blob_bytes: int       # the blob attributes of one row
    table_bytes: float    # rows_at_horizon × row_bytes × index factor
    blobs_total_bytes: float


def attribute_bytes(attr: Attribute, tuning: Tuning) -> int:
    """The average stored size of one attribute value."""
    if attr.avg_size is not None:
        return int(attr.avg_size)
    if attr.type == AttrType.blob:
        return int(tuning.number("blob_default_bytes"))
    if attr.type == AttrType.string and attr.max_length is not None:
        # Strings average well below their declared maximum; half is the usual planning figure.
        return 1 + max(1, attr.max_length // 2)
    return tuning.type_bytes[attr.type.value]


def entity_size(
    spec: Spec, entity: Entity, references: int, tuning: Tuning
) -> EntitySize:
    """Rows and bytes of `entity` now and at `spec.scale.horizon_years`."""
    row = tuning.row_overhead_bytes + tuning.builtin_bytes + references * tuning.reference_bytes
    blobs = 0
    for attr in entity.attributes.values():
        size = attribute_bytes(attr, tuning)
        if attr.type == AttrType.blob:
            blobs += size
        else:
            row += size
    rows_h = entity.volume_at(spec.scale.horizon_years)
    return EntitySize(
        rows_now=float(entity.volume),
        rows_at_horizon=rows_h,
        row_bytes=row,
        blob_bytes=blobs,
        table_bytes=rows_h * row * tuning.index_factor,
        blobs_total_bytes=rows_h * blobs,
    )
