"""Load a spec from YAML, or say exactly where and why it is wrong.

Every problem found is reported at once, each located at its YAML node (file, line, column,
path such as `entities.User.attributes.email.type`) with what was expected and, where one is
close, the valid name meant: YAML syntax, duplicate keys, the model's own checks (pydantic,
its messages rewritten for people) and the cross-references between entities, relationships
and access patterns. A YAML syntax error stops there (nothing else can be read); otherwise the
cross-references are checked even when the model refuses some parts, on the parts it accepts.
"""

from __future__ import annotations

import re
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dbarch.errors import InputError, Problem
from dbarch.spec.hints import SYNONYMS, did_you_mean
from dbarch.spec.located import LocatedMap, LocatedSeq, Step, parse, path_to, position
from dbarch.spec.model import AccessPattern, Entity, Relationship, Spec
from dbarch.spec.references import Finding, check_references

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def load_spec(path: str | Path) -> Spec:
    """Read and validate the spec at `path`; raise InputError listing every problem."""
    filename = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([Problem(filename, "no such file")]) from None
    except IsADirectoryError:
        raise InputError([Problem(filename, "is a directory, not a spec file")]) from None
    except UnicodeDecodeError as error:
        raise InputError([Problem(filename, f"not UTF-8 text (byte {error.start})",
                                  hint="save the spec as UTF-8")]) from None
    except OSError as error:
        raise InputError([Problem(filename, f"cannot read: {error.strerror}")]) from None
    return load_spec_text(text, filename)


def load_spec_text(text: str, filename: str = "<spec>") -> Spec:
    """Validate the YAML `text` of a spec; problems are reported against `filename`."""
    data, duplicates = parse(text, filename)
    if data is None:
        raise InputError([Problem(
            filename, "the spec is empty", 1, 1,
            hint="a spec needs at least `system: name` and `entities:`",
        )])
    if not isinstance(data, LocatedMap):
        raise InputError([Problem(
            filename, f"expected a mapping (system, entities, …) at the top, got "
                      f"{_describe(data)}", 1, 1,
            hint="a spec starts with `system: name` and `entities:`",
        )])
    problems = [_duplicate_problem(data, dup.mapping, dup.key, dup.at, filename)
                for dup in duplicates]
    findings: list[Finding] = []
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        problems += _validation_problems(error, data, filename)
        findings = _partial_references(data)
    else:
        findings = check_references(spec)
    problems += [_located(data, f.path, filename, f.message, f.hint, at_key=f.at_key)
                 for f in findings]
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise InputError(problems)
    return spec


def _partial_references(data: LocatedMap) -> list[Finding]:
    """Cross-reference problems among the parts of an invalid spec that validate on their own.

    So one run reports a misspelt key and a relationship to a missing entity together. An
    entity that does not validate still exists (its name is known) but its fields are not, so
    it is `unsure`; so are both ends of a relationship that does not validate (one of them may
    lack its reference field).
    """
    raw_entities = data.get("entities")
    if not isinstance(raw_entities, dict):
        return []
    entities: dict[str, Entity] = {}
    unsure: set[str] = set()
    for name, raw in raw_entities.items():
        if isinstance(name, str):
            entity = _valid(Entity, raw)
            if entity is None:
                unsure.add(name)
            entities[name] = entity or Entity()
    raw_rels = data.get("relationships")
    relationships, rel_at = _valid_items(Relationship, raw_rels)
    if raw_rels is not None and not isinstance(raw_rels, list):
        unsure |= set(entities)
    kept = set(rel_at)
    for index, raw in enumerate(raw_rels if isinstance(raw_rels, list) else []):
        if index not in kept:
            ends = [raw.get("from"), raw.get("to")] if isinstance(raw, dict) else []
            named = [end for end in ends if isinstance(end, str)]
            unsure |= set(named) if len(named) == 2 else set(entities)
    patterns, pattern_at = _valid_items(AccessPattern, data.get("access_patterns"))
    spec = Spec.model_construct(entities=entities, relationships=relationships,
                                access_patterns=patterns)
    return check_references(spec, unsure=unsure, relationship_index=rel_at,
                            pattern_index=pattern_at)


def _valid(model: type[BaseModel], raw: object) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def _valid_items(model: type[BaseModel], raw: object) -> tuple[list[Any], list[int]]:
    """The items of the list `raw` that validate as `model`, and their indexes."""
    items: list[Any] = []
    indexes: list[int] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        valid = _valid(model, item)
        if valid is not None:
            items.append(valid)
            indexes.append(index)
    return items, indexes


