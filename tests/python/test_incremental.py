"""An incremental build gives exactly what a full rebuild of the same data gives.

A generated Moodle site is built with `dbt build`. Then the log grows the ways a real one does:
a new day (new logins, sessions continued, new users' first rows), late rows with old times
(a course restore), rows in the same second as existing ones, a login inside an existing
session, an action filling an idle gap (two active sessions become one), a "Log in as" row
that turns an existing logout into the end of the impersonation, rows of nobody, replayed
copies of old rows, the `user` row of a user whose log rows were already there, and a course
deleted with its context. `dbt build` (incremental) runs on that database; a copy of it is
rebuilt from nothing; every row of every mart, of staging's log and of the incremental
intermediate tables must be the same in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from psycopg2 import sql
from support.dbt_helpers import assert_dbt_succeeded, run_dbt
from support.moodle_deletions import delete_course, query

from runner.generator import generate
from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

SCALE = 0.05
SEED = 29
LOG_NAME = "public.mdl_logstore_standard_log"
LOG = sql.Identifier(*LOG_NAME.split("."))
USER = sql.Identifier("public", "mdl_user")
DAY = 86_400
# Twice the ids an incremental run rereads below the highest it has seen (late_commit_margin_ids).
ID_JUMP = 20_000
# Copied rows get their objectid moved, so that they are new events, not copies of old ones
# (staging flags exact copies of old rows as duplicates, kept out of the metrics).
OBJECT_ID_OFFSET = 10_000_000
# A user whose log rows are written before their `user` row appears.
LATE_USER_ID = 900_001
NEW_USER_ID = 900_002
INCREMENTAL_TABLES = (
    "int_log_events_sessionised",
    "int_log_events_classified",
    "int_log_events_active_sessionised",
    # Read from the tails of the three above, and whole for users whose learner courses
    # changed.
    "int_learner_events_classified",
)
# Built per user from the tables above: the users their run wrote are recomputed.
PER_USER_TABLES = (
    "intermediate.int_active_sessions_aggregated",
    "intermediate.int_users_active_engagement_aggregated",
    "intermediate.int_users_event_origins_counted",
    "mart.fact_session",
    "mart.fact_active_session",
)


# --- changing the Moodle database -----------------------------------------------------------


def log_columns(cursor: Any) -> list[str]:
    cursor.execute(
        "select column_name from information_schema.columns where table_schema = 'public' "
        "and table_name = 'mdl_logstore_standard_log' and column_name <> 'id' "
        "order by ordinal_position"
    )
    return [row[0] for row in cursor.fetchall()]


def copy_log_rows(
    cursor: Any, source_query: sql.Composable, replaced: dict[str, sql.Composable]
) -> int:
    """Insert a new row (id from the sequence) for every row ``source_query`` returns (a query
    over the log aliased ``l``), with the ``replaced`` columns computed anew."""
    columns = log_columns(cursor)
    values = [
        replaced.get(column, sql.SQL("l.{}").format(sql.Identifier(column))) for column in columns
    ]
    values = [
        sql.SQL("l.objectid + {}").format(sql.Literal(OBJECT_ID_OFFSET))
        if column == "objectid" and column not in replaced
        else value
        for column, value in zip(columns, values, strict=True)
    ]
    cursor.execute(
        sql.SQL(
            "insert into {log} ({columns}) select {values} from ({query}) as l order by l.id"
        ).format(
            log=LOG,
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(values),
            query=source_query,
        )
    )
    return cursor.rowcount


def add_user(cursor: Any, user_id: int, like_user_id: int) -> None:
    """A `user` row like another user's, under a new id and username."""
    cursor.execute(
        "select column_name from information_schema.columns where table_schema = 'public' "
        "and table_name = 'mdl_user' and column_name not in ('id', 'username') "
        "order by ordinal_position"
    )
    columns = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        sql.SQL(
            "insert into {user} (id, username, {columns}) "
            "select %s, %s, {columns} from {user} where id = %s"
        ).format(user=USER, columns=sql.SQL(", ").join(map(sql.Identifier, columns))),
        (user_id, f"incremental.user.{user_id}", like_user_id),
    )


def busiest_learner(cursor: Any, rank: int = 0) -> int:
    cursor.execute(
        "select userid from mdl_logstore_standard_log where userid > 2 "
        "group by userid order by count(*) desc, userid offset %s limit 1",
        (rank,),
    )
    return int(cursor.fetchone()[0])


