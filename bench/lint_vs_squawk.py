"""dbarch lint against squawk on the PostgreSQL lint corpus, rule by rule.

    pip install -e '.[bench]'          # squawk-cli: squawk's binary, from PyPI
    python bench/lint_vs_squawk.py     # the table, then every disagreement explained
    python bench/lint_vs_squawk.py --json

Both linters read every file of tests/fixtures/lint_corpus/postgresql/ with the options its
`-- lint-config:` line gives (the PostgreSQL version; a tool that wraps the file in a
transaction becomes squawk's --assume-in-transaction). dbarch runs in-process through
`lint_paths` with every rule switched on (squawk's defaults include its hygiene rules too),
reading the corpus's setup schema first as the history before the migration, the way
`dbarch lint migrations/` reads a folder; squawk runs as
`squawk --reporter json --pg-version N FILE`, one file at a time, as it is used.

squawk reports 0-based lines of the offending token; a finding belongs to the statement whose
lines contain it. Each squawk rule is mapped to the dbarch code(s) that cover the same danger
(SQUAWK_RULES); where one squawk rule covers several codes, the finding counts for the code
dbarch or the corpus annotation gives that statement. For every code the table shows the
statements both flag, only dbarch, only squawk, and how each tool fares against the corpus
annotations (for default-enabled rules: statements missed / flagged wrongly). Every group of
disagreements is printed with its explanation from EXPLANATIONS, reviewed against the cases;
a group with no explanation is printed as UNEXPLAINED, so a new disagreement cannot hide.

This is a benchmark: it prints and exits 0 when both tools ran; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dbarch.lint.context import migration_tools  # noqa: E402
from dbarch.lint.rule import all_rules  # noqa: E402
from dbarch.lint.run import lint_paths  # noqa: E402
from tests.test_lint_corpus import (  # noqa: E402
    CorpusFile,
    CorpusStatement,
    corpus_files,
    setup_path,
)

# squawk rule → the dbarch codes that cover the same danger (first = the usual one).
SQUAWK_RULES: dict[str, tuple[str, ...]] = {
    "require-concurrent-index-creation": ("L101",),
    "require-concurrent-index-deletion": ("L102",),
    "ban-concurrent-index-creation-in-transaction": ("L103",),
    "require-concurrent-reindex": ("L104",),
    "prefer-repack": ("L105", "L106"),
    "require-concurrent-partition-detach": ("L107",),
    "adding-foreign-key-constraint": ("L201",),
    "constraint-missing-not-valid": ("L202", "L203", "L201"),
    "disallowed-unique-constraint": ("L204",),
    "adding-serial-primary-key-field": ("L204", "L304"),
    "adding-not-nullable-field": ("L301",),
    "adding-required-field": ("L302",),
    "adding-field-with-default": ("L303", "L304", "L305"),
    "changing-column-type": ("L306",),
    "renaming-column": ("L401",),
    "renaming-table": ("L402",),
    "renaming-object": ("L403", "L404"),
    "ban-drop-column": ("L405",),
    "ban-drop-table": ("L406",),
    "ban-drop-schema": ("L407",),
    "ban-drop-constraint": ("L408",),
    "ban-drop-not-null": ("L409",),
    "ban-drop-default": ("L410",),
    "require-enum-value-ordering": ("L411",),
    "require-lock-timeout": ("L601",),
    "require-timeout-settings": ("L601", "L602"),
    "require-statement-timeout": ("L602",),
    "prefer-bigint-over-int": ("L901",),
    "prefer-bigint-over-smallint": ("L901",),
    "prefer-identity": ("L902",),
    "prefer-text-field": ("L903",),
    "ban-char-field": ("L903",),
    "prefer-timestamp-tz": ("L904",),
    "identifier-too-long": ("L905",),
    "prefer-robust-stmts": ("L906",),
}

DBARCH = "dbarch"
SQUAWK = "squawk"

# Why the tools disagree, by (code, the tool that alone flags the statements). Each was reviewed
# against the corpus cases the run lists under it; the PostgreSQL facts were checked on the
# server by tests/test_lint_corpus.py (failures, rewrites by relfilenode, locks in pg_locks).
EXPLANATIONS: dict[tuple[str, str], str] = {
    ("L101", SQUAWK): "the index is on a table created earlier in the same migration (empty, "
                      "unused), or dbarch's finding was suppressed by a dbarch-ignore with its "
                      "reason",
    ("L103", DBARCH): "squawk checks only CREATE INDEX CONCURRENTLY; DROP INDEX CONCURRENTLY and "
                      "REINDEX CONCURRENTLY fail in a transaction block too",
    ("L105", DBARCH): "squawk 2.70 has no VACUUM FULL rule (its opt-in prefer-repack stays silent "
                      "here too); VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
    ("L106", DBARCH): "squawk 2.70 has no CLUSTER rule; CLUSTER rewrites the table under ACCESS "
                      "EXCLUSIVE",
    ("L107", SQUAWK): "the file targets PostgreSQL 10 (--pg-version 10): DETACH PARTITION "
                      "CONCURRENTLY exists from 14 only, yet squawk suggests it",
    ("L201", SQUAWK): "the referencing table was created earlier in the same migration: it is "
                      "empty, so there is nothing to validate",
    ("L202", SQUAWK): "squawk's constraint-missing-not-valid also fires on UNIQUE and PRIMARY KEY, "
                      "which PostgreSQL cannot add NOT VALID (L204 gives the USING INDEX recipe), "
                      "and on constraints of tables created in the same migration",
    ("L204", SQUAWK): "the table was created earlier in the same migration: the index builds on "
                      "an empty table",
    ("L301", SQUAWK): "a table created in the same migration, or a column guarded by a validated "
                      "CHECK (col IS NOT NULL): PostgreSQL 12+ skips the scan",
    ("L302", SQUAWK): "the table was created earlier in the same migration: no rows, so the NOT "
                      "NULL column without a default cannot fail",
    ("L303", SQUAWK): "DEFAULT NULL (nothing written, on any version), DEFAULT CURRENT_DATE "
                      "(stable: stored once, no rewrite on 11+), or a table created in the same "
                      "migration",
    ("L304", DBARCH): "ADD COLUMN bigserial fills every existing row from the sequence, a "
                      "rewrite; squawk only suggests an identity column (prefer-identity)",
    ("L306", SQUAWK): "changes PostgreSQL makes without a rewrite (varchar widened or to text, "
                      "text to varchar, numeric precision at the same scale, cidr to inet, longer "
                      "varbit, Django's USING col::varchar(n), timestamptz under UTC on an "
                      "unindexed column), or a table created in the same migration",
    ("L401", SQUAWK): "the table was created earlier in the same migration: no code uses the old "
                      "name",
    ("L402", SQUAWK): "the table was created earlier in the same migration: no code uses the old "
                      "name",
    ("L403", SQUAWK): "squawk's renaming-object also fires on ALTER INDEX ... RENAME and RENAME "
                      "CONSTRAINT; no query names an index or a constraint",
    ("L405", SQUAWK): "dbarch's finding was suppressed by a dbarch-ignore comment with its "
                      "reason (squawk has its own squawk-ignore)",
    ("L406", SQUAWK): "DROP TABLE of a scratch table created earlier in the same migration",
    ("L408", SQUAWK): "the dropped CHECK (col IS NOT NULL) is the NOT NULL recipe's helper, "
                      "redundant once SET NOT NULL ran",
    ("L410", SQUAWK): "Django's DROP DEFAULT right after adding the column with that default in "
                      "the same migration: no code relies on it yet",
    ("L411", DBARCH): "ADD VALUE ... BEFORE/AFTER changes the sort order that ORDER BY and "
                      "comparisons rely on; squawk's require-enum-value-ordering asks for exactly "
                      "that",
    ("L411", SQUAWK): "squawk wants every ADD VALUE to name its position; appending at the end, "
                      "outside a transaction, keeps the order and is usable at once",
    ("L501", DBARCH): "squawk 2.70 has no json-versus-jsonb rule",
    ("L502", DBARCH): "squawk 2.70 has no rule for SET LOGGED/UNLOGGED, which rewrite the table "
                      "under ACCESS EXCLUSIVE",
    ("L503", DBARCH): "squawk 2.70 has no CREATE TRIGGER rule; the trigger's SHARE ROW EXCLUSIVE "
                      "lock blocks writes",
    ("L504", DBARCH): "squawk 2.70 has no rule on UPDATE or DELETE without WHERE",
    ("L505", DBARCH): "squawk 2.70 has no rule on backfills that touch an unbounded set of rows "
                      "in one UPDATE",
    ("L601", DBARCH): "squawk reports a missing lock_timeout once per file, at the first "
                      "statement needing it; dbarch names every statement that would queue "
                      "traffic, with its lock and table",
    ("L601", SQUAWK): "CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE and CREATE TYPE "
                      "locks no table: neither blocks reads or writes",
    ("L602", DBARCH): "squawk reports a missing statement_timeout once per file; dbarch per "
                      "statement that holds a blocking lock",
    ("L602", SQUAWK): "CREATE INDEX CONCURRENTLY and CREATE TYPE block no reads or writes, so "
                      "dbarch asks no statement_timeout for them",
    ("L906", DBARCH): "squawk skips statements inside a transaction (BEGIN/COMMIT or a wrapping "
                      "tool), which roll back whole and rerun, the sounder view; and DROP SCHEMA",
    ("L906", SQUAWK): "squawk also wants ALTER TABLE forms PostgreSQL has no IF [NOT] EXISTS for "
                      "(ADD CONSTRAINT, ALTER COLUMN, RENAME, DETACH); dbarch's L906 asks only "
                      "where the syntax exists",
}


@dataclass
class Row:
    """One dbarch code: which statements each tool flags, and the corpus's verdict."""

    code: str
    name: str
    default_enabled: bool
    squawk_rules: set[str] = field(default_factory=set)
    both: list[str] = field(default_factory=list)
    only: dict[str, list[str]] = field(default_factory=lambda: {DBARCH: [], SQUAWK: []})
    missed: dict[str, int] = field(default_factory=lambda: {DBARCH: 0, SQUAWK: 0})
    wrong: dict[str, int] = field(default_factory=lambda: {DBARCH: 0, SQUAWK: 0})


