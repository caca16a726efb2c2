"""Bad configuration fails fast, in one line, and leaves the database exactly as it was.

Each mistake a user can make when pointing the runner at a warehouse — unknown or malformed
vars, names that are not plain identifiers (quotes, semicolons: SQL injection attempts) in
runner options and in the dbt vars that reach SQL, a missing Moodle table, a wrong password,
an unreachable or unknown host — must give exit code 1, a first 'Error:' line naming the
problem, no traceback, and no change to the database: every relation keeps its identity and
storage, no table gets a row written, every mart keeps its content (DatabaseState).

The dbt vars are also checked without the runner, by dbt itself, to prove the project's
macros refuse them (macros/project_config/check_sql_vars.sql) before anything reaches the database.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from psycopg2 import sql
from support.cli_helpers import assert_clean_failure, invoke
from support.dbt_helpers import REAL_DUMP_SQL, run_dbt
from support.reliability_support import DatabaseState, assert_unchanged, database_state

from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

INJECTION = '"; drop schema mart cascade; --'
QUOTE_INJECTION = "' or '1'='1'; drop schema mart cascade; --"


@pytest.fixture(scope="module")
def warehouse(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
) -> ConnectionInfo:
    """A built warehouse that every case here must leave untouched."""
    return copy_database(built_warehouse, "bad_config")


@pytest.fixture(scope="module")
def initial_state(warehouse: ConnectionInfo) -> DatabaseState:
    return database_state(warehouse)


def environment(info: ConnectionInfo, work: Path, **extra: str) -> dict[str, str]:
    env = {
        "PGHOST": info.host,
        "PGPORT": str(info.port),
        "PGUSER": info.user,
        "PGDATABASE": info.dbname,
        "PGPASSWORD": info.password or "",
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    env.update(extra)
    return env


RUNNER_OPTION_CASES = {
    "check --schema": (["check", "--schema", f"public{INJECTION}"], ["not a plain identifier"]),
    "check --prefix": (["check", "--prefix", f"mdl_{QUOTE_INJECTION}"], ["table prefix"]),
    "generate --schema": (
        ["generate", "--scale", "0.01", "--schema", f"x{QUOTE_INJECTION}"],
        ["not a plain identifier"],
    ),
    "load-dump --schema": (
        ["load-dump", str(REAL_DUMP_SQL), "--schema", "moodle;drop"],
        ["not a plain identifier"],
    ),
    "export --mart-schema": (
        ["export", "--mart-schema", f"mart{INJECTION}"],
        ["mart schema", "not a plain identifier"],
    ),
}

BUILD_VARS_CASES = {
    "unknown var": ("{sesion_cap_hours: 2}", ["unknown var 'sesion_cap_hours'", "did you mean"]),
    "malformed YAML": ("{session_cap_hours: 2", ["--vars is not valid YAML"]),
    "not a mapping": ("[moodle_schema]", ["--vars must be a mapping"]),
    "bad value": ("{session_cap_hours: -1}", ["var session_cap_hours must be a positive"]),
    "moodle_schema": (
        f"{{moodle_schema: '{INJECTION}'}}",
        ["var moodle_schema", "not a plain identifier"],
    ),
    "moodle_table_prefix": (
        f'{{moodle_table_prefix: "mdl_{QUOTE_INJECTION}"}}',
        ["var moodle_table_prefix", "not valid"],
    ),
    "schema_prefix": (f"{{schema_prefix: 'x{INJECTION}'}}", ["var schema_prefix must be"]),
    "reporting_timezone": (
        f'{{reporting_timezone: "UTC{QUOTE_INJECTION}"}}',
        ["var reporting_timezone must be an IANA time zone name"],
    ),
    "schema without Moodle tables": (
        "{moodle_schema: no_such_schema}",
        ["20 Moodle table(s) missing in schema 'no_such_schema'", "mdl_logstore_standard_log"],
    ),
}


@pytest.mark.parametrize("case", list(RUNNER_OPTION_CASES))
def test_runner_options_that_reach_sql_are_refused(
    case: str, warehouse: ConnectionInfo, initial_state: DatabaseState, tmp_path: Path
) -> None:
    args, fragments = RUNNER_OPTION_CASES[case]
    result = invoke(args, environment(warehouse, tmp_path))
    assert_clean_failure(result, *fragments)
    assert_unchanged(initial_state, database_state(warehouse))


@pytest.mark.parametrize("case", list(BUILD_VARS_CASES))
def test_bad_build_vars_are_refused(
    case: str, warehouse: ConnectionInfo, initial_state: DatabaseState, tmp_path: Path
) -> None:
    text, fragments = BUILD_VARS_CASES[case]
    result = invoke(["build", "--vars", text], environment(warehouse, tmp_path))
    assert_clean_failure(result, *fragments)
    assert_unchanged(initial_state, database_state(warehouse))


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        ({"moodle_schema": f"public{QUOTE_INJECTION}"}, "var moodle_schema must be a plain"),
        ({"moodle_table_prefix": f"mdl_{INJECTION}"}, "var moodle_table_prefix must be"),
    ],
    ids=["moodle_schema", "moodle_table_prefix"],
)
def test_dbt_itself_refuses_vars_that_would_reach_sql(
    dbt_vars: dict[str, str],
    message: str,
    warehouse: ConnectionInfo,
    initial_state: DatabaseState,
    tmp_path: Path,
) -> None:
    """Without the runner's own checks (dbt run by hand, or by a scheduler)."""
    result = run_dbt(["build"], warehouse, tmp_path, dbt_vars)
    assert result.returncode != 0
    assert message in result.stdout, result.stdout[-3000:]
    assert_unchanged(initial_state, database_state(warehouse))


