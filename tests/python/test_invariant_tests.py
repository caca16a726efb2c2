"""The project's invariant tests (tests/singular) catch the faults they are written for.

`dbt test` runs the singular tests on an untouched copy of a built warehouse: all pass, and
dbt leaves their compiled SQL in target/compiled. Each case then corrupts a copy of its own in
one way a bug could and runs that compiled SQL (a test fails when its query returns rows, as
dbt counts them), expecting the test for that invariant to fail. One dbt run, not one per
case: dbt's parse of the project alone costs about ten seconds of CPU.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.dbt_helpers import run_dbt

from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

SESSIONS_TEST = "assert_every_known_user_event_in_exactly_one_session"
TIERS_TEST = "assert_learner_tiers_match_definition"
CHECKED = (SESSIONS_TEST, TIERS_TEST, "assert_dedication_equals_sum_of_sessions")

CORRUPTIONS = {
    "an event dropped from fact_activity": (
        "delete from mart.fact_activity where event_id = (select min(event_id) from"
        " mart.fact_activity)",
        SESSIONS_TEST,
    ),
    "an event put in another user's session": (
        "update mart.fact_activity as a set session_id = (select s.session_id from"
        " mart.fact_session as s where s.user_id <> a.user_id order by s.session_id limit 1)"
        " where event_id = (select max(event_id) from mart.fact_activity)",
        SESSIONS_TEST,
    ),
    "a session that ends before its last event": (
        "update mart.fact_session set ended_at = started_at"
        " where session_id = (select session_id from mart.fact_session"
        " where event_count > 2 and ended_at > started_at order by session_id limit 1)",
        SESSIONS_TEST,
    ),
    "a rank one off at the top": (
        "update mart.learner_tiers set metric_rank = metric_rank + 1"
        " where (user_id, metric) = (select user_id, metric from mart.learner_tiers"
        " where metric = 'activity_count' order by metric_rank, user_id limit 1)",
        TIERS_TEST,
    ),
    "a learner put in the top 1 % out of rank": (
        "update mart.learner_tiers set in_top_1_pct = true, top_tier = 'top 1%'"
        " where (user_id, metric) = (select user_id, metric from mart.learner_tiers"
        " where metric = 'login_count' and not in_top_25_pct order by user_id limit 1)",
        TIERS_TEST,
    ),
}


def failing_tests(database: ConnectionInfo, work_dir: Path) -> set[str]:
    result = run_dbt(["test", "--select", *CHECKED], database, work_dir)
    failed = set(re.findall(r"FAIL \d+ (assert_\w+)", result.stdout))
    errors = re.findall(r"ERROR \S* ?(assert_\w+)", result.stdout)
    assert not errors, result.stdout[-3000:]
    assert result.returncode == (1 if failed else 0), result.stdout[-3000:]
    return failed


@pytest.fixture(scope="module")
def compiled_checks(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """The invariant tests as dbt compiled them, after they passed on a correct copy."""
    work_dir = tmp_path_factory.mktemp("invariants")
    database = copy_database(built_warehouse, "invariants_ok")
    assert failing_tests(database, work_dir) == set()
    project = (PROJECT_ROOT / "dbt_project.yml").read_text()
    name = re.search(r"^name:\s*['\"]?(\w+)", project, re.MULTILINE)
    assert name is not None
    folder = work_dir / "target" / "compiled" / name.group(1) / "tests" / "singular"
    # dbt-postgres names relations "database"."schema"."table"; the copies have other names.
    qualifier = f'"{database.dbname}".'
    return {test: (folder / f"{test}.sql").read_text().replace(qualifier, "") for test in CHECKED}


def failing_compiled(database: ConnectionInfo, checks: dict[str, str]) -> Iterator[str]:
    connection = database.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            for test, statement in checks.items():
                # Newlines: a compiled test may end in a -- comment.
                cursor.execute(f"select count(*) from (\n{statement}\n) as failures")
                row = cursor.fetchone()
                if row is not None and row[0] > 0:
                    yield test
    finally:
        connection.close()


def test_the_invariants_hold_on_a_correct_build(
    built_warehouse: ConnectionInfo, compiled_checks: dict[str, str]
) -> None:
    assert set(compiled_checks) == set(CHECKED)
    assert all(built_warehouse.dbname not in statement for statement in compiled_checks.values())
    assert set(failing_compiled(built_warehouse, compiled_checks)) == set()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_each_corruption_fails_its_invariant_test(
    corruption: str,
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    compiled_checks: dict[str, str],
) -> None:
    statement, expected_failure = CORRUPTIONS[corruption]
    database = copy_database(built_warehouse, "invariants_broken")
    connection = database.connect(autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(statement)
        assert cursor.rowcount == 1, corruption
    connection.close()
    assert expected_failure in set(failing_compiled(database, compiled_checks))
