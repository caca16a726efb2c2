"""A build that dies part way never costs the last good marts, and builds never interleave.

A week of new Moodle activity is waiting to be loaded when a build is started and cut off:

* its process is SIGKILLed. The build is first held on the mart `learner_tiers` (built late,
  after dim_user and the facts) by a SHARE lock, and an ACCESS EXCLUSIVE request is queued
  behind its waiting statement; when the hold is released, that request is granted as soon as
  the build's transaction on the table ends, and the build is killed then. A build that
  replaces a table in one transaction has it complete at that moment; one that commits
  between steps (say, after emptying it) is killed with the table empty.
* separately, its database connection is terminated (pg_terminate_backend) while it is in
  the middle of replacing `learner_tiers`: that mart must be exactly the previous one.

After either, every mart stays readable and whole: each is exactly as the previous build left
it or exactly as an uninterrupted build makes it (row-by-row checksums), and nothing
half-built is left behind. The next build completes and gives exactly the marts of an
uninterrupted build. While the first build runs, a second one started against the same
database is refused at once with a clear message (the build lock); after the first was
killed, its lock is gone.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.dbt_helpers import assert_dbt_succeeded, run_dbt
from support.reliability_support import (
    MART_SCHEMA,
    Checksums,
    QueuedExclusiveLock,
    ShareHold,
    append_week_of_activity,
    cli_environment,
    error_line,
    kill,
    leftover_relations,
    mart_checksums,
    run_cli,
    start_cli,
    wait_for_blocked_writer,
    wait_until_no_other_sessions,
)

from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

# Built late (after dim_user and the facts), so a build held there is well under way.
HELD_MART = "learner_tiers"
# Most builds here build every seed and model but leave out dbt's data and unit tests: they
# change no table and have suites of their own, and the test stays quick.
WITHOUT_TESTS = ["--exclude", "resource_type:test", "--exclude", "resource_type:unit_test"]


@pytest.fixture(scope="module")
def with_new_week(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
) -> ConnectionInfo:
    """The built warehouse plus a week of new activity not yet in the marts (copy it)."""
    database = copy_database(built_warehouse, "new_week")
    assert append_week_of_activity(database) > 1000
    return database


@pytest.fixture(scope="module")
def uninterrupted_marts(
    with_new_week: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> Checksums:
    """The marts an uninterrupted run makes from the same data."""
    database = copy_database(with_new_week, "uninterrupted")
    assert_dbt_succeeded(run_dbt(["run"], database, tmp_path_factory.mktemp("uninterrupted")))
    return mart_checksums(database)


def assert_previous_or_complete(marts: Checksums, previous: Checksums, complete: Checksums) -> None:
    """Each mart is whole: the previous build's or the uninterrupted build's, row for row."""
    assert set(marts) == set(previous) == set(complete)
    for table, checksum in marts.items():
        assert checksum in (previous[table], complete[table]), f"{table} is half-built"
    # The cut came part way: some marts were already replaced.
    assert any(marts[t] == complete[t] != previous[t] for t in marts), "cut before any mart"
    assert previous[HELD_MART] != complete[HELD_MART]


def assert_next_build_completes(
    database: ConnectionInfo, env: dict[str, str], complete: Checksums
) -> None:
    result = run_cli(["build", *WITHOUT_TESTS], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert mart_checksums(database) == complete
    assert leftover_relations(database) == []


def test_killed_build_keeps_whole_marts_and_refuses_a_second_build(
    with_new_week: ConnectionInfo,
    uninterrupted_marts: Checksums,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path: Path,
) -> None:
    database = copy_database(with_new_week, "killed")
    previous = mart_checksums(database)
    env = cli_environment(database, tmp_path)

    # A full build (data tests too: the tests of learner_tiers wait on the queued lock, so
    # the build is still under way when it is killed).
    with ShareHold(database, MART_SCHEMA, HELD_MART) as hold:
        build = start_cli(["build", "--exclude", "resource_type:unit_test"], env)
        wait_for_blocked_writer(database, MART_SCHEMA, HELD_MART, build)
        exclusive = QueuedExclusiveLock(database, MART_SCHEMA, HELD_MART)
        exclusive.wait_until_queued()

        try:
            second = run_cli(["build"], cli_environment(database, tmp_path / "second"), 120)
        except subprocess.TimeoutExpired:
            pytest.fail("a second build ran beside the first instead of being refused")
        assert second.returncode == 1
        line = error_line(second.stderr)
        assert "another build is already running" in line, line
        assert database.dbname in line
        assert "Traceback" not in second.stderr

        hold.release()
    try:
        assert exclusive.granted.wait(300), "the build never finished with learner_tiers"
        assert build.poll() is None, "the build ended before it could be killed"
        kill(build)
    finally:
        exclusive.release()
    wait_until_no_other_sessions(database)

    marts = mart_checksums(database)
    assert_previous_or_complete(marts, previous, uninterrupted_marts)
    assert leftover_relations(database) == []
    # The killed build's lock died with its connection: the next build is not refused.
    assert_next_build_completes(database, env, uninterrupted_marts)


def test_build_whose_connection_is_terminated_keeps_previous_marts(
    with_new_week: ConnectionInfo,
    uninterrupted_marts: Checksums,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    pg_server: ConnectionInfo,
    tmp_path: Path,
) -> None:
    database = copy_database(with_new_week, "terminated")
    previous = mart_checksums(database)
    env = cli_environment(database, tmp_path)

    with ShareHold(database, MART_SCHEMA, HELD_MART):
        build = start_cli(["build", *WITHOUT_TESTS], env)
        pid = wait_for_blocked_writer(database, MART_SCHEMA, HELD_MART, build)
        admin = pg_server.connect(autocommit=True)
        with admin.cursor() as cursor:
            cursor.execute("select pg_terminate_backend(%s)", (pid,))
            assert cursor.fetchone()[0]
        admin.close()
    _, stderr = build.communicate(timeout=600)

    assert build.returncode == 1
    line = error_line(stderr)
    assert HELD_MART in line and "failed" in line, line
    assert "server closed the connection unexpectedly" in stderr, stderr[-3000:]
    assert "Traceback" not in stderr
    wait_until_no_other_sessions(database)

    marts = mart_checksums(database)
    assert marts[HELD_MART] == previous[HELD_MART], "the mart being replaced changed"
    assert_previous_or_complete(marts, previous, uninterrupted_marts)
    assert leftover_relations(database) == []
    assert_next_build_completes(database, env, uninterrupted_marts)
