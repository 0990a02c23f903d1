"""YAML parsed into plain dicts and lists that remember where each key, value and item starts.

ruamel.yaml's round-trip loader keeps positions too, but it runs in pure Python only: about
2.5 s for a 500-entity, 2,000-pattern spec on our CI machine. The safe loader on libyaml
(`ruamel.yaml.clib`) reads the same file in under 0.5 s, with YAML 1.2 semantics identical to
the round-trip loader's; this module adds the positions on top of it from the parser's marks.
Without the C extension the same constructor runs on ruamel's pure-Python parser.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import ruamel.yaml.main
from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from dbarch.errors import InputError, Problem

Step = str | int
LineCol = tuple[int, int]  # 0-based, as the YAML parser counts


class LocatedMap(dict[Any, Any]):
    """A YAML mapping; `keys_at[k]` / `values_at[k]` are where key `k` and its value start."""

    __slots__ = ("at", "keys_at", "values_at")

    def __init__(self, at: LineCol) -> None:
        super().__init__()
        self.at = at
        self.keys_at: dict[Any, LineCol] = {}
        self.values_at: dict[Any, LineCol] = {}


class LocatedSeq(list[Any]):
    """A YAML sequence; `items_at[i]` is where item `i` starts."""

    __slots__ = ("at", "items_at")

    def __init__(self, at: LineCol) -> None:
        super().__init__()
        self.at = at
        self.items_at: list[LineCol] = []


@dataclass(frozen=True)
class Duplicate:
    """A key written twice in one mapping; the first value is kept."""

    mapping: LocatedMap
    key: Any
    at: LineCol


@dataclass(frozen=True)
class Position:
    """Where a path points in the YAML: how many steps of it exist, and the last one's place."""

    resolved: int
    key: LineCol
    value: LineCol
    container: bool  # the last existing step is a mapping or a list, not a scalar


LIBYAML: bool = ruamel.yaml.main.CParser is not None
"""True when ruamel.yaml.clib is installed: libyaml parses, about 5x faster than pure Python."""


def _at(node: Node) -> LineCol:
    return (node.start_mark.line, node.start_mark.column)


_STR = "tag:yaml.org,2002:str"
_ONE_TAG: dict[str, Tag] = {_STR: Tag(suffix=_STR)}
_STR_TAG = _ONE_TAG[_STR]


class _Yaml12Resolver(VersionedResolver):
    """YAML 1.2 tag resolution, without ruamel's per-scalar lookup of the document's version.

    That lookup raises and catches AttributeError on every scalar under libyaml and was half of
    the load time; a spec is YAML 1.2 (`yes` is a string, `0755` a decimal).
    """

    @property
    def processing_version(self) -> Any:
        return (1, 2)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # A plain scalar's tag depends on its text alone, and specs repeat the same words
        # (`eq`, `string`, `200/s`) thousands of times. One Tag object per tag also lets the
        # constructor recognise a plain string by identity.
        if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        cache: dict[str, Tag] = self.__dict__.setdefault("_plain_tags", {})
        tag = cache.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            tag = cache[value] = _ONE_TAG.setdefault(str(tag), tag)
        return tag


class _LocatingConstructor(SafeConstructor):
    """Builds LocatedMap / LocatedSeq and records duplicate keys instead of failing on the first."""

    duplicates: list[Duplicate]

    def construct_located_map(self, node: MappingNode) -> Iterator[LocatedMap]:
        data = LocatedMap(_at(node))
        yield data
        self.flatten_mapping(node)  # merge keys (<<: *base): merged pairs come first
        merged = len(getattr(node, "merge", None) or ())
        own: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = (key_node.value if key_node.ctag is _STR_TAG
                   else self.construct_object(key_node, deep=True))
            if isinstance(key, list):
                key = tuple(key)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found a mapping used as a key", key_node.start_mark,
                )
            value = (value_node.value if value_node.ctag is _STR_TAG
                     else self.construct_object(value_node, deep=True))
            if index >= merged:
                if key in own:
                    self.duplicates.append(Duplicate(data, key, _at(key_node)))
                    continue
                own.add(key)
            data[key] = value
            data.keys_at[key] = _at(key_node)
            data.values_at[key] = _at(value_node)

    def construct_located_seq(self, node: SequenceNode) -> Iterator[LocatedSeq]:
        data = LocatedSeq(_at(node))
        yield data
        data.extend(child.value if child.ctag is _STR_TAG
                    else self.construct_object(child, deep=True) for child in node.value)
        data.items_at = [_at(child) for child in node.value]

    def construct_plain_timestamp(self, node: Node) -> str:
        # A spec has no use for datetime objects; `default: 2024-01-01` means the text.
        return str(self.construct_scalar(node))


_LocatingConstructor.add_constructor(
    "tag:yaml.org,2002:map", _LocatingConstructor.construct_located_map
)
_LocatingConstructor.add_constructor(
    "tag:yaml.org,2002:seq", _LocatingConstructor.construct_located_seq
)
_LocatingConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", _LocatingConstructor.construct_plain_timestamp
)

