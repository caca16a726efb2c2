"""Write the marts to files: top-tier learner lists, every mart as CSV and Parquet, a manifest.

All files come from one read-only REPEATABLE READ snapshot, so they agree with each other.
Each file is first written under a hidden temporary name in the output folder; only when
every file is complete are they renamed into place (os.replace), the manifest last. An
export that is interrupted or killed therefore leaves the previous export untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg2 import sql

from runner.moodle.schema import validate_identifier
from runner.postgres.connection import ConnectionInfo
from runner.processes import process_alive
from runner.user_errors import UserError

# Every metric of learner_tiers: the study's three, then the two learner-reflecting ones.
METRICS = (
    "login_count",
    "activity_count",
    "dedication_time",
    "active_time",
    "learner_action_count",
)
TIERS = (1, 5, 10, 25)
TIERS_TABLE = "learner_tiers"
MANIFEST_NAME = "manifest.json"
MART_FOLDER = "mart"
PARTIAL_NAME = re.compile(r"^\.(?P<final>.+)\.(?P<pid>\d+)\.partial$")

# PostgreSQL type OIDs -> Arrow types; anything else is exported as text.
ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    700: pa.float32(),
    701: pa.float64(),
    1700: pa.float64(),  # numeric: Tableau reads doubles; exact digits stay in the CSV
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}

# Called with (file name, rows written so far) while a file is being written.
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ExportedFile:
    name: str  # relative to the export folder, with forward slashes
    kind: str  # "top_tier" | "mart_csv" | "mart_parquet"
    rows: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


@dataclass
class ExportReport:
    out_dir: Path
    files: list[ExportedFile] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / MANIFEST_NAME

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "manifest": str(self.manifest_path),
            "seconds": round(self.seconds, 3),
            "files": [exported.as_dict() for exported in self.files],
        }


def top_tier_file_name(metric: str, pct: int) -> str:
    return f"top_{metric}_{pct}.csv"


class StagedFiles:
    """Files written under temporary names, renamed into place together on commit."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.pending: list[tuple[Path, Path]] = []

    def partial_path(self, name: str) -> Path:
        final = self.out_dir / name
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.{os.getpid()}.partial")
        self.pending.append((partial, final))
        return partial

    def commit(self) -> None:
        for partial, final in self.pending:
            os.replace(partial, final)
        self.pending.clear()

    def discard(self) -> None:
        for partial, _ in self.pending:
            partial.unlink(missing_ok=True)
        self.pending.clear()


def _remove_stale_partials(out_dir: Path) -> None:
    """Delete temporary files left by exports that were killed (their process is gone)."""
    for path in out_dir.rglob(".*.partial"):
        match = PARTIAL_NAME.match(path.name)
        if match and not process_alive(int(match["pid"])):
            path.unlink(missing_ok=True)