def write_log_rows_before_their_user(info: ConnectionInfo) -> int:
    """Log rows of a user whose `user` row is not there yet (added after the first build)."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            model_user = busiest_learner(cursor, rank=3)
            added = copy_log_rows(
                cursor,
                sql.SQL("select * from {log} where userid = {user}").format(
                    log=LOG, user=sql.Literal(model_user)
                ),
                {"userid": sql.Literal(LATE_USER_ID)},
            )
        connection.commit()
    finally:
        connection.close()
    return added


@dataclass(frozen=True)
class FutureLearner:
    """A user with log rows in a course they do not learn in, enrolled there later."""

    user_id: int
    course_id: int
    rows: int


def write_log_rows_in_a_course_not_learned(info: ConnectionInfo) -> FutureLearner:
    """Rows of a learner in a course where they hold no role (yet): copies of some of their
    rows elsewhere, moved to that course's context and to the two days before the log's
    first."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            user_id = busiest_learner(cursor, rank=5)
            cursor.execute(
                "select c.instanceid, c.id from mdl_context as c where c.contextlevel = 50 "
                "and c.instanceid > 1 and exists (select 1 from mdl_role_assignments as ra "
                "join mdl_role as r on r.id = ra.roleid and r.archetype = 'student' "
                "where ra.contextid = c.id) and not exists (select 1 from "
                "mdl_role_assignments as own where own.contextid = c.id and own.userid = %s) "
                "order by c.instanceid limit 1",
                (user_id,),
            )
            course_id, context_id = cursor.fetchone()
            # Dated before the log's first day: whatever the incremental run recomputes of
            # this user's history from their new rows on, it starts after these.
            cursor.execute(sql.SQL("select min(timecreated) from {}").format(LOG))
            (first_time,) = cursor.fetchone()
            rows = copy_log_rows(
                cursor,
                sql.SQL(
                    "select *, row_number() over (order by id) as position from {log} "
                    "where userid = {user} and courseid > 1 order by id limit 40"
                ).format(log=LOG, user=sql.Literal(user_id)),
                {
                    "timecreated": sql.SQL("{} - {} + 60 * l.position").format(
                        sql.Literal(first_time), sql.Literal(2 * DAY)
                    ),
                    "courseid": sql.Literal(course_id),
                    "contextid": sql.Literal(context_id),
                    "contextlevel": sql.Literal(50),
                    "contextinstanceid": sql.Literal(course_id),
                },
            )
            # The log's ids then jump (as after a burst of rolled-back writes) past the margin
            # an incremental run rereads for late commits, and the site goes on (its last hour
            # again, an hour later), so that only the enrolment changes what the marts hold of
            # these rows.
            cursor.execute(
                sql.SQL(
                    "select max(timecreated) filter (where id <= max_id - {rows}), max_id from "
                    "(select *, max(id) over () as max_id from {log}) as l group by max_id"
                ).format(rows=sql.Literal(rows), log=LOG)
            )
            last_time, max_id = cursor.fetchone()
            cursor.execute(
                sql.SQL("select setval(pg_get_serial_sequence({name}, 'id'), {id})").format(
                    name=sql.Literal(LOG_NAME), id=sql.Literal(max_id + ID_JUMP)
                )
            )
            copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from {log} where timecreated > {since} and id <= {before}"
                ).format(
                    log=LOG, since=sql.Literal(last_time - 3600), before=sql.Literal(max_id - rows)
                ),
                {"timecreated": sql.SQL("l.timecreated + 3600")},
            )
        connection.commit()
    finally:
        connection.close()
    return FutureLearner(user_id, course_id, rows)