def format_path(path: tuple[Step, ...]) -> str:
    """`('access_patterns', 2, 'where', 'usr')` → `access_patterns[2].where.usr`."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif isinstance(step, str) and _IDENTIFIER.match(step):
            text += f".{step}" if text else step
        else:
            text += f"[{step!r}]"
    return text


def _located(root: LocatedMap, path: tuple[Step, ...], filename: str, message: str,
             hint: str | None, *, at_key: bool) -> Problem:
    """A Problem at the YAML node `path` names: its key, or its value (more precise)."""
    where = position(root, path)
    beyond = path[where.resolved:]
    if beyond and all(isinstance(step, int) for step in beyond):
        # `order_by: -created_at` is one name where the model holds a list: no `[0]` to show.
        path, beyond = path[: where.resolved], ()
    # A key the model wants inside this node (a missing key) is shown at the node's key; a
    # field of a shorthand scalar (`type` of `name: strng`) at the scalar.
    line, column = where.key if at_key or (beyond and where.container) else where.value
    return Problem(filename, message, line + 1, column + 1, format_path(path), hint)


def _duplicate_problem(root: LocatedMap, mapping: LocatedMap, key: Any, at: tuple[int, int],
                       filename: str) -> Problem:
    path = path_to(root, mapping) or ()
    first = mapping.keys_at.get(key)
    return Problem(
        filename,
        f"duplicate key {key!r}" + (f" (first at line {first[0] + 1})" if first else ""),
        at[0] + 1, at[1] + 1, format_path((*path, key)),
        "a key may appear once in a mapping; the first one is used, merge the two",
    )


# --- pydantic errors, rewritten --------------------------------------------------------------

_EXPECTED = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false", "list_type": "a list",
    "dict_type": "a mapping", "none_required": "nothing",
}
# A union's members, as one list of what was expected (int and float are both "a number").
_UNION_MEMBER = {
    "string_type": "text", "int_type": "a number", "int_parsing": "a number",
    "int_from_float": "a number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true/false", "bool_parsing": "true/false", "list_type": "a list",
    "dict_type": "a mapping", "model_type": "a mapping", "enum": "one of its names",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
           "less_than_equal": "<="}


def _validation_problems(error: ValidationError, root: LocatedMap,
                         filename: str) -> list[Problem]:
    """One Problem per distinct pydantic error; a union's failed members become one problem."""
    problems: dict[tuple[str, str], Problem] = {}
    unions: dict[tuple[Step, ...], list[ErrorDetails]] = {}
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] == "invalid_key":  # pydantic writes the key as str(key); find the real one
            loc = (*loc[:-1], err["input"])
        resolved = position(root, loc).resolved
        path, tags = _data_path(loc, resolved, err["type"])
        if tags and "[key]" not in tags:
            unions.setdefault(path, []).append(err)
            continue
        message, hint = _explain(err, path, is_key="[key]" in tags)
        at_key = (
            err["type"] in ("extra_forbidden", "missing", "invalid_key") or "[key]" in tags
            or (err["type"] == "value_error" and isinstance(err["input"], dict | list))
            or err["input"] is None  # `entities:` with nothing after it: the key is the place
        )
        problem = _located(root, path, filename, message, hint, at_key=at_key)
        problems.setdefault((problem.path, message), problem)
    for path, errs in unions.items():
        expected = list(dict.fromkeys(_UNION_MEMBER.get(e["type"], e["msg"]) for e in errs))
        listed = expected[0] if len(expected) == 1 else (
            f"{', '.join(expected[:-1])} or {expected[-1]}")
        message = f"expected {listed}, got {_describe(errs[0]['input'])}"
        problem = _located(root, path, filename, message, None, at_key=False)
        problems.setdefault((problem.path, message), problem)
    return list(problems.values())


def _data_path(loc: tuple[Step, ...], resolved: int,
               kind: str) -> tuple[tuple[Step, ...], list[str]]:
    """Split pydantic's `loc` into the path a user reads and pydantic's own tags.

    Past the part of `loc` that exists in the YAML, a step is kept when it is a field of the
    model there (a missing key, `type` of an attribute written as `name: string`); union member
    tags (`str`, `int`) and `[key]` are pydantic's own.
    """
    path = list(loc[:resolved])
    tags: list[str] = []
    for step in loc[resolved:]:
        if not isinstance(step, str) or kind in ("missing", "invalid_key") or _is_field(
            tuple(path), step
        ):
            path.append(step)
        else:
            tags.append(str(step))
    return tuple(path), tags


