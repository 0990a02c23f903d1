"""A statement's own text with edits located by its parse tree and its scanner tokens.

A fix keeps the user's statement (names, quoting, clauses, layout) and changes only what
must change: NOT VALID appended to a constraint, a constraint moved off a new column, a
subcommand cut out. The edits are located by PostgreSQL's own parser and scanner (the
libpg_query JSON locations and pglast's scanner tokens), so they never land inside a string
or a parenthesis. This is an order of magnitude faster than rebuilding an AST and printing
it, which matters when a migration history has thousands of findings. Separate from the
cheaper tree-located spans (dbarch.lint.pg_spans), which need no scan of their own.
"""

from __future__ import annotations

import json

from pglast import parser

from dbarch.lint.pg import unwrap
from dbarch.lint.pg_spans import text_offset
from dbarch.lint.statement import Statement

_OPEN = {"ASCII_40", "ASCII_91"}  # ( [
_CLOSE = {"ASCII_41", "ASCII_93"}  # ) ]
_COMMA = "ASCII_44"


class StatementText:
    """One statement's text with edits located by its parse tree and its tokens.

    libpg_query locations are byte offsets; pglast's scanner gives character offsets (end
    inclusive). Everything here works in characters.
    """

    def __init__(self, text: str, stmt: Statement | None = None) -> None:
        self.text = text.strip().removesuffix(";").rstrip()
        # With the statement the text came from, its tree is used as it is (its locations
        # shifted by where the text starts) instead of parsing the text into a new one.
        self._start = text_offset(stmt) if stmt is not None and stmt.text == text else None
        if self._start is not None and stmt is not None:
            self.kind, self.node = stmt.kind, stmt.node
        else:
            raw = json.loads(parser.parse_sql_json(self.text))["stmts"][0]
            self.kind, self.node = unwrap(raw["stmt"])
        self.tokens = [(t.start, t.end + 1, t.name) for t in parser.scan(self.text)]
        self.edits: list[tuple[int, int, int, str]] = []
        self._ascii = self.text.isascii()
        depth = 0
        self.depth: list[int] = []
        for _, _, name in self.tokens:
            if name in _CLOSE:
                depth -= 1
            self.depth.append(depth)
            if name in _OPEN:
                depth += 1

    def char(self, location: int) -> int:
        """A libpg_query byte location as a character offset."""
        if self._start is not None:
            location -= self._start
        if self._ascii:
            return location
        return len(self.text.encode()[:location].decode("utf-8", errors="ignore"))

    def token_at(self, offset: int) -> int:
        """The index of the first token starting at or after `offset`."""
        for i, (start, _, _) in enumerate(self.tokens):
            if start >= offset:
                return i
        return len(self.tokens)

    def item_end(self, offset: int) -> int:
        """Where the comma-separated item holding `offset` ends (after its last token)."""
        i = self.token_at(offset)
        base = self.depth[i] if i < len(self.tokens) else 0
        end = offset
        for j in range(i, len(self.tokens)):
            _, stop, name = self.tokens[j]
            if self.depth[j] < base or (self.depth[j] == base and name == _COMMA):
                break
            end = stop
        return end

    def before(self, offset: int, limit: int) -> int:
        """The end of the last token before `limit`, searching from `offset`."""
        end = offset
        for start, stop, _ in self.tokens:
            if start >= limit:
                break
            if start >= offset:
                end = stop
        return end

    def previous_token(self, offset: int) -> tuple[int, int, str] | None:
        i = self.token_at(offset)
        return self.tokens[i - 1] if i > 0 else None

    def next_token(self, offset: int) -> tuple[int, int, str] | None:
        i = self.token_at(offset)
        return self.tokens[i] if i < len(self.tokens) else None

    def insert(self, at: int, text: str) -> None:
        self.replace(at, at, text)

    def replace(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, len(self.edits), text))

    def cut_item(self, start: int, end: int) -> None:
        """Delete a comma-separated item and the comma that separates it from its neighbour."""
        after = self.next_token(end)
        if after and after[2] == _COMMA:
            following = self.next_token(after[1])
            self.replace(start, following[0] if following else after[1], "")
            return
        prior = self.previous_token(start)
        if prior and prior[2] == _COMMA:
            self.replace(prior[0], end, "")
        else:
            self.replace(start, end, "")

    def result(self) -> str:
        text = self.text
        # From the end backwards, so earlier offsets stay true; at one offset the edit made
        # first is applied last and so comes first in the text.
        for start, end, _, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text

