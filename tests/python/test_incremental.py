"""An incremental build gives exactly what a full rebuild of the same data gives.

A generated Moodle site is built with `dbt build`. Then the log grows the ways a real one does:
a new day (new logins, sessions continued, new users' first rows), late rows with old times
(a course restore), rows in the same second as existing ones, a login inside an existing
session, an action filling an idle gap (two active sessions become one), a "Log in as" row
that turns an existing logout into the end of the impersonation, rows of nobody, and the
`user` row of a user whose log rows were already there. `dbt build` (incremental) runs on
that database; a copy of it is rebuilt from nothing; every row of every mart and of the
incremental intermediate tables must be the same in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from psycopg2 import sql
from support.dbt_helpers import assert_dbt_succeeded, run_dbt

from runner.generator import generate
from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

SCALE = 0.05
SEED = 29
LOG = sql.Identifier("public", "mdl_logstore_standard_log")
USER = sql.Identifier("public", "mdl_user")
DAY = 86_400
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
class Appended:
    new_day: int
    late_rows: int
    same_second: int
    logins_inside_sessions: int
    gap_fillers: int
    impersonations: int
    new_user_rows: int
    nobody_rows: int

    def total(self) -> int:
        return sum(vars(self).values())


def append_activity(info: ConnectionInfo) -> Appended:
    """The log grows in every way the incremental logic must handle (module docstring)."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("select max(timecreated), min(timecreated) from {}").format(LOG))
            last, first = cursor.fetchone()
            middle = (first + last) // 2
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
                sql.SQL("select * from {log} where id % 97 = 0 and timecreated < {b}").format(
                    log=LOG, b=sql.Literal(middle)
                ),
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
        connection.commit()
    finally:
        connection.close()
    return Appended(
        new_day,
        late_rows,
        same_second,
        logins_inside_sessions,
        gap_fillers,
        impersonations,
        new_user_rows,
        nobody_rows,
    )


# --- reading the warehouse ------------------------------------------------------------------


def table_checksums(info: ConnectionInfo) -> dict[str, tuple[int, str]]:
    """Row count and md5 of all rows (as text, in a total order) of every mart table and of
    the incremental intermediate tables."""
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_type = 'BASE TABLE' and (table_schema = 'mart' "
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


@pytest.fixture(scope="module")
def builds(
    make_database: Callable[[str], ConnectionInfo],
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> Builds:
    info = make_database("incremental")
    generate(info, scale=SCALE, seed=SEED)
    assert write_log_rows_before_their_user(info) > 10
    work_dir = tmp_path_factory.mktemp("incremental")
    # The data tests run once, on the incremental result; the two full builds it is set
    # against need only the models.
    assert_dbt_succeeded(run_dbt(["build", *MODELS_ONLY], info, work_dir))

    appended = append_activity(info)
    rebuilt = copy_database(info, "incremental_rebuilt")
    incremental_run = run_dbt(["build"], info, work_dir)
    assert_dbt_succeeded(incremental_run)

    drop_warehouse(rebuilt)
    assert_dbt_succeeded(
        run_dbt(["build", *MODELS_ONLY], rebuilt, tmp_path_factory.mktemp("rebuilt"))
    )
    return Builds(info, rebuilt, appended, work_dir, incremental_run.stdout)


def test_every_kind_of_new_row_was_appended(builds: Builds) -> None:
    for kind, count in vars(builds.appended).items():
        assert count > 0, kind


def test_the_log_models_ran_incrementally(builds: Builds) -> None:
    """dbt says so (the rows are compared with a full rebuild's in the next test)."""
    for relation in (
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


def test_the_nightly_tests_read_the_rows_the_run_wrote(builds: Builds) -> None:
    """An incremental model's data tests read its recomputed users' rows; whole-log tests
    are left to the full check (selectors.yml)."""
    compiled = builds.work_dir / "target" / "run" / "moodle_analytics"
    not_null = next(compiled.rglob("not_null_fact_session_session_id.sql")).read_text()
    assert "incremental_rows_written" in not_null
    assert "not_null_fact_session_session_id " in builds.incremental_output
    assert "assert_every_known_user_event_in_exactly_one_session" not in builds.incremental_output
    assert "stg_moodle__log_events_" not in builds.incremental_output


def test_every_row_equals_a_full_rebuild(builds: Builds) -> None:
    incremental = table_checksums(builds.incremental)
    rebuilt = table_checksums(builds.rebuilt)
    assert set(incremental) == set(rebuilt)
    assert len(incremental) >= 10 + len(INCREMENTAL_TABLES)
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
    finally:
        connection.close()
    assert late_user[1] > 10 and late_user[2] > 0
    assert new_user[1] == builds.appended.new_user_rows
    assert impersonated_rows == builds.appended.impersonations


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
