"""One statement of a migration plan, with what a reader and the linter must know about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.render.base import one_line


@dataclass
class Sql:
    """A statement (without its `;`), the comments above it, the lint rules it deliberately
    breaks (each with the reason, written as `-- dbarch-ignore: CODE reason`), and whether it
    must run outside a transaction block (CREATE INDEX CONCURRENTLY, a DO block that commits)."""

    text: str
    comments: list[str] = field(default_factory=list)
    ignores: list[tuple[str, str]] = field(default_factory=list)
    outside_transaction: bool = False
    compound: bool = False  # a body with its own `;` (MySQL needs DELIMITER around it)

    def render(self, dialect: str) -> str:
        """The statement as a script holds it: comments, ignores, the text, its terminator."""
        head = "".join(f"-- {one_line(c)}\n" for c in self.comments)
        head += "".join(f"-- dbarch-ignore: {code} {one_line(reason)}\n"
                        for code, reason in self.ignores)
        if self.compound and dialect == "mysql":
            return f"{head}DELIMITER //\n{self.text}\n//\nDELIMITER ;\n"
        return f"{head}{self.text};\n"

    def as_dict(self) -> dict[str, object]:
        return {
            "sql": self.text,
            "comments": self.comments,
            "ignores": [{"rule": code, "reason": reason} for code, reason in self.ignores],
            "outside_transaction": self.outside_transaction,
        }
