"""Leaving a process without freeing its heap object by object.

A large lint ends holding millions of small objects: parse trees (a 20,000-statement history
decodes into some 200 MB of dicts and lists) and findings. Freeing them one by one costs about
a tenth of a second, after the output is written, for memory the operating system takes back
at once when the process ends. Like mypy's hard exit, a process that is about to end may keep
them and leave with `os._exit`: the dbarch executable (`dbarch.cli.run`) and the lint's forked
children arm this; a library caller never does, so its memory is freed as usual.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

KEEP_LIMIT = 4 * 1024 * 1024
"""How much input (bytes of SQL) the kept objects may stand for: 4 MB decodes into about 350 MB
of trees. Past it, what `keep` is given is freed as usual: a folder of thousands of migrations
must not hold every tree at once."""

_armed = False
_kept: list[object] = []
_kept_size = 0


def arm() -> None:
    """This process will end with `leave`: from now on `keep` keeps what it is given."""
    global _armed
    _armed = True


def armed() -> bool:
    """Whether this process ends with `leave` (what it keeps is never freed)."""
    return _armed


def keep(value: object, size: int) -> None:
    """Keep `value` (read from `size` bytes of input) until the process leaves, when armed and
    within KEEP_LIMIT; otherwise do nothing: it is freed when its last reference goes."""
    global _kept_size
    if _armed and _kept_size + size <= KEEP_LIMIT:
        _kept.append(value)
        _kept_size += size
        # Out of the collector's sight: its next full pass would walk every kept object
        # (a tenth of a second per pass on a large tree) to find no garbage.
        gc.freeze()


def leave(code: int) -> None:
    """End the process with `code`: the exit handlers run (temporary folders are removed …) and
    the output is flushed, then it ends without tearing down the interpreter."""
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `dbarch lint … | head`: the reader left before the end
        code = code or 1
    os._exit(code)
