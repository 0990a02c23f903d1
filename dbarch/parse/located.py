"""Where in a DDL file a statement sits: byte offsets to 1-based line and column, and the
Problem a parser reports for a statement it cannot read or represent."""

from __future__ import annotations

import bisect
from itertools import accumulate

from dbarch.errors import Problem


class Locator:
    """Byte offset (libpg_query counts bytes) or character offset → line and column."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.data = text.encode("utf-8")
        self.ascii = self.data.isascii()  # then a byte offset is a character offset
        # each line's first byte: 0, then one past each newline (summed in C, not per match)
        self.starts = list(accumulate(map((1).__add__, map(len, self.data.split(b"\n"))),
                                      initial=0))[:-1]

    def at_byte(self, offset: int) -> tuple[int, int]:
        """Line and column (in characters) of a byte offset."""
        offset = max(0, min(offset, len(self.data)))
        index = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[index]
        if self.ascii:
            return index + 1, offset - start + 1
        column = len(self.data[start:offset].decode("utf-8", errors="replace")) + 1
        return index + 1, column

    def line_at_byte(self, offset: int) -> int:
        """The 1-based line of a byte offset."""
        return bisect.bisect_right(self.starts, offset)

    def at_char(self, offset: int) -> tuple[int, int]:
        """Line and column of a character offset."""
        return self.at_byte(self.byte_of(offset))

    def byte_of(self, offset: int) -> int:
        """The byte offset of a character offset."""
        return offset if self.ascii else len(self.text[:offset].encode("utf-8"))

    def first_token(self, offset: int) -> int:
        """The byte offset of the first token at or after `offset`, past blanks and comments."""
        data, pos = self.data, offset
        while pos < len(data):
            if data[pos:pos + 1].isspace():
                pos += 1
            elif data.startswith(b"--", pos):
                newline = data.find(b"\n", pos)
                pos = len(data) if newline < 0 else newline + 1
            elif data.startswith(b"/*", pos):
                close = data.find(b"*/", pos + 2)
                pos = len(data) if close < 0 else close + 2
            else:
                return pos
        return offset

    def problem(self, byte_offset: int, message: str, hint: str | None = None) -> Problem:
        """A Problem located at a byte offset."""
        line, column = self.at_byte(byte_offset)
        return Problem(self.path, message, line=line, column=column, hint=hint)
