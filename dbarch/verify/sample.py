"""Synthetic rows shaped by a Schema, so a real planner sees realistic sizes and selectivity.

Pure: no connections. Volumes are the schema's expected rows scaled down together (the largest
table to `max_rows`), so the fan-out between tables stays what production will have; tables
that read patterns touch get at least `min_rows`, enough that a planner prefers an index to a
scan of a few pages. Foreign keys point at existing parent keys, skewed like real data (a few
users own many orders); unique keys are unique; enum and CHECK values are respected. Seeded:
the same schema and seed give the same rows.
"""

from __future__ import annotations

import math
import random
import string
import uuid
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from dbarch.schema.model import Check, Column, ForeignKey, Schema, Table, TypeKind
from dbarch.spec.model import AttrType, Spec
from dbarch.verify.tuning import verify_tuning

_TUNING = verify_tuning().sample
"""Sizes and shapes of the sample; `dbarch/data/verify.yaml` says why (or where measured)."""
MAX_ROWS = _TUNING.max_rows
"""The largest table's sample size (`sample.max_rows`)."""
MIN_ROWS = _TUNING.min_rows
"""The smallest sample of a table that read patterns use (`sample.min_rows`): with fewer rows
PostgreSQL rightly seq-scans a table of a few pages, and the verification would prove nothing."""

_WORDS = [
    "amber", "harbor", "cedar", "delta", "ember", "falcon", "garnet", "hollow", "indigo",
    "juniper", "kestrel", "lantern", "meadow", "nickel", "orchard", "pepper", "quartz", "raven",
    "saffron", "timber", "umber", "velvet", "willow", "xenon", "yarrow", "zephyr", "atlas",
    "beacon", "cobalt", "dune", "echo", "fjord", "glacier", "horizon", "island", "jasper", "kite",
    "lagoon", "marble", "nova", "onyx", "prairie", "quill", "river", "summit", "tundra", "unity",
    "valley", "wander", "yonder", "zenith",
]
_FIRST = [
    "ana", "ben", "chloe", "david", "emma", "felix", "grace", "hugo", "iris", "jonas", "karin",
    "leo", "mila", "noah", "olga", "paul", "rosa", "sam", "tara", "umar", "vera", "will", "yara",
    "zoe",
]
_LAST = [
    "smith", "garcia", "muller", "rossi", "dubois", "novak", "kowalski", "jensen", "silva",
    "tanaka", "kim", "okafor", "haddad", "ivanova", "larsen", "moreau", "costa", "nilsson",
    "weber", "fischer",
]
_SYLLABLES = ("ka", "lo", "mi", "ren", "to", "sha", "vel", "dor", "qui", "ba", "nes", "tri",
              "mon", "zel", "pa", "cor", "lin", "fu", "gar", "se")
# Free text draws from a Zipf-distributed vocabulary, as natural language does: a few words in
# most rows, most words in few rows, so a text search for a rare word is selective.
_VOCABULARY = _WORDS + [a + b + c for a in _SYLLABLES[:10] for b in _SYLLABLES for c in ("n", "r")]
_VOCABULARY_CUM = list(accumulate(1.0 / (k + 1) for k in range(len(_VOCABULARY))))
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
_JSON_KEYS = (
    "color", "size", "weight_g", "material", "brand", "warranty_months", "origin", "tags",
    "voltage", "dimensions", "rating", "season", "fit", "capacity_ml",
)
_COUNTRIES = ("DE", "FR", "GB", "US", "ES", "IT", "NL", "SE", "PL", "JP", "BR", "IN")
_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "SEK")


@dataclass
class SampleTable:
    """The rows generated for one table, in `columns` order."""

    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def values(self, column: str) -> list[Any]:
        """Every value of one column, in row order."""
        i = self.columns.index(column)
        return [r[i] for r in self.rows]


@dataclass
class Sample:
    """Rows for every table, in load order: parents before the tables that reference them."""

    tables: dict[str, SampleTable]

    @property
    def total_rows(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())


