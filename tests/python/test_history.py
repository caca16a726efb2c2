"""A warehouse beside a real Moodle for years: history survives Moodle's deletions and log cleanup.

The real Moodle 4.5 site (tests/data) lives through what a site lives through, in order: a
nightly build; an admin deletes a course, a teacher deletes an activity (first step) and an
admin deletes a user, each exactly as Moodle's own functions leave the tables; the next
build; the activity's deletion completes, Moodle's log cleanup deletes every row older than
its limit, and new rows arrive; the next build; then a `--full-refresh`; and finally the
explicit rebuild of the archive. After each build, every user's metrics are compared with an
independent Python computation over every log row the warehouse has ever read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.dbt_helpers import assert_dbt_succeeded, load_real_moodle, run_dbt
from support.metric_reference import (
    ActiveSettings,
    LogRow,
    MoodleRows,
    SessionSettings,
    expected_active,
    sessionise,
    user_figures,
)
from support.moodle_deletions import (
    clean_up_log,
    delete_course,
    delete_user,
    finish_module_deletion,
    flag_module_for_deletion,
    query,
)
from support.reliability_support import cli_environment, run_cli

from runner.postgres.connection import ConnectionInfo

DELETED_COURSE = 3  # WRIT110 "Academic Writing Skills": the site's busiest course
DELETED_COURSE_NAME = "Academic Writing Skills"
DELETED_MODULE = 19  # a quiz of AGRI120 (course 4)
# Moodle's cleanup keeps the rows of the last days only: on this site (21 January to 31 March
# 2019) the limit falls in the middle of March.
CLEANUP_BEFORE = "2019-03-15"
NEW_DAYS_FROM = "2019-03-29"  # copied two days later, as the rows that arrive after the cleanup

LOG_COLUMNS = (
    "id, eventname, component, action, target, objecttable, objectid, crud, edulevel,"
    " contextid, contextlevel, contextinstanceid, userid, courseid, relateduserid, anonymous,"
    " other, timecreated, origin, ip, realuserid"
)


def append_new_rows(info: ConnectionInfo, copied_from: str, deleted_user: int) -> int:
    """Rows that arrive after the cleanup: the site's last days again, two days later, with new
    ids, by users and in places that still exist."""
    [(count,)] = query(
        info,
        f"""
        with source_rows as (
            select * from mdl_logstore_standard_log
            where timecreated >= extract(epoch from %s::timestamptz)
              and userid <> {deleted_user}
              and coalesce(courseid, 0) <> {DELETED_COURSE}
              and not (contextlevel = 70 and contextinstanceid = {DELETED_MODULE})
        ), inserted as (
            insert into mdl_logstore_standard_log ({LOG_COLUMNS})
            select
                (select max(id) from mdl_logstore_standard_log)
                    + row_number() over (order by id),
                eventname, component, action, target, objecttable, objectid, crud, edulevel,
                contextid, contextlevel, contextinstanceid, userid, courseid, relateduserid,
                anonymous, other, timecreated + 2 * 86400, origin, ip, realuserid
            from source_rows
            returning 1
        )
        select count(*) from inserted
        """,
        (f"{copied_from} 00:00:00+00",),
    )
    return count


# --- the reference: every log row ever read ---------------------------------------------------


class LogRead:
    """Every log row the warehouse has been given to read, by id (a row never changes)."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[Any, ...]] = {}

    def read(self, info: ConnectionInfo) -> None:
        for row in query(
            info,
            "select id, userid, eventname, crud, edulevel, action, origin, realuserid,"
            " timecreated from mdl_logstore_standard_log",
        ):
            self.rows[row[0]] = row


def expected_user_metrics(log: LogRead, user_ids: set[int]) -> dict[int, tuple[int, ...]]:
    """user -> (logins, activity, sessions, dedication s, learner actions, active sessions,
    active s), by the definitions, over every row ever read."""
    session_settings = SessionSettings()
    moodle = MoodleRows(
        log=[(row[0], row[1], row[5], row[8]) for row in log.rows.values()],
        users={user_id: (False, True, "") for user_id in user_ids},
        role_archetypes={},
        contexts={},
        role_assignments=[],
        course_ids=set(),
    )
    sessions, _ = sessionise(moodle, session_settings)
    figures = user_figures(moodle, sessions, session_settings)
    active_settings = ActiveSettings()
    active = expected_active([LogRow(*row) for row in log.rows.values()], user_ids, active_settings)
    active_figures = {user_id: [0, 0, 0] for user_id in user_ids}
    for session in active.sessions.values():
        active_figures[session.user_id][0] += session.action_count
        active_figures[session.user_id][1] += 1
        active_figures[session.user_id][2] += min(
            session.ended_epoch - session.started_epoch, active_settings.cap_seconds
        )
    return {
        user_id: (
            figures[user_id].login_count,
            figures[user_id].activity_count,
            figures[user_id].session_count,
            figures[user_id].dedication_seconds,
            *active_figures[user_id],
        )
        for user_id in user_ids
    }