def run_squawk(squawk: str, corpus: CorpusFile) -> list[dict]:
    """squawk's JSON findings for one corpus file, with that file's options."""
    command = [squawk, "--reporter", "json", f"--pg-version={corpus.pg_version}.0"]
    if migration_tools()[corpus.tool]["wraps"]:
        command.append("--assume-in-transaction")
    command.append(corpus.path.name)
    done = subprocess.run(command, cwd=corpus.path.parent, capture_output=True, text=True,
                          check=False)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"squawk failed on {corpus.path.name} ({done.returncode}): "
                           f"{done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout)


def run_dbarch(corpus: CorpusFile) -> dict[int, set[str]]:
    """dbarch's unsuppressed codes by statement line, every rule on, the file's options.

    The setup schema is linted first in the same run, as the earlier migrations of a folder
    are (its findings are dropped): dbarch is meant to read the history, squawk reads a file.
    """
    setup = setup_path("postgresql")
    report = lint_paths([str(setup), str(corpus.path)], corpus.config(enable=["all"]))
    found: dict[int, set[str]] = defaultdict(set)
    for finding in report.active:
        if Path(finding.file) == corpus.path:
            found[finding.line].add(finding.code)
    if report.problems:
        raise RuntimeError(f"dbarch could not read {corpus.path.name}: {report.problems}")
    return found


