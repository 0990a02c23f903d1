"""R111 repeating-groups."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbarch.review.context import ReviewContext, singular
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.schema.model import Column, Table, TypeKind

_NUMBERED = re.compile(r"^(?P<stem>.*?[a-z])_?(?P<n>\d+)$", re.IGNORECASE)


@register
class RepeatingGroups(ReviewRule):
    """Numbered column groups (phone1, phone2, phone3) or a list in one text column (tag_ids,
    tags): a repeating group, against first normal form.

    Why: a fixed number of slots is always one too few, queries must test every slot
    (`WHERE phone1 = $1 OR phone2 = $1 OR ...`), and no index or foreign key serves a value
    inside a comma-separated string. Names are matched against `repeating_groups` in
    review.yaml. Exempt: an address's numbered lines (address_line1, line2): one address
    written over the fixed lines postal formats have, not a list.

    Instead: one row per value in a child table keyed by the parent, then move the values.

        CREATE TABLE customer_phones (
            customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
            position smallint NOT NULL,
            phone varchar(30) NOT NULL,
            PRIMARY KEY (customer_id, position)
        );
    """

    code = "R111"
    name = "repeating-groups"
    summary = "numbered column groups or comma-separated lists (1NF)"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        rule = ctx.data["repeating_groups"]
        for table in ctx.schema.tables:
            groups: dict[str, list[Column]] = {}
            for column in table.columns:
                match = _NUMBERED.match(column.name)
                if match and column.name not in table.primary_key:
                    groups.setdefault(match["stem"].lower(), []).append(column)
            for stem, columns in groups.items():
                if len(columns) < int(rule["min_group"]) or stem in rule["exempt_stems"]:
                    continue
                names = ", ".join(c.name for c in columns)
                yield self.finding(
                    table.name,
                    f"{table.name} repeats {stem} in numbered columns: {names}",
                    "a fixed number of slots; every query tests each slot and no index serves "
                    "them together",
                    column=columns[0].name,
                    fix=_child_table(ctx, table, stem, columns[0]),
                    note=f"move the values with one INSERT ... SELECT per column ({names}), "
                         "then drop the columns once the application reads the child table",
                )
            for column in table.columns:
                if column.type.kind not in (TypeKind.string, TypeKind.text):
                    continue
                lowered = column.name.lower()
                if lowered in rule["list_names"] or any(lowered.endswith(s)
                                                        for s in rule["list_suffixes"]):
                    stem = singular(lowered.removesuffix("_ids").removesuffix("_list")
                                     .removesuffix("_csv"))
                    yield self.finding(
                        table.name,
                        f"{table.name}.{column.name} ({column.type.native or 'text'}) looks "
                        "like a list of values in one column",
                        "no index, foreign key or type check reaches a value inside a "
                        "delimited string",
                        column=column.name,
                        fix=_child_table(ctx, table, stem, column, ordered=False),
                        note="split the existing values into the child table "
                             "(PostgreSQL: string_to_table; MySQL: JSON_TABLE), then drop "
                             "the column",
                    )




def _child_table(ctx: ReviewContext, parent: Table, stem: str, value: Column,
                 ordered: bool = True) -> str | None:
    """CREATE TABLE for the child that holds one value a row (needs a one-column key)."""
    if len(parent.primary_key) != 1:
        return None
    key = parent.column(parent.primary_key[0])
    key_type = key.type.native or key.type.kind.value
    if ctx.dialect == "mysql":
        key_type = key_type.replace(" AUTO_INCREMENT", "")
    value_type = value.type.native or value.type.kind.value
    owner = singular(parent.name)
    fk = f"{owner}_{key.name}" if key.name == "id" else key.name
    child = f"{owner}_{stem}s" if not stem.endswith("s") else f"{owner}_{stem}"
    second = "position smallint NOT NULL" if ordered else f"{stem} {value_type} NOT NULL"
    lines = [
        f"CREATE TABLE {ctx.q(child)} (",
        f"    {ctx.q(fk)} {key_type} NOT NULL REFERENCES {ctx.q(parent.name)} "
        f"({ctx.q(key.name)}) ON DELETE CASCADE,",
        f"    {second},",
    ]
    if ordered:
        lines.append(f"    {ctx.q(stem)} {value_type} NOT NULL,")
        lines.append(f"    PRIMARY KEY ({ctx.q(fk)}, position)")
    else:
        lines.append(f"    PRIMARY KEY ({ctx.q(fk)}, {ctx.q(stem)})")
    return "\n".join([*lines, ");"])