def load_order(schema: Schema) -> list[Table]:
    """Tables with every referenced table first (self-references and cycles tolerated)."""
    pending = {t.name: t for t in schema.tables}
    done: set[str] = set()
    order: list[Table] = []
    while pending:
        ready = [
            t for t in pending.values()
            if all(fk.ref_table in done or fk.ref_table == t.name or fk.ref_table not in pending
                   for fk in t.foreign_keys)
        ]
        if not ready:  # a cycle: take the first table; its forward references get NULL
            ready = [next(iter(pending.values()))]
        for t in ready:
            order.append(t)
            done.add(t.name)
            del pending[t.name]
    return order


def sample_sizes(
    schema: Schema, *, max_rows: int = MAX_ROWS, min_rows: int = MIN_ROWS
) -> dict[str, int]:
    """Rows to generate per table.

    Tables up to `min_rows` keep their real size (a 50-row lookup table stays 50 rows). Above
    it, sizes follow the expected rows on a log scale from `min_rows` to `max_rows` for the
    largest table: one linear factor would leave a 60M-row table beside a 900M-row one with
    1,300 rows, too few for its own patterns. The fan-out between tables is kept instead by
    how many parents the references use (see `_References`).
    """
    read_tables = {q.table for q in schema.queries}
    referenced = {fk.ref_table for t in schema.tables for fk in t.foreign_keys}
    biggest = max((t.rows for t in schema.tables), default=0)
    span = math.log(biggest / min_rows) if biggest > max_rows else 0.0
    target = math.log(max_rows / min_rows)
    sizes: dict[str, int] = {}
    for t in schema.tables:
        if t.name not in read_tables and t.name not in referenced:
            # Nothing reads it and nothing points at it: its rows cannot change any plan.
            sizes[t.name] = min(t.rows or _TUNING.min_other_rows, _TUNING.min_other_rows)
        elif not t.rows:
            sizes[t.name] = min_rows if t.name in read_tables else _TUNING.min_other_rows
        elif t.rows <= min_rows or not span:
            sizes[t.name] = min(t.rows, max_rows)
        else:
            sizes[t.name] = round(min_rows * math.exp(math.log(t.rows / min_rows) / span * target))
    return sizes


def generate(
    schema: Schema,
    spec: Spec | None = None,
    *,
    seed: int = 7,
    max_rows: int = MAX_ROWS,
    min_rows: int = MIN_ROWS,
    now: datetime | None = None,
) -> Sample:
    """Sample rows for every table of `schema`, deterministic for a given seed and `now`.

    `now` anchors timestamps (spread over the year before it); it defaults to today at 00:00 UTC.
    """
    anchor = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    anchor = anchor.replace(tzinfo=None, microsecond=0)
    sizes = sample_sizes(schema, max_rows=max_rows, min_rows=min_rows)
    real_rows = {t.name: t.rows for t in schema.tables}
    tables: dict[str, SampleTable] = {}
    for table in load_order(schema):
        rng = random.Random(f"{seed}:{table.name}")
        gen = _TableGenerator(table, spec, tables, rng, anchor, real_rows)
        tables[table.name] = gen.run(sizes[table.name])
    return Sample(tables)


