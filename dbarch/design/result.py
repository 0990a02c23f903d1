"""The outcome of `dbarch design`: the spec, the decisions and the relational schema together.

Written to `OUT/design.json` so that `dbarch verify OUT/` (and later commands) read the design
back without re-deriving it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from dbarch import __version__
from dbarch.design.parts import PartDesign
from dbarch.schema.model import Schema
from dbarch.select.model import Decisions
from dbarch.spec.model import Spec


class Design(BaseModel):
    """Everything `dbarch design` decided for one spec."""

    dbarch: str = Field(__version__, description="The dbarch version that wrote it")
    spec: Spec
    decisions: Decisions
    relational: Schema
    parts: list[PartDesign] = Field(default_factory=list,
                                    description="The non-relational parts, designed")

    def to_json(self) -> str:
        """The design as JSON, reloadable with `Design.model_validate_json`."""
        return self.model_dump_json(indent=2, by_alias=True)
