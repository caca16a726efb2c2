"""Write the marts as one Tableau extract (.hyper) for people who work offline.

Optional: needs the Tableau Hyper API (``pip install -e '.[hyper]'``), whose wheel ships
Tableau's ``hyperd``; it runs locally with telemetry off, so nothing leaves the machine.

Every relation of the mart schema becomes a table of the same name in schema ``mart`` of
the file, each column's PostgreSQL type mapped to the closest Hyper type
(``hyper_column_type``). All tables come from one read-only REPEATABLE READ snapshot.
Rows never pass through Python objects: PostgreSQL's COPY streams a table as CSV into a
hidden file beside the extract (1 MiB at a time) and Hyper's COPY reads that file, so
memory stays flat whatever the mart's size and only one table's CSV is on disk at a time.
The extract is written under a hidden temporary name and renamed into place only when
complete: an interrupted export leaves the previous extract untouched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from psycopg2 import sql

from runner.moodle.schema import validate_identifier
from runner.paths import RUNTIME_DIR
from runner.postgres.connection import ConnectionInfo
from runner.processes import process_alive
from runner.publishing.export import (
    PARTIAL_NAME,
    Progress,
    StagedFiles,
    copy_csv,
    file_digest,
    relations,
    snapshot,
    sync,
)
from runner.user_errors import UserError

INSTALL_HINT = "install with pip install -e '.[hyper]'"
DEFAULT_FILE_NAME = "mart.hyper"
HYPER_SCHEMA = "mart"
HYPER_LOG_DIR = RUNTIME_DIR / "hyper"
# File format 2: readable by every Tableau release still supported (2020.4.15 and later).
# Format 3 would add 128-bit numerics but needs Tableau 2022.4.1, so wider numerics become
# doubles instead (Tableau reads numerics as doubles anyway; the CSV export keeps the digits).
DATABASE_VERSION = "2"
MAX_HYPER_NUMERIC_PRECISION = 18
# Text forms that Hyper's CSV reader parses back to the same values: ISO dates, UTC
# offsets, floats with every digit (shortest exact form on PostgreSQL 12 and later).
SESSION_SETTINGS = (
    "set datestyle to 'ISO, YMD'",
    "set time zone 'UTC'",
    "set extra_float_digits to 3",
)


@dataclass(frozen=True)
class HyperColumnType:
    """A Hyper column type: ``name`` is a tableauhyperapi.SqlType factory ("big_int", ...)."""

    name: str
    precision: int | None = None
    scale: int | None = None


# PostgreSQL udt names with a Hyper type of their own; anything else travels as its text form.
_SAME_TYPES = {
    "bool": "bool",
    "int2": "small_int",
    "int4": "int",
    "int8": "big_int",
    "float8": "double",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp_tz",
}


def hyper_column_type(
    udt_name: str, numeric_precision: int | None, numeric_scale: int | None
) -> HyperColumnType:
    """The Hyper type for a PostgreSQL column (fields of information_schema.columns).

    numeric(p, s) stays exact when Hyper's file format 2 can hold it (p <= 18); wider or
    unconstrained numerics, and float4 (32-bit floats need file format 4), become doubles.
    Text, and types Tableau has no use for (json, interval, arrays, uuid, ...), are text.
    """
    if udt_name == "numeric":
        if numeric_precision is not None and numeric_precision <= MAX_HYPER_NUMERIC_PRECISION:
            return HyperColumnType("numeric", numeric_precision, numeric_scale or 0)
        return HyperColumnType("double")
    if udt_name == "float4":
        return HyperColumnType("double")
    return HyperColumnType(_SAME_TYPES.get(udt_name, "text"))


@dataclass(frozen=True)
class MartColumn:
    name: str
    hyper_type: HyperColumnType
    nullable: bool


@dataclass(frozen=True)
class HyperTable:
    name: str
    rows: int
    columns: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "columns": self.columns}


@dataclass
class HyperReport:
    path: Path
    tables: list[HyperTable] = field(default_factory=list)
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "schema": HYPER_SCHEMA,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "seconds": round(self.seconds, 3),
            "tables": [table.as_dict() for table in self.tables],
        }


def load_hyper_api() -> ModuleType:
    """The tableauhyperapi module, or a user error saying how to install the extra."""
    try:
        import tableauhyperapi
    except ImportError:
        raise UserError(
            f"the .hyper export needs the Tableau Hyper API, which is not installed: {INSTALL_HINT}"
        ) from None
    return tableauhyperapi


def resolve_output_path(out: Path) -> Path:
    """``out`` itself when it names a .hyper file, else ``out/mart.hyper`` for a folder
    (existing, or a new one when the name has no suffix)."""
    if out.suffix == ".hyper" and not out.is_dir():
        return out.resolve()
    if out.is_dir() or (out.suffix == "" and not out.exists()):
        return (out / DEFAULT_FILE_NAME).resolve()
    raise UserError(f"--out must be a folder or a file name ending in .hyper, not {out}")


def _prepare_folder(folder: Path) -> None:
    """Create the extract's folder; delete partial files of exports that were killed there.

    Only that folder, not below it: --out may name a file in a big folder like $HOME.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create folder {folder}: {error.strerror}") from error
    for leftover in folder.glob(".*.partial"):
        match = PARTIAL_NAME.match(leftover.name)
        if match and not process_alive(int(match["pid"])):
            leftover.unlink(missing_ok=True)