class _TableGenerator:
    """Generates one table's rows; parents are already in `done`."""

    def __init__(
        self,
        table: Table,
        spec: Spec | None,
        done: dict[str, SampleTable],
        rng: random.Random,
        now: datetime,
        real_rows: dict[str, int],
    ) -> None:
        self.table = table
        self.n = 1
        self.real_rows = real_rows
        self.rng = rng
        self.now = now
        self.columns = [c.name for c in table.columns]
        self.attr_types = _attr_types(table, spec)
        self.checks: dict[str, Check] = {c.column: c for c in table.checks}
        self.keys = _unique_keys(table)
        self.fk_of: dict[str, ForeignKey] = {}
        self.refs: dict[str, _References] = {}
        self.unset: set[str] = set()
        for fk in table.foreign_keys:
            parent = done.get(fk.ref_table)
            if parent is None and fk.ref_table != table.name:
                # A cycle (or a table outside the schema): the reference stays NULL, so the
                # column must be nullable; the engine says so if it is not.
                self.unset.update(fk.columns)
                continue
            one_to_one = any(set(k) == set(fk.columns) for k in self.keys)
            # Part of a composite key made of references only (a junction's, a like's): every
            # parent is needed to keep it unique. With another column in the key (a task's
            # number) that column keeps rows apart, and the parents keep their real fan-out.
            references = {c for f in table.foreign_keys for c in f.columns}
            in_key = any(set(fk.columns) < set(k) <= references for k in self.keys)
            self.refs[fk.name] = _References(fk, parent, rng, one_to_one, spread=in_key)
            for col in fk.columns:
                self.fk_of[col] = fk
        self.makers: dict[str, Callable[[int], Any]] = {
            c.name: self._maker(c) for c in table.columns
            if c.name not in self.fk_of and c.name not in self.unset
        }

    def run(self, n: int) -> SampleTable:
        self.n = n
        out = SampleTable(self.table.name, self.columns)
        kept: dict[_References, tuple[list[tuple[Any, ...]], list[float]]] = {}
        for ref in self.refs.values():
            if ref.one_to_one and ref.parent is not None:
                n = min(n, len(ref.keys))
            elif ref.parent is not None:
                whole = (ref.keys, ref.cum)
                ref.narrow(n, self.real_rows.get(self.table.name, 0),
                           self.real_rows.get(ref.fk.ref_table, 0))
                if ref.spread:
                    kept[ref] = whole
        # A unique key of references only needs n distinct combinations of the narrowed
        # parents; with fewer, every parent is used (their fan-out then runs flatter).
        if kept and math.prod(len(r.keys) for r in kept) < 2 * n:
            for ref, (keys, cum) in kept.items():
                ref.keys, ref.cum = keys, cum
        seen: list[set[tuple[Any, ...]]] = [set() for _ in self.keys]
        index = {c: i for i, c in enumerate(self.columns)}
        for i in range(n):
            for _attempt in range(_TUNING.max_attempts):
                row = self._row(i, out)
                keys = [tuple(row[index[c]] for c in k) for k in self.keys]
                fresh = all(
                    any(v is None for v in key) or key not in s
                    for key, s in zip(keys, seen, strict=True)
                )
                if fresh:
                    for key, s in zip(keys, seen, strict=True):
                        s.add(key)
                    out.rows.append(tuple(row))
                    break
        return out

    def _row(self, i: int, so_far: SampleTable) -> list[Any]:
        values: dict[str, Any] = {name: make(i) for name, make in self.makers.items()}
        for ref in self.refs.values():
            fk = ref.fk
            if ref.parent is None:  # self-reference: an earlier row of this table, or none
                column = self.table.column(fk.columns[0])
                roots = _TUNING.self_reference_null_share
                if not so_far.rows or (column.nullable and self.rng.random() < roots):
                    values.update({c: None for c in fk.columns})
                else:
                    earlier = so_far.rows[self.rng.randrange(len(so_far.rows))]
                    for c, rc in zip(fk.columns, fk.ref_columns, strict=True):
                        values[c] = earlier[so_far.columns.index(rc)]
                continue
            nullable = all(self.table.column(c).nullable for c in fk.columns)
            if nullable and self.rng.random() < _TUNING.null_share:
                values.update({c: None for c in fk.columns})
                continue
            key = ref.draw(i)
            values.update(dict(zip(fk.columns, key, strict=True)))
        for col in self.table.columns:  # columns of an unresolvable cycle
            values.setdefault(col.name, None)
        _order_timestamps(values, self.table, self.now, self.rng)
        return [values[c] for c in self.columns]

    # -------------------------------------------------------------- value makers per column

    def _maker(self, col: Column) -> Callable[[int], Any]:
        make = self._base_maker(col)
        if not col.nullable or col.name in self.table.primary_key:
            return make
        rng = self.rng

        def nullable(i: int) -> Any:
            return None if rng.random() < _TUNING.null_share else make(i)

        return nullable

    def _base_maker(self, col: Column) -> Callable[[int], Any]:
        rng, kind, name = self.rng, col.type.kind, col.name.lower()
        unique = any(k == [col.name] for k in self.keys)
        check = self.checks.get(col.name)
        if check and check.values:
            return _weighted_choice(rng, list(check.values))
        if kind == TypeKind.enum and col.type.values:
            return _weighted_choice(rng, list(col.type.values))
        if kind in (TypeKind.smallint, TypeKind.int, TypeKind.bigint):
            if unique or col.identity:
                return lambda i: i + 1
            lo, hi = _int_range(name, check)
            return lambda i: rng.randint(lo, hi)
        if kind == TypeKind.decimal:
            return _decimal_maker(rng, col, check, unique)
        if kind == TypeKind.float:
            lo, hi = (check.min or 0.0, check.max or 1000.0) if check else (0.0, 1000.0)
            return lambda i: round(rng.uniform(lo, hi), 6)
        if kind == TypeKind.bool:
            share = 0.05 if any(w in name for w in ("deleted", "archived", "blocked")) else 0.7
            return lambda i: rng.random() < share
        if kind == TypeKind.uuid:
            return lambda i: _uuid7(rng, self.now - timedelta(days=365) + timedelta(minutes=i))
        if kind == TypeKind.timestamp and name == "created_at":
            # Rows are inserted in creation order, so created_at follows the physical order of
            # the table as in production: planners' correlation statistics and BRIN see it.
            year = 365 * 86400
            return lambda i: self.now - timedelta(
                seconds=year * (1 - (i + rng.random()) / max(self.n, 1)))
        if kind == TypeKind.timestamp:
            return _timestamp_maker(rng, name, self.now)
        if kind == TypeKind.date:
            return _date_maker(rng, name, self.now.date())
        if kind == TypeKind.json:
            return lambda i: _json_object(rng)
        if kind == TypeKind.blob:
            return lambda i: rng.randbytes(rng.randint(16, 64))
        if kind == TypeKind.array:
            item = col.type.items or TypeKind.string
            if item in (TypeKind.smallint, TypeKind.int, TypeKind.bigint):
                return lambda i: [rng.randint(1, 100) for _ in range(rng.randint(1, 4))]
            return lambda i: rng.sample(_WORDS, rng.randint(1, 4))
        if kind == TypeKind.geo:
            return lambda i: f"{rng.uniform(-60, 70):.5f},{rng.uniform(-180, 180):.5f}"
        text_kind = self.attr_types.get(col.name)
        return _string_maker(rng, name, kind, col.type.length, unique, text_kind)


