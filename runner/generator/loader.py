"""Loading in parallel on this small machine: COPY streams and index builds on their own
connections, so PostgreSQL works on both cores while Python generates the next window."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable

import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg2 import sql

from runner.moodle.schema import moodle_tables, table_index_statements
from runner.postgres.connection import ConnectionInfo

_DONE = object()


def csv_payload(table: pa.Table) -> bytes:
    """CSV for COPY: strings are quoted (so '' stays ''), NULL is an empty unquoted field."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


class ParallelCopier:
    """Worker threads, each with its own connection and transaction, COPYing CSV payloads."""

    def __init__(
        self, info: ConnectionInfo, schema: str, table: str, columns: list[str], workers: int = 2
    ):
        self.statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        self.queue: queue.Queue = queue.Queue(maxsize=2 * workers)
        self.errors: list[BaseException] = []
        self.connections = [info.connect() for _ in range(workers)]
        self.threads = [
            threading.Thread(target=self._work, args=(c,), daemon=True) for c in self.connections
        ]
        for thread in self.threads:
            thread.start()

    def _work(self, connection) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                statement = self.statement.as_string(cursor)
                while (payload := self.queue.get()) is not _DONE:
                    if not self.errors:
                        cursor.copy_expert(statement, io.BytesIO(payload), size=1 << 20)
        except BaseException as error:  # reported to the producer, which re-raises it
            self.errors.append(error)
            while self.queue.get() is not _DONE:
                pass

    def put(self, payload: bytes) -> None:
        if self.errors:
            raise self.errors[0]
        self.queue.put(payload)

    def finish(self, commit: bool = True) -> None:
        for _ in self.threads:
            self.queue.put(_DONE)
        for thread in self.threads:
            thread.join()
        for connection in self.connections:
            if commit and not self.errors:
                connection.commit()
            else:
                connection.rollback()
            connection.close()
        if self.errors:
            raise self.errors[0]


def build_indexes_and_analyze(
    info: ConnectionInfo,
    schema: str,
    prefix: str,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Moodle's indexes, then ANALYZE, spread over ``workers`` connections (biggest first)."""
    tables = list(moodle_tables().values())
    jobs: list[tuple[int, object]] = []
    for table in tables:
        # The log dwarfs the rest; a wide index takes longer to sort than a narrow one.
        weight = 100 if table.name == "logstore_standard_log" else 1
        for index, statement in zip(
            table.indexes, table_index_statements(table, schema, prefix), strict=True
        ):
            jobs.append((weight * len(index.fields), statement))
    jobs.sort(key=lambda job: -job[0])
    _run_parallel(info, [statement for _, statement in jobs], workers)
    if progress:
        progress("indexes")
    # Move each id sequence past the loaded rows, as a restored dump has it.
    sequences = [
        sql.SQL(
            "SELECT setval(pg_get_serial_sequence({name}, 'id'), coalesce(max(id), 0) + 1, false)"
            " FROM {table}"
        ).format(
            name=sql.Literal(f"{schema}.{prefix}{t.name}"),
            table=sql.Identifier(schema, prefix + t.name),
        )
        for t in tables
    ]
    analyze = [
        sql.SQL("ANALYZE {}").format(sql.Identifier(schema, prefix + t.name)) for t in tables
    ]
    _run_parallel(info, sequences + analyze, workers)
    if progress:
        progress("analyze")


def _run_parallel(info: ConnectionInfo, statements: list, workers: int) -> None:
    pending: queue.Queue = queue.Queue()
    for statement in statements:
        pending.put(statement)
    errors: list[BaseException] = []

    def work():
        connection = info.connect(autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '256MB'")
                while not errors:
                    try:
                        statement = pending.get_nowait()
                    except queue.Empty:
                        return
                    cursor.execute(statement)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