def _is_field(path: tuple[Step, ...], step: Step) -> bool:
    model = _annotation_at(path)
    return isinstance(model, type) and issubclass(model, BaseModel) and step in _fields(model)


def _fields(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts in YAML (aliases, e.g. `from`), in declaration order."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _strip(annotation: Any) -> Any:
    """`Annotated[X, …]` → X, `X | None` → X; a real union is left as it is."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (types.UnionType, typing.Union):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _annotation_at(path: tuple[Step, ...]) -> Any:
    """The type the model expects at `path` (None when the path leaves the model)."""
    annotation: Any = Spec
    for step in path:
        annotation = _strip(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            by_key = {field.alias or name: field for name, field in
                      annotation.model_fields.items()}
            if step not in by_key:
                return None
            annotation = by_key[step].annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        else:
            return None
    return _strip(annotation)


def _explain(err: ErrorDetails, path: tuple[Step, ...], *,
             is_key: bool) -> tuple[str, str | None]:
    """What was expected, in words, and a hint; pydantic's wording where it is already clear."""
    kind, value, ctx = err["type"], err["input"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _annotation_at(path[:-1])
        keys = _fields(model) if isinstance(model, type) and issubclass(model, BaseModel) else []
        return f"unknown key {path[-1]!r}", did_you_mean(path[-1], keys, listing="valid keys")
    if kind == "invalid_key":
        key = "null" if value is None else repr(value)  # pydantic's loc holds str(key)
        return f"unknown key {key}: keys are names", did_you_mean(
            str(value), _fields(Spec) if len(path) == 1 else [], listing="valid keys")
    if kind == "missing":
        enum = _annotation_at(path)
        hint = (f"one of: {', '.join(_enum_values(enum))}"
                if isinstance(enum, type) and issubclass(enum, Enum) else None)
        return f"missing required key {path[-1]!r}", hint
    if is_key:
        if kind == "string_pattern_mismatch":
            return (f"{value!r} is not a valid name: letters, digits and _ only, "
                    "not starting with a digit", f"e.g. {_valid_name(value)!r}")
        return f"expected a name (text) as the key, got {_describe(value)}", None
    if kind == "enum":
        enum = _annotation_at(path)
        values = (_enum_values(enum) if isinstance(enum, type) and issubclass(enum, Enum)
                  else re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        hint = did_you_mean(value, values, synonyms=SYNONYMS.get(getattr(enum, "__name__", "")))
        return f"expected one of: {', '.join(values)}; got {_describe(value)}", hint
    if kind in ("model_type", "model_attributes_type"):
        model = _annotation_at(path)
        keys = _fields(model)[:4] if isinstance(model, type) and issubclass(
            model, BaseModel) else []
        return (f"expected a mapping ({', '.join(keys)}, …), got {_describe(value)}",
                "write `key: value` lines indented under this one, or {key: value, …}")
    if kind == "string_pattern_mismatch":
        if path == ("system",):
            return (f"{value!r} is not a valid system name: start with a letter, then letters, "
                    "digits, _ or -", None)
        return (f"{value!r} is not a valid name: letters, digits and _ only, not starting "
                "with a digit", f"e.g. {_valid_name(value)!r}")
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()), "")
        limit = f"{limit:g}" if isinstance(limit, int | float) else limit
        return f"expected a number {_BOUNDS[kind]} {limit}, got {_describe(value)}", None
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])), None
    if kind == "list_type" and isinstance(value, dict):
        return "expected a list, got a mapping", "start each item with '- ', e.g. '- name: …'"
    if kind == "dict_type" and isinstance(value, list):
        return "expected a mapping, got a list", "write `name: …` lines here, without '- '"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_describe(value)}", None
    message = err["msg"]
    return message[:1].lower() + message[1:], None


def _valid_name(value: object) -> str:
    """`bad-name` → `bad_name`, `2fa` → `_2fa`: the nearest name the pattern accepts."""
    fixed = re.sub(r"\W", "_", str(value))
    return fixed if re.match(r"[A-Za-z_]", fixed) else f"_{fixed}"


def _enum_values(enum: type[Enum]) -> list[str]:
    return [str(member.value) for member in enum]


def _describe(value: object) -> str:
    """A value as a user sees it in their YAML."""
    if value is None:
        return "nothing"
    if isinstance(value, LocatedMap | dict):
        return "a mapping"
    if isinstance(value, LocatedSeq | list | tuple):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return str(value)


__all__ = ["format_path", "load_spec", "load_spec_text"]
