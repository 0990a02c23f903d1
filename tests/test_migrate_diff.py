"""Schema A → schema B as operations (dbarch/migrate/diff.py). Pure: no server."""

from __future__ import annotations

import pytest

from dbarch.errors import InputError
from dbarch.migrate.diff import Renames, diff_schemas
from dbarch.migrate.ops import (
    AddColumn,
    AlterColumnType,
    CreateIndex,
    CreateTable,
    Diff,
    DropColumn,
    DropIndex,
    MoveColumns,
    RenameColumn,
    RenameIndex,
    RenameTable,
)
from dbarch.parse import parse_ddl


def diff(a: str, b: str, renames: list[str] | None = None, dialect: str = "postgresql") -> Diff:
    return diff_schemas(parse_ddl(a, dialect).schema, parse_ddl(b, dialect).schema,
                        Renames.parse(renames or []), dialect=dialect)


def kinds(d: Diff) -> list[str]:
    return [op.kind for op in d.operations]


USERS = "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);"
USERS_RENAMED = "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL);"


def test_identical_schemas_differ_in_nothing() -> None:
    d = diff(USERS, USERS)
    assert d.operations == [] and d.notes == [] and d.unplanned == []


def test_a_lost_and_a_gained_column_of_one_type_is_said_to_maybe_be_a_rename() -> None:
    d = diff(USERS, USERS_RENAMED)
    assert kinds(d) == ["AddColumn", "DropColumn"]
    (note,) = d.notes
    assert "--rename users.name=full_name" in note


def test_an_explicit_rename_carries_the_columns_index() -> None:
    a = USERS + "CREATE INDEX users_name_idx ON users (name);"
    b = USERS_RENAMED + "CREATE INDEX users_name_idx ON users (full_name);"
    d = diff(a, b, ["users.name=full_name"])
    (op,) = d.operations
    assert isinstance(op, RenameColumn) and (op.old.name, op.new.name) == ("name", "full_name")
    assert [i.name for i in op.attached_old.indexes] == ["users_name_idx"]
    assert [i.column_names for i in op.attached_new.indexes] == [["full_name"]]


def test_a_type_change_is_its_own_operation() -> None:
    d = diff("CREATE TABLE t (id int PRIMARY KEY, n integer NOT NULL DEFAULT 0);",
             "CREATE TABLE t (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0);")
    (op,) = d.operations
    assert isinstance(op, AlterColumnType) and (op.old.type.native, op.new.type.native) == (
        "integer", "bigint")


def test_a_table_rename_keeps_its_indexes_and_renames_them() -> None:
    d = diff("CREATE TABLE orders (id int PRIMARY KEY, t int);"
             "CREATE INDEX orders_t ON orders (t);",
             "CREATE TABLE purchases (id int PRIMARY KEY, t int); "
             "CREATE INDEX purchases_t ON purchases (t);", ["orders=purchases"])
    assert [type(op) for op in d.operations] == [RenameTable, RenameIndex]
    assert d.operations[1].describe() == "rename index orders_t of purchases to purchases_t"


def test_without_the_rename_a_table_is_dropped_and_another_created() -> None:
    d = diff("CREATE TABLE orders (id int PRIMARY KEY);",
             "CREATE TABLE purchases (id int PRIMARY KEY);")
    assert kinds(d) == ["CreateTable", "DropTable"]


def test_a_new_table_taking_over_columns_is_a_split() -> None:
    d = diff("CREATE TABLE users (id int PRIMARY KEY, email text, bio text, avatar text);",
             "CREATE TABLE users (id int PRIMARY KEY, email text);"
             "CREATE TABLE profiles (user_id int PRIMARY KEY REFERENCES users (id), bio text, "
             "avatar text);")
    (op,) = d.operations
    assert isinstance(op, MoveColumns)
    assert [c.name for c in op.columns] == ["bio", "avatar"]
    assert (op.key, op.ref, op.target.name) == (["user_id"], ["id"], "profiles")
    assert "split" in d.notes[0]


def test_a_new_table_without_a_one_to_one_key_is_not_a_split() -> None:
    d = diff("CREATE TABLE users (id int PRIMARY KEY, bio text);",
             "CREATE TABLE users (id int PRIMARY KEY);"
             "CREATE TABLE notes (id int PRIMARY KEY, user_id int REFERENCES users (id), "
             "bio text);")
    assert [type(op) for op in d.operations] == [CreateTable, DropColumn]


@pytest.mark.parametrize(("a", "b"), [
    ("CHECK (status IN ('a', 'b'))", "CHECK (status = ANY (ARRAY['a'::text, 'b'::text]))"),
    ("CHECK (n >= 0)", "CHECK ((n >= (0)::numeric))"),
])
def test_checks_compare_by_meaning_not_spelling(a: str, b: str) -> None:
    ddl = "CREATE TABLE t (id int PRIMARY KEY, status text, n numeric, CONSTRAINT c {});"
    assert diff(ddl.format(a), ddl.format(b)).operations == []


def test_defaults_compare_by_value_across_spellings() -> None:
    d = diff("CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 'x', n numeric DEFAULT 1);",
             "CREATE TABLE t (id int PRIMARY KEY, s text DEFAULT 'x'::text, "
             "n numeric DEFAULT 1.0);")
    assert d.operations == []


def test_an_index_whose_definition_changes_is_dropped_and_created() -> None:
    d = diff("CREATE TABLE t (id int PRIMARY KEY, a int, b int); CREATE INDEX t_i ON t (a);",
             "CREATE TABLE t (id int PRIMARY KEY, a int, b int); CREATE INDEX t_i ON t (a, b);")
    assert [type(op) for op in d.operations] == [CreateIndex, DropIndex]


def test_mysql_schemas_diff_too() -> None:
    d = diff("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10));",
             "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT NULL);", dialect="mysql")
    assert [type(op) for op in d.operations] == [AddColumn]


@pytest.mark.parametrize(("ddl", "blocked"), [
    ("CREATE TABLE t (id int PRIMARY KEY, a int); CREATE TABLE u (id int PRIMARY KEY, "
     "t_a int REFERENCES t (a))", "referenced by foreign keys"),
    ("CREATE TABLE t (id int PRIMARY KEY, a int)", "primary key"),
])
def test_what_expand_contract_cannot_retype_is_reported_not_planned(ddl: str, blocked: str) -> None:
    column = "a" if "referenced" in blocked else "id"
    retyped = ddl.replace(f"{column} int", f"{column} bigint", 1)
    d = diff(ddl, retyped)
    assert not any(isinstance(op, AlterColumnType) for op in d.operations)
    assert len(d.unplanned) == 1 and blocked in d.unplanned[0]


@pytest.mark.parametrize("spec", ["users.name", "users.name=a.b", "=x", "users.nope=full_name",
                                  "ghosts=users"])
def test_a_wrong_rename_is_an_input_error_naming_the_option(spec: str) -> None:
    with pytest.raises(InputError) as caught:
        diff(USERS, USERS_RENAMED, [spec])
    assert all(p.file == "--rename" for p in caught.value.problems)
