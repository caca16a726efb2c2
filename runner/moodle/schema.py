"""The Moodle tables this project reads, as Moodle's own PostgreSQL installer creates them.

Everything here is derived from the CSV facts in ``runner/moodle_facts/`` (taken from
Moodle 4.5's XMLDB install files and its PostgreSQL DDL generator), so the synthetic
database and the dbt sources match a real Moodle site column for column.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from psycopg2 import sql

DEFAULT_PREFIX = "mdl_"
FACTS_PACKAGE = "runner.moodle_facts"
# Moodle's generator builds physical names with the literal prefix ``mdl_``; a site
# installed with another prefix gets the same names with its own prefix.
FACTS_PREFIX = "mdl_"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# The 20 tables the project reads, in the order Moodle's install files list them.
REQUIRED_TABLES: tuple[str, ...] = (
    "logstore_standard_log",
    "context",
    "user",
    "course",
    "modules",
    "course_modules",
    "course_modules_completion",
    "grade_items",
    "grade_grades",
    "grade_categories",
    "grade_items_history",
    "grade_grades_history",
    "grade_categories_history",
    "forum",
    "forum_discussions",
    "forum_posts",
    "role",
    "role_assignments",
    "enrol",
    "user_enrolments",
)

# Tables the project reads when the site has them, and does without when it has not: a dump
# that leaves them out still builds, the models they feed are then empty. Assignment due dates
# and submissions, quiz close dates and attempts feed the deadline reminders; course completion
# criteria and completions feed the completion branch of the dropout target.
OPTIONAL_TABLES: tuple[str, ...] = (
    "assign",
    "assign_submission",
    "quiz",
    "quiz_attempts",
    "course_completion_criteria",
    "course_completions",
)


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # as Moodle emits it, e.g. BIGSERIAL, VARCHAR(100), NUMERIC(10,5)
    not_null: bool
    default: str | None  # SQL literal, or None when the column has no default

    @property
    def is_sequence(self) -> bool:
        return self.pg_type == "BIGSERIAL"

    @property
    def catalog_type(self) -> str:
        """The type as ``information_schema.columns`` / ``format_type`` reports it."""
        base = self.pg_type.lower()
        if base == "bigserial":
            return "bigint"
        if base.startswith("varchar"):
            return base.replace("varchar", "character varying")
        if base.startswith("numeric"):
            return base
        return {"double precision": "double precision", "real": "real"}.get(base, base)


@dataclass(frozen=True)
class Index:
    name: str  # physical name with the ``mdl_`` prefix of the facts
    unique: bool
    fields: tuple[str, ...]
    pattern_ops: bool  # the extra varchar_pattern_ops index Moodle adds for context.path


@dataclass(frozen=True)
class Table:
    name: str  # without prefix, e.g. ``logstore_standard_log``
    columns: tuple[Column, ...]
    primary_key_name: str
    indexes: tuple[Index, ...]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _read_facts(filename: str) -> list[dict[str, str]]:
    with resources.files(FACTS_PACKAGE).joinpath(filename).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _strip_prefix(physical: str) -> str:
    return physical[len(FACTS_PREFIX) :]


@cache
def moodle_tables() -> dict[str, Table]:
    """Every table the project reads (required, then optional), keyed by its unprefixed name."""
    columns: dict[str, list[Column]] = {}
    for row in _read_facts("schema_columns_postgres_derived.csv"):
        default = row["pg_default"] or None
        if row["pg_type"] == "BIGSERIAL":
            default = None
        columns.setdefault(_strip_prefix(row["table"]), []).append(
            Column(row["column"], row["pg_type"], row["not_null"] == "true", default)
        )

    primary_keys: dict[str, str] = {}
    indexes: dict[str, list[Index]] = {}
    for row in _read_facts("schema_pg_physical_names_derived.csv"):
        table = _strip_prefix(row["table"])
        kind = row["object_kind"]
        fields = tuple(field.strip() for field in row["fields"].split(","))
        if kind == "primary key constraint":
            primary_keys[table] = row["pg_object_name"]
            continue
        indexes.setdefault(table, []).append(
            Index(
                name=row["pg_object_name"],
                unique=row["unique"] == "true",
                fields=fields,
                pattern_ops="varchar_pattern_ops" in kind,
            )
        )

    return {
        name: Table(name, tuple(columns[name]), primary_keys[name], tuple(indexes.get(name, ())))
        for name in REQUIRED_TABLES + OPTIONAL_TABLES
    }


def validate_identifier(value: str, what: str) -> str:
    """Refuse anything but a plain lower-case SQL identifier (no quotes, no semicolons)."""
    if not IDENTIFIER.match(value):
        raise ValueError(
            f"{what} {value!r} is not a plain identifier "
            "(lower-case letters, digits and underscores, not starting with a digit)"
        )
    return value


def validate_prefix(prefix: str) -> str:
    if prefix and not re.match(r"^[a-z][a-z0-9_]{0,20}$", prefix):
        raise ValueError(
            f"table prefix {prefix!r} is not valid: lower-case letters, digits and underscores"
        )
    return prefix


def physical_name(object_name: str, prefix: str) -> str:
    """Rename a fact's ``mdl_``-prefixed object name for a site with another prefix."""
    return prefix + _strip_prefix(object_name)