@contextmanager
def hyper_process(api: ModuleType, log_dir: Path = HYPER_LOG_DIR) -> Iterator[Any]:
    """A local hyperd with telemetry off, logging to ``log_dir`` rather than the cwd."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create hyperd's log folder {log_dir}: {error.strerror}") from None
    parameters = {"log_dir": str(log_dir), "default_database_version": DATABASE_VERSION}
    try:
        process = api.HyperProcess(
            telemetry=api.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters=parameters
        )
    except api.HyperException as error:
        raise UserError(f"cannot start Tableau's hyperd: {error.main_message}") from None
    with process:
        yield process


def export_hyper(
    info: ConnectionInfo,
    out: Path,
    *,
    schema: str = "mart",
    progress: Progress | None = None,
    log_dir: Path = HYPER_LOG_DIR,
) -> HyperReport:
    """Write every relation of ``schema`` into one .hyper file (see the module docstring)."""
    validate_identifier(schema, "mart schema")
    api = load_hyper_api()
    notify: Callable[[str, int], None] = progress or (lambda name, rows: None)
    started = time.monotonic()
    path = resolve_output_path(out)
    report = HyperReport(path)
    staged = StagedFiles(path.parent)
    try:
        with snapshot(info) as connection:
            with connection.cursor() as cursor:
                for setting in SESSION_SETTINGS:
                    cursor.execute(setting)
            tables = relations(connection, schema)
            if not tables:
                raise UserError(
                    f"schema {schema} in database {info.dbname!r} has no tables: "
                    "run `moodle-analytics build` first"
                )
            _prepare_folder(path.parent)
            partial = staged.partial_path(path.name)
            with (
                hyper_process(api, log_dir) as hyper,
                api.Connection(hyper.endpoint, str(partial), api.CreateMode.CREATE) as extract,
            ):
                extract.catalog.create_schema(api.SchemaName(HYPER_SCHEMA))
                for table in tables:
                    notify(table, 0)
                    columns = _mart_columns(connection, schema, table)
                    rows = _copy_table(api, connection, extract, schema, table, columns, path)
                    report.tables.append(HyperTable(table, rows, len(columns)))
                    notify(table, rows)
        sync(partial)
        report.bytes, report.sha256 = file_digest(partial)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    report.seconds = time.monotonic() - started
    return report


def _mart_columns(connection, schema: str, table: str) -> list[MartColumn]:
    with connection.cursor() as cursor:
        cursor.execute(
            "select column_name, udt_name, numeric_precision, numeric_scale, is_nullable "
            "from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        return [
            MartColumn(name, hyper_column_type(udt, precision, scale), nullable == "YES")
            for name, udt, precision, scale, nullable in cursor.fetchall()
        ]


def _table_definition(api: ModuleType, table: str, columns: list[MartColumn]) -> Any:
    definitions = []
    for column in columns:
        kind = column.hyper_type
        factory = getattr(api.SqlType, kind.name)
        sql_type = factory(kind.precision, kind.scale) if kind.name == "numeric" else factory()
        nullability = api.Nullability.NULLABLE if column.nullable else api.Nullability.NOT_NULLABLE
        definitions.append(api.TableDefinition.Column(column.name, sql_type, nullability))
    return api.TableDefinition(api.TableName(HYPER_SCHEMA, table), definitions)


def _copy_table(
    api: ModuleType,
    connection,
    extract: Any,
    schema: str,
    table: str,
    columns: list[MartColumn],
    extract_path: Path,
) -> int:
    """Stream one mart table into the extract through a CSV file; returns its row count."""
    definition = _table_definition(api, table, columns)
    extract.catalog.create_table(definition)
    # Named like the other partial files, so an export killed here is cleaned up next time.
    csv_path = extract_path.with_name(f".{table}.csv.{os.getpid()}.partial")
    try:
        query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
        copy_csv(connection, query, csv_path)
        copy = (
            f"COPY {definition.table_name} FROM {api.escape_string_literal(str(csv_path))} "
            "WITH (FORMAT csv, HEADER true)"
        )
        try:
            return extract.execute_command(copy)
        except api.HyperException as error:
            raise UserError(
                f"Hyper could not read {schema}.{table}: {error.main_message}"
            ) from None
    finally:
        csv_path.unlink(missing_ok=True)
