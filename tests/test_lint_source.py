"""Reading migration files: statements located at 1-based line:column, syntax errors located,
the rest of a broken file still read, and dbarch-ignore comments bound to the right statement."""

from __future__ import annotations

import pytest

from dbarch.lint.source import read_source


def test_postgresql_statements_are_located_after_comments_and_multibyte_text() -> None:
    text = "-- héllo wörld\nCREATE TABLE é (a int);\n\n/* c */ ALTER TABLE é\n  ADD COLUMN b int;\n"
    source = read_source("m.sql", text, "postgresql")
    assert [(s.line, s.column, s.end_line, s.kind) for s in source.statements] == [
        (2, 1, 2, "CreateStmt"),
        (4, 9, 5, "AlterTableStmt"),
    ]
    assert source.statements[1].text == "ALTER TABLE é\n  ADD COLUMN b int"
    assert source.problems == []


def test_a_syntax_error_is_located_and_the_other_statements_are_still_read() -> None:
    text = "CREATE TABLE t (a int);\nSELECT FROM WHERE;\nCREATE INDEX i ON t (a)"
    source = read_source("m.sql", text, "postgresql")
    assert [s.kind for s in source.statements] == ["CreateStmt", "IndexStmt"]
    assert source.statements[1].line == 3
    (problem,) = source.problems
    assert (problem.file, problem.line, problem.column) == ("m.sql", 2, 13)
    assert "WHERE" in problem.message


def test_last_statement_without_semicolon_keeps_its_own_text_after_a_syntax_error() -> None:
    source = read_source("m.sql", "SELEC 1;\nCREATE INDEX i ON t (a)", "postgresql")
    assert source.statements[0].text == "CREATE INDEX i ON t (a)"


def test_mysql_statements_are_located_and_kept_as_sqlglot_trees() -> None:
    text = "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=COPY;\n\nCREATE INDEX i ON t (a) LOCK=NONE;"
    source = read_source("m.sql", text, "mysql")
    assert [(s.line, s.column, s.kind) for s in source.statements] == [
        (1, 1, "Alter"), (3, 1, "Command"),
    ]


def test_mysql_syntax_error_is_located() -> None:
    source = read_source("m.sql", "SELECT 1;\nALTER TABLE WHERE;\nSELECT 2;", "mysql")
    assert len(source.statements) == 2
    (problem,) = source.problems
    assert problem.line == 2


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("-- dbarch-ignore: L101 table is empty\nCREATE INDEX i ON t (a);\n"
         "CREATE INDEX j ON t (b);", [True, False]),
        ("CREATE INDEX i ON t (a);\nCREATE INDEX j ON t (b); -- dbarch-ignore: L101 tiny\n",
         [False, True]),
        ("-- dbarch-ignore-file: index-not-concurrent one-off load\nCREATE INDEX i ON t (a);\n"
         "CREATE INDEX j ON t (b);", [True, True]),
    ],
)
def test_ignore_comments_cover_the_next_statement_or_the_file(
    text: str, covered: list[bool]
) -> None:
    source = read_source("m.sql", text, "postgresql")
    got = [bool(s.ignores) for s in source.statements]
    assert got == covered
    reasons = [r for s in source.statements for r in s.ignores.values()]
    assert all(reasons)


def test_ignore_without_a_reason_suppresses_nothing_and_says_so() -> None:
    source = read_source("m.sql", "-- dbarch-ignore: L101\nCREATE INDEX i ON t (a);", "postgresql")
    assert source.statements[0].ignores == {}
    (notice,) = source.notices
    assert notice.line == 1 and "reason" in notice.message


def test_several_rules_in_one_comment() -> None:
    text = "-- dbarch-ignore: L101, L601 built at night\nCREATE INDEX i ON t (a);"
    source = read_source("m.sql", text, "postgresql")
    assert source.statements[0].ignores == {"l101": "built at night", "l601": "built at night"}


def test_mysql_online_options_sqlglot_refuses_are_read_from_the_text() -> None:
    source = read_source("m.sql", "DROP INDEX i ON t ALGORITHM=INPLACE LOCK=NONE;", "mysql")
    assert source.problems == []
    assert [s.kind for s in source.statements] == ["Drop"]


