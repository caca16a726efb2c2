"""Staging on the real Moodle 4.5 site: every row kept, typed and flagged; private by default.

`dbt build --select staging` runs on a fresh copy of the real data (tests/data); the facts
below are then read back from the views and compared with the Moodle tables they come from.
Other databases hold deliberately altered copies: an older Moodle's schema (columns missing,
a column of another type) and rows that break Moodle's keys, which the YAML tests must catch.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.dbt_helpers import assert_dbt_succeeded, load_real_moodle, run_dbt

from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

# `cautious`: only the tests of the staging models, not intermediate tests that refer to them.
BUILD_STAGING = ["build", "--select", "staging", "--indirect-selection", "cautious"]

# Each staging model and the Moodle table it reads, one row for one row.
STAGING_SOURCES = {
    "stg_moodle__log_events": "logstore_standard_log",
    "stg_moodle__contexts": "context",
    "stg_moodle__users": "user",
    "stg_moodle__courses": "course",
    "stg_moodle__modules": "modules",
    "stg_moodle__course_modules": "course_modules",
    "stg_moodle__course_module_completions": "course_modules_completion",
    "stg_moodle__grade_items": "grade_items",
    "stg_moodle__grades": "grade_grades",
    "stg_moodle__grade_categories": "grade_categories",
    "stg_moodle__grade_items_history": "grade_items_history",
    "stg_moodle__grades_history": "grade_grades_history",
    "stg_moodle__grade_categories_history": "grade_categories_history",
    "stg_moodle__forums": "forum",
    "stg_moodle__forum_discussions": "forum_discussions",
    "stg_moodle__forum_posts": "forum_posts",
    "stg_moodle__roles": "role",
    "stg_moodle__role_assignments": "role_assignments",
    "stg_moodle__enrolment_methods": "enrol",
    "stg_moodle__user_enrolments": "user_enrolments",
}

# Personal data by model: absent by default, present with include_personal_data: true.
PERSONAL_COLUMNS = {
    "stg_moodle__log_events": {"other_raw", "ip_address"},
    "stg_moodle__users": {
        "username",
        "id_number",
        "first_name",
        "last_name",
        "email",
        "phone_1",
        "phone_2",
        "institution",
        "department",
        "address",
        "city",
        "country",
        "last_ip",
        "description",
    },
    "stg_moodle__grades": {"feedback"},
    "stg_moodle__grades_history": {"feedback"},
    "stg_moodle__forum_discussions": {"discussion_name"},
    "stg_moodle__forum_posts": {"subject", "message"},
}

# The staging models of the optional tables: empty on the real site, whose dump lacks them.
OPTIONAL_STAGING_SOURCES = {
    "stg_moodle__assignments": "assign",
    "stg_moodle__assignment_submissions": "assign_submission",
    "stg_moodle__quizzes": "quiz",
    "stg_moodle__quiz_attempts": "quiz_attempts",
    "stg_moodle__course_completion_criteria": "course_completion_criteria",
    "stg_moodle__course_completions": "course_completions",
}

# Columns Moodle 4.5 has and 3.9 lacks (runner/moodle_facts/schema_diff_moodle39_to_45.csv).
COLUMNS_NEWER_THAN_39 = (
    ("course_modules", "completionpassgrade", "stg_moodle__course_modules",
     "is_pass_grade_required_for_completion"),
    ("course", "showactivitydates", "stg_moodle__courses", "shows_activity_dates"),
)  # fmt: skip


def query(info: ConnectionInfo, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def scalar(info: ConnectionInfo, sql: str, params: tuple[Any, ...] = ()) -> Any:
    return query(info, sql, params)[0][0]


def view_columns(info: ConnectionInfo, schema: str, view: str) -> dict[str, str]:
    rows = query(
        info,
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s",
        (schema, view),
    )
    return dict(rows)


def run_results(work_dir: Path) -> list[dict[str, Any]]:
    document = json.loads((work_dir / "target" / "run_results.json").read_text(encoding="utf-8"))
    return document["results"]


def dbt_show(info: ConnectionInfo, work_dir: Path, sql: str, dbt_vars=None) -> list[dict]:
    """Rows of an inline query compiled by dbt (so it can call the project's macros)."""
    result = run_dbt(
        ["show", "--inline", sql, "--output", "json", "--log-format", "json"],
        info,
        work_dir,
        dbt_vars=dbt_vars,
    )
    assert_dbt_succeeded(result)
    for line in result.stdout.splitlines():
        event = json.loads(line)
        preview = event.get("data", {}).get("preview")
        if preview is not None:
            return json.loads(preview)
    raise AssertionError(f"dbt show printed no rows:\n{result.stdout[-3000:]}")


@pytest.fixture(scope="module")
def real_site(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> tuple[ConnectionInfo, Path, subprocess.CompletedProcess[str]]:
    """The real Moodle data with staging built on it by default settings."""
    info = make_database("staging")
    load_real_moodle(info)
    work_dir = tmp_path_factory.mktemp("staging_dbt")
    result = run_dbt(BUILD_STAGING, info, work_dir)
    assert_dbt_succeeded(result)
    return info, work_dir, result


@pytest.fixture(scope="module")
def real_db(real_site) -> ConnectionInfo:
    return real_site[0]


# --- the build ------------------------------------------------------------------------------


def test_every_staging_model_and_test_passes_on_the_real_site(real_site) -> None:
    _, work_dir, _ = real_site
    results = run_results(work_dir)
    models = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    # One model per Moodle table, and the log archive the log's staging model reads.
    assert models == {
        *STAGING_SOURCES,
        *OPTIONAL_STAGING_SOURCES,
        "archive_moodle__logstore_standard_log",
    }
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    assert len(tests) > 150
    # Warn-severity tests pass too: real Moodle data meets every rule stated in the YAML.
    not_passing = {r["unique_id"]: r["status"] for r in tests if r["status"] != "pass"}
    assert not_passing == {}


@pytest.mark.parametrize("model,table", sorted(STAGING_SOURCES.items()))
def test_staging_keeps_every_source_row(real_db: ConnectionInfo, model: str, table: str) -> None:
    source_rows = scalar(real_db, f'select count(*) from public."mdl_{table}"')
    staged_rows = scalar(real_db, f'select count(*) from staging."{model}"')
    assert source_rows > 0
    assert staged_rows == source_rows


@pytest.mark.parametrize("model,table", sorted(OPTIONAL_STAGING_SOURCES.items()))
def test_an_absent_optional_table_gives_an_empty_model_with_the_same_columns_and_types(
    real_db: ConnectionInfo, built_warehouse: ConnectionInfo, model: str, table: str
) -> None:
    """The real dump has no mdl_<table>; the generated site has one with rows."""
    assert scalar(real_db, "select to_regclass(%s) is null", (f"public.mdl_{table}",))
    assert scalar(real_db, f'select count(*) from staging."{model}"') == 0
    assert scalar(built_warehouse, f'select count(*) from public."mdl_{table}"') > 0
    assert scalar(built_warehouse, f'select count(*) from staging."{model}"') == scalar(
        built_warehouse, f'select count(*) from public."mdl_{table}"'
    )
    absent = view_columns(real_db, "staging", model)
    present = view_columns(built_warehouse, "staging", model)
    assert absent == present and len(absent) >= 7


def test_the_first_build_archives_every_log_row(real_db: ConnectionInfo) -> None:
    archived = query(
        real_db,
        "select count(*), count(distinct id), min(id), max(id)"
        " from archive.archive_moodle__logstore_standard_log",
    )
    moodle = query(
        real_db,
        "select count(*), count(distinct id), min(id), max(id) from mdl_logstore_standard_log",
    )
    assert archived == moodle and moodle[0][0] == 17428


# --- the log --------------------------------------------------------------------------------


def test_login_events_are_kept_as_site_level_rows(real_db: ConnectionInfo) -> None:
    source_logins = scalar(
        real_db, "select count(*) from mdl_logstore_standard_log where action = 'loggedin'"
    )
    rows = query(
        real_db,
        """
        select count(*), count(course_id), count(*) filter (where has_course),
            min(edulevel), max(edulevel), min(context_level), max(context_level)
        from staging.stg_moodle__log_events
        where action = 'loggedin'
        """,
    )
    assert source_logins == 804
    assert rows == [(804, 0, 0, 0, 0, 10, 10)]


def test_rows_by_nobody_or_the_system_are_flagged_not_dropped(real_db: ConnectionInfo) -> None:
    by_user = dict(
        query(
            real_db,
            "select user_id, count(*) from staging.stg_moodle__log_events"
            " where is_system_user group by user_id",
        )
    )
    # The README of tests/data: 398 + 289 + 1 rows by user 0, 81 regrades by user -1.
    assert by_user == {0: 688, -1: 81}
    assert (
        scalar(
            real_db,
            "select count(*) from staging.stg_moodle__log_events"
            " where not is_system_user and user_id <= 0",
        )
        == 0
    )


def test_course_zero_becomes_null_and_the_front_page_is_flagged(real_db: ConnectionInfo) -> None:
    source = dict(
        query(
            real_db,
            "select coalesce(courseid, 0) = 0, count(*) from mdl_logstore_standard_log group by 1",
        )
    )
    staged = dict(
        query(
            real_db,
            "select has_course, count(*) from staging.stg_moodle__log_events group by 1",
        )
    )
    assert staged == {False: source[True], True: source[False]}
    front_page = scalar(
        real_db, "select count(*) from mdl_logstore_standard_log where courseid = 1"
    )
    assert front_page > 0
    assert (
        scalar(real_db, "select count(*) from staging.stg_moodle__log_events where is_site_course")
        == front_page
    )


def test_log_in_as_rows_are_flagged_with_the_real_user(real_db: ConnectionInfo) -> None:
    rows = query(
        real_db,
        """
        select event_name, user_id, real_user_id, related_user_id
        from staging.stg_moodle__log_events
        where is_impersonated
        order by event_id
        """,
    )
    source_count = scalar(
        real_db, "select count(*) from mdl_logstore_standard_log where realuserid is not null"
    )
    assert len(rows) == source_count > 1
    assert {row[2] for row in rows} == {2}
    assert rows[0][0] == "\\core\\event\\user_loggedinas"
    assert rows[0][1] == 2 and rows[0][3] != 2  # the admin logs in as the learner


def test_event_times_are_the_same_instants_as_moodle_epochs(real_db: ConnectionInfo) -> None:
    mismatches = scalar(
        real_db,
        """
        select count(*)
        from staging.stg_moodle__log_events as staged
        inner join mdl_logstore_standard_log as source on source.id = staged.event_id
        where extract(epoch from staged.event_at) <> source.timecreated
            or staged.event_epoch <> source.timecreated
        """,
    )
    assert mismatches == 0
    assert view_columns(real_db, "staging", "stg_moodle__log_events")["event_at"] == (
        "timestamp with time zone"
    )


# --- the other tables -----------------------------------------------------------------------


def test_zero_and_max_int_times_mean_never(real_db: ConnectionInfo) -> None:
    # Two learners never log in and two use only the app: Moodle stores lastlogin 0 for them.
    users_never_logged_in = scalar(
        real_db, "select count(*) from mdl_user where lastlogin = 0 and deleted = 0"
    )
    assert users_never_logged_in >= 4
    assert (
        scalar(
            real_db, "select count(*) from staging.stg_moodle__users where last_login_at is null"
        )
        == users_never_logged_in
    )
    open_ended = scalar(
        real_db, "select count(*) from mdl_user_enrolments where timeend in (0, 2147483647)"
    )
    assert (
        scalar(
            real_db,
            "select count(*) from staging.stg_moodle__user_enrolments where ends_at is null",
        )
        == open_ended
    )


def test_flags_and_enumerations_follow_moodle(real_db: ConnectionInfo) -> None:
    guests = query(real_db, "select user_id from staging.stg_moodle__users where is_guest")
    assert guests == [(1,)]
    assert (
        scalar(
            real_db, "select count(*) from staging.stg_moodle__user_enrolments where not is_active"
        )
        == 1
    )  # the enrolment a teacher suspended
    site_courses = query(
        real_db, "select course_id from staging.stg_moodle__courses where is_site_course"
    )
    assert site_courses == [(1,)]
    archetypes = dict(
        query(real_db, "select role_short_name, role_archetype from staging.stg_moodle__roles")
    )
    assert archetypes["auditor"] == "student"
    levels = dict(
        query(
            real_db,
            "select context_level, min(context_level_name) from staging.stg_moodle__contexts"
            " group by 1",
        )
    )
    assert levels[10] == "system" and levels[50] == "course" and levels[70] == "module"
    states = dict(
        query(
            real_db,
            "select completion_state_name, count(*)"
            " from staging.stg_moodle__course_module_completions"
            " where is_complete group by 1",
        )
    )
    assert states == {"complete": 210, "complete_pass": 34, "complete_fail": 9}


# --- personal data --------------------------------------------------------------------------


def test_no_personal_data_column_by_default(real_db: ConnectionInfo) -> None:
    for model, personal in PERSONAL_COLUMNS.items():
        columns = set(view_columns(real_db, "staging", model))
        assert columns, model
        assert columns & personal == set(), model


def test_personal_data_only_when_the_analyst_asks(
    real_db: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work_dir = tmp_path_factory.mktemp("staging_personal")
    result = run_dbt(
        ["run", "--select", "staging"],
        real_db,
        work_dir,
        dbt_vars={"include_personal_data": True, "schema_prefix": "personal_"},
    )
    assert_dbt_succeeded(result)
    for model, personal in PERSONAL_COLUMNS.items():
        assert personal <= set(view_columns(real_db, "personal_staging", model)), model
    assert (
        scalar(real_db, "select username from personal_staging.stg_moodle__users where user_id = 1")
        == "guest"
    )
    # `other` passes through untouched, including Moodle's string 'null' for "no data".
    differing = scalar(
        real_db,
        """
        select count(*)
        from personal_staging.stg_moodle__log_events as staged
        inner join mdl_logstore_standard_log as source on source.id = staged.event_id
        where staged.other_raw is distinct from source.other
            or staged.ip_address is distinct from source.ip
        """,
    )
    assert differing == 0
    # The default build beside it is still free of them.
    assert "other_raw" not in view_columns(real_db, "staging", "stg_moodle__log_events")


# --- version tolerance ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def older_moodle(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> tuple[ConnectionInfo, subprocess.CompletedProcess[str]]:
    """The real data shaped like Moodle 3.9: 4.5-only columns dropped, hidden as smallint."""
    info = make_database("staging_old")
    load_real_moodle(info)
    connection = info.connect(autocommit=True)
    with connection.cursor() as cursor:
        for table, column, _, _ in COLUMNS_NEWER_THAN_39:
            cursor.execute(f'alter table "mdl_{table}" drop column "{column}"')
        # 3.9 had grade_categories.hidden as int(1), i.e. smallint.
        cursor.execute("alter table mdl_grade_categories alter column hidden type smallint")
    connection.close()
    result = run_dbt(BUILD_STAGING, info, tmp_path_factory.mktemp("staging_old_dbt"))
    return info, result


def test_missing_columns_become_nulls_with_a_warning(older_moodle) -> None:
    info, result = older_moodle
    assert_dbt_succeeded(result)
    for table, column, model, staged_column in COLUMNS_NEWER_THAN_39:
        assert f'"mdl_{table}" has no column {column}' in result.stdout
        counts = query(info, f'select count(*), count("{staged_column}") from staging."{model}"')
        assert counts[0][0] > 0 and counts[0][1] == 0, (model, counts)
    # Exactly these columns are reported, not the ones that exist.
    assert result.stdout.count("has no column") == len(COLUMNS_NEWER_THAN_39)


def test_types_do_not_depend_on_the_moodle_version(older_moodle, real_db) -> None:
    info, result = older_moodle
    assert_dbt_succeeded(result)
    for model in ("stg_moodle__grade_categories", "stg_moodle__course_modules"):
        assert view_columns(info, "staging", model) == view_columns(real_db, "staging", model)


def test_a_missing_table_stops_the_run_with_one_clear_line(
    real_db: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result = run_dbt(
        ["run", "--select", "stg_moodle__forums"],
        real_db,
        tmp_path_factory.mktemp("staging_no_table"),
        dbt_vars={"moodle_table_prefix": "m39_", "schema_prefix": "missing_"},
    )
    assert result.returncode != 0
    assert '"m39_forum" not found: check vars moodle_schema and moodle_table_prefix' in (
        result.stdout
    )


# --- the YAML tests catch broken data -------------------------------------------------------


def test_yaml_tests_fail_on_rows_that_break_moodle_rules(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> None:
    info = make_database("staging_broken")
    load_real_moodle(info)
    connection = info.connect(autocommit=True)
    with connection.cursor() as cursor:
        # A second grade for the same user and item: Moodle's unique index forbids it, but a
        # copy of the data (an export, a replica without indexes) may not.
        cursor.execute("drop index mdl_gradgrad_useite_uix")
        cursor.execute(
            "insert into mdl_grade_grades (itemid, userid)"
            " select itemid, userid from mdl_grade_grades order by id limit 1"
        )
        # A log row by a user who does not exist, with a crud letter Moodle never writes.
        cursor.execute(
            "insert into mdl_logstore_standard_log (eventname, component, action, target, crud,"
            " edulevel, contextid, contextlevel, contextinstanceid, userid, timecreated)"
            " values ('\\core\\event\\x', 'core', 'x', 'x', 'x', 0, 1, 10, 0, 99999, 1549000000)"
        )
    connection.close()
    work_dir = tmp_path_factory.mktemp("staging_broken_dbt")
    result = run_dbt(BUILD_STAGING, info, work_dir)
    assert result.returncode != 0
    results = run_results(work_dir)
    failed = {r["unique_id"].split(".")[2] for r in results if r["status"] == "fail"}
    assert failed == {
        "unique_combination_of_columns_stg_moodle__grades_grade_item_id__user_id",
        "accepted_values_stg_moodle__log_events_crud__c__r__u__d",
    }
    # A log row of a user who does not exist is hostile data: counted as a warning, kept out
    # of the metrics (docs/hostile_data.md), never a failed build.
    warned = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["status"] == "warn"}
    assert warned["hostile_log_rows_of_unknown_users"] == 1


# --- cross-database macros ------------------------------------------------------------------


def test_local_date_and_hour_follow_the_reporting_timezone(
    real_db: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # 1549227600 is 2019-02-03 21:00 UTC, midnight of Monday 2019-02-04 in Nairobi (UTC+3).
    sql = (
        "select {{ to_local_date(epoch_to_timestamp('1549227600')) }} as local_date,"
        " {{ to_local_hour(epoch_to_timestamp('1549227600')) }} as local_hour,"
        " {{ to_local_iso_weekday(epoch_to_timestamp('1549227600')) }} as iso_weekday,"
        " {{ timestamp_to_epoch(epoch_to_timestamp('1549227600')) }} as round_trip,"
        " {{ floor_divide('-7', '2') }} as floored, {{ ceiling_int('7.0 / 2') }} as ceiled"
    )
    work_dir = tmp_path_factory.mktemp("staging_macros")
    utc = dbt_show(real_db, work_dir, sql)
    nairobi = dbt_show(real_db, work_dir, sql, dbt_vars={"reporting_timezone": "Africa/Nairobi"})
    assert utc == [
        {
            "local_date": "2019-02-03",
            "local_hour": 21,
            "iso_weekday": 7,
            "round_trip": 1549227600,
            "floored": -4,
            "ceiled": 4,
        }
    ]
    assert nairobi[0]["local_date"] == "2019-02-04"
    assert nairobi[0]["local_hour"] == 0
    assert nairobi[0]["iso_weekday"] == 1


def test_a_malformed_timezone_is_refused_before_it_reaches_sql(
    real_db: ConnectionInfo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result = run_dbt(
        ["show", "--inline", "select {{ to_local_date('now()') }} as d"],
        real_db,
        tmp_path_factory.mktemp("staging_bad_zone"),
        dbt_vars={"reporting_timezone": "UTC'; drop table mdl_user; --"},
    )
    assert result.returncode != 0
    assert "must be an IANA time zone name" in result.stdout
    assert scalar(real_db, "select count(*) from mdl_user") == 46
