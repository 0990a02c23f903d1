"""The requirements spec: model, YAML loader with located errors, JSON Schema."""

from dbarch.spec.jsonschema import spec_json_schema
from dbarch.spec.load import load_spec, load_spec_text
from dbarch.spec.model import Spec

__all__ = ["Spec", "load_spec", "load_spec_text", "spec_json_schema"]