def statement_at(statements: list[CorpusStatement], line: int) -> CorpusStatement | None:
    """The statement whose lines contain a 1-based line."""
    for stmt in statements:
        if stmt.line <= line <= stmt.end_line:
            return stmt
    return None


def compare(squawk: str) -> tuple[list[Row], dict[str, list[str]], int]:
    """Both tools over the corpus: rows by code, squawk findings without a dbarch counterpart."""
    registry = all_rules()
    rows: dict[str, Row] = {}

    def row(code: str) -> Row:
        if code not in rows:
            rule = registry.rules.get(code)
            rows[code] = Row(code, rule.name if rule else "(not written yet)",
                             bool(rule and rule.default_enabled))
        return rows[code]

    for code in registry.rules:
        row(code)
    unmapped: dict[str, list[str]] = defaultdict(list)
    statements = 0
    for corpus in corpus_files("postgresql"):
        ours = run_dbarch(corpus)
        theirs: dict[int, set[str]] = defaultdict(set)
        for item in run_squawk(squawk, corpus):
            stmt = statement_at(corpus.statements, int(item["line"]) + 1)
            where = f"{corpus.path.name}:{stmt.line if stmt else int(item['line']) + 1}"
            codes = SQUAWK_RULES.get(item["rule_name"])
            if stmt is None or codes is None:
                unmapped[item["rule_name"]].append(where)
                continue
            chosen = next((c for c in codes if c in ours.get(stmt.line, set())), None) or \
                next((c for c in codes if c in stmt.expected), None) or codes[0]
            theirs[stmt.line].add(chosen)
            row(chosen).squawk_rules.add(item["rule_name"])
        for stmt in corpus.statements:
            statements += 1
            where = f"{corpus.path.name}:{stmt.line}"
            mine, other = ours.get(stmt.line, set()), theirs.get(stmt.line, set())
            for code in mine | other | stmt.expected:
                r = row(code)
                if code in mine and code in other:
                    r.both.append(where)
                elif code in mine:
                    r.only[DBARCH].append(where)
                elif code in other:
                    r.only[SQUAWK].append(where)
                if not r.default_enabled and code not in stmt.expected:
                    continue  # the corpus annotates default-enabled rules only
                for tool, flagged in ((DBARCH, mine), (SQUAWK, other)):
                    if code in stmt.expected and code not in flagged:
                        r.missed[tool] += 1
                    elif code in flagged and code not in stmt.expected:
                        r.wrong[tool] += 1
    return sorted(rows.values(), key=lambda r: r.code), dict(unmapped), statements