# Cryptic parser messages (libyaml's and ruamel's pure-Python wording), rewritten:
# (fragment of the parser's message, our message, hint).
_SYNTAX = [
    ("mapping values are not allowed", "unexpected ':'",
     "quote a value that contains ': ', or check the indentation of this line"),
    ("expected <block end>", "this line does not line up with the lines before it",
     "indent the keys of one mapping, and the '- ' items of one list, by the same spaces"),
    ("did not find expected key", "this line does not line up with the keys before it",
     "indent the keys of one mapping by the same spaces"),
    ("did not find expected '-' indicator", "this line does not line up with the list before it",
     "indent the '- ' items of one list by the same spaces"),
    ("expected ',' or ']'", "a [ ] list is not closed, or lacks a ',' between items", None),
    ("expected ',' or '}'", "a { } mapping is not closed, or lacks a ',' between entries", None),
    ("could not find expected ':'", "expected 'key: value'",
     "a key needs ': ' after it; a quoted value needs its closing quote"),
    ("found unexpected end of stream", "the file ends inside a quoted string",
     "close the quote"),
    ("found undefined alias", "an alias (*name) with no anchor (&name) before it", None),
    ("expected a single document", "more than one YAML document ('---') in the file",
     "a spec is one document: remove the extra '---'"),
    ("could not determine a constructor for the tag", "an unknown tag (!name)",
     "remove the tag: a spec uses plain YAML"),
    ("found unhashable key", "a list or mapping used as a key", None),
    ("found a mapping used as a key", "a list or mapping used as a key", None),
]


def _syntax_problem(error: YAMLError, text: str, filename: str) -> Problem:
    """One located Problem for a YAML syntax error."""
    if isinstance(error, ReaderError):
        before = text[: max(error.position, 0)]
        line, column = before.count("\n"), len(before) - (before.rfind("\n") + 1)
        char = error.character if isinstance(error.character, int) else ord(error.character)
        return Problem(filename, f"character U+{char:04X} is not allowed in YAML",
                       line + 1, column + 1, hint="remove control characters from the file")
    line = column = None
    problem, context = str(error), ""
    if isinstance(error, MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
        problem, context = error.problem or "", error.context or ""
    if line is not None and column is not None and _char_at(text, line, column) == "\t":
        return Problem(filename, "YAML syntax: a tab character", line, column,
                       hint="YAML indents with spaces, never tabs")
    opened = _opened_at(error)
    for fragment, message, hint in _SYNTAX:
        if fragment in problem or fragment in context:
            hint = "; ".join(h for h in (opened, hint) if h) or None
            return Problem(filename, f"YAML syntax: {message}", line, column, hint=hint)
    raw = f"{problem} ({context})" if context else problem
    return Problem(filename, f"YAML syntax: {raw.strip()}", line, column, hint=opened)


# What the parser was reading when it failed, as the user wrote it.
_OPENERS = {"flow mapping": "the '{'", "flow sequence": "the '['", "quoted scalar": "the quote",
            "block mapping": "the mapping", "block collection": "the list"}


def _opened_at(error: YAMLError) -> str | None:
    """`the '{' opened at line 3, column 9`, when the error is found on a later line."""
    if not isinstance(error, MarkedYAMLError):
        return None
    start, end = error.context_mark, error.problem_mark
    if start is None or end is None or start.line == end.line or not error.context:
        return None
    what = next((name for key, name in _OPENERS.items() if key in error.context), None)
    if what is None:
        return None
    return f"{what} opened at line {start.line + 1}, column {start.column + 1}"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if line - 1 < len(lines) and column - 1 < len(lines[line - 1]):
        return lines[line - 1][column - 1]
    return ""


def parse(text: str, filename: str, *, pure: bool = False) -> tuple[Any, list[Duplicate]]:
    """Parse `text`; raise InputError (one located Problem) when it is not valid YAML.

    `pure` forces ruamel's pure-Python parser (what runs when libyaml is missing).
    """
    duplicates: list[Duplicate] = []

    class Constructor(_LocatingConstructor):
        pass

    Constructor.duplicates = duplicates
    yaml = YAML(typ="safe", pure=pure)  # libyaml when ruamel.yaml.clib is installed
    yaml.Constructor = Constructor
    yaml.Resolver = _Yaml12Resolver
    try:
        data = yaml.load(text)
    except YAMLError as error:
        raise InputError([_syntax_problem(error, text, filename)]) from None
    except RecursionError:
        raise InputError([Problem(filename, "YAML nested too deeply to be a spec", 1, 1)]) from None
    return data, duplicates


def position(root: Any, path: tuple[Step, ...]) -> Position:
    """Follow `path` into `root` as far as it exists; where its last existing step starts."""
    start = root.at if isinstance(root, LocatedMap | LocatedSeq) else (0, 0)
    key = value = start
    node = root
    for depth, step in enumerate(path):
        if isinstance(node, LocatedMap) and _hashable(step) and step in node:
            key, value = node.keys_at[step], node.values_at[step]
        elif (isinstance(node, LocatedSeq) and isinstance(step, int)
              and 0 <= step < len(node.items_at)):
            key = value = node.items_at[step]
        else:
            return Position(depth, key, value, isinstance(node, dict | list))
        node = node[step]
    return Position(len(path), key, value, isinstance(node, dict | list))


def path_to(root: Any, target: object) -> tuple[Step, ...] | None:
    """The path from `root` to the container `target` (by identity); None if not inside."""
    stack: list[tuple[Any, tuple[Step, ...]]] = [(root, ())]
    seen: set[int] = set()  # aliases share containers; visit each once (no alias bombs)
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return None


def _hashable(step: object) -> bool:
    return isinstance(step, Hashable)