class _References:
    """Parent keys a foreign key draws from: skewed, or each parent once for a one-to-one."""

    def __init__(
        self,
        fk: ForeignKey,
        parent: SampleTable | None,
        rng: random.Random,
        one_to_one: bool,
        *,
        spread: bool = False,
    ) -> None:
        self.fk = fk
        self.parent = parent
        self.rng = rng
        self.one_to_one = one_to_one
        self.spread = spread
        self.keys: list[tuple[Any, ...]] = []
        if parent is None:
            return
        idx = [parent.columns.index(c) for c in fk.ref_columns]
        self.keys = [tuple(r[i] for i in idx) for r in parent.rows]
        self.keys = [k for k in self.keys if None not in k]
        rng.shuffle(self.keys)  # the busiest parents are not simply the first ids
        skew = _TUNING.fk_skew
        self.cum = list(accumulate(1.0 / (rank + 1) ** skew for rank in range(len(self.keys))))

    def narrow(self, children: int, child_rows: int, parent_rows: int) -> None:
        """Use only as many parents as keep the real fan-out: 10,000 sampled tasks of 60M
        over 300k projects reference 50 projects (200 tasks each, as in production), not all
        the sampled projects (which would give each a handful and make project_id look as
        selective as the primary key)."""
        if not (child_rows and parent_rows):
            return
        wanted = max(_TUNING.min_parents, round(children * parent_rows / child_rows))
        if wanted < len(self.keys):
            self.keys = self.keys[:wanted]
            self.cum = self.cum[:wanted]

    def draw(self, i: int) -> tuple[Any, ...]:
        if not self.keys:
            raise ValueError(
                f"foreign key {self.fk.name}: the sample of {self.fk.ref_table} has no rows"
            )
        if self.one_to_one:
            return self.keys[i % len(self.keys)]
        x = self.rng.random() * self.cum[-1]
        return self.keys[min(bisect_right(self.cum, x), len(self.keys) - 1)]


