"""The floor: one ordered pass over the log, read and discarded. Nothing that sessionises is faster.

Two figures: the pass as a client sees it (the rows in (userid, timecreated, id) order streamed
by COPY into a sink that drops them) and the server's own share of it (EXPLAIN ANALYZE of the
same ordered query, whose rows never leave the server).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from bench.log_source import LogSource

ORDERED_PASS = "select userid, timecreated, id from {log} order by userid, timecreated, id"


class NullSink:
    """A file-like object for COPY ... TO STDOUT that counts the bytes and keeps none."""

    def __init__(self) -> None:
        self.bytes_written = 0

    def write(self, data: bytes | str) -> int:
        self.bytes_written += len(data)
        return len(data)


@dataclass(frozen=True)
class FloorResult:
    rows: int
    client_seconds: float
    server_seconds: float
    bytes_streamed: int
    plan_node: str  # e.g. "Sort" or "Index Only Scan": how the server produced the order

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "client_seconds": round(self.client_seconds, 3),
            "server_seconds": round(self.server_seconds, 3),
            "bytes_streamed": self.bytes_streamed,
            "plan_node": self.plan_node,
        }


def _ordered_query(source: LogSource) -> sql.Composed:
    return sql.SQL(ORDERED_PASS).format(log=source.log_table)


def client_pass(source: LogSource) -> tuple[float, int]:
    """Seconds to stream the ordered log to this process and drop it; bytes streamed."""
    connection = source.info.connect()
    try:
        copy = sql.SQL("copy ({}) to stdout").format(_ordered_query(source))
        sink = NullSink()
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.copy_expert(copy.as_string(connection), sink)
            seconds = time.perf_counter() - started
        return seconds, sink.bytes_written
    finally:
        connection.close()


def server_pass(source: LogSource) -> tuple[float, int, str]:
    """The server's execution time for the ordered pass, its row count and top plan node."""
    connection = source.info.connect()
    try:
        explain = sql.SQL("explain (analyze, timing off, format json) {}").format(
            _ordered_query(source)
        )
        with connection.cursor() as cursor:
            cursor.execute(explain)
            document = cursor.fetchone()[0]
        if isinstance(document, str):
            document = json.loads(document)
        report = document[0]
        plan = report["Plan"]
        return report["Execution Time"] / 1000.0, int(plan["Actual Rows"]), plan["Node Type"]
    finally:
        connection.close()


def measure_floor(source: LogSource, repeats: int = 2) -> FloorResult:
    """Best of ``repeats`` of each pass (the first may read a cold cache; the rest do not)."""
    client = [client_pass(source) for _ in range(repeats)]
    server = [server_pass(source) for _ in range(repeats)]
    client_seconds, bytes_streamed = min(client)
    server_seconds, rows, plan_node = min(server)
    return FloorResult(rows, client_seconds, server_seconds, bytes_streamed, plan_node)