def squawk_version(squawk: str) -> str:
    done = subprocess.run([squawk, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "squawk (version unknown)"


def render(rows: list[Row], unmapped: dict[str, list[str]], statements: int,
           version: str) -> str:
    """The table and the explained disagreements, as text."""
    lines = [f"dbarch lint vs {version} on the PostgreSQL corpus ({statements} statements)",
             "", "corpus = statements missed / flagged wrongly against the annotations "
             "(default-enabled rules; '-' for rules off by default)", ""]
    header = (f"{'code':<5} {'name':<38} {'both':>4} {'dbarch':>6} {'squawk':>6}  "
              f"{'corpus dbarch':>13} {'corpus squawk':>13}  squawk rule(s)")
    lines += [header, "-" * len(header)]
    total = {"both": 0, DBARCH: 0, SQUAWK: 0}
    for r in rows:
        if not (r.both or r.only[DBARCH] or r.only[SQUAWK] or r.missed[DBARCH]):
            continue
        total["both"] += len(r.both)
        total[DBARCH] += len(r.only[DBARCH])
        total[SQUAWK] += len(r.only[SQUAWK])
        verdict = {tool: f"{r.missed[tool]}/{r.wrong[tool]}" if r.default_enabled else "-"
                   for tool in (DBARCH, SQUAWK)}
        name = r.name + ("" if r.default_enabled else " (off by default)")
        lines.append(f"{r.code:<5} {name[:38]:<38} {len(r.both):>4} {len(r.only[DBARCH]):>6} "
                     f"{len(r.only[SQUAWK]):>6}  {verdict[DBARCH]:>13} {verdict[SQUAWK]:>13}  "
                     f"{', '.join(sorted(r.squawk_rules)) or '(none)'}")
    lines.append("-" * len(header))
    lines.append(f"{'all':<5} {'':<38} {total['both']:>4} {total[DBARCH]:>6} "
                 f"{total[SQUAWK]:>6}")
    for rule, where in sorted(unmapped.items()):
        lines.append(f"squawk only, no dbarch counterpart: {rule} ({len(where)}): "
                     f"{_places(where)}")
    lines += ["", "Disagreements", "============="]
    unexplained = 0
    for r in rows:
        for tool in (DBARCH, SQUAWK):
            cases = r.only[tool]
            if not cases:
                continue
            why = EXPLANATIONS.get((r.code, tool))
            if why is None:
                unexplained += 1
                why = "UNEXPLAINED"
            lines.append(f"{r.code} only {tool} ({len(cases)}): {why}")
            lines.append(f"    {_places(cases)}")
    if unexplained:
        lines.append(f"\n{unexplained} group(s) of disagreements have no explanation yet.")
    return "\n".join(lines)


def _places(where: list[str]) -> str:
    return ", ".join(where[:8]) + (f", … ({len(where) - 8} more)" if len(where) > 8 else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="results as JSON")
    args = parser.parse_args(argv)
    squawk = shutil.which("squawk")
    if squawk is None:
        print("squawk is not installed: pip install -e '.[bench]' (the squawk-cli package)",
              file=sys.stderr)
        return 2
    rows, unmapped, statements = compare(squawk)
    version = squawk_version(squawk)
    if args.json:
        print(json.dumps({
            "squawk": version,
            "statements": statements,
            "rules": [{"code": r.code, "name": r.name, "default_enabled": r.default_enabled,
                       "squawk_rules": sorted(r.squawk_rules), "both": r.both,
                       "only_dbarch": r.only[DBARCH], "only_squawk": r.only[SQUAWK],
                       "corpus_missed": r.missed, "corpus_wrong": r.wrong,
                       "explanations": {tool: EXPLANATIONS.get((r.code, tool))
                                        for tool in (DBARCH, SQUAWK) if r.only[tool]}}
                      for r in rows],
            "squawk_unmapped": unmapped,
        }, indent=2))
    else:
        print(render(rows, unmapped, statements, version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