def test_missing_moodle_table_is_named_and_nothing_is_built(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path: Path,
) -> None:
    database = copy_database(built_warehouse, "missing_table")
    connection = database.connect(autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("drop table public.mdl_forum_posts cascade")
    connection.close()
    before = database_state(database)

    result = invoke(["build"], environment(database, tmp_path))
    assert_clean_failure(
        result, "1 Moodle table(s) missing in schema 'public'", database.dbname, "mdl_forum_posts"
    )
    assert_unchanged(before, database_state(database))


def test_unreachable_and_unknown_hosts_are_one_line(
    warehouse: ConnectionInfo, initial_state: DatabaseState, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    env = environment(warehouse, tmp_path, PGPORT=str(free_port))
    assert_clean_failure(invoke(["build"], env), f"database unreachable at 127.0.0.1:{free_port}")
    env = environment(warehouse, tmp_path, PGHOST="no-such-host.invalid")
    assert_clean_failure(invoke(["build"], env), "unknown host 'no-such-host.invalid'")
    assert_unchanged(initial_state, database_state(warehouse))


@pytest.fixture(scope="module")
def password_server() -> Iterator[ConnectionInfo]:
    """A private embedded PostgreSQL: the test server trusts every local login, this one
    checks passwords (scram-sha-256) for every role but its own superuser."""
    from runner.postgres.embedded import EmbeddedPostgres

    root = Path(tempfile.mkdtemp(prefix="ma_test_password_"))
    root.chmod(0o755)
    server = EmbeddedPostgres(root / "pg", preferred_port=0)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_wrong_password_is_one_line_and_changes_nothing(
    password_server: ConnectionInfo, tmp_path: Path
) -> None:
    admin = password_server.with_database("postgres").connect(autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute("create role analyst login password %s", ("the-right-one",))
        cursor.execute("create database wrong_password owner analyst")
    admin.close()
    database = password_server.with_database("wrong_password")
    connection = database.connect(autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("create schema mart authorization analyst"))
        cursor.execute("create table mart.kept as select 1 as one")
    connection.close()
    before = database_state(database)

    analyst = ConnectionInfo(
        database.host, database.port, "analyst", database.dbname, "not-the-password"
    )
    result = invoke(["build"], environment(analyst, tmp_path))
    assert_clean_failure(result, "wrong or missing password for user 'analyst'")
    assert "not-the-password" not in result.stdout + result.stderr
    assert_unchanged(before, database_state(database))
