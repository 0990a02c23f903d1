"""Fields of a document collection, and the $jsonSchema validator written from them.

The designer's fields (an attribute's BSON type and bounds, the base fields of an entity, the
reference to a parent, the fields copied in an extended reference) and the functions that turn
a collection's fields into its closed `$jsonSchema`. Together because the validator is the
fields' bounds written out; apart from the collections, which decide where fields go.
"""

from __future__ import annotations

from typing import Any

from dbarch.design.document_model import DocumentFacts, Field, _rule, document_data
from dbarch.select.sizing import attribute_bytes
from dbarch.select.tuning import tuning
from dbarch.spec.model import Attribute, AttrType, Relationship


class FieldDesigner(DocumentFacts):
    """The fields step of the document designer."""

    def attribute_field(self, name: str, attr: Attribute) -> Field:
        bson = document_data()["bson_types"][attr.type.value]
        f: Field = {"name": name, "bson": bson, "type": attr.type.value,
                    "required": attr.required,
                    "bytes": attribute_bytes(attr, tuning())}
        if attr.description:
            f["description"] = attr.description
        if attr.values:
            f["enum"] = list(attr.values)
        if attr.type in (AttrType.string, AttrType.text, AttrType.email) and attr.max_length:
            f["max_length"] = attr.max_length
        if attr.type == AttrType.uuid:
            f["pattern"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
        if attr.type == AttrType.list:
            item = (attr.items or AttrType.string).value
            f["items"] = document_data()["bson_types"][item]
            f["item_type"] = item
            if attr.max_length:
                # A list's max_length is read as its largest number of items.
                f["max_items"] = attr.max_length
        if attr.type == AttrType.geo:
            f["fields"] = [
                {"name": "type", "bson": "string", "type": "enum", "enum": ["Point"],
                 "required": True, "bytes": 6},
                {"name": "coordinates", "bson": "array", "type": "list", "items": "double",
                 "item_type": "float", "max_items": 2, "min_items": 2, "required": True,
                 "bytes": 16},
            ]
        return f

    def base_fields(self, entity: str, nested: bool = False) -> list[Field]:
        """_id, the entity's attributes, created_at and updated_at."""
        fields: list[Field] = [{"name": "_id", "bson": "objectId", "type": "objectId",
                                "required": True, "bytes": 12}]
        for name, attr in self.spec.entities[entity].attributes.items():
            fields.append(self.attribute_field(name, attr))
        for name in ("created_at", "updated_at"):
            fields.append({"name": name, "bson": "date", "type": "timestamp",
                           "required": name == "created_at" or not nested, "bytes": 8})
        return fields

    def reference_field(self, r: Relationship) -> Field:
        """The child's id of its parent: an ObjectId inside MongoDB, the parent's key elsewhere."""
        parent = self.spec.entities[r.parent]
        if r.parent in self.members:
            return {"name": f"{r.field_name}_id", "bson": "objectId", "type": "objectId",
                    "required": r.required, "bytes": 12, "references": r.parent}
        if parent.public_id:
            return {"name": f"{r.field_name}_id", "bson": "string", "type": "uuid",
                    "required": r.required, "bytes": 37, "references": r.parent,
                    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
        return {"name": f"{r.field_name}_id", "bson": "long", "type": "bigint",
                "required": r.required, "bytes": 8, "references": r.parent}

    def display_fields(self, entity: str) -> list[str]:
        attrs = self.spec.entities[entity].attributes
        names = [n for n in _rule("display_fields") if n in attrs and not attrs[n].sensitive]
        return names[: int(_rule("display_fields_max"))]


def walk(fields: list[Field]) -> list[Field]:
    """Every field, nested ones included."""
    out = []
    for f in fields:
        out.append(f)
        out += walk(f.get("fields", []))
    return out


def field_schema(f: Field) -> dict[str, Any]:
    """The $jsonSchema of one field (bsonType, bounds, nested properties)."""
    s: dict[str, Any] = {"bsonType": f["bson"]}
    if f.get("description"):
        s["description"] = f["description"]
    if "enum" in f:
        s["enum"] = f["enum"]
    if "max_length" in f:
        s["maxLength"] = f["max_length"]
    if "pattern" in f:
        s["pattern"] = f["pattern"]
    if "minimum" in f:
        s["minimum"] = f["minimum"]
    if f["bson"] == "array":
        if f.get("max_items") is not None:
            s["maxItems"] = f["max_items"]
        if f.get("min_items") is not None:
            s["minItems"] = f["min_items"]
        s["items"] = (object_schema(f["fields"]) if f.get("fields")
                      else {"bsonType": f.get("items", "string")})
    elif f["bson"] == "object" and f.get("fields"):
        s.update(object_schema(f["fields"]))
    return s


def object_schema(fields: list[Field], closed: bool = False) -> dict[str, Any]:
    """An object's $jsonSchema: required fields and each property's schema."""
    s: dict[str, Any] = {"bsonType": "object",
                         "required": [f["name"] for f in fields if f["required"]],
                         "properties": {f["name"]: field_schema(f) for f in fields}}
    if closed:
        s["additionalProperties"] = False
    return s


def validator(fields: list[Field], name: str) -> dict[str, Any]:
    """The collection's $jsonSchema: closed at the top so a misspelt field is refused."""
    s = object_schema(fields, closed=True)
    s["title"] = name
    return s
