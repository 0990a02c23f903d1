"""JSON for long reports: the top level indented, each list item on one line.

`json.dumps(..., indent=2)` runs Python's pure-Python encoder (the C encoder only serves the
unindented form), which made printing 20,000 findings cost more than finding them. Here each
item goes through the C encoder and the document keeps a readable shape: a finding per line,
which also diffs and greps well. The output is ordinary JSON; any parser reads it.
"""

from __future__ import annotations

import json
from typing import Any

encode = json.JSONEncoder().encode
"""One value as compact-spaced JSON text, by the C encoder (what `dumps` writes each item with)."""


def dumps(document: dict[str, Any], encoded: dict[str, list[str]] | None = None) -> str:
    """`document` as JSON: its keys one per line, and each item of a list of objects on a line
    of its own. `encoded`: lists whose items are already JSON text (from `encode`), by key;
    they are written as given, in place of the document's value."""
    parts = []
    for key, value in document.items():
        head = f"  {encode(key)}: "
        if encoded is not None and key in encoded:
            items = encoded[key]  # thousands of long lines: joined once, not copied each
            parts.append(f"{head}[\n    " + ",\n    ".join(items) + "\n  ]" if items
                         else f"{head}[]")
        elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            items = ",\n".join(f"    {encode(item)}" for item in value)
            parts.append(f"{head}[\n{items}\n  ]")
        else:
            parts.append(head + encode(value))
    return "{\n" + ",\n".join(parts) + "\n}"
