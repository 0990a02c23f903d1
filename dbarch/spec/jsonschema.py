"""The spec's JSON Schema, so editors (VS Code's YAML extension) complete and check specs.

pydantic writes the schema from the model; this module adds what the model accepts beyond its
declared types: an attribute written as its bare type (`email: string`), and a single name
where a list of names is expected (`order_by: -created_at`).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from dbarch.spec.model import AccessPattern, Spec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:dbarch:spec:v1"


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a dbarch spec, as a fresh dict."""
    return copy.deepcopy(_schema())


@cache
def _schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    defs = schema["$defs"]
    _attribute_shorthand(schema)
    for name in _one_or_many_fields(AccessPattern):
        prop = defs["AccessPattern"]["properties"][name]
        item = prop["items"]
        defs["AccessPattern"]["properties"][name] = {
            "anyOf": [item, {k: v for k, v in prop.items() if k not in ("title", "description")}],
            **{k: prop[k] for k in ("title", "description", "default") if k in prop},
        }
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        **schema,
    }


def _attribute_shorthand(node: Any) -> None:
    """Wherever an Attribute is expected, its bare type name is accepted too.

    Also closes name-keyed mappings: pydantic writes the key pattern of `entities` and
    `attributes` as patternProperties, which alone lets a key that breaks the pattern through.
    """
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for key, value in node.items():
            if value == {"$ref": "#/$defs/Attribute"}:
                node[key] = {"anyOf": [value, {"$ref": "#/$defs/AttrType"}]}
            else:
                _attribute_shorthand(value)
    elif isinstance(node, list):
        for item in node:
            _attribute_shorthand(item)


def _one_or_many_fields(model: type[AccessPattern]) -> list[str]:
    """Fields whose before-validator turns one name into a list (`_one_or_many`)."""
    validators = model.__pydantic_decorators__.field_validators
    fields: list[str] = []
    for decorator in validators.values():
        if decorator.cls_var_name == "_one_or_many" and decorator.info.mode == "before":
            fields.extend(decorator.info.fields)
    return fields
