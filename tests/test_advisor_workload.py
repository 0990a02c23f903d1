"""The advisor's workload readers: SQL files, pg_stat_statements rows, PostgreSQL logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbarch.advisor.workload import read_log, read_workload_file, workload_from_statements
from dbarch.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "advisor"


def _write(tmp_path: Path, text: str, name: str = "q.sql") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ SQL files


def test_file_weights_labels_and_grouping() -> None:
    workload = read_workload_file(FIXTURES / "workload.sql")
    by_label = {q.label: q for q in workload.queries}
    assert list(by_label) == ["by_email", "workload.sql:9", "close", "workload.sql:20",
                              "workload.sql:21"]
    assert by_label["by_email"].weight == 50
    # the two orders queries differ only in constants: one shape, weights 2.5 + 1
    orders = by_label["workload.sql:9"]
    assert orders.weight == 3.5
    assert orders.sql.startswith("SELECT * FROM orders WHERE customer_id = 42")
    assert [s.rsplit(":", 1)[1] for s in orders.sources] == ["9", "12"]
    assert by_label["close"].weight == 3 and by_label["close"].kind == "update"
    assert by_label["close"].parameters == 1
    assert by_label["workload.sql:20"].kind == "insert"
    assert workload.source.endswith("workload.sql")


def test_in_lists_of_other_lengths_are_other_shapes(tmp_path: Path) -> None:
    # pglast's fingerprint alone makes these one shape; a sharded table routes them apart
    path = _write(tmp_path, "SELECT * FROM t WHERE a = 42;\n"
                            "SELECT * FROM t WHERE a IN (5);\n"
                            "SELECT * FROM t WHERE a IN (1, 2);\n"
                            "SELECT * FROM t WHERE a IN (3, 4);\n"
                            "SELECT * FROM t WHERE a IN (1, 2, 3);\n")
    shapes = [(q.sql.split("WHERE ")[1], q.weight, q.fingerprint.partition("/")[2])
              for q in read_workload_file(path).queries]
    assert shapes == [("a = 42", 2, ""), ("a IN (1, 2)", 2, "in:2"),
                      ("a IN (1, 2, 3)", 1, "in:3")]


def test_file_tables_as_written_without_ctes() -> None:
    queries = read_workload_file(FIXTURES / "workload.sql").queries
    assert queries[0].tables == ("users",)
    assert queries[-1].tables == ("orders", "public.customers")  # `recent` is a CTE
    assert queries[-1].kind == "select"


def test_file_skips_utility_and_ddl_with_located_notices() -> None:
    problems = read_workload_file(FIXTURES / "workload.sql").problems
    assert [(p.line, p.message.split(" is ")[0]) for p in problems] == [
        (2, "skipped: SET"), (18, "skipped: BEGIN"), (19, "skipped: CREATE"),
        (23, "skipped: COMMIT")]
    assert "DDL" in problems[2].message


def test_file_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT 1 FROM t;\n\nSELECT a\n  FROM t WHERE WHERE a = 1;\n")
    with pytest.raises(InputError) as caught:
        read_workload_file(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 4, 16)
    assert 'near "WHERE"' in problem.message


def test_file_syntax_error_skipped_when_not_strict(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT a FROM t WHERE a = 1;\n"
                            "SELECT a FROM t WHERE AND;\nSELECT b FROM u;\n")
    workload = read_workload_file(path, strict=False)
    assert [q.tables for q in workload.queries] == [("t",), ("u",)]
    (problem,) = workload.problems
    assert (problem.line, problem.column) == (2, 23)


def test_file_unterminated_string_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT 1 FROM t;\nSELECT * FROM t WHERE a = 'open;\n")
    with pytest.raises(InputError) as caught:
        read_workload_file(path)
    assert (caught.value.problems[0].line, caught.value.problems[0].column) == (2, 27)


def test_file_bad_weight_is_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT 1 FROM t;\n-- weight: lots\nSELECT 2 FROM u;\n")
    with pytest.raises(InputError) as caught:
        read_workload_file(path)
    assert caught.value.problems[0].line == 2


def test_file_comment_after_a_statement_is_not_the_next_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT a FROM t; -- weight: 9\nSELECT b FROM u;\n")
    assert [q.weight for q in read_workload_file(path).queries] == [1.0, 1.0]


def test_file_non_ascii_text_keeps_positions(tmp_path: Path) -> None:
    path = _write(tmp_path, "SELECT 'héhé' FROM t;\n-- weight: 4\nSELECT 'é' FROM u WHERE x = 1;\n")
    queries = read_workload_file(path).queries
    assert queries[1].weight == 4 and queries[1].label == "q.sql:3"
    assert queries[1].sql == "SELECT 'é' FROM u WHERE x = 1"


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_workload_file(tmp_path / "nope.sql")


# ---------------------------------------------------------------------- pg_stat_statements


def test_statements_rows_weight_mean_and_parameters() -> None:
    rows = [
        (101, "SELECT * FROM orders WHERE customer_id = $1 AND status = $2", 1000, 2500.0),
        (102, "SELECT * FROM orders WHERE customer_id = $1 AND status = $2", 500, 500.0),
        (103, "UPDATE orders SET status = $1 WHERE id = $2", 40, 8.0),
        (104, "BEGIN", 5000, 10.0),
        (105, "SELECT datname, count(*) FROM pg_stat_activity GROUP BY datname", 60, 6.0),
        (106, "SELECT table_name FROM information_schema.tables", 3, 1.0),
        (107, "SELECT * FROM orders WHERE id IN ($1, $2", 9, 1.0),  # truncated text
        (108, "<insufficient privilege>", 4, 1.0),
        (109, "SELECT $1", 70000, 30.0),
    ]
    workload = workload_from_statements(rows)
    first, update = workload.queries
    assert first.weight == 1500 and first.parameters == 2
    assert first.mean_ms == pytest.approx(3000.0 / 1500)
    assert first.sources == ["pg_stat_statements queryid 101", "pg_stat_statements queryid 102"]
    assert first.label == "queryid 101"
    assert update.kind == "update" and update.mean_ms == pytest.approx(0.2)
    skipped = {p.file.rsplit(" ", 1)[1]: p.message for p in workload.problems}
    assert set(skipped) == {"104", "105", "106", "107", "108", "109"}
    assert "system catalog" in skipped["105"] and "system catalog" in skipped["106"]
    assert "syntax error" in skipped["107"] and "reads no table" in skipped["109"]


# ----------------------------------------------------------------------- PostgreSQL logs


def test_log_multiline_statements_grouped_with_mean_duration() -> None:
    workload = read_log(FIXTURES / "slow_log.txt")
    orders = workload.queries[0]
    assert orders.sql == "SELECT * FROM orders\nWHERE customer_id = 42\nORDER BY created_at DESC"
    assert orders.weight == 2 and orders.mean_ms == pytest.approx(10.0)
    assert orders.label == "slow_log.txt:1"


def test_log_execute_with_parameters_substituted() -> None:
    users = read_log(FIXTURES / "slow_log.txt").queries[1]
    # parse and bind stages and the portal fetch are not executions: two executes remain
    assert users.weight == 2 and users.mean_ms == pytest.approx(1.0)
    assert users.sql == ("SELECT id FROM users WHERE email = 'o''brien@example.com' "
                         "AND active = 't'")
    assert users.parameters == 0 and users.tables == ("users",)


def test_log_execute_without_detail_keeps_placeholders() -> None:
    delete = read_log(FIXTURES / "slow_log.txt").queries[2]
    assert (delete.kind, delete.parameters, delete.sql) == (
        "delete", 1, "DELETE FROM sessions WHERE expires_at < $1")


def test_log_skips_utility_and_catalog_once_each() -> None:
    problems = read_log(FIXTURES / "slow_log.txt").problems
    assert [(p.line, "BEGIN" in p.message, "catalog" in p.message) for p in problems] == [
        (13, True, False), (14, False, True)]


def test_log_other_prefix() -> None:
    workload = read_log(FIXTURES / "slow_log_custom_prefix.txt")
    (products,) = workload.queries
    assert products.weight == 2 and products.mean_ms == pytest.approx(5.0)
    assert products.sql == "SELECT name FROM products WHERE sku = 'A-1'"


def test_log_parameter_placeholder_inside_a_string_stays(tmp_path: Path) -> None:
    path = _write(tmp_path, (
        "2024-05-01 10:00:00.000 UTC [1] LOG:  duration: 1.0 ms  execute <unnamed>: "
        "SELECT a FROM t WHERE b = '$1' AND c = $1\n"
        "2024-05-01 10:00:00.000 UTC [1] DETAIL:  parameters: $1 = '5'\n"), "p.log")
    (query,) = read_log(path).queries
    assert query.sql == "SELECT a FROM t WHERE b = '$1' AND c = '5'"


def test_a_skipped_statement_is_named_by_its_first_keyword_past_comments() -> None:
    read = workload_from_statements([
        (7, "-- migration 12\n/* by the deploy tool */ CREATE INDEX i ON t (c)", 1, 1.0)])
    assert read.queries == []
    assert "CREATE is DDL" in str(read.problems[0])
