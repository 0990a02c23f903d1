"""The 22 TPC-H queries with their parameters substituted, as a dbarch workload.

    python -m bench.tpch.workload --seed 1 --scale 0.1 -o /tmp/tpch.sql

The templates are bench/tpch/queries/qNN.sql, schema-unqualified, with named parameters
(`:date`, `:segment` …). Values follow the substitution rules of TPC-H 3.0.1 clause 2.4
(qgen's ranges), drawn from Python's random seeded with (seed, stream), so a seed gives the same
workload everywhere; each stream draws its own values. The queries keep the spec's order q01 ..
q22 (not the per-stream permutation of its Appendix A). Q11's FRACTION is 0.0001 / SF, so the
workload depends on the scale factor it will run at.

Parameters are found with PostgreSQL's own lexer (pglast.parser.scan): a `:` token directly
followed by a name, so `::` casts, string literals and comments are never touched.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import random
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path

from pglast.parser import scan

if __package__ in (None, ""):  # run as a file: make `bench` and `dbarch` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.tpch.generate import distributions
from dbarch.errors import InputError, Problem

QUERIES = Path(__file__).resolve().parent / "queries"
LABELS = tuple(f"q{number:02d}" for number in range(1, 23))
Value = int | Decimal | str | datetime.date
COMMENT_TOKENS = ("SQL_COMMENT", "C_COMMENT")


@cache
def templates() -> dict[str, str]:
    """label → template text, for q01 .. q22."""
    return {label: (QUERIES / f"{label}.sql").read_text(encoding="utf-8") for label in LABELS}


def literal(value: Value) -> str:
    """A value as a SQL literal: numbers bare, dates as `date '…'`, text quoted."""
    if isinstance(value, bool):
        raise TypeError("no boolean parameter in TPC-H")
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return f"date '{value.isoformat()}'"
    return "'" + value.replace("'", "''") + "'"


def substitute(template: str, values: dict[str, Value], where: str = "<template>") -> str:
    """The template with each `:name` replaced by its value's literal, the leading comment
    dropped. A parameter without a value, or a value without a parameter, is an InputError."""
    tokens = scan(template)
    pieces: list[str] = []
    used: set[str] = set()
    missing: list[Problem] = []
    start = next((t.start for t in tokens if t.name not in COMMENT_TOKENS), len(template))
    position = start
    for colon, name in itertools.pairwise(tokens):
        if template[colon.start:colon.end + 1] != ":" or name.start != colon.end + 1:
            continue
        parameter = template[name.start:name.end + 1]
        if parameter not in values:
            line = template.count("\n", 0, colon.start) + 1
            missing.append(Problem(where, f"parameter :{parameter} has no value", line=line))
            continue
        pieces.append(template[position:colon.start])
        pieces.append(literal(values[parameter]))
        position = name.end + 1
        used.add(parameter)
    unused = sorted(set(values) - used)
    if unused:
        missing.append(Problem(where, "values for parameters the template does not have: "
                               + ", ".join(unused)))
    if missing:
        raise InputError(missing)
    pieces.append(template[position:])
    return "".join(pieces).strip()


def _months_from(year: int, month: int, offset: int) -> datetime.date:
    index = year * 12 + month - 1 + offset
    return datetime.date(index // 12, index % 12 + 1, 1)


def parameters(rng: random.Random, scale: float) -> dict[str, dict[str, Value]]:
    """label → parameter values, drawn by clause 2.4's rules in query order."""
    d = distributions()
    nations = [name for name, _region in d["nations"]]
    regions = d["regions"]
    syl1, syl2, syl3 = d["type_syllables"]
    cont1, cont2 = d["container_syllables"]

    def year_start() -> datetime.date:
        return datetime.date(rng.randint(1993, 1997), 1, 1)

    def brand() -> str:
        return f"Brand#{rng.randint(1, 5)}{rng.randint(1, 5)}"

    def nation() -> str:
        return rng.choice(nations)

    values: dict[str, dict[str, Value]] = {}
    values["q01"] = {"delta": rng.randint(60, 120)}
    values["q02"] = {"size": rng.randint(1, 50), "type_pattern": "%" + rng.choice(syl3),
                     "region": rng.choice(regions)}
    values["q03"] = {"segment": rng.choice(d["segments"]),
                     "date": datetime.date(1995, 3, rng.randint(1, 31))}
    values["q04"] = {"date": _months_from(1993, 1, rng.randint(0, 57))}
    values["q05"] = {"region": rng.choice(regions), "date": year_start()}
    values["q06"] = {"date": year_start(), "discount": Decimal(rng.randint(2, 9)) / 100,
                     "quantity": rng.randint(24, 25)}
    first, second = rng.sample(nations, 2)
    values["q07"] = {"nation1": first, "nation2": second}
    index = rng.randrange(len(nations))
    values["q08"] = {"nation": nations[index], "region": regions[d["nations"][index][1]],
                     "type": f"{rng.choice(syl1)} {rng.choice(syl2)} {rng.choice(syl3)}"}
    values["q09"] = {"color_pattern": f"%{rng.choice(d['colors'])}%"}
    values["q10"] = {"date": _months_from(1993, 2, rng.randint(0, 23))}
    values["q11"] = {"nation": nation(), "fraction": Decimal("0.0001") / Decimal(str(scale))}
    first, second = rng.sample(d["ship_modes"], 2)
    values["q12"] = {"shipmode1": first, "shipmode2": second, "date": year_start()}
    values["q13"] = {"comment_pattern":
                     f"%{rng.choice(d['q13_words1'])}%{rng.choice(d['q13_words2'])}%"}
    values["q14"] = {"date": _months_from(1993, 1, rng.randint(0, 59))}
    values["q15"] = {"date": _months_from(1993, 1, rng.randint(0, 57))}
    sizes = rng.sample(range(1, 51), 8)
    values["q16"] = {"brand": brand(), "type_pattern": f"{rng.choice(syl1)} {rng.choice(syl2)}%",
                     **{f"size{n}": size for n, size in enumerate(sizes, start=1)}}
    values["q17"] = {"brand": brand(), "container": f"{rng.choice(cont1)} {rng.choice(cont2)}"}
    values["q18"] = {"quantity": rng.randint(312, 315)}
    values["q19"] = {"quantity1": rng.randint(1, 10), "quantity2": rng.randint(10, 20),
                     "quantity3": rng.randint(20, 30),
                     "brand1": brand(), "brand2": brand(), "brand3": brand()}
    values["q20"] = {"color_prefix": f"{rng.choice(d['colors'])}%", "date": year_start(),
                     "nation": nation()}
    values["q21"] = {"nation": nation()}
    codes = rng.sample(range(10, 35), 7)
    values["q22"] = {f"code{n}": str(code) for n, code in enumerate(codes, start=1)}
    return values