def enrol_as_learner(cursor: Any, learner: FutureLearner) -> int:
    """Enrol the user in the course as a student, as Moodle's manual enrolment does: a role
    assignment and an enrolment like another student's, and no log row. Their rows in that
    course, read by the first build, become learner events. Returns how many."""
    cursor.execute(
        "insert into mdl_role_assignments (roleid, contextid, userid, timemodified, modifierid, "
        "component, itemid, sortorder) select ra.roleid, ra.contextid, %s, ra.timemodified, "
        "ra.modifierid, ra.component, ra.itemid, ra.sortorder from mdl_role_assignments as ra "
        "join mdl_context as c on c.id = ra.contextid and c.contextlevel = 50 "
        "join mdl_role as r on r.id = ra.roleid and r.archetype = 'student' "
        "where c.instanceid = %s order by ra.id limit 1",
        (learner.user_id, learner.course_id),
    )
    assert cursor.rowcount == 1
    cursor.execute(
        "insert into mdl_user_enrolments (status, enrolid, userid, timestart, timeend, "
        "modifierid, timecreated, timemodified) select ue.status, ue.enrolid, %s, ue.timestart, "
        "ue.timeend, ue.modifierid, ue.timecreated, ue.timemodified from mdl_user_enrolments "
        "as ue join mdl_enrol as e on e.id = ue.enrolid where e.courseid = %s "
        "and not exists (select 1 from mdl_user_enrolments as own "
        "where own.enrolid = ue.enrolid and own.userid = %s) order by ue.id limit 1",
        (learner.user_id, learner.course_id, learner.user_id),
    )
    return learner.rows


@dataclass(frozen=True)
class Appended:
    new_day: int
    late_rows: int
    same_second: int
    logins_inside_sessions: int
    gap_fillers: int
    impersonations: int
    new_user_rows: int
    nobody_rows: int
    replayed_copies: int
    deleted_course_rows: int
    new_learner_course_rows: int

    def log_rows_added(self) -> int:
        """The rows written to the log (the last two fields count rows already there)."""
        changed_only = ("deleted_course_rows", "new_learner_course_rows")
        return sum(count for kind, count in vars(self).items() if kind not in changed_only)


