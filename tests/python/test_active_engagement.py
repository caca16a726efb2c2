"""The learner-reflecting measures (active sessions, time) against an independent computation.

`dbt build` runs on the real Moodle 4.5 site (tests/data) with the default vars and with the
active-session vars changed; then the learner's own actions and their active sessions are
recomputed here from the raw log rows and the seed CSV, with simple loops, and compared row by
row with fact_activity, fact_active_session, dim_user, learner_tiers and user_data_quality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.dbt_helpers import assert_dbt_succeeded, load_real_moodle, run_dbt
from support.metric_reference import (
    LOGIN_ACTIONS,
    Expected,
    LogRow,
    expected_active,
    impersonated_ids,
    rows_by_user,
)
from support.metric_reference import ActiveSettings as Settings

from runner.postgres.connection import ConnectionInfo

TIER_PERCENTS = (1, 5, 10, 25)
APP_ONLY_LEARNERS = ("mercy.wambui", "samuel.kariuki")  # tests/data/README.md
VARIANT_VARS = {
    "schema_prefix": "active_variant_",
    "idle_timeout_minutes": 10,
    "session_cap_hours": 1,
}


# --- the definitions, in plain Python -------------------------------------------------------


def expected_tiers(values: dict[int, int]) -> dict[int, tuple[int, int, str | None]]:
    """learner -> (value, rank, top tier), by the tier definition of the models issue."""
    result = {}
    for user_id, value in values.items():
        rank = 1 + sum(1 for other in values.values() if other > value)
        tier = None
        for percent in TIER_PERCENTS:
            if value > 0 and rank <= -(-percent * len(values) // 100):
                tier = f"top {percent}%"
                break
        result[user_id] = (value, rank, tier)
    return result


# --- building and reading -------------------------------------------------------------------


def query(info: ConnectionInfo, sql: str) -> list[tuple[Any, ...]]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


@dataclass(frozen=True)
class Built:
    info: ConnectionInfo
    settings: Settings
    mart: str
    log: list[LogRow]
    usernames: dict[int, str]
    expected: Expected
    work_dir: Path

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return query(self.info, sql.replace("{mart}", self.mart))

    def user_id(self, username: str) -> int:
        return next(user_id for user_id, name in self.usernames.items() if name == username)


@pytest.fixture(scope="module", params=["default vars", "idle 10 min, cap 1 h"])
def built(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> Built:
    if request.param == "default vars":
        # The run's shared build of the real site with the default vars.
        settings, mart = Settings(), "mart"
        real_database, work_dir = request.getfixturevalue("real_site_build")
    else:
        settings = Settings(idle_timeout_seconds=10 * 60, cap_seconds=3600)
        mart = "active_variant_mart"
        real_database = make_database("active_real_variant")
        load_real_moodle(real_database)
        work_dir = tmp_path_factory.mktemp("dbt_active")
        # Singular invariant and unit tests; the column tests run in the default build.
        variant_build = ["build", "--exclude", "test_type:generic"]
        assert_dbt_succeeded(run_dbt(variant_build, real_database, work_dir, dbt_vars=VARIANT_VARS))
    log = [
        LogRow(*row)
        for row in query(
            real_database,
            "select id, userid, eventname, crud, edulevel, action, origin, realuserid,"
            " timecreated from mdl_logstore_standard_log",
        )
    ]
    usernames = dict(query(real_database, "select id, username from mdl_user"))
    expected = expected_active(log, set(usernames), settings)
    return Built(real_database, settings, mart, log, usernames, expected, work_dir)


# --- the checks -----------------------------------------------------------------------------


def test_every_active_session_matches_python(built: Built) -> None:
    cap = built.settings.cap_seconds
    actual = {
        row[0]: row[1:]
        for row in built.rows(
            "select active_session_id, user_id, user_active_session_number,"
            " session_start_reason, action_count, app_action_count, raw_duration_seconds,"
            " duration_seconds, is_capped, extract(epoch from started_at)::bigint,"
            " extract(epoch from ended_at)::bigint from {mart}.fact_active_session"
        )
    }
    assert set(actual) == set(built.expected.sessions)
    for session_id, session in built.expected.sessions.items():
        raw = session.ended_epoch - session.started_epoch
        assert actual[session_id] == (
            session.user_id,
            session.number,
            session.start_reason,
            session.action_count,
            session.app_action_count,
            raw,
            min(raw, cap),
            raw > cap,
            session.started_epoch,
            session.ended_epoch,
        ), session_id


def test_every_event_is_flagged_and_placed_as_python_says(built: Built) -> None:
    actual = {
        row[0]: row[1:]
        for row in built.rows(
            "select event_id, is_learner_action, engagement_kind, active_session_id"
            " from {mart}.fact_activity"
        )
    }
    assert set(actual) == set(built.expected.own_kind)
    for event_id, kind in built.expected.own_kind.items():
        assert actual[event_id] == (
            kind is not None,
            kind or "none",
            built.expected.session_of_event.get(event_id),
        ), event_id


def test_every_user_active_figure_matches_python(built: Built) -> None:
    figures: dict[int, list[int]] = {user_id: [0, 0, 0] for user_id in built.usernames}
    for session in built.expected.sessions.values():
        raw = session.ended_epoch - session.started_epoch
        figures[session.user_id][0] += session.action_count
        figures[session.user_id][1] += 1
        figures[session.user_id][2] += min(raw, built.settings.cap_seconds)
    actual = {
        row[0]: list(row[1:])
        for row in built.rows(
            "select user_id, learner_action_count, active_session_count, active_seconds"
            " from {mart}.dim_user"
        )
    }
    assert actual == figures


def test_new_tier_metrics_match_python(built: Built) -> None:
    users = built.rows(
        "select user_id, active_seconds, learner_action_count from {mart}.dim_user where is_learner"
    )
    assert len(users) == 41  # 40 students and 1 auditor (tests/data/README.md)
    for metric, column in (("active_time", 1), ("learner_action_count", 2)):
        expected = expected_tiers({row[0]: row[column] for row in users})
        actual = {
            row[0]: row[1:]
            for row in built.rows(
                "select user_id, metric_value, metric_rank, top_tier from {mart}.learner_tiers"
                f" where metric = '{metric}'"
            )
        }
        assert actual == expected, metric


def test_no_impersonated_and_no_cron_row_counts_towards_a_learner(built: Built) -> None:
    impersonated = {row.event_id for row in built.log if row.real_user_id is not None}
    cron = {row.event_id for row in built.log if row.origin == "cli"}
    # tests/data/README.md: the loggedinas row (the admin's) and 4 clicks as the learner.
    assert len(impersonated) == 5 and len(cron) == 2131
    counted = {
        row[0]
        for row in built.rows(
            "select event_id from {mart}.fact_activity"
            " where is_learner_action or active_session_id is not null"
        )
    }
    assert not counted & (impersonated | cron)
    # The logout that ends "Log in as" carries the learner's id and no realuserid: not theirs.
    logged_in_as = built.user_id("dennis.omondi")
    closing = impersonated_ids(rows_by_user(built.log, set(built.usernames))) - impersonated
    [closing_row] = [row for row in built.log if row.event_id in closing]
    assert (closing_row.user_id, closing_row.action) == (logged_in_as, "loggedout")
    assert closing_row.event_id not in counted
    quality = built.rows(
        "select impersonated_events_count, cron_events_count from {mart}.user_data_quality"
        f" where user_id = {logged_in_as}"
    )
    assert quality == [(5, 0)]


def test_app_only_learners_get_active_time_in_line_with_their_actions(built: Built) -> None:
    """Neither the cap for the whole term (as the original dedication) nor zero."""
    for username in APP_ONLY_LEARNERS:
        user_id = built.user_id(username)
        [(logins, dedication, actions, sessions, active)] = built.rows(
            "select login_count, dedication_seconds, learner_action_count,"
            " active_session_count, active_seconds from {mart}.dim_user"
            f" where user_id = {user_id}"
        )
        assert logins == 0
        # The original definition: every row in one opening session, cut at the cap.
        assert dedication == built.settings.cap_seconds
        own_sessions = [s for s in built.expected.sessions.values() if s.user_id == user_id]
        assert actions == sum(s.action_count for s in own_sessions) > 10
        assert sessions == len(own_sessions) >= 4  # one per app visit, on different days
        assert 0 < active < dedication
        assert active == sum(
            min(s.ended_epoch - s.started_epoch, built.settings.cap_seconds) for s in own_sessions
        )
        # Every action of theirs came from the app, except the app's own sign-in (web).
        app_rows = built.rows(
            "select sum(app_action_count), sum(action_count) from {mart}.fact_active_session"
            f" where user_id = {user_id}"
        )
        assert app_rows[0][0] >= app_rows[0][1] - 1


def test_a_return_next_morning_splits_the_capped_original_session(built: Built) -> None:
    """A learner who comes back hours later without logging in again: the original session
    spans the night and is cut at the cap; the active sessions split at the idle gap."""
    rows = built.rows(
        "select s.session_id, count(distinct a.active_session_id),"
        " sum(case when x.session_start_reason = 'idle_gap' then 1 else 0 end)"
        " from {mart}.fact_session as s"
        " join {mart}.fact_activity as a on a.session_id = s.session_id"
        " join {mart}.fact_active_session as x on x.active_session_id = a.active_session_id"
        "  and a.event_id = x.active_session_id"
        " where s.is_capped and s.starts_with_login"
        " group by s.session_id"
    )
    split = [row for row in rows if row[1] >= 2 and row[2] >= 1]
    assert len(split) >= 20  # many "next morning" and "hours later" returns in the real data
    [(capped_original, capped_active)] = built.rows(
        "select (select count(*) from {mart}.fact_session where is_capped),"
        " (select count(*) from {mart}.fact_active_session where is_capped)"
    )
    assert capped_active < capped_original / 10


def test_user_data_quality_matches_python(built: Built) -> None:
    by_user = rows_by_user(built.log, set(built.usernames))
    impersonated = impersonated_ids(by_user)
    capped = dict(
        built.rows(
            "select user_id, sum(duration_seconds) from {mart}.fact_session"
            " where is_capped group by user_id"
        )
    )
    actual = {
        row[0]: row[1:]
        for row in built.rows(
            "select user_id, event_count, events_before_first_login_count, not_own_events_count,"
            " impersonated_events_count, app_events_count, cron_events_count,"
            " capped_dedication_seconds, has_events_but_no_login from {mart}.user_data_quality"
        )
    }
    assert set(actual) == set(built.usernames)
    for user_id in built.usernames:
        rows = by_user.get(user_id, [])
        first_login = next(
            (index for index, row in enumerate(rows) if row.action in LOGIN_ACTIONS), len(rows)
        )
        assert actual[user_id] == (
            len(rows),
            first_login,
            sum(1 for row in rows if built.expected.own_kind[row.event_id] is None),
            sum(1 for row in rows if row.event_id in impersonated),
            sum(1 for row in rows if row.origin == "ws"),
            sum(1 for row in rows if row.origin == "cli"),
            capped.get(user_id, 0),
            bool(rows) and first_login == len(rows),
        ), user_id


def test_a_bad_idle_timeout_stops_the_compile_with_one_clear_line(
    real_site_build: tuple[ConnectionInfo, Path], tmp_path: Path
) -> None:
    result = run_dbt(
        ["compile", "--select", "int_log_events_active_sessionised"],
        real_site_build[0],
        tmp_path,
        dbt_vars={"idle_timeout_minutes": 0},
    )
    assert result.returncode != 0
    assert "var idle_timeout_minutes must be a positive number of minutes, got: 0" in result.stdout
