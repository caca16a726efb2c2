"""The generated DDL matches Moodle's own facts: every column, type, NOT NULL and index."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from runner.moodle.schema import (
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    create_schema,
    missing_tables,
    moodle_tables,
    validate_identifier,
)


def _facts(name: str) -> list[dict[str, str]]:
    with resources.files("runner.moodle_facts").joinpath(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _expected_catalog_type(pg_type: str) -> str:
    lowered = pg_type.lower()
    if lowered == "bigserial":
        return "bigint"
    if lowered.startswith("varchar"):
        return lowered.replace("varchar", "character varying")
    return lowered.replace(", ", ",")


def test_facts_cover_every_required_table_and_column() -> None:
    facts = _facts("schema_columns.csv")
    assert {row["table"] for row in facts} == {
        "mdl_" + name for name in REQUIRED_TABLES + OPTIONAL_TABLES
    }
    tables = moodle_tables()
    # 412 columns of the 20 required tables, 120 of the 6 optional ones.
    assert sum(len(table.columns) for table in tables.values()) == len(facts) == 412 + 120
    optional = [row for row in facts if row["table"][4:] in OPTIONAL_TABLES]
    assert len(optional) == 120


@pytest.mark.parametrize("schema,prefix", [("public", "mdl_"), ("moodle_raw", "m45_")])
def test_created_schema_matches_moodle_facts(empty_database, schema: str, prefix: str) -> None:
    connection = empty_database.connect()
    create_schema(connection, schema, prefix)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
            from pg_attribute as a
            join pg_class as c on c.oid = a.attrelid
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = %s and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
            """,
            (schema,),
        )
        actual = {(row[0], row[1]): (row[2], row[3]) for row in cursor.fetchall()}
        cursor.execute("select indexname from pg_indexes where schemaname = %s", (schema,))
        index_names = {row[0] for row in cursor.fetchall()}
    expected = {
        (prefix + row["table"][4:], row["column"]): (
            _expected_catalog_type(row["pg_type"]),
            row["not_null"] == "true",
        )
        for row in _facts("schema_columns_postgres_derived.csv")
    }
    assert actual == expected
    physical = {
        prefix + row["pg_object_name"][4:] for row in _facts("schema_pg_physical_names_derived.csv")
    }
    assert index_names == physical
    assert missing_tables(connection, schema, prefix) == []
    connection.close()


def test_missing_tables_are_named(empty_database) -> None:
    connection = empty_database.connect()
    create_schema(connection, "public", "mdl_")
    with connection.cursor() as cursor:
        cursor.execute("drop table mdl_forum_posts")
        cursor.execute("drop table mdl_role")
    connection.commit()
    assert missing_tables(connection, "public", "mdl_") == ["mdl_forum_posts", "mdl_role"]
    connection.close()


@pytest.mark.parametrize("bad", ["Public", "a;drop table x", 'x"y', "1abc", ""])
def test_schema_names_that_are_not_plain_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a plain identifier"):
        validate_identifier(bad, "schema")