def append_activity(info: ConnectionInfo, future_learner: FutureLearner) -> Appended:
    """The log grows in every way the incremental logic must handle (module docstring)."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("select max(timecreated), min(timecreated) from {}").format(LOG))
            last, first = cursor.fetchone()
            middle = (first + last) // 2
            # The future learner's rows in their new course stay as they were, so that only
            # their enrolment changes what the marts hold of them.
            others = sql.SQL("not (userid = {user} and courseid = {course})").format(
                user=sql.Literal(future_learner.user_id),
                course=sql.Literal(future_learner.course_id),
            )
            # A new day: the last two days again, two days later (logins and continued
            # sessions alike).
            new_day = copy_log_rows(
                cursor,
                sql.SQL("select * from {log} where timecreated > {since}").format(
                    log=LOG, since=sql.Literal(last - 2 * DAY)
                ),
                {"timecreated": sql.SQL("l.timecreated + {}").format(sql.Literal(2 * DAY))},
            )
            # Late rows with their original (old) times, as a course restore writes them.
            late_rows = copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from {log} where id % 7 = 0 and timecreated between {a} and {b}"
                ).format(log=LOG, a=sql.Literal(middle), b=sql.Literal(middle + 3 * DAY)),
                {},
            )
            # Rows in the same second as a user's existing row (ordered after it by id).
            same_second = copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from {log} where id % 97 = 0 and timecreated < {b} and {others}"
                ).format(log=LOG, b=sql.Literal(middle), others=others),
                {},
            )
            # A login inside an existing session: a user's login again, at the time of one of
            # their later non-login events.
            logins_inside_sessions = copy_log_rows(
                cursor,
                sql.SQL(
                    "select distinct on (login.userid) login.*, later.timecreated as at_time "
                    "from {log} as login join {log} as later on later.userid = login.userid "
                    "and later.timecreated between login.timecreated + 600 "
                    "and login.timecreated + 3000 and later.action <> 'loggedin' "
                    "where login.action = 'loggedin' and login.id % 5 = 0 "
                    "order by login.userid, login.id, later.id"
                ).format(log=LOG),
                {"timecreated": sql.SQL("l.at_time - 1")},
            )
            # An action in the middle of a 35-55 minute gap between two views: the two
            # active sessions on either side become one.
            gap_fillers = copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from (select *, lead(timecreated) over (partition by userid "
                    "order by timecreated, id) as next_time from {log} "
                    "where action = 'viewed' and origin = 'web') as views "
                    "where next_time - timecreated between 2100 and 3300 and id % 3 = 0"
                ).format(log=LOG),
                {"timecreated": sql.SQL("(l.timecreated + l.next_time) / 2")},
            )
            # "Log in as": an impersonated row just before a learner's own logout, which then
            # closes the impersonation and stops being the learner's action.
            impersonations = copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from {log} where action = 'loggedout' and id % 11 = 0 "
                    "and realuserid is null"
                ).format(log=LOG),
                {
                    "timecreated": sql.SQL("l.timecreated - 1"),
                    "eventname": sql.Literal("\\core\\event\\dashboard_viewed"),
                    "action": sql.Literal("viewed"),
                    "target": sql.Literal("dashboard"),
                    "realuserid": sql.Literal(2),
                },
            )
            # A new user, with first rows on the new day.
            model_user = busiest_learner(cursor, rank=1)
            add_user(cursor, NEW_USER_ID, model_user)
            new_user_rows = copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from {log} where userid = {user} and timecreated > {since}"
                ).format(log=LOG, user=sql.Literal(model_user), since=sql.Literal(last - 3 * DAY)),
                {
                    "userid": sql.Literal(NEW_USER_ID),
                    "timecreated": sql.SQL("l.timecreated + {}").format(sql.Literal(3 * DAY)),
                },
            )
            # The `user` row of the user whose log rows were already there.
            add_user(cursor, LATE_USER_ID, model_user)
            # Rows of nobody (userid 0) on the new day.
            nobody_rows = copy_log_rows(
                cursor,
                sql.SQL("select * from {log} where id % 501 = 0").format(log=LOG),
                {
                    "userid": sql.Literal(0),
                    "timecreated": sql.SQL("l.timecreated + {}").format(sql.Literal(DAY)),
                },
            )
            # Exact copies of old rows (the objectid kept), as a log imported twice writes them:
            # staging flags them as copies, found among the rows staged before.
            replayed_copies = copy_log_rows(
                cursor,
                sql.SQL(
                    "select * from {log} where id % 1009 = 0 and userid > 0 and {others}"
                ).format(log=LOG, others=others),
                {"objectid": sql.SQL("l.objectid")},
            )
            # The course a course deletion below takes: its log rows, read before, become
            # rows of a deleted course.
            cursor.execute(
                sql.SQL(
                    "select courseid, count(*) from {log} where courseid > 1 "
                    "group by courseid order by count(*) desc, courseid limit 1"
                ).format(log=LOG)
            )
            deleted_course, deleted_course_rows = cursor.fetchone()
            new_learner_course_rows = enrol_as_learner(cursor, future_learner)
        connection.commit()
    finally:
        connection.close()
    delete_course(info, deleted_course)
    return Appended(
        new_day,
        late_rows,
        same_second,
        logins_inside_sessions,
        gap_fillers,
        impersonations,
        new_user_rows,
        nobody_rows,
        replayed_copies,
        deleted_course_rows,
        new_learner_course_rows,
    )


# --- reading the warehouse ------------------------------------------------------------------


def table_checksums(info: ConnectionInfo) -> dict[str, tuple[int, str]]:
    """Row count and md5 of all rows (as text, in a total order) of every mart table, of
    staging's log and of the incremental intermediate tables."""
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_type = 'BASE TABLE' and (table_schema = 'mart' "
                "or (table_schema = 'staging' and table_name = 'stg_moodle__log_events') "
                "or (table_schema = 'intermediate' and table_name = any(%s))) order by 1, 2",
                (list(INCREMENTAL_TABLES),),
            )
            tables = cursor.fetchall()
            checksums = {}
            for schema, table in tables:
                cursor.execute(
                    sql.SQL(
                        "select count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                        "order by t::text), '')) from {} as t"
                    ).format(sql.Identifier(schema, table))
                )
                checksums[f"{schema}.{table}"] = cursor.fetchone()
    finally:
        connection.close()
    return checksums


def differing_rows(
    first: ConnectionInfo, second: ConnectionInfo, table: str, limit: int = 5
) -> list[str]:
    """A few rows (as text) one database's table has and the other's lacks, for the message."""

    def rows(info: ConnectionInfo) -> set[str]:
        connection = info.connect(autocommit=True)
        try:
            with connection.cursor() as cursor:
                schema, name = table.split(".")
                cursor.execute(
                    sql.SQL("select t::text from {} as t").format(sql.Identifier(schema, name))
                )
                return {row[0] for row in cursor.fetchall()}
        finally:
            connection.close()

    one, other = rows(first), rows(second)
    return (
        sorted(f"only incremental: {row}" for row in one - other)[:limit]
        + sorted(f"only rebuilt: {row}" for row in other - one)[:limit]
    )


def drop_warehouse(info: ConnectionInfo) -> None:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            for schema in ("staging", "intermediate", "mart"):
                cursor.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
    finally:
        connection.close()


