"""Documents: the architecture document, ADRs and Mermaid diagrams of a design; and the
renderers of the other commands' reports (lint, indexes), which must not pay for the former."""

from __future__ import annotations

from typing import Any

__all__ = ["write_documents"]


def __getattr__(name: str) -> Any:
    # `dbarch lint` imports dbarch.report.lint_text on every CI push: loading the document
    # writer (and through it the designer and pydantic) here would cost it 0.4 s.
    if name == "write_documents":
        from dbarch.report.documents import write_documents

        return write_documents
    raise AttributeError(f"module 'dbarch.report' has no attribute {name!r}")
