"""Probes and helpers of the reliability tests: mart checksums, database state, new Moodle
activity, runner processes, and holding a build at a chosen point (reliability_fixtures.py
has the built warehouse they work on)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

MART_SCHEMA = "mart"
# What the runner and dbt add to table names while they rebuild (dbt's rename swap).
LEFTOVER_SUFFIXES = ("__dbt_tmp", "__dbt_backup")
NOT_USER_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

Checksums = dict[str, tuple[int, str]]


# --- what the marts hold ----------------------------------------------------------------------


def mart_tables(info: ConnectionInfo, schema: str = MART_SCHEMA) -> list[str]:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s and table_type = 'BASE TABLE' order by table_name",
                (schema,),
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def mart_checksums(info: ConnectionInfo, schema: str = MART_SCHEMA) -> Checksums:
    """Per mart table: row count and md5 of all its rows as text, in a total order."""
    checksums: Checksums = {}
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            for table in mart_tables(info, schema):
                cursor.execute(
                    sql.SQL(
                        "select count(*), md5(coalesce("
                        "string_agg(t::text, E'\\n' order by t::text), '')) from {} as t"
                    ).format(sql.Identifier(schema, table))
                )
                count, digest = cursor.fetchone()
                checksums[table] = (count, digest)
    finally:
        connection.close()
    return checksums


def leftover_relations(info: ConnectionInfo) -> list[str]:
    """Relations a rebuild left behind under temporary names (name__dbt_tmp, __dbt_backup)."""
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select n.nspname || '.' || c.relname from pg_class as c "
                "join pg_namespace as n on n.oid = c.relnamespace "
                "where c.relname like any(%s) order by 1",
                ([f"%{suffix}" for suffix in LEFTOVER_SUFFIXES],),
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


@dataclass(frozen=True)
class DatabaseState:
    """What a failed command must leave as it was: every relation (by identity and storage),
    the rows written to each table, and the content of every mart."""

    relations: tuple[tuple[str, str, str, int, int], ...]
    table_writes: tuple[tuple[str, str, int, int, int], ...]
    marts: tuple[tuple[str, int, str], ...]


def database_state(info: ConnectionInfo) -> DatabaseState:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select n.nspname, c.relname, c.relkind::text, c.oid::bigint, "
                "c.relfilenode::bigint from pg_class as c "
                "join pg_namespace as n on n.oid = c.relnamespace "
                "where n.nspname <> all(%s) and n.nspname not like 'pg_temp%%' "
                "and n.nspname not like 'pg_toast_temp%%' order by 1, 2",
                (list(NOT_USER_SCHEMAS),),
            )
            relations = tuple(cursor.fetchall())
            # Statistics of ended sessions; a fresh connection reads them without a cache.
            cursor.execute(
                "select schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del "
                "from pg_stat_user_tables order by 1, 2"
            )
            writes = tuple(cursor.fetchall())
    finally:
        connection.close()
    marts = tuple((name, *value) for name, value in sorted(mart_checksums(info).items()))
    return DatabaseState(relations, writes, marts)


def assert_unchanged(before: DatabaseState, after: DatabaseState) -> None:
    assert after.relations == before.relations, "relations were created, dropped or rewritten"
    assert after.table_writes == before.table_writes, "rows were written"
    assert after.marts == before.marts, "mart content changed"


# --- new Moodle activity ---------------------------------------------------------------------


def append_week_of_activity(info: ConnectionInfo, every_nth: int = 3) -> int:
    """New log rows, the same for every copy of a database: every n-th event replayed a week
    later (new ids from the table's sequence). Returns how many rows were added."""
    table = sql.Identifier("public", "mdl_logstore_standard_log")
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'public' and table_name = 'mdl_logstore_standard_log' "
                "and column_name <> 'id' order by ordinal_position"
            )
            columns = [row[0] for row in cursor.fetchall()]
            shifted = [
                sql.SQL("timecreated + 604800") if name == "timecreated" else sql.Identifier(name)
                for name in columns
            ]
            cursor.execute(
                sql.SQL(
                    "insert into {table} ({columns}) select {values} from {table} "
                    "where id %% %s = 0 order by id"
                ).format(
                    table=table,
                    columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    values=sql.SQL(", ").join(shifted),
                ),
                (every_nth,),
            )
            added = cursor.rowcount
        connection.commit()
    finally:
        connection.close()
    return added


# --- builds in other processes ---------------------------------------------------------------