def test_mysql_delimiter_blocks_hold_trigger_bodies_as_one_statement() -> None:
    text = (
        "ALTER TABLE t ADD COLUMN b INT;\n"
        "DELIMITER //\n"
        "CREATE TRIGGER t_sync BEFORE INSERT ON t FOR EACH ROW\n"
        "BEGIN\n  SET NEW.b = NEW.a;\nEND//\n"
        "DELIMITER ;\n"
        "ALTER TABLE t DROP COLUMN a;\n"
    )
    source = read_source("m.sql", text, "mysql")
    assert source.problems == []
    assert [(s.line, s.kind) for s in source.statements] == [
        (1, "Alter"), (3, "Command"), (8, "Alter"),
    ]
    assert source.statements[1].text.endswith("END")


def test_a_comment_between_the_last_token_and_the_semicolon_is_not_statement_text() -> None:
    text = "ALTER TABLE t ADD COLUMN c int -- the new column\n;\nSELECT 1 /* done */;"
    source = read_source("m.sql", text, "postgresql")
    assert [s.text for s in source.statements] == [
        "ALTER TABLE t ADD COLUMN c int", "SELECT 1",
    ]


def test_comments_inside_a_statement_stay() -> None:
    text = "CREATE TABLE t (\n  a int, -- the key\n  b text\n);"
    (stmt,) = read_source("m.sql", text, "postgresql").statements
    assert stmt.text == "CREATE TABLE t (\n  a int, -- the key\n  b text\n)"


def _located(text: str) -> list[tuple[object, ...]]:
    source = read_source("m.sql", text, "postgresql")
    assert source.problems == []
    return [(s.line, s.column, s.end_line, s.kind, s.text) for s in source.statements]


def _findings(text: str) -> list[dict[str, object]]:
    from dbarch.lint.config import LintConfig
    from dbarch.lint.run import lint_text

    report = lint_text(text, LintConfig(enable=["all"]), path="m.sql")
    return [finding.as_dict() for finding in report.findings]


def test_a_large_file_parsed_in_two_halves_reads_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from dbarch.lint import source as module

    # Multibyte text on both sides of the cut (the second half's byte offsets are shifted),
    # and statements whose fixes are cut out of their text by the tree's locations.
    text = "".join(f"UPDATE tä{n} SET a = 1 WHERE a = 'ü';\n"
                   f"ALTER TABLE \"tä{n}\"\n  ADD COLUMN b json DEFAULT '{{}}',\n"
                   f"  ALTER COLUMN a TYPE bigint USING a + 1;\n"
                   f"CREATE INDEX ä{n} ON tä{n} (a);\n" for n in range(40))
    assert module._cut(text) is None  # small: one piece
    monkeypatch.setattr(module, "SPLIT_BYTES", 100)
    assert len(module.parse_documents(text)) == 2
    halves, found = _located(text), _findings(text)
    monkeypatch.setattr(module, "SPLIT_BYTES", 10**9)
    assert len(module.parse_documents(text)) == 1
    assert halves == _located(text)
    assert found == _findings(text)
    assert {f["code"] for f in found} >= {"L101", "L306", "L501"} and all(f["fix"] for f in found
                                                                  if f["code"] == "L306")


def test_a_cut_inside_a_function_body_falls_back_to_one_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dbarch.lint import source as module

    body = "".join(f"  UPDATE t SET a = {n};\n" for n in range(30))
    text = ("CREATE TABLE t (a int);\n"
            f"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n{body}END $$;\n"
            "CREATE INDEX i ON t (a);\n")
    monkeypatch.setattr(module, "SPLIT_BYTES", 100)
    cut = module._cut(text)
    assert cut is not None and text.index("$$") < cut < text.rindex("$$")
    assert len(module.parse_documents(text)) == 1
    assert [kind for *_, kind, _ in _located(text)] == [
        "CreateStmt", "CreateFunctionStmt", "IndexStmt"]
