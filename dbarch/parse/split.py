"""Splitting a MySQL/MariaDB script into statements, as the mysql client does.

Shared by the DDL reader (`dbarch.parse.mysql`) and the linter (`dbarch.lint.source`): `;`
ends a statement unless it sits in a string or comment (sqlglot's tokenizer decides), and a
`DELIMITER //` line switches to another terminator until `DELIMITER ;`, so trigger and
routine bodies stay whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbarch.errors import Problem
from dbarch.parse.located import Locator

_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class Spans:
    """Statement spans as character offsets [start, end) and the tokenizer's failures."""

    spans: list[tuple[int, int]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (character offset, message)


def mysql_spans(text: str) -> Spans:
    """The statements of a MySQL script, in order."""
    found = Spans()
    position, delimiter = 0, ";"
    for match in [*_DELIMITER.finditer(text), None]:
        stop = match.start() if match else len(text)
        if delimiter == ";":
            _semicolon_spans(text, position, stop, found)
        else:
            _delimited_spans(text, position, stop, delimiter, found)
        if match:
            position, delimiter = match.end(), match.group(1)
    return found


def _semicolon_spans(text: str, begin: int, stop: int, found: Spans) -> None:
    import sqlglot
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.Dialect.get_or_raise("mysql").tokenize(text[begin:stop])
    except TokenError as exc:
        found.errors.append((begin, str(exc)))
        return
    groups: list[list] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            groups.append([])
        else:
            groups[-1].append(token)
    found.spans.extend((begin + g[0].start, begin + g[-1].end + 1) for g in groups if g)


def _delimited_spans(text: str, begin: int, stop: int, delimiter: str, found: Spans) -> None:
    position = begin
    while position < stop:
        end = text.find(delimiter, position, stop)
        finish = stop if end < 0 else end
        piece = text[position:finish]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            found.spans.append((position + lead, position + len(piece.rstrip())))
        position = finish + len(delimiter) if end >= 0 else stop


def syntax_problem(where: Locator, start: int, exc: Exception) -> Problem:
    """sqlglot's ParseError on the statement at character offset `start`, located in the file
    (sqlglot counts lines within the statement) and without its token dumps."""
    detail = (getattr(exc, "errors", None) or [{}])[0]
    line, column = where.at_char(start)
    message = str(detail.get("description") or exc).splitlines()[0]
    message = re.sub(r"<Token token_type: [^,]+, text: ([^,]*), .*?>", r"'\1'", message)
    return Problem(where.path, f"syntax error: {message}",
                   line=line + max(int(detail.get("line") or 1) - 1, 0),
                   column=int(detail.get("col") or column))
