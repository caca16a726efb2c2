"""The Parquet export of an optional Moodle table the source database lacks.

Spark and DuckDB read each Moodle table through a view over its Parquet folder, created when a
build starts; a view over a folder that does not exist fails. So an absent optional table is
exported as one Parquet file with no row and the columns and types Moodle 4.5 gives the table
(runner/moodle_facts), the same the export would write for the table itself, empty. The
staging models over it are then empty on every engine, as on PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from runner.moodle.parquet_source import (
    FOLDER_MODE,
    PART_NAME,
    ExportedColumn,
    ExportedTable,
    arrow_column,
)
from runner.moodle.schema import Column, moodle_tables

_NUMERIC = re.compile(r"^NUMERIC\((\d+)(?:,\s*(\d+))?\)$")
# Moodle's PostgreSQL types (schema_columns_postgres_derived.csv) as information_schema names.
_CATALOG_NAMES = {
    "BIGSERIAL": "bigint",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TEXT": "text",
    "DOUBLE PRECISION": "double precision",
    "REAL": "real",
}


def fact_column(column: Column) -> ExportedColumn:
    """The exported column of a Moodle column, as if read from a real table's catalog."""
    numeric = _NUMERIC.match(column.pg_type)
    if numeric:
        return arrow_column(column.name, "numeric", int(numeric[1]), int(numeric[2] or 0))
    if column.pg_type.startswith("VARCHAR"):
        return arrow_column(column.name, "character varying", None, None)
    return arrow_column(column.name, _CATALOG_NAMES[column.pg_type], None, None)


def write_absent_table(name: str, physical_name: str, folder: Path) -> ExportedTable:
    """One empty Parquet file in ``folder`` with the columns of Moodle's table ``name``."""
    columns = tuple(fact_column(column) for column in moodle_tables()[name].columns)
    schema = pa.schema(pa.field(column.name, column.arrow_type) for column in columns)
    folder.mkdir(mode=FOLDER_MODE)
    path = folder / PART_NAME.format(index=0)
    pq.write_table(schema.empty_table(), path, compression="zstd")
    return ExportedTable(physical_name, 0, 1, path.stat().st_size, columns)