# --- the builds -----------------------------------------------------------------------------


MODELS_ONLY = ("--exclude", "resource_type:test", "--exclude", "resource_type:unit_test")


@dataclass(frozen=True)
class Builds:
    incremental: ConnectionInfo
    rebuilt: ConnectionInfo
    appended: Appended
    work_dir: Path
    incremental_output: str
    future_learner: FutureLearner


@pytest.fixture(scope="module")
def builds(
    make_database: Callable[[str], ConnectionInfo],
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> Builds:
    info = make_database("incremental")
    generate(info, scale=SCALE, seed=SEED)
    assert write_log_rows_before_their_user(info) > 10
    future_learner = write_log_rows_in_a_course_not_learned(info)
    assert future_learner.rows > 10
    work_dir = tmp_path_factory.mktemp("incremental")
    # The data tests run once, on the incremental result; the two full builds it is set
    # against need only the models.
    assert_dbt_succeeded(run_dbt(["build", *MODELS_ONLY], info, work_dir))

    appended = append_activity(info, future_learner)
    rebuilt = copy_database(info, "incremental_rebuilt")
    incremental_run = run_dbt(["build"], info, work_dir)
    assert_dbt_succeeded(incremental_run)

    drop_warehouse(rebuilt)
    assert_dbt_succeeded(
        run_dbt(["build", *MODELS_ONLY], rebuilt, tmp_path_factory.mktemp("rebuilt"))
    )
    return Builds(info, rebuilt, appended, work_dir, incremental_run.stdout, future_learner)


def test_every_kind_of_new_row_was_appended(builds: Builds) -> None:
    for kind, count in vars(builds.appended).items():
        assert count > 0, kind


def test_the_log_models_ran_incrementally(builds: Builds) -> None:
    """dbt says so (the rows are compared with a full rebuild's in the next test)."""
    for relation in (
        "staging.stg_moodle__log_events",
        *(f"intermediate.{table}" for table in INCREMENTAL_TABLES),
        "mart.fact_activity",
        *PER_USER_TABLES,
    ):
        assert f"OK created sql incremental model {relation} " in builds.incremental_output


def test_the_per_user_tables_recomputed_only_the_users_the_log_models_wrote(
    builds: Builds,
) -> None:
    """The run recorded the users it replaced rows of, a few of them, not every user."""
    connection = builds.incremental.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select model_name, bool_or(is_full_build), count(user_id), "
                "(select count(*) from staging.stg_moodle__users) "
                "from intermediate.incremental_rows_written group by model_name"
            )
            written = {row[0]: row[1:] for row in cursor.fetchall()}
    finally:
        connection.close()
    for relation in (*INCREMENTAL_TABLES, *PER_USER_TABLES):
        name = relation.split(".")[-1]
        is_full_build, users, all_users = written[name]
        assert not is_full_build, name
        assert 0 < users < all_users, (name, users, all_users)


def first_log_id_added(info: ConnectionInfo) -> int:
    """The lowest log id the last run of staging's log added (its record of the run)."""
    ((first_added,),) = query(
        info,
        "select first_key_written from intermediate.incremental_rows_written "
        "where model_name = 'stg_moodle__log_events' and user_id is null",
    )
    return first_added


def test_the_nightly_tests_read_the_rows_the_run_wrote(builds: Builds) -> None:
    """An incremental model's data tests read its recomputed users' rows, staging's log's
    the rows it added; whole-log tests are left to the full check (selectors.yml)."""
    compiled = builds.work_dir / "target" / "run" / "moodle_analytics"
    not_null = next(compiled.rglob("not_null_fact_session_session_id.sql")).read_text()
    assert "incremental_rows_written" in not_null
    assert "not_null_fact_session_session_id " in builds.incremental_output
    assert "assert_every_known_user_event_in_exactly_one_session" not in builds.incremental_output
    first_added = first_log_id_added(builds.incremental)
    ((rows_added,),) = query(
        builds.incremental,
        "select count(*) from staging.stg_moodle__log_events where event_id >= %s",
        (first_added,),
    )
    assert rows_added == builds.appended.log_rows_added()
    unique = next(compiled.rglob("unique_stg_moodle__log_events_event_id.sql")).read_text()
    assert f"tested_rows.event_id >= {first_added}" in unique
    assert "unique_stg_moodle__log_events_event_id " in builds.incremental_output