def queries(seed: int, stream: int = 1, *, scale: float = 1.0) -> list[tuple[str, str]]:
    """(label, SQL) for q01 .. q22 with parameters drawn for (seed, stream); `scale` is the
    scale factor the data was loaded at (only Q11's fraction depends on it)."""
    rng = random.Random(f"tpch-workload-{seed}-{stream}")
    values = parameters(rng, scale)
    return [(label, substitute(text, values[label], where=str(QUERIES / f"{label}.sql")))
            for label, text in templates().items()]


def write_workload(path: str | Path, seed: int, *, stream: int = 1, scale: float = 1.0,
                   weights: dict[str, float] | None = None) -> Path:
    """Write the substituted queries in dbarch's workload format: each statement after a
    `-- name: qNN` line (and `-- weight: N` when `weights` gives one), ended by `;`."""
    target = Path(path)
    lines = [f"-- TPC-H-shaped workload: seed {seed}, stream {stream}, scale factor {scale:g}",
             "-- (bench/tpch/workload.py; run with the data's schema first on the search_path)",
             ""]
    for label, text in queries(seed, stream, scale=scale):
        lines.append(f"-- name: {label}")
        if weights and label in weights:
            lines.append(f"-- weight: {weights[label]:g}")
        lines.append(text + ";")
        lines.append("")
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """The command line: write (or print) one stream of the workload."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stream", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="scale factor of the data (Q11's fraction)")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    if args.output:
        write_workload(args.output, args.seed, stream=args.stream, scale=args.scale)
        return 0
    for label, text in queries(args.seed, args.stream, scale=args.scale):
        print(f"-- name: {label}\n{text};\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
