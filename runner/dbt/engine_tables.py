"""Read a table the dbt project built, from PostgreSQL, DuckDB or Spark, as comparable values.

Each engine's rows come through Apache Arrow (PostgreSQL's through psycopg2), then every value
is normalised so that the same fact compares equal whichever engine computed it: instants as
UTC wall-clock datetimes, fractional numbers as Decimals
rounded to ``DECIMAL_PLACES``, whole numbers as int, whatever width the engine chose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from psycopg2 import sql

from runner.dbt.engines import EngineTarget
from runner.moodle.schema import validate_identifier

# Fractions the marts round (hours to 2 places, shares to 4) agree to this many places.
DECIMAL_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)


@dataclass(frozen=True)
class TableRows:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def keyed(self, key_columns: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Rows as {key: {column: value}}; ValueError when a key repeats."""
        positions = [self.columns.index(column) for column in key_columns]
        keyed: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in self.rows:
            key = tuple(row[position] for position in positions)
            if key in keyed:
                raise ValueError(f"key {key} appears more than once")
            keyed[key] = dict(zip(self.columns, row, strict=True))
        return keyed


def normalised(value: Any) -> Any:
    """One value in the form every engine's value of the same fact takes (module docstring)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float | Decimal):
        exact = Decimal(str(value)) if isinstance(value, float) else value
        if exact == exact.to_integral_value():
            return int(exact)
        return exact.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # Spark has no zone-less timestamp in these marts: compare instants as UTC wall time.
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _rows_from_arrow(table) -> TableRows:
    columns = tuple(name.lower() for name in table.column_names)
    rows = [
        tuple(normalised(row[name]) for name in table.column_names) for row in table.to_pylist()
    ]
    return TableRows(columns, rows)


def read_tables(
    target: EngineTarget, relations: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], TableRows]:
    """Every row of each (schema, table) as the target's engine holds it, values normalised."""
    for schema, table in relations:
        validate_identifier(schema, "schema")
        validate_identifier(table, "table")
    if target.engine == "postgres":
        return {relation: _read_postgres(target, *relation) for relation in relations}
    if target.engine == "duckdb":
        return {relation: _read_duckdb(target, *relation) for relation in relations}
    with spark_session(target) as session:
        # Through Arrow, instants keep the session's zone (UTC) instead of the machine's.
        return {
            (schema, table): _rows_from_arrow(session.table(f"`{schema}`.`{table}`").toArrow())
            for schema, table in relations
        }


def _read_postgres(target: EngineTarget, schema: str, table: str) -> TableRows:
    assert target.moodle is not None
    connection = target.moodle.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")
            cursor.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, table)))
            columns = tuple(column.name for column in cursor.description)
            rows = [tuple(normalised(value) for value in row) for row in cursor.fetchall()]
    finally:
        connection.rollback()
        connection.close()
    return TableRows(columns, rows)


def _read_duckdb(target: EngineTarget, schema: str, table: str) -> TableRows:
    import duckdb

    connection = duckdb.connect(str(target.duckdb_path), read_only=True)
    try:
        # After connecting: the time zone setting needs the built-in ICU extension loaded.
        connection.execute("set TimeZone = 'UTC'")
        arrow = connection.sql(f'select * from "{schema}"."{table}"').to_arrow_table()
    finally:
        connection.close()
    return _rows_from_arrow(arrow)


@contextmanager
def spark_session(target: EngineTarget) -> Iterator[Any]:
    """A local Spark on the target's metastore and warehouse (no dbt build may run meanwhile:
    the embedded metastore admits one JVM at a time)."""
    from pyspark.sql import SparkSession

    spark_dir = target.spark_dir
    session = (
        SparkSession.builder.master(target.spark_master)
        .appName("moodle-analytics-read")
        .enableHiveSupport()
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()
