"""Dashboards keep reading while the warehouse is rebuilt.

Several reader connections query every mart table in a tight loop (a row count and a few
rows) while `dbt build` runs with new Moodle activity to load, and again while
`dbt run --full-refresh` rebuilds every mart: no query may fail, and every count a reader sees
must be the table's complete count before or after the rebuild, never empty, never partial.

The readers are those Tableau and analysts use: autocommit (READ COMMITTED) connections as the
superuser and as a login of the reporting role, and REPEATABLE READ transactions that read all
marts from one snapshot (a consistent dashboard refresh). dbt's own rename-swap table
materialisation shows the last kind a rebuilt table as empty; the project's materialisation
(macros/materializations/table_replaced_in_place.sql) is what keeps this test green.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ
from support.dbt_helpers import MARTS_EMPTY_UNTIL_TRAINED, assert_dbt_succeeded, run_dbt
from support.reliability_support import (
    MART_SCHEMA,
    append_week_of_activity,
    leftover_relations,
    mart_checksums,
    mart_tables,
)

from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

# How many readers of each kind; snapshot readers are the ones a rename swap can fool.
READERS = {"read committed": 1, "reporting role": 1, "repeatable read snapshot": 2}
# A breath between rounds keeps the readers from starving the build of the machine's cores.
PAUSE_SECONDS = 0.005
REPORTING_ROLE = "bi_reader"  # the default of var reporting_role


@dataclass
class ReaderLog:
    """What one reader saw: per table the counts in order, and every error."""

    name: str
    counts: dict[str, list[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def reads(self) -> int:
        return sum(len(seen) for seen in self.counts.values())


class Readers:
    """Reader threads looping over every mart table until stopped."""

    def __init__(self, connect: dict[str, Callable[[], psycopg2.extensions.connection]]) -> None:
        self.stop_event = threading.Event()
        self.logs: list[ReaderLog] = []
        self.threads: list[threading.Thread] = []
        self.connect = connect

    def start(self, tables: list[str]) -> None:
        for kind, connect in self.connect.items():
            for number in range(READERS[kind]):
                log = ReaderLog(f"{kind} #{number}")
                self.logs.append(log)
                thread = threading.Thread(
                    target=self._loop, args=(connect, tables, log), daemon=True
                )
                self.threads.append(thread)
                thread.start()

    def stop(self) -> list[ReaderLog]:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(60)
        return self.logs

    def _loop(
        self,
        connect: Callable[[], psycopg2.extensions.connection],
        tables: list[str],
        log: ReaderLog,
    ) -> None:
        connection = connect()
        try:
            while not self.stop_event.is_set():
                try:
                    with connection.cursor() as cursor:
                        for table in tables:
                            relation = sql.Identifier(MART_SCHEMA, table)
                            cursor.execute(sql.SQL("select count(*) from {}").format(relation))
                            log.counts.setdefault(table, []).append(cursor.fetchone()[0])
                            cursor.execute(sql.SQL("select * from {} limit 5").format(relation))
                            cursor.fetchall()
                    if not connection.autocommit:
                        connection.commit()
                    time.sleep(PAUSE_SECONDS)
                except psycopg2.Error as error:
                    log.errors.append(f"{type(error).__name__}: {str(error).strip()}")
                    connection.rollback()
                    time.sleep(0.05)
        finally:
            connection.close()


@pytest.fixture()
def reporting_login(pg_server: ConnectionInfo) -> Iterator[ConnectionInfo]:
    """A login that is a member of the reporting role, as a Tableau user's account is."""
    name = f"ma_test_reader_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    admin = pg_server.connect(autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("create role {} login password %s in role {}").format(
                sql.Identifier(name), sql.Identifier(REPORTING_ROLE)
            ),
            (password,),
        )
    admin.close()
    yield ConnectionInfo(pg_server.host, pg_server.port, name, pg_server.dbname, password)
    admin = pg_server.connect(autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
    admin.close()


def reader_connections(
    database: ConnectionInfo, reporting: ConnectionInfo
) -> dict[str, Callable[[], psycopg2.extensions.connection]]:
    def autocommit(info: ConnectionInfo) -> Callable[[], psycopg2.extensions.connection]:
        return lambda: info.connect(autocommit=True)

    def repeatable_read() -> psycopg2.extensions.connection:
        connection = database.connect()
        connection.set_session(isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        return connection

    return {
        "read committed": autocommit(database),
        "reporting role": autocommit(reporting.with_database(database.dbname)),
        "repeatable read snapshot": repeatable_read,
    }


def run_with_readers(
    database: ConnectionInfo,
    reporting: ConnectionInfo,
    dbt_args: list[str],
    work: Path,
) -> tuple[list[ReaderLog], dict[str, int]]:
    """Run dbt while the readers loop; returns their logs and the counts after the run."""
    tables = mart_tables(database)
    readers = Readers(reader_connections(database, reporting))
    readers.start(tables)
    try:
        time.sleep(0.5)  # every reader is looping before dbt starts
        result = run_dbt(dbt_args, database, work)
    finally:
        logs = readers.stop()
    assert_dbt_succeeded(result)
    after = {table: count for table, (count, _) in mart_checksums(database).items()}
    return logs, after


def assert_readers_saw_whole_tables(
    logs: list[ReaderLog], before: dict[str, int], after: dict[str, int]
) -> None:
    for log in logs:
        assert not log.errors, f"{log.name}: {Counter(log.errors).most_common(3)}"
        for table, seen in log.counts.items():
            allowed = {before[table], after[table]}
            wrong = Counter(count for count in seen if count not in allowed)
            assert not wrong, (
                f"{log.name} saw {table} with {dict(wrong)} rows "
                f"(whole table: {before[table]} before, {after[table]} after)"
            )
            if before[table] != after[table] and after[table] in seen:
                # Once a reader has seen the new table it never sees the old one again.
                first_new = seen.index(after[table])
                assert before[table] not in seen[first_new:], f"{log.name}: {table} went back"
    # The readers really read during the rebuild (each table many times).
    for log in logs:
        assert set(log.counts) == set(before), log.name
        assert min(len(seen) for seen in log.counts.values()) >= 20, (log.name, log.reads())


def test_readers_see_whole_marts_during_a_build_and_a_full_refresh(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    reporting_login: ConnectionInfo,
    tmp_path: Path,
) -> None:
    database = copy_database(built_warehouse, "readers")
    before = {table: count for table, (count, _) in mart_checksums(database).items()}
    assert before and all(
        count for table, count in before.items() if table not in MARTS_EMPTY_UNTIL_TRAINED
    ), before

    # A nightly build with a week of new activity: marts grow while readers read.
    assert append_week_of_activity(database) > 1000
    logs, after = run_with_readers(database, reporting_login, ["build"], tmp_path)
    assert_readers_saw_whole_tables(logs, before, after)
    grown = [table for table in before if after[table] != before[table]]
    assert {"fact_activity", "fact_session", "dim_date"} <= set(grown), grown

    # A full refresh of every mart (incremental ones too) without new data: each count stays
    # exactly the same.
    logs, refreshed = run_with_readers(
        database,
        reporting_login,
        ["run", "--full-refresh", "--select", "path:models/marts"],
        tmp_path,
    )
    assert refreshed == after
    assert_readers_saw_whole_tables(logs, after, refreshed)
    assert leftover_relations(database) == []