def _unique_keys(table: Table) -> list[list[str]]:
    keys = [list(table.primary_key)] if table.primary_key else []
    keys += [list(u.columns) for u in table.uniques]
    keys += [ix.column_names for ix in table.indexes if ix.unique and not ix.where]
    out: list[list[str]] = []
    for k in keys:
        if k and k not in out:
            out.append(k)
    return out


def _attr_types(table: Table, spec: Spec | None) -> dict[str, AttrType]:
    """Spec attribute types by column name, where the table stores a spec entity."""
    if spec is None or table.entity is None or table.entity not in spec.entities:
        return {}
    return {name: a.type for name, a in spec.entities[table.entity].attributes.items()}


def _weighted_choice(rng: random.Random, values: list[str]) -> Callable[[int], Any]:
    # Mildly skewed: real status columns are dominated by one or two values.
    cum = list(accumulate(1.0 / (k + 1) ** _TUNING.value_skew for k in range(len(values))))
    return lambda i: values[min(bisect_right(cum, rng.random() * cum[-1]), len(values) - 1)]


def _int_range(name: str, check: Check | None) -> tuple[int, int]:
    lo, hi = 0, 1000
    if "quantity" in name or name.endswith("qty"):
        lo, hi = 1, 10
    elif "rating" in name or "stars" in name:
        lo, hi = 1, 5
    elif "year" in name:
        lo, hi = 1990, 2026
    elif name == "age":
        lo, hi = 18, 90
    if check is not None:
        lo = int(check.min) if check.min is not None else lo
        hi = int(check.max) if check.max is not None else max(hi, lo + 1000)
        if check.min is not None and check.max is None and lo >= hi:
            hi = lo + 1000
    return lo, hi


def _decimal_maker(
    rng: random.Random, col: Column, check: Check | None, unique: bool
) -> Callable[[int], Any]:
    scale = col.type.scale if col.type.scale is not None else 2
    precision = col.type.precision or 12
    top = float(10 ** (precision - scale) - 1)
    lo = check.min if check and check.min is not None else 0.5
    hi = check.max if check and check.max is not None else min(999.0, top)
    quantum = Decimal(1).scaleb(-scale)
    if unique:
        return lambda i: Decimal(i + 1).quantize(quantum)
    return lambda i: Decimal(str(rng.uniform(lo, hi))).quantize(quantum)


def _timestamp_maker(rng: random.Random, name: str, now: datetime) -> Callable[[int], Any]:
    year = 365 * 86400
    if name.startswith(("expires", "expiry", "valid_until", "due")):
        return lambda i: now + timedelta(seconds=rng.randint(3600, 30 * 86400))
    return lambda i: now - timedelta(seconds=rng.randint(1, year))


def _date_maker(rng: random.Random, name: str, today: date) -> Callable[[int], Any]:
    if "birth" in name:
        return lambda i: date(1950, 1, 1) + timedelta(days=rng.randint(0, 55 * 365))
    return lambda i: today - timedelta(days=rng.randint(0, 364))