def cli_environment(info: ConnectionInfo, work: Path, **extra: str) -> dict[str, str]:
    """A full environment for a `moodle-analytics` process of its own (paths under ``work``)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PG", "DBT_")) and key != "MOODLE_ANALYTICS_RUNTIME"
    }
    env.update(info.libpq_env())
    env.update(
        {
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            "MOODLE_ANALYTICS_RUNTIME": str(work / "runtime"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    env.update(extra)
    return env


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """`moodle-analytics <args>` as a separate process, as a user or a scheduler starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "runner.cli.commands", *args],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner.cli.commands", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def error_line(stderr: str) -> str:
    """The runner's one-line cause: the first line starting with 'Error: '."""
    lines = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert lines, f"no 'Error:' line in:\n{stderr[-3000:]}"
    return lines[0]


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL: no cleanup code of the process runs, as when a machine or container dies."""
    process.send_signal(signal.SIGKILL)
    process.wait(30)


# --- holding a build at a chosen point -------------------------------------------------------


class ShareHold:
    """A SHARE lock on a table from another session: readers go on, while the build's first
    statement that writes, swaps or drops the table waits (inside the build's transaction)."""

    def __init__(self, info: ConnectionInfo, schema: str, table: str) -> None:
        self.connection = info.connect()
        with self.connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("lock table {} in share mode").format(sql.Identifier(schema, table))
            )

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()

    def __enter__(self) -> ShareHold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class QueuedExclusiveLock:
    """An ACCESS EXCLUSIVE lock request on a table, from a thread of its own.

    Queued behind a build statement that waits on the table, it is granted only when the
    build's transaction on the table ends; from then on, any statement of the build that
    touches the table waits. A build that replaces a table in one transaction has finished it
    by then; one that commits between steps (e.g. after emptying it) is caught half way.
    """

    def __init__(self, info: ConnectionInfo, schema: str, table: str) -> None:
        self.info = info
        self.relation = sql.Identifier(schema, table)
        self.connection = info.connect()
        self.pid = self.connection.get_backend_pid()
        self.granted = threading.Event()
        self.release_requested = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()

    def _hold(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("lock table {} in access exclusive mode").format(self.relation)
                )
            self.granted.set()
            self.release_requested.wait(600)
        except Exception as error:  # reported by release(): a thread cannot fail the test
            self.errors.append(repr(error))
        finally:
            self.connection.rollback()
            self.connection.close()

    def wait_until_queued(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        probe = self.info.connect(autocommit=True)
        try:
            while time.monotonic() < deadline:
                with probe.cursor() as cursor:
                    cursor.execute(
                        "select count(*) from pg_locks where pid = %s and not granted",
                        (self.pid,),
                    )
                    if cursor.fetchone()[0]:
                        return
                time.sleep(0.02)
        finally:
            probe.close()
        raise AssertionError("the exclusive lock request never queued")

    def release(self) -> None:
        self.release_requested.set()
        self.thread.join(60)
        assert not self.errors, self.errors


def wait_for_blocked_writer(
    info: ConnectionInfo,
    schema: str,
    table: str,
    process: subprocess.Popen[str] | None = None,
    timeout: float = 600,
) -> int:
    """The server pid of the build statement waiting for a ShareHold on ``table``.

    Fails at once with the build's output if ``process`` ends before it gets there.
    """
    needle = f'"{schema}"."{table}"'
    deadline = time.monotonic() + timeout
    connection = info.connect(autocommit=True)
    try:
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "select pid from pg_stat_activity where datname = current_database() "
                    "and wait_event_type = 'Lock' and position(%s in query) > 0 "
                    "and pid <> pg_backend_pid()",
                    (needle,),
                )
                row = cursor.fetchone()
            if row:
                return int(row[0])
            if process is not None and process.poll() is not None:
                out, err = process.communicate()
                raise AssertionError(
                    f"the build ended ({process.returncode}) before reaching {schema}.{table}:"
                    f"\n{out[-2000:]}\n{err[-3000:]}"
                )
            time.sleep(0.05)
    finally:
        connection.close()
    raise AssertionError(f"no build statement waited for {schema}.{table} within {timeout} s")


def wait_until_no_other_sessions(info: ConnectionInfo, timeout: float = 60) -> None:
    """Wait until only this test's probe is connected to the database (the build is gone)."""
    deadline = time.monotonic() + timeout
    connection = info.connect(autocommit=True)
    try:
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "select count(*) from pg_stat_activity where datname = current_database() "
                    "and pid <> pg_backend_pid() and backend_type = 'client backend'"
                )
                if cursor.fetchone()[0] == 0:
                    return
            time.sleep(0.1)
    finally:
        connection.close()
    raise AssertionError(f"sessions of the killed build still open after {timeout} s")