def create_table_statements(
    table: Table, schema: str, prefix: str = DEFAULT_PREFIX
) -> list[sql.Composed]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements, as Moodle's installer writes them."""
    validate_identifier(schema, "schema")
    validate_prefix(prefix)
    qualified = sql.Identifier(schema, prefix + table.name)
    column_sql = []
    for column in table.columns:
        if column.is_sequence:
            column_sql.append(sql.SQL("{} BIGSERIAL").format(sql.Identifier(column.name)))
            continue
        parts = [sql.Identifier(column.name), sql.SQL(column.pg_type)]
        if column.not_null:
            parts.append(sql.SQL("NOT NULL"))
        if column.default is not None:
            parts.append(sql.SQL("DEFAULT " + column.default))
        column_sql.append(sql.SQL(" ").join(parts))
    column_sql.append(
        sql.SQL("CONSTRAINT {} PRIMARY KEY (id)").format(
            sql.Identifier(physical_name(table.primary_key_name, prefix))
        )
    )
    statements = [
        sql.SQL("CREATE TABLE {} (\n    {}\n)").format(
            qualified, sql.SQL(",\n    ").join(column_sql)
        )
    ]
    for index in table.indexes:
        fields = sql.SQL(", ").join(sql.Identifier(field) for field in index.fields)
        if index.pattern_ops:
            fields = sql.SQL("{} varchar_pattern_ops").format(sql.Identifier(index.fields[0]))
        statements.append(
            sql.SQL("CREATE {unique}INDEX {name} ON {table} ({fields})").format(
                unique=sql.SQL("UNIQUE " if index.unique else ""),
                name=sql.Identifier(physical_name(index.name, prefix)),
                table=qualified,
                fields=fields,
            )
        )
    return statements


def table_index_statements(
    table: Table, schema: str, prefix: str = DEFAULT_PREFIX
) -> list[sql.Composed]:
    """Only the index statements, for loaders that build indexes after a bulk COPY."""
    return create_table_statements(table, schema, prefix)[1:]


def create_schema(
    connection,
    schema: str = "public",
    prefix: str = DEFAULT_PREFIX,
    *,
    with_indexes: bool = True,
    replace: bool = False,
) -> None:
    """Create every Moodle table the project reads in ``schema`` (in one transaction)."""
    validate_identifier(schema, "schema")
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for table in moodle_tables().values():
            if replace:
                cursor.execute(
                    sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema, prefix + table.name)
                    )
                )
            statements = create_table_statements(table, schema, prefix)
            for statement in statements if with_indexes else statements[:1]:
                cursor.execute(statement)
    connection.commit()


def missing_tables(connection, schema: str = "public", prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Required tables (with prefix) that ``schema`` lacks, in the order of REQUIRED_TABLES."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (schema,),
        )
        present = {row[0] for row in cursor.fetchall()}
    return [prefix + name for name in REQUIRED_TABLES if prefix + name not in present]
