"""The MySQL script splitter both the DDL reader and the linter use."""

from __future__ import annotations

from dbarch.parse.mysql import parse_mysql
from dbarch.parse.split import mysql_spans

SCRIPT = (
    "CREATE TABLE t (a INT PRIMARY KEY, note VARCHAR(10) DEFAULT 'x;y');\n"
    "DELIMITER //\n"
    "CREATE TRIGGER t_ins BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.a = NEW.a;\nEND//\n"
    "DELIMITER ;\n"
    "CREATE INDEX t_note ON t (note);\n"
)


def test_semicolons_in_strings_and_delimiter_blocks() -> None:
    found = mysql_spans(SCRIPT)
    assert found.errors == []
    texts = [SCRIPT[a:b] for a, b in found.spans]
    assert len(texts) == 3
    assert texts[0].endswith("DEFAULT 'x;y')")
    assert texts[1].startswith("CREATE TRIGGER") and texts[1].endswith("END")
    assert texts[2] == "CREATE INDEX t_note ON t (note)"


def test_the_ddl_reader_reads_a_script_with_delimiter_blocks() -> None:
    schema, notices = parse_mysql(SCRIPT, "v1.sql")
    (table,) = schema.tables
    assert [c.name for c in table.columns] == ["a", "note"]
    assert [ix.name for ix in table.indexes] == ["t_note"]
    (notice,) = notices  # the trigger: read whole, skipped, and said so at its line
    assert notice.line == 3 and "skipped" in notice.message