def actual_user_metrics(info: ConnectionInfo) -> dict[int, tuple[int, ...]]:
    return {
        row[0]: tuple(row[1:])
        for row in query(
            info,
            "select user_id, login_count, activity_count, session_count, dedication_seconds,"
            " learner_action_count, active_session_count, active_seconds from mart.dim_user",
        )
    }


# --- the site's life --------------------------------------------------------------------------


@dataclass
class Site:
    info: ConnectionInfo
    work_dir: Path
    log: LogRead
    user_ids: set[int]
    deleted_user: int
    deleted_user_context: int
    deleted_user_context_rows: int
    learners_before: set[int]
    outputs: dict[str, str] = field(default_factory=dict)
    metrics_after_deletions: dict[int, tuple[int, ...]] = field(default_factory=dict)
    log_read_after_deletions: LogRead = field(default_factory=LogRead)
    trimmed_rows: int = 0
    appended_rows: int = 0

    def build(self, stage: str, *args: str) -> None:
        result = run_dbt(["build", *args], self.info, self.work_dir)
        assert_dbt_succeeded(result)
        self.outputs[stage] = result.stdout

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return query(self.info, sql, params)


@pytest.fixture(scope="module")
def site(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    info = make_database("history")
    load_real_moodle(info)
    # A learner of the deleted course's neighbours with rows in their own user context (the
    # dashboard): delete_user() deletes that context, never the rows.
    [(deleted_user,)] = query(
        info,
        "select log.userid from mdl_logstore_standard_log as log"
        " join mdl_role_assignments as ra on ra.userid = log.userid"
        " join mdl_context as ctx on ctx.id = ra.contextid and ctx.contextlevel = 50"
        "   and ctx.instanceid <> %s"
        " join mdl_role as r on r.id = ra.roleid and r.archetype = 'student'"
        " where log.contextlevel = 30 and log.contextinstanceid = log.userid"
        " group by log.userid order by count(*) desc, log.userid limit 1",
        (DELETED_COURSE,),
    )
    learners_before = {
        user_id
        for (user_id,) in query(
            info,
            "select ra.userid from mdl_role_assignments as ra"
            " join mdl_context as ctx on ctx.id = ra.contextid"
            " join mdl_role as r on r.id = ra.roleid"
            " where ctx.contextlevel = 50 and ctx.instanceid = %s and r.archetype = 'student'",
            (DELETED_COURSE,),
        )
    }
    [(user_context, user_context_rows)] = query(
        info,
        "select ctx.id, count(log.id) from mdl_context as ctx"
        " join mdl_logstore_standard_log as log"
        "   on log.contextid = ctx.id and log.userid = ctx.instanceid"
        " where ctx.contextlevel = 30 and ctx.instanceid = %s group by ctx.id",
        (deleted_user,),
    )
    user_ids = {user_id for (user_id,) in query(info, "select id from mdl_user")}
    site = Site(
        info,
        tmp_path_factory.mktemp("history"),
        LogRead(),
        user_ids,
        deleted_user,
        user_context,
        user_context_rows,
        learners_before,
    )
    # 1. The first nightly build.
    site.log.read(info)
    site.build("first")
    # 2. Deletions: a course, the first step of an activity's, a user.
    delete_course(info, DELETED_COURSE)
    flag_module_for_deletion(info, DELETED_MODULE)
    delete_user(info, deleted_user)
    site.log.read(info)
    site.build("after deletions")
    site.metrics_after_deletions = actual_user_metrics(info)
    site.log_read_after_deletions.rows = dict(site.log.rows)
    # 3. The activity's deletion completes, the cleanup task runs, new rows arrive.
    finish_module_deletion(info, DELETED_MODULE)
    site.trimmed_rows = clean_up_log(info, CLEANUP_BEFORE)
    site.appended_rows = append_new_rows(info, NEW_DAYS_FROM, deleted_user)
    site.log.read(info)
    site.build("after cleanup")
    yield site


def test_deletions_change_no_users_metrics(site: Site) -> None:
    """After a course, an activity and a user are deleted, every user's metrics are those of
    every log row ever read: the same rows, so the same figures as before the deletions."""
    expected = expected_user_metrics(site.log_read_after_deletions, site.user_ids)
    assert site.metrics_after_deletions == expected
    # The deleted course's rows are many: a rule that dropped them would be seen.
    [(course_rows,)] = site.rows(
        "select count(*) from mart.fact_activity where course_id = %s", (DELETED_COURSE,)
    )
    assert course_rows > 1000


def test_after_cleanup_and_new_rows_every_user_counts_every_row_ever_read(site: Site) -> None:
    assert site.trimmed_rows > 5000 and site.appended_rows > 100
    assert actual_user_metrics(site.info) == expected_user_metrics(site.log, site.user_ids)
    [(archived,)] = site.rows("select count(*) from archive.archive_moodle__logstore_standard_log")
    assert archived == len(site.log.rows)


def test_the_build_warns_with_the_count_of_rows_moodle_no_longer_has(site: Site) -> None:
    output = site.outputs["after cleanup"]
    assert re.search(r"WARN \d+ archived_log_rows_no_longer_in_moodle", output), output[-3000:]
    assert f"Got {site.trimmed_rows} results, configured to warn" in output
    assert re.search(r"PASS archived_log_rows_no_longer_in_moodle", site.outputs["first"])


def test_deleted_course_keeps_its_name_its_learners_and_their_weeks(site: Site) -> None:
    [(name, deleted)] = site.rows(
        "select course_full_name, is_course_deleted from mart.dim_course where course_id = %s",
        (DELETED_COURSE,),
    )
    assert (name, deleted) == (DELETED_COURSE_NAME, True)
    learners = {
        user_id
        for (user_id,) in site.rows(
            "select distinct user_id from mart.fact_learner_week where course_id = %s",
            (DELETED_COURSE,),
        )
    }
    assert site.learners_before and learners == site.learners_before
    [(learner_count,)] = site.rows(
        "select learner_count from mart.dim_course where course_id = %s", (DELETED_COURSE,)
    )
    assert learner_count == len(site.learners_before)


def test_deleted_activity_and_user_stay_with_their_history(site: Site) -> None:
    [(deleted_module, course_id)] = site.rows(
        "select is_module_deleted, course_id from mart.dim_module where course_module_id = %s",
        (DELETED_MODULE,),
    )
    assert deleted_module and course_id == 4
    [(is_deleted, is_learner)] = site.rows(
        "select is_deleted, is_learner from mart.dim_user where user_id = %s",
        (site.deleted_user,),
    )
    assert is_deleted and is_learner  # a learner before the deletion stays one
    # The rows in the user's own context (their dashboard), deleted with the account, count.
    [(in_own_context,)] = site.rows(
        "select count(*) from mart.fact_activity where user_id = %s and context_id = %s",
        (site.deleted_user, site.deleted_user_context),
    )
    assert site.deleted_user_context_rows > 0
    assert in_own_context == site.deleted_user_context_rows


def test_a_full_refresh_keeps_the_archive_and_every_metric(site: Site) -> None:
    before = actual_user_metrics(site.info)
    site.build("full refresh", "--full-refresh")
    [(archived,)] = site.rows("select count(*) from archive.archive_moodle__logstore_standard_log")
    assert archived == len(site.log.rows)
    assert actual_user_metrics(site.info) == before


def test_rebuilding_the_archive_asks_first_then_drops_what_moodle_no_longer_has(
    site: Site, tmp_path: Path
) -> None:
    env = cli_environment(site.info, tmp_path)
    status = run_cli(["archive", "status", "--json"], env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["archived_only_rows"] == site.trimmed_rows, status.stdout
    refused = run_cli(["archive", "rebuild"], env)
    assert refused.returncode == 1
    assert f"{site.trimmed_rows:,} log rows that Moodle's log no longer has" in refused.stderr
    [(archived,)] = site.rows("select count(*) from archive.archive_moodle__logstore_standard_log")
    assert archived == len(site.log.rows)  # nothing touched
    rebuilt = run_cli(["archive", "rebuild", "--yes", "--quiet"], env)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    [(archived, moodle)] = site.rows(
        "select (select count(*) from archive.archive_moodle__logstore_standard_log),"
        " (select count(*) from mdl_logstore_standard_log)"
    )
    assert archived == moodle == len(site.log.rows) - site.trimmed_rows
