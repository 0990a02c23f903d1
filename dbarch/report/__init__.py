"""Documents: the architecture document, ADRs and Mermaid diagrams of a design."""

from dbarch.report.documents import write_documents

__all__ = ["write_documents"]