def test_the_log_models_tests_read_the_tails_the_run_replaced(builds: Builds) -> None:
    """A log model's nightly tests read each written user's rows from the point the run
    replaced them from: every new row, and fewer rows than those users hold."""
    compiled = builds.work_dir / "target" / "run" / "moodle_analytics"
    test_sql = next(compiled.rglob("not_null_int_log_events_sessionised_event_id.sql")).read_text()
    start = test_sql.index("(select * from")
    tested_rows = test_sql[start : test_sql.index(") dbt_subquery", start) + 1]
    first_added = first_log_id_added(builds.incremental)
    ((tested, new_tested),) = query(
        builds.incremental,
        f"select count(*), count(*) filter (where event_id >= %s) from {tested_rows} as t",
        (first_added,),
    )
    ((new_rows, written_users_rows),) = query(
        builds.incremental,
        "select count(*) filter (where event_id >= %s), count(*) filter (where user_id "
        "in (select user_id from intermediate.incremental_rows_written "
        "where model_name = 'int_log_events_sessionised')) "
        "from intermediate.int_log_events_sessionised",
        (first_added,),
    )
    assert new_rows > 0 and new_tested == new_rows
    assert new_rows <= tested < written_users_rows


def test_every_row_equals_a_full_rebuild(builds: Builds) -> None:
    incremental = table_checksums(builds.incremental)
    rebuilt = table_checksums(builds.rebuilt)
    assert set(incremental) == set(rebuilt)
    assert len(incremental) >= 11 + len(INCREMENTAL_TABLES)
    different = {table for table in incremental if incremental[table] != rebuilt[table]}
    details = {
        table: differing_rows(builds.incremental, builds.rebuilt, table)
        for table in sorted(different)
    }
    assert not different, details


def test_the_new_rows_are_in_the_marts(builds: Builds) -> None:
    connection = builds.incremental.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select user_id, event_count, session_count from mart.dim_user "
                "where user_id in (%s, %s) order by user_id",
                (LATE_USER_ID, NEW_USER_ID),
            )
            late_user, new_user = cursor.fetchall()
            cursor.execute(
                "select count(*) from mart.fact_activity as f "
                "join public.mdl_logstore_standard_log as l on l.id = f.event_id "
                "where l.realuserid = 2 and l.eventname = '\\core\\event\\dashboard_viewed'"
            )
            impersonated_rows = cursor.fetchone()[0]
            cursor.execute(
                "select count(*) from intermediate.int_learner_events_classified "
                "where user_id = %s and course_id = %s",
                (builds.future_learner.user_id, builds.future_learner.course_id),
            )
            new_learner_course_events = cursor.fetchone()[0]
    finally:
        connection.close()
    assert late_user[1] > 10 and late_user[2] > 0
    assert new_user[1] == builds.appended.new_user_rows
    assert impersonated_rows == builds.appended.impersonations
    # Read by the first build, counted once the user learns in the course.
    assert new_learner_course_events > 0


def test_staging_brought_its_earlier_rows_up_to_date(builds: Builds) -> None:
    """Rows staged by the first build changed flags on the incremental run: the late user's
    rows became usable, the deleted course's rows say so, and the replayed copies were found
    (the same counts as the full rebuild's, by the test above)."""
    ((late_unknown, late_usable, course_deleted, duplicates),) = query(
        builds.incremental,
        "select count(*) filter (where user_id = %s and has_unknown_user), "
        "count(*) filter (where user_id = %s and is_usable_for_metrics), "
        "count(*) filter (where is_course_deleted_since), "
        "count(*) filter (where is_duplicate_event) "
        "from staging.stg_moodle__log_events",
        (LATE_USER_ID, LATE_USER_ID),
    )
    assert late_unknown == 0
    assert late_usable > 10
    assert course_deleted >= builds.appended.deleted_course_rows
    assert duplicates >= builds.appended.replayed_copies


def test_a_run_with_other_vars_stops_and_says_to_full_refresh(builds: Builds) -> None:
    result = run_dbt(
        ["run", "--select", "int_log_events_sessionised"],
        builds.incremental,
        builds.work_dir,
        dbt_vars={"session_cap_hours": 2},
    )
    output = result.stdout
    assert result.returncode != 0
    assert "session_cap_hours 4 -> 2" in output
    assert "--full-refresh" in output
    # Nothing was written: the table still holds the default build's rows.
    assert table_checksums(builds.incremental) == table_checksums(builds.rebuilt)
