"""Suggestions for misspelt names in a spec: `did you mean 'volume'?`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Per enum (by class name), the words engineers write from SQL, ORMs or programming habits for
# its values. A misspelling is caught by difflib; these are the words difflib cannot guess.
SYNONYMS: dict[str, dict[str, str]] = {}

# What engineers write from SQL, JSON Schema or programming habits, mapped to our AttrType.
# A misspelling is caught by difflib; these are the words difflib cannot guess.
TYPE_SYNONYMS = {
    "varchar": "string", "char": "string", "str": "string", "character": "string",
    "integer": "int", "smallint": "int", "int4": "int", "int8": "bigint", "long": "bigint",
    "boolean": "bool", "datetime": "timestamp", "timestamptz": "timestamp",
    "time": "timestamp", "double": "float", "real": "float", "number": "decimal",
    "numeric": "decimal", "currency": "money", "jsonb": "json", "object": "json",
    "dict": "map", "array": "list", "bytes": "blob", "binary": "blob", "bytea": "blob",
    "point": "geo", "location": "geo", "guid": "uuid",
}
SYNONYMS["AttrType"] = TYPE_SYNONYMS
SYNONYMS["Op"] = {
    "=": "eq", "==": "eq", "equals": "eq", "equal": "eq", "is": "eq", "exact": "eq",
    "between": "range", "gt": "range", "gte": "range", "lt": "range", "lte": "range",
    ">": "range", "<": "range", ">=": "range", "<=": "range",
    "like": "prefix", "startswith": "prefix", "starts_with": "prefix", "begins_with": "prefix",
    "contains": "text", "search": "text", "fulltext": "text", "match": "text",
    "one_of": "in", "any": "in",
}
SYNONYMS["RelKind"] = {
    "belongs_to": "many-to-one", "belongs-to": "many-to-one", "n:1": "many-to-one",
    "has_many": "one-to-many", "has-many": "one-to-many", "1:n": "one-to-many",
    "has_one": "one-to-one", "has-one": "one-to-one", "1:1": "one-to-one",
    "n:m": "many-to-many", "m:n": "many-to-many", "n:n": "many-to-many",
}


def closest(word: object, candidates: Iterable[str]) -> str | None:
    """The candidate `word` was most likely meant to be, or None when nothing is close."""
    if not isinstance(word, str):
        return None
    options = list(candidates)
    by_lower = {c.lower(): c for c in options}
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def did_you_mean(word: object, candidates: Iterable[str], *, listing: str = "",
                 synonyms: dict[str, str] | None = None) -> str | None:
    """`did you mean 'x'?`; else `listing` followed by the candidates (at most 12 shown)."""
    options = list(candidates)
    match = closest(word, options)
    if match is None and synonyms and isinstance(word, str):
        match = synonyms.get(word.lower())
    if match is not None and match != word:
        return f"did you mean {match!r}?"
    if listing and options:
        shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
        return f"{listing}: {shown}"
    return None
