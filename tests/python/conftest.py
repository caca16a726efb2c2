"""Shared fixtures: a real PostgreSQL server, throw-away databases on it, and builds shared
by the whole run.

The server is the one the libpq variables (PGHOST, PGPORT, PGUSER, ...) name; when none
is set, the project's embedded PostgreSQL, exactly as a fresh machine would use it.

The suite runs on several processes (pytest-xdist, one test module per process at a time).
A warehouse that many modules only read is built once for the whole run, by whichever
process asks first, under a file lock; the others wait for it and reuse it. Such databases
are dropped by the controlling process when every worker has finished.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pytest
from psycopg2 import sql

from runner.postgres import connection as conn_mod
from runner.postgres.connection import ConnectionInfo

SHARED_DIR_VARIABLE = "MOODLE_ANALYTICS_TEST_SHARED_DIR"
SHARED_DATABASES_FILE = "databases.jsonl"

# Modules in the order the workers take them: the longest first, so that no worker is left
# with a long module at the end while the others idle (figures: seconds on 2 cores).
# Modules not listed follow, in their usual order.
LONGEST_MODULES_FIRST = (
    "test_engines.py",  # ~250: the project on PostgreSQL, DuckDB and Spark
    "test_prediction.py",  # ~100: a generated site built, a dropout model trained
    "test_history.py",  # ~150: five builds of the real site over its life
    "test_incremental.py",  # ~80
    "test_marts.py",  # ~80
    "test_staging.py",  # ~80
    "test_reliability_interrupts.py",  # ~65
    "test_reliability_readers.py",  # ~65
    "test_cli_pipeline.py",  # ~60
    "test_active_engagement.py",  # ~55
    "test_hostile_data.py",  # ~50
    "test_progress.py",  # ~40
    "test_cli_data.py",  # ~35
    "test_reporting_role.py",  # ~35
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_MODULES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    # The controller (or a run without workers) makes the folder the workers share; they
    # inherit it through the environment.
    if not _is_worker(config) and SHARED_DIR_VARIABLE not in os.environ:
        os.environ[SHARED_DIR_VARIABLE] = tempfile.mkdtemp(prefix="moodle_analytics_tests_")
        config.stash[_owns_shared_dir] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_worker(config) or not config.stash.get(_owns_shared_dir, False):
        return
    shared = Path(os.environ.pop(SHARED_DIR_VARIABLE))
    registry = shared / SHARED_DATABASES_FILE
    if registry.exists():
        for line in registry.read_text().splitlines():
            record = json.loads(line)
            server = ConnectionInfo(**record["server"])
            _drop_database(server, record["dbname"])
    shutil.rmtree(shared, ignore_errors=True)


_owns_shared_dir = pytest.StashKey[bool]()


def _drop_database(server: ConnectionInfo, name: str) -> None:
    admin = server.connect(autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
    finally:
        admin.close()


def _create_database(server: ConnectionInfo, label: str) -> ConnectionInfo:
    name = f"ma_test_{label}_{uuid.uuid4().hex[:8]}"
    admin = server.connect(autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    finally:
        admin.close()
    return server.with_database(name)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def pg_server() -> ConnectionInfo:
    """A superuser connection to a running server, database `postgres`."""
    if conn_mod.is_configured():
        return conn_mod.from_environment().with_database("postgres")
    from runner.postgres.embedded import EmbeddedPostgres

    server = EmbeddedPostgres().start().with_database("postgres")
    # The embedded server wants its superuser's password: every libpq client of the tests
    # (psycopg2, psql, pg_restore, dbt, the CLI) finds it in this password file.
    assert server.passfile is not None
    os.environ["PGPASSFILE"] = server.passfile
    return server


@pytest.fixture(scope="session")
def make_database(pg_server: ConnectionInfo) -> Iterator[Callable[[str], ConnectionInfo]]:
    """Factory of empty databases, dropped at the end of the test session."""
    created: list[str] = []

    def make(label: str = "t") -> ConnectionInfo:
        info = _create_database(pg_server, label)
        created.append(info.dbname)
        return info

    yield make
    for name in created:
        _drop_database(pg_server, name)


@pytest.fixture()
def empty_database(make_database: Callable[[str], ConnectionInfo]) -> ConnectionInfo:
    return make_database("db")


SharedBuild = Callable[[str, Callable[[ConnectionInfo, Path], None]], tuple[ConnectionInfo, Path]]


@pytest.fixture(scope="session")
def shared_build(pg_server: ConnectionInfo) -> SharedBuild:
    """``shared_build(key, build)``: a database made once per run by ``build(info, work_dir)``.

    Every module (on every worker) that asks for the same key gets the same database and
    work folder (dbt's target/ with its manifest). They are for reading: a test that changes
    the database works on a copy of its own (CREATE DATABASE ... TEMPLATE).
    """
    shared = Path(os.environ[SHARED_DIR_VARIABLE])

    def get(key: str, build: Callable[[ConnectionInfo, Path], None]) -> tuple[ConnectionInfo, Path]:
        record_file = shared / f"{key}.json"
        with _file_lock(shared / f"{key}.lock"):
            if record_file.exists():
                record = json.loads(record_file.read_text())
                return pg_server.with_database(record["dbname"]), Path(record["work_dir"])
            info = _create_database(pg_server, key)
            server = {**asdict(pg_server), "password": None}  # no secret in the file
            with (shared / SHARED_DATABASES_FILE).open("a") as registry:
                registry.write(json.dumps({"server": server, "dbname": info.dbname}) + "\n")
            work_dir = shared / key
            work_dir.mkdir()
            build(info, work_dir)  # a failure leaves no record: the next asker tries again
            record_file.write_text(json.dumps({"dbname": info.dbname, "work_dir": str(work_dir)}))
            return info, work_dir

    return get


@pytest.fixture(scope="session")
def real_site_build(shared_build: SharedBuild) -> tuple[ConnectionInfo, Path]:
    """The real Moodle 4.5 site (tests/data) after a whole `dbt build --selector full_check`
    (every test, the whole-log ones too) with the default vars: (the database, the work folder
    whose target/ holds dbt's manifest). Read only."""
    from support.dbt_helpers import assert_dbt_succeeded, load_real_moodle, run_dbt

    def build(info: ConnectionInfo, work_dir: Path) -> None:
        load_real_moodle(info)
        assert_dbt_succeeded(run_dbt(["build", "--selector", "full_check"], info, work_dir))

    return shared_build("real_site_default", build)