def _order_timestamps(values: dict[str, Any], table: Table, now: datetime,
                      rng: random.Random) -> None:
    """updated_at after created_at, as the application writes them."""
    created = values.get("created_at")
    for col in ("updated_at", "modified_at"):
        if isinstance(created, datetime) and isinstance(values.get(col), datetime):
            span = int((now - created).total_seconds())
            values[col] = created + timedelta(seconds=rng.randint(0, max(span, 0)))


def _uuid7(rng: random.Random, when: datetime) -> uuid.UUID:
    """A UUIDv7: 48-bit Unix milliseconds, then random bits; sorts by creation time."""
    ms = int(when.replace(tzinfo=UTC).timestamp() * 1000)
    value = (ms & (2**48 - 1)) << 80 | rng.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def _json_object(rng: random.Random) -> dict[str, Any]:
    """An object whose keys vary from row to row, as semi-structured attributes do."""
    out: dict[str, Any] = {}
    for key in rng.sample(_JSON_KEYS, rng.randint(1, 5)):
        pick = rng.random()
        if pick < 0.4:
            out[key] = rng.choice(_WORDS)
        elif pick < 0.7:
            out[key] = rng.randint(1, 5000)
        elif pick < 0.85:
            out[key] = rng.random() < 0.5
        else:
            out[key] = rng.sample(_WORDS, 2)
    return out


def _string_maker(
    rng: random.Random,
    name: str,
    kind: TypeKind,
    length: int | None,
    unique: bool,
    attr: AttrType | None,
) -> Callable[[int], Any]:
    def fit(text: str, suffix: str = "") -> str:
        if length is None or len(text) + len(suffix) <= length:
            return text + suffix
        return text[: max(0, length - len(suffix))] + suffix

    def tag(i: int) -> str:
        return _base36(i + 1) if unique else ""

    if attr == AttrType.email or "email" in name:
        def email(i: int) -> str:
            local = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}"
            suffix = f"{tag(i) or rng.randint(1, 99)}@{rng.choice(_DOMAINS)}"
            return fit(local, suffix)
        return email
    if name in ("first_name", "given_name"):
        return lambda i: fit(rng.choice(_FIRST).title(), tag(i))
    if name in ("last_name", "family_name", "surname"):
        return lambda i: fit(rng.choice(_LAST).title(), tag(i))
    if "url" in name or "link" in name:
        return lambda i: fit(f"https://example.com/{rng.choice(_WORDS)}/", tag(i) or str(i))
    if "phone" in name:
        return lambda i: fit(f"+44 20 7946 {i % 10000:04d}")
    if "slug" in name or "sku" in name or name == "code" or name.endswith("_code"):
        if "country" in name:
            return lambda i: rng.choice(_COUNTRIES)
        if "currency" in name:
            return lambda i: rng.choice(_CURRENCIES)
        return lambda i: fit(f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-", tag(i) or str(i))
    if "hash" in name or "token" in name or "secret" in name:
        return lambda i: fit("".join(rng.choices("0123456789abcdef", k=64)), tag(i))
    if "country" in name:
        return lambda i: rng.choice(_COUNTRIES)
    if "currency" in name:
        return lambda i: rng.choice(_CURRENCIES)
    if kind == TypeKind.text or attr == AttrType.text:
        def prose(i: int) -> str:
            words = rng.choices(_VOCABULARY, cum_weights=_VOCABULARY_CUM, k=rng.randint(6, 20))
            return fit(" ".join(words).capitalize(), f" {tag(i)}" if unique else "")
        return prose
    if "name" in name or "title" in name:
        return lambda i: fit(f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}",
                             f" {tag(i)}" if unique else "")
    return lambda i: fit(f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}",
                         f" {tag(i)}" if unique else "")


def _base36(n: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
