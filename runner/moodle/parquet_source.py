"""Export the Moodle tables the project reads from PostgreSQL to Parquet, for Spark and DuckDB.

One folder per table, named as the table is (``mdl_user/``), holding part files of at most
``rows_per_file`` rows; Spark reads such a folder as one table and DuckDB reads its
``*.parquet``. The rows stream out of PostgreSQL with COPY into pyarrow's streaming CSV reader
and are written batch by batch, so memory stays flat whatever the size of the log.

Every table comes from one read-only REPEATABLE READ snapshot, so the tables agree with each
other. The export is written into a hidden sibling folder and swapped into place only when
complete (with ``_manifest.json`` listing tables, rows and column types): a reader sees the
previous export or the new one, never half of one.

Column types follow PostgreSQL's catalog, not the values: bigint -> int64, integer -> int32,
smallint -> int16, numeric(p, s) -> decimal128(p, s) (exact, as Moodle declares grades),
real/double -> float32/float64, text and varchar -> string, boolean, date and timestamps as
themselves. Anything else is exported as its text form.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg2 import sql

from runner.moodle.schema import (
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    Column,
    missing_tables,
    moodle_tables,
    validate_identifier,
    validate_prefix,
)
from runner.paths import DEFAULT_PARQUET_DIR
from runner.postgres.connection import ConnectionInfo
from runner.processes import process_alive
from runner.user_errors import UserError

MANIFEST_NAME = "_manifest.json"
PART_NAME = "part-{index:05d}.parquet"
# Left behind by exports that were killed: .<folder>.<pid>.partial and .<folder>.<pid>.old
LEFTOVER_NAME = re.compile(r"^\.(?P<final>.+)\.(?P<pid>\d+)\.(?:partial|old)$")
# Folders hold copies of Moodle rows (names, e-mails, IP addresses): owner only.
FOLDER_MODE = 0o700

# information_schema.columns.data_type -> Arrow type (numeric is handled apart).
ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
    "text": pa.string(),
    "character varying": pa.string(),
    "character": pa.string(),
}
# numeric without a declared precision (Moodle declares one everywhere) has no exact Arrow
# decimal; it becomes a double rather than failing on a value that does not fit.
UNCONSTRAINED_NUMERIC = pa.float64()

# Called with (table name, rows written so far) while a table is being written.
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ExportedColumn:
    name: str
    pg_type: str  # information_schema data_type, e.g. "bigint", "numeric"
    arrow_type: pa.DataType
    # How the COPY query selects it: the column itself, or its text form for other types.
    as_text: bool = False


@dataclass(frozen=True)
class ExportedTable:
    name: str  # physical name, e.g. mdl_user: also the folder name
    rows: int
    files: int
    bytes: int
    columns: tuple[ExportedColumn, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "files": self.files,
            "bytes": self.bytes,
            "columns": {column.name: str(column.arrow_type) for column in self.columns},
        }


@dataclass
class SourceExportReport:
    out_dir: Path
    schema: str
    prefix: str
    tables: list[ExportedTable] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "schema": self.schema,
            "prefix": self.prefix,
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "tables": [table.as_dict() for table in self.tables],
        }


# --- columns and types -------------------------------------------------------------------


def arrow_column(
    name: str, data_type: str, precision: int | None, scale: int | None
) -> ExportedColumn:
    """The Arrow type a PostgreSQL column is exported as (see the module docstring)."""
    if data_type == "numeric":
        if precision is None:
            return ExportedColumn(name, data_type, UNCONSTRAINED_NUMERIC)
        return ExportedColumn(name, data_type, pa.decimal128(precision, scale or 0))
    if data_type in ARROW_TYPES:
        return ExportedColumn(name, data_type, ARROW_TYPES[data_type])
    if data_type == "timestamp with time zone":
        # Selected as UTC wall time (see _select_list), stored as a UTC instant.
        return ExportedColumn(name, data_type, pa.timestamp("us", tz="UTC"))
    return ExportedColumn(name, data_type, pa.string(), as_text=True)


def table_columns(connection, schema: str, table: str) -> tuple[ExportedColumn, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "select column_name, data_type, numeric_precision, numeric_scale "
            "from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        rows = cursor.fetchall()
    return tuple(arrow_column(*row) for row in rows)


def _select_list(columns: tuple[ExportedColumn, ...]) -> sql.Composable:
    items = []
    for column in columns:
        identifier = sql.Identifier(column.name)
        if column.pg_type == "timestamp with time zone":
            item = sql.SQL("({} at time zone 'UTC')").format(identifier)
        elif column.as_text:
            item = sql.SQL("cast({} as text)").format(identifier)
        else:
            item = identifier
        items.append(item)
    return sql.SQL(", ").join(items)


def _csv_reader(source, columns: tuple[ExportedColumn, ...]) -> pa_csv.CSVStreamingReader:
    """pyarrow's streaming reader for PostgreSQL's CSV: unquoted empty = null, "" = ''."""
    names = [column.name for column in columns]
    read_types = {
        column.name: (
            pa.timestamp("us") if pa.types.is_timestamp(column.arrow_type) else column.arrow_type
        )
        for column in columns
    }
    return pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(column_names=names, block_size=8 << 20),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=read_types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


# --- writing one table -------------------------------------------------------------------


class _PartWriter:
    """Parquet part files of at most ``rows_per_file`` rows in one folder."""

    def __init__(self, folder: Path, schema: pa.Schema, rows_per_file: int) -> None:
        self.folder = folder
        self.schema = schema
        self.rows_per_file = rows_per_file
        self.files = 0
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0

    def _open_next(self) -> None:
        self.close()
        path = self.folder / PART_NAME.format(index=self.files)
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.files += 1
        self._rows_in_file = 0

    def write(self, batch: pa.RecordBatch) -> None:
        offset = 0
        while offset < batch.num_rows:
            if self._writer is None or self._rows_in_file >= self.rows_per_file:
                self._open_next()
            take = min(batch.num_rows - offset, self.rows_per_file - self._rows_in_file)
            self._writer.write_batch(batch.slice(offset, take))
            self._rows_in_file += take
            self.rows += take
            offset += take

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def finish(self) -> None:
        """Close the last file; an empty table still gets one file, so its columns are known."""
        if self.files == 0:
            self._open_next()
        self.close()


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Give the parsed batch the export's types (timestamps with time zone as UTC instants)."""
    if batch.schema.equals(schema):
        return batch
    arrays = [
        column.cast(target.type) if column.type != target.type else column
        for column, target in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _export_table(
    connection,
    schema: str,
    table: str,
    folder: Path,
    rows_per_file: int,
    on_rows: Callable[[int], None],
) -> ExportedTable:
    """Stream one table through COPY ... CSV into Parquet part files in ``folder``."""
    columns = table_columns(connection, schema, table)
    arrow_schema = pa.schema(pa.field(column.name, column.arrow_type) for column in columns)
    query = sql.SQL("copy (select {} from {}) to stdout with (format csv)").format(
        _select_list(columns), sql.Identifier(schema, table)
    )
    folder.mkdir(mode=FOLDER_MODE)
    writer = _PartWriter(folder, arrow_schema, rows_per_file)
    read_fd, write_fd = os.pipe()
    copy_errors: list[BaseException] = []

    def copy_out() -> None:
        # PostgreSQL writes the CSV into the pipe while this thread's caller parses it.
        try:
            with (
                os.fdopen(write_fd, "wb", buffering=1 << 20) as sink,
                connection.cursor() as cursor,
            ):
                cursor.copy_expert(query.as_string(connection), sink, size=1 << 20)
        except BaseException as error:
            copy_errors.append(error)

    copier = threading.Thread(target=copy_out, name=f"copy {table}", daemon=True)
    copier.start()
    try:
        with os.fdopen(read_fd, "rb") as source:
            # pyarrow refuses an empty CSV: an empty table (nothing to peek at) has no batch.
            batches = _csv_reader(source, columns) if source.peek(1) else ()
            for batch in batches:
                writer.write(_conform(batch, arrow_schema))
                on_rows(writer.rows)
    finally:
        # Closing the read end above makes a still-writing COPY fail instead of blocking.
        copier.join()
        writer.close()
    if copy_errors:
        raise copy_errors[0]
    writer.finish()
    size = sum(path.stat().st_size for path in folder.iterdir())
    return ExportedTable(table, writer.rows, writer.files, size, columns)


# --- the whole export --------------------------------------------------------------------


def _remove_leftovers(out_dir: Path) -> None:
    """Delete the temporary folders of exports that were killed (their process is gone)."""
    if not out_dir.parent.is_dir():
        return
    for path in out_dir.parent.iterdir():
        match = LEFTOVER_NAME.match(path.name)
        if match and match["final"] == out_dir.name and not process_alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by the complete export in ``staging`` (two renames, no copy)."""
    retired = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.old")
    if out_dir.exists():
        os.rename(out_dir, retired)
    os.rename(staging, out_dir)
    shutil.rmtree(retired, ignore_errors=True)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST_NAME).exists():
        # Only ever replace a folder this command wrote: never someone's other files.
        raise UserError(
            f"{out_dir} is not empty and holds no {MANIFEST_NAME}: "
            "choose an empty folder or a previous Parquet export"
        )


def export_source(
    info: ConnectionInfo,
    out_dir: Path = DEFAULT_PARQUET_DIR,
    *,
    schema: str = "public",
    prefix: str = "mdl_",
    rows_per_file: int = 1_000_000,
    progress: Progress | None = None,
) -> SourceExportReport:
    """Export the Moodle tables of ``schema`` to Parquet folders in ``out_dir``: the 20
    required ones, and the optional ones (empty, with Moodle's columns, when absent).

    Raises UserError when a table is missing or the folder is not one this command wrote.
    """
    validate_identifier(schema, "schema")
    validate_prefix(prefix)
    if rows_per_file < 1:
        raise ValueError(f"rows_per_file must be at least 1, not {rows_per_file}")
    notify = progress or (lambda table, rows: None)
    started = time.monotonic()
    out_dir = out_dir.expanduser().resolve()
    _check_out_dir(out_dir)
    report = SourceExportReport(out_dir, schema, prefix)
    connection = info.connect()
    staging = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.partial")
    try:
        connection.set_session(
            isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True
        )
        missing = missing_tables(connection, schema, prefix)
        if missing:
            raise UserError(
                f"schema {schema!r} of database {info.dbname!r} lacks Moodle tables: "
                + ", ".join(missing)
            )
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out_dir)
        staging.mkdir(mode=FOLDER_MODE)
        present = _present_tables(connection, schema)
        for name in REQUIRED_TABLES + OPTIONAL_TABLES:
            table = prefix + name
            notify(table, 0)
            if table not in present:
                # An optional table the site lacks: empty, with Moodle's columns.
                report.tables.append(write_absent_table(name, table, staging / table))
                continue
            report.tables.append(
                _export_table(
                    connection,
                    schema,
                    table,
                    staging / table,
                    rows_per_file,
                    lambda rows, table=table: notify(table, rows),
                )
            )
        connection.rollback()
        report.seconds = time.monotonic() - started
        manifest = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": {"database": info.dbname, "schema": schema, "prefix": prefix},
            "tables": [table.as_dict() for table in report.tables],
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        connection.close()
    return report


def _present_tables(connection, schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = %s", (schema,)
        )
        return {row[0] for row in cursor.fetchall()}


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of a finished export; UserError when ``out_dir`` holds none."""
    path = out_dir / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"no Parquet export in {out_dir}: run `moodle-analytics export-source` first"
        ) from None


# An optional table the source database lacks: Spark and DuckDB read each Moodle table through
# a view over its Parquet folder, and a view over a missing folder fails, so the table is
# written as one Parquet file with no row and the columns and types Moodle gives it.
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