def _prepare_folder(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create export folder {out_dir}: {error.strerror}") from error
    _remove_stale_partials(out_dir)


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def sync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def snapshot(info: ConnectionInfo) -> Iterator[psycopg2.extensions.connection]:
    connection = info.connect()
    try:
        connection.set_session(
            isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True
        )
        with connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")
        yield connection
    finally:
        connection.rollback()
        connection.close()


def relations(connection, schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables "
            "where table_schema = %s order by table_name",
            (schema,),
        )
        return [row[0] for row in cursor.fetchall()]


def _sortable_positions(connection, schema: str, table: str) -> list[int]:
    """Column positions that can be sorted (json and xml have no ordering)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select ordinal_position, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        rows = cursor.fetchall()
    return [
        index + 1 for index, (_, data_type) in enumerate(rows) if data_type not in ("json", "xml")
    ]


def _ordered_select(connection, schema: str, table: str) -> sql.Composed:
    """All rows ordered by every column, so repeated exports of the same data are identical."""
    query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
    positions = _sortable_positions(connection, schema, table)
    if not positions:
        return query
    order = sql.SQL(", ").join(sql.SQL(str(position)) for position in positions)
    return sql.SQL("{} order by {}").format(query, order)


def _count(connection, query: sql.Composable) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("select count(*) from ({}) as counted").format(query))
        return int(cursor.fetchone()[0])


def copy_csv(connection, query: sql.Composable, path: Path) -> None:
    """Stream a query's rows to CSV with COPY (header line first)."""
    copy = sql.SQL("copy ({}) to stdout with (format csv, header true)").format(query)
    with connection.cursor() as cursor, path.open("wb") as handle:
        cursor.copy_expert(copy.as_string(connection), handle, size=1 << 20)


def _write_parquet(
    connection, query: sql.Composable, path: Path, chunk_rows: int, on_chunk: Callable[[int], None]
) -> int:
    """Stream a query's rows to Parquet through a server-side cursor, one chunk in memory."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    with connection.cursor(name=f"export_{os.getpid()}_{time.monotonic_ns()}") as cursor:
        cursor.itersize = chunk_rows
        cursor.execute(query)
        try:
            while True:
                chunk = cursor.fetchmany(chunk_rows)
                if writer is None:
                    schema = pa.schema(
                        (column.name, ARROW_TYPES.get(column.type_code, pa.string()))
                        for column in cursor.description
                    )
                    writer = pq.ParquetWriter(path, schema, compression="zstd")
                if not chunk:
                    break
                writer.write_table(_arrow_table(chunk, writer.schema))
                rows += len(chunk)
                on_chunk(rows)
        finally:
            if writer is not None:
                writer.close()
    return rows


def _arrow_table(chunk: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*chunk, strict=True))
    arrays = []
    for values, arrow_field in zip(columns, schema, strict=True):
        if pa.types.is_string(arrow_field.type):
            values = [None if value is None else str(value) for value in values]
        elif pa.types.is_floating(arrow_field.type):
            values = [None if value is None else float(value) for value in values]
        arrays.append(pa.array(values, type=arrow_field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def export_marts(
    info: ConnectionInfo,
    out_dir: Path,
    *,
    schema: str = "mart",
    chunk_rows: int = 50_000,
    progress: Progress | None = None,
) -> ExportReport:
    """Export the marts of ``info``'s database into ``out_dir`` (see the module docstring)."""
    validate_identifier(schema, "mart schema")
    notify = progress or (lambda name, rows: None)
    started = time.monotonic()
    out_dir = out_dir.resolve()
    report = ExportReport(out_dir)
    staged = StagedFiles(out_dir)
    try:
        with snapshot(info) as connection:
            tables = relations(connection, schema)
            if TIERS_TABLE not in tables:
                raise UserError(
                    f"{schema}.{TIERS_TABLE} does not exist in database {info.dbname!r}: "
                    "run `moodle-analytics build` first"
                )
            _prepare_folder(out_dir)
            written: list[tuple[str, str, Path, int]] = []
            for metric in METRICS:
                for pct in TIERS:
                    name = top_tier_file_name(metric, pct)
                    notify(name, 0)
                    members = sql.SQL(
                        "select user_id, metric_value, metric_rank from {} where metric = {} and {}"
                    ).format(
                        sql.Identifier(schema, TIERS_TABLE),
                        sql.Literal(metric),
                        sql.Identifier(f"in_top_{pct}_pct"),
                    )
                    ordered = sql.SQL("{} order by metric_rank, user_id").format(members)
                    path = staged.partial_path(name)
                    copy_csv(connection, ordered, path)
                    written.append((name, "top_tier", path, _count(connection, members)))
            for table in tables:
                rows = _count(
                    connection, sql.SQL("select * from {}").format(sql.Identifier(schema, table))
                )
                ordered = _ordered_select(connection, schema, table)
                csv_name = f"{MART_FOLDER}/{table}.csv"
                notify(csv_name, 0)
                path = staged.partial_path(csv_name)
                copy_csv(connection, ordered, path)
                written.append((csv_name, "mart_csv", path, rows))
                parquet_name = f"{MART_FOLDER}/{table}.parquet"
                notify(parquet_name, 0)
                path = staged.partial_path(parquet_name)
                parquet_rows = _write_parquet(
                    connection,
                    ordered,
                    path,
                    chunk_rows,
                    lambda done, n=parquet_name: notify(n, done),
                )
                written.append((parquet_name, "mart_parquet", path, parquet_rows))

        for name, kind, path, rows in written:
            sync(path)
            size, digest = file_digest(path)
            report.files.append(ExportedFile(name, kind, rows, size, digest))
        report.seconds = time.monotonic() - started
        manifest = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": {
                "host": info.host,
                "port": info.port,
                "database": info.dbname,
                "schema": schema,
            },
            "files": [exported.as_dict() for exported in report.files],
        }
        manifest_partial = staged.partial_path(MANIFEST_NAME)
        manifest_partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        sync(manifest_partial)
        # The manifest is the last pending file, so it is renamed last.
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return report
