"""The synthetic Moodle generator, checked on the rows it writes to a real PostgreSQL."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from importlib import resources

import numpy as np
import pytest

from runner.generator import (
    LINEAR_TABLES,
    SCALE1_TARGETS,
    GenerationSettings,
    build_world,
    generate,
)
from runner.generator.timeline import local_epoch
from runner.moodle.schema import OPTIONAL_TABLES, REQUIRED_TABLES
from runner.postgres.connection import ConnectionInfo

SMALL_SCALE = 0.1


@pytest.fixture(scope="module")
def small(make_database: Callable[[str], ConnectionInfo]):
    info = make_database("gen")
    report = generate(info, scale=SMALL_SCALE, seed=2019)
    connection = info.connect()
    yield connection, report
    connection.close()


def rows(connection, query: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params or None)
        return cursor.fetchall()


def value(connection, query: str, *params):
    return rows(connection, query, *params)[0][0]


def table_digests(info: ConnectionInfo) -> dict[str, str]:
    connection = info.connect()
    try:
        return {
            table: value(
                connection, f"select md5(string_agg(t::text, '|' order by t.id)) from mdl_{table} t"
            )
            for table in REQUIRED_TABLES + OPTIONAL_TABLES
        }
    finally:
        connection.close()


LEARNERS = (
    "(select userid from mdl_role_assignments ra join mdl_role r on r.id = ra.roleid"
    " where r.archetype = 'student')"
)


# ---------------------------------------------------------------- volumes and determinism


def test_scale1_row_counts_are_within_15_percent_of_targets(make_database):
    report = generate(make_database("gen1"), scale=1.0, seed=2019)
    print(
        f"\nscale 1: {report.row_counts['mdl_logstore_standard_log']} log rows"
        f" in {report.seconds:.1f} s "
        f"= {report.log_rows_per_second:,.0f} rows/s"
    )
    assert set(report.row_counts) == {"mdl_" + t for t in REQUIRED_TABLES + OPTIONAL_TABLES}
    off = {
        table: (count, SCALE1_TARGETS[table])
        for table, count in report.row_counts.items()
        if abs(count - SCALE1_TARGETS[table]) > 0.15 * SCALE1_TARGETS[table]
    }
    assert off == {}


def test_learner_driven_tables_scale_with_the_cohort(small):
    _, report = small
    for table in LINEAR_TABLES:
        expected = SCALE1_TARGETS[table] * SMALL_SCALE
        assert abs(report.row_counts[table] - expected) <= 0.25 * expected, table


def test_same_seed_gives_identical_rows_and_another_seed_does_not(make_database):
    first, second, other = make_database("det_a"), make_database("det_b"), make_database("det_c")
    for info, seed in ((first, 7), (second, 7), (other, 8)):
        generate(info, scale=0.05, seed=seed)
    digests = table_digests(first)
    assert digests == table_digests(second)
    different = table_digests(other)
    assert different["logstore_standard_log"] != digests["logstore_standard_log"]
    assert different["user"] != digests["user"]


def test_existing_tables_are_refused_without_replace_and_left_untouched(small, make_database):
    info = make_database("again")
    generate(info, scale=0.05, seed=1)
    connection = info.connect()
    before = value(connection, "select count(*) from mdl_logstore_standard_log")
    connection.close()
    with pytest.raises(ValueError, match="mdl_logstore_standard_log"):
        generate(info, scale=0.05, seed=2)
    connection = info.connect()
    assert value(connection, "select count(*) from mdl_logstore_standard_log") == before
    connection.close()


def test_ids_and_sequences_are_like_a_restored_dump(small):
    connection, _ = small
    # Log ids follow time, as rows are appended by a live site.
    assert (
        value(
            connection,
            """select count(*) from (select timecreated < lag(timecreated) over (order by id) b
                                from mdl_logstore_standard_log) s where b""",
        )
        == 0
    )
    nextval = value(
        connection, "select nextval(pg_get_serial_sequence('mdl_logstore_standard_log', 'id'))"
    )
    assert nextval == value(connection, "select max(id) + 1 from mdl_logstore_standard_log")


# ---------------------------------------------------------------- the event catalogue and contexts


def test_every_row_matches_moodles_event_catalogue(small):
    connection, _ = small
    path = resources.files("runner.moodle_facts").joinpath("events_catalog_moodle45.csv")
    with path.open(encoding="utf-8") as handle:
        catalogue = {r["eventname"]: r for r in csv.DictReader(handle)}
    found = rows(
        connection,
        """select eventname, component, action, target, objecttable, crud, edulevel,
                                       count(*) from mdl_logstore_standard_log group by
                                           1,2,3,4,5,6,7""",
    )
    assert len({r[0] for r in found}) >= 50
    for eventname, component, action, target, objecttable, crud, edulevel, _ in found:
        fact = catalogue[eventname]
        assert (component, action, target, objecttable or "", crud, str(edulevel)) == (
            fact["component"],
            fact["action"],
            fact["target"],
            fact["objecttable"],
            fact["crud"],
            fact["edulevel"],
        ), eventname


def test_context_columns_agree_with_the_context_and_course_tables(small):
    connection, _ = small
    bad = value(
        connection,
        """
        select count(*) from mdl_logstore_standard_log l
        left join mdl_context c on c.id = l.contextid
        left join mdl_course_modules cm on l.contextlevel = 70 and cm.id = l.contextinstanceid
        where c.id is null or c.contextlevel <> l.contextlevel or c.instanceid <>
            l.contextinstanceid
           or (l.contextlevel = 10 and (l.contextid <> 1 or l.contextinstanceid <> 0 or
               l.courseid <> 0))
           or (l.contextlevel = 30 and l.courseid <> 0)
           or (l.contextlevel = 50 and l.courseid <> l.contextinstanceid)
           or (l.contextlevel = 70 and (cm.id is null or cm.course <> l.courseid))""",
    )
    assert bad == 0
    assert value(connection, "select count(*) from mdl_context where path not like '/1%'") == 0
    assert (
        value(
            connection,
            """select count(*) from mdl_course_modules cm left join mdl_modules m
                                on m.id = cm.module where m.id is null""",
        )
        == 0
    )
    assert value(connection, "select count(distinct module) from mdl_course_modules") >= 10


def test_other_is_json_and_the_string_null_when_empty(small):
    connection, _ = small
    others = [
        r[0] for r in rows(connection, "select distinct other from mdl_logstore_standard_log")
    ]
    assert None not in others and "null" in others
    for text in others:
        json.loads(text)
    assert (
        value(connection, "select count(*) from mdl_logstore_standard_log where anonymous <> 0")
        == 0
    )
    assert (
        value(
            connection,
            "select count(*) from mdl_logstore_standard_log where origin = 'cli' and ip <> ''",
        )
        == 0
    )


def test_login_rows_are_system_context_rows_about_the_user(small):
    connection, _ = small
    logins = rows(
        connection,
        """select l.courseid, l.contextlevel, l.contextinstanceid, l.objecttable,
                                        l.objectid = l.userid, l.other, u.username, u.deleted
                                 from mdl_logstore_standard_log l join mdl_user u on u.id = l.userid
                                 where l.eventname = '\\core\\event\\user_loggedin'""",
    )
    assert len(logins) > 1000
    for courseid, level, instance, objecttable, is_self, other, username, deleted in logins:
        assert (courseid, level, instance, objecttable, is_self) == (0, 10, 0, "user", True)
        parsed = json.loads(other)
        assert parsed["extrauserinfo"] == []
        assert deleted or parsed["username"] == username


def test_module_events_point_at_a_module_of_their_course(small):
    connection, _ = small
    assert (
        value(
            connection,
            """
        select count(*) from mdl_logstore_standard_log l
        where l.contextlevel = 70 and not exists (
            select 1 from mdl_course_modules cm where cm.id = l.contextinstanceid and
                cm.course = l.courseid)""",
        )
        == 0
    )
    # course_module_viewed objectid is the instance of the right module type
    assert (
        value(
            connection,
            """
        select count(*) from mdl_logstore_standard_log l join mdl_course_modules cm on
            cm.id = l.contextinstanceid
        join mdl_modules m on m.id = cm.module
        where l.action = 'viewed' and l.target = 'course_module'
          and (l.objectid <> cm.instance or l.component <> 'mod_' || m.name)""",
        )
        == 0
    )


# ---------------------------------------------------------------- behaviour


def test_a_clear_share_of_learners_stops_well_before_the_end(small):
    connection, _ = small
    august = local_epoch(2019, 8, 1)
    share = value(
        connection,
        f"""
        select avg((last < {august})::int) from (
            select userid, max(timecreated) last from mdl_logstore_standard_log
            where userid in {LEARNERS} and origin <> 'cli' group by userid) s""",
    )
    assert 0.18 <= float(share) <= 0.45


def test_some_learners_act_before_their_first_login(small):
    connection, _ = small
    assert (
        value(
            connection,
            f"""
        select count(*) from (
            select userid, min(timecreated) first_row,
                   min(timecreated) filter (where action = 'loggedin') first_login
            from mdl_logstore_standard_log where userid in {LEARNERS} and origin = 'web'
                group by userid) s
        where first_row < first_login""",
        )
        >= 2
    )


def test_sessions_resume_hours_later_without_a_new_login(small):
    connection, _ = small
    resumed = value(
        connection,
        f"""
        select count(*) from (
            select action, origin, timecreated - lag(timecreated) over w gap
            from mdl_logstore_standard_log where userid in {LEARNERS}
            window w as (partition by userid order by id)) s
        where gap > 4 * 3600 and action not in ('loggedin', 'failed') and origin = 'web'""",
    )
    assert resumed >= 20


def test_engagement_is_heavy_tailed_and_staff_are_busier(small):
    connection, _ = small
    per_learner = np.array(
        [
            r[0]
            for r in rows(
                connection,
                f"""
        select count(*) from mdl_logstore_standard_log where userid in {LEARNERS} group by
            userid""",
            )
        ]
    )
    top_decile = np.sort(per_learner)[::-1][: max(1, len(per_learner) // 10)]
    assert top_decile.sum() > 0.3 * per_learner.sum()
    assert per_learner.max() > 5 * np.median(per_learner)
    admin = value(connection, "select count(*) from mdl_logstore_standard_log where userid = 2")
    assert admin > per_learner.max()
    # Enrolled learners who never log in.
    assert (
        value(
            connection,
            f"""select count(*) from {LEARNERS} l(userid) where not exists (
        select 1 from mdl_logstore_standard_log g where g.userid = l.userid)""",
        )
        >= 1
    )


def test_daily_and_weekly_rhythm_in_nairobi_time(small):
    connection, _ = small
    hours = dict(
        rows(
            connection,
            """
        select extract(hour from to_timestamp(timecreated) at time zone
            'Africa/Nairobi')::int, count(*)
        from mdl_logstore_standard_log where origin = 'web' group by 1""",
        )
    )
    total = sum(hours.values())
    night = sum(hours.get(h, 0) for h in range(0, 5)) / total
    morning = sum(hours.get(h, 0) for h in range(8, 14)) / total
    assert night < 0.03 and morning > 0.35
    assert min(hours.get(h, 0) for h in (19, 20)) > 2 * max(hours.get(h, 0) for h in (1, 2, 3))
    days = dict(
        rows(
            connection,
            """
        select extract(isodow from to_timestamp(timecreated) at time zone
            'Africa/Nairobi')::int, count(*)
        from mdl_logstore_standard_log where origin = 'web' group by 1""",
        )
    )
    assert min(days[d] for d in range(1, 6)) > 1.5 * max(days[6], days[7])


def test_deadlines_pull_submissions_into_the_days_before(small):
    connection, _ = small
    site, _ = build_world(GenerationSettings(scale=SMALL_SCALE, seed=2019))
    due = {cm: int(site.courses.cms.due[cm]) for cm in range(1, site.courses.cms.count + 1)}
    submitted = rows(
        connection,
        """select contextinstanceid, timecreated from mdl_logstore_standard_log
                                    where eventname =
                                        '\\mod_assign\\event\\assessable_submitted'""",
    )
    before = [due[cm] - t for cm, t in submitted]
    assert len(before) > 30
    within_three_days = np.mean([0 <= b <= 3 * 86400 for b in before])
    assert within_three_days > 0.6
    assert any(b < 0 for b in before)  # a few are late


def test_rows_without_a_real_user(small):
    connection, _ = small
    counts = dict(
        rows(
            connection,
            """select eventname || ':' || userid, count(*) from mdl_logstore_standard_log
                                      where userid <= 0 group by 1""",
        )
    )
    assert counts["\\core\\event\\course_viewed:0"] > 100  # front page after logout
    assert counts["\\core\\event\\notification_sent:0"] > 50  # no-reply receipts
    assert counts["\\core\\event\\user_graded:-1"] > 50  # course-total regrade
    assert (
        value(
            connection,
            """select count(*) from mdl_logstore_standard_log where userid = 0
                                and action = 'viewed' and courseid <> 1""",
        )
        == 0
    )
    # notification_sent is attributed to the sender; cron writes most of them
    cron = rows(
        connection,
        """select count(*) filter (where origin = 'cli'), count(*)
                               from mdl_logstore_standard_log where eventname =
                                   '\\core\\event\\notification_sent'
                               and relateduserid is not null and userid > 0""",
    )[0]
    assert cron[0] == cron[1] > 100


def test_log_in_as_is_recorded_as_moodle_does(small):
    connection, _ = small
    sessions = rows(
        connection,
        """select userid, relateduserid, realuserid, courseid, timecreated
                                   from mdl_logstore_standard_log where action = 'loggedinas'""",
    )
    assert sessions
    for userid, learner, realuserid, courseid, start in sessions:
        assert (userid, realuserid, courseid) == (2, 2, 0)
        following = rows(
            connection,
            """select distinct userid from mdl_logstore_standard_log
                                        where realuserid = 2 and action <> 'loggedinas'
                                          and timecreated between %s and %s + 600""",
            start,
            start,
        )
        assert following == [(learner,)]
    assert (
        value(
            connection,
            """select count(*) from mdl_logstore_standard_log where realuserid is not null
                                and realuserid <> 2""",
        )
        == 0
    )


def test_deleted_and_unconfirmed_users_keep_their_log_rows(small):
    connection, _ = small
    deleted = rows(connection, "select id, username, email from mdl_user where deleted = 1")
    assert deleted
    for user, username, email in deleted:
        assert "@" in username and username.rsplit(".", 1)[1].isdigit() and len(email) == 32
        assert (
            value(
                connection, "select count(*) from mdl_logstore_standard_log where userid = %s", user
            )
            > 0
        )
        assert (
            value(connection, "select count(*) from mdl_user_enrolments where userid = %s", user)
            == 0
        )
    unconfirmed = [r[0] for r in rows(connection, "select id from mdl_user where confirmed = 0")]
    assert unconfirmed
    assert value(
        connection,
        """select count(*) from mdl_logstore_standard_log where relateduserid = any(%s)
                                or userid = any(%s)""",
        unconfirmed,
        unconfirmed,
    ) >= len(unconfirmed)


def test_view_completion_writes_two_rows_in_the_same_second(small):
    connection, _ = small
    pairs = rows(
        connection,
        """
        select a.other, b.other from mdl_logstore_standard_log a join mdl_logstore_standard_log b
          on b.id = a.id + 1 and b.timecreated = a.timecreated and b.objectid = a.objectid
        where a.action = 'updated' and a.target = 'course_module_completion'
          and b.action = 'updated' and b.target = 'course_module_completion'""",
    )
    assert len(pairs) > 50
    assert all(
        json.loads(a)["completionstate"] == 0 and json.loads(b)["completionstate"] == 1
        for a, b in pairs
    )
    # the completion row the log points at exists with that state
    assert (
        value(
            connection,
            """
        select count(*) from mdl_logstore_standard_log l join mdl_course_modules_completion
            c on c.id = l.objectid
        where l.target = 'course_module_completion' and l.id = (select max(id) from
            mdl_logstore_standard_log x
              where x.objectid = l.objectid and x.target = 'course_module_completion')
          and (c.completionstate <> (l.other::json->>'completionstate')::int or c.userid <>
              l.relateduserid
               or c.coursemoduleid <> l.contextinstanceid)""",
        )
        == 0
    )


def test_mobile_app_learners_never_log_in_on_the_web(small):
    connection, _ = small
    app_users = [
        r[0]
        for r in rows(
            connection,
            """select distinct userid from mdl_logstore_standard_log
                                                   where origin = 'ws' and userid > 0""",
        )
    ]
    assert len(app_users) >= 2
    for user in app_users:
        names = dict(
            rows(
                connection,
                """select eventname, count(*) from mdl_logstore_standard_log
                                         where userid = %s group by 1""",
                user,
            )
        )
        assert "\\core\\event\\user_loggedin" not in names
        assert names["\\core\\event\\webservice_function_called"] > 0
        assert (
            value(connection, "select lastlogin + currentlogin from mdl_user where id = %s", user)
            == 0
        )


def test_user_table_agrees_with_the_log(small):
    connection, _ = small
    assert (
        value(
            connection,
            """
        select count(*) from mdl_user u join (
            select userid, max(timecreated) filter (where action = 'loggedin') last_login,
                   max(timecreated) filter (where origin in ('web', 'ws') and realuserid is null
                                            and action not in ('failed', 'created')) last_access
            from mdl_logstore_standard_log group by userid) l on l.userid = u.id
        where u.currentlogin <> coalesce(l.last_login, 0) or u.lastaccess <>
            coalesce(l.last_access, 0)
           or u.lastlogin > u.currentlogin or (u.firstaccess > 0 and u.firstaccess >
               u.lastaccess)""",
        )
        == 0
    )
    assert (
        value(
            connection,
            "select count(*) from (select username from mdl_user group by mnethostid, username "
            "having count(*) > 1) d",
        )
        == 0
    )
    assert value(connection, "select count(*) from mdl_user where mnethostid <> 1") == 0


def test_grades_and_their_history(small):
    connection, _ = small
    assert (
        value(
            connection,
            """select count(*) from mdl_grade_grades g join mdl_grade_items i on i.id = g.itemid
                                where g.finalgrade > i.grademax""",
        )
        == 0
    )
    assert value(connection, "select count(*) from mdl_grade_grades where finalgrade is null") > 0
    assert (
        value(connection, """select count(*) from mdl_grade_items where itemtype = 'course'""")
        == 15
    )
    assert (
        value(
            connection,
            """select count(*) from mdl_grade_items i where itemtype = 'mod' and not exists (
        select 1 from mdl_course_modules cm join mdl_modules m on m.id = cm.module
        where cm.course = i.courseid and m.name = i.itemmodule and cm.instance = i.iteminstance)""",
        )
        == 0
    )
    assert (
        value(
            connection,
            """select count(*) from mdl_grade_grades g where not exists (
        select 1 from mdl_grade_grades_history h where h.oldid = g.id and h.action = 1)""",
        )
        == 0
    )
    assert set(
        r[0] for r in rows(connection, "select distinct action from mdl_grade_grades_history")
    ) >= {1, 2}
    # user_graded rows point at the grade row of the right user and item
    assert (
        value(
            connection,
            """select count(*) from mdl_logstore_standard_log l join mdl_grade_grades g
        on g.id = l.objectid where l.eventname = '\\core\\event\\user_graded'
        and (g.userid <> l.relateduserid or g.itemid <> (l.other::json->>'itemid')::int)""",
        )
        == 0
    )


def test_quiz_completion_follows_the_pass_grade(small):
    connection, _ = small
    mismatched = value(
        connection,
        """
        select count(*) from mdl_course_modules_completion c
        join mdl_course_modules cm on cm.id = c.coursemoduleid join mdl_modules m on m.id =
            cm.module
        join mdl_grade_items i on i.itemmodule = m.name and i.iteminstance = cm.instance
        join mdl_grade_grades g on g.itemid = i.id and g.userid = c.userid
        where m.name in ('quiz', 'assign')
          and c.completionstate <> case when g.finalgrade >= i.gradepass then 2 else 3 end""",
    )
    assert mismatched == 0
    states = {
        r[0]
        for r in rows(
            connection, "select distinct completionstate from mdl_course_modules_completion"
        )
    }
    assert states == {1, 2, 3}


def test_forums_discussions_and_posts_are_linked(small):
    connection, _ = small
    assert (
        value(
            connection,
            """select count(*) from mdl_course_modules cm join mdl_modules m on m.id = cm.module
        left join mdl_forum f on f.id = cm.instance and f.course = cm.course
        where m.name = 'forum' and f.id is null""",
        )
        == 0
    )
    assert (
        value(
            connection,
            """select count(*) from mdl_forum_discussions d left join mdl_forum_posts p
        on p.id = d.firstpost and p.discussion = d.id and p.parent = 0 where p.id is null""",
        )
        == 0
    )
    assert (
        value(
            connection,
            """select count(*) from mdl_forum_posts p where parent <> 0 and not exists (
        select 1 from mdl_forum_posts q where q.id = p.parent and q.discussion = p.discussion
        and q.created <= p.created)""",
        )
        == 0
    )


def test_roles_and_enrolments(small):
    connection, _ = small
    archetypes = dict(rows(connection, "select shortname, archetype from mdl_role"))
    assert archetypes["student"] == "student" and archetypes["editingteacher"] == "editingteacher"
    levels = dict(
        rows(
            connection,
            """select r.shortname || ':' || c.contextlevel, count(*) from mdl_role_assignments
        ra join mdl_role r on r.id = ra.roleid join mdl_context c on c.id = ra.contextid
            group by 1""",
        )
    )
    assert (
        levels["student:50"] > 50
        and levels["editingteacher:50"] >= 15
        and levels["manager:10"] >= 1
    )
    assert (
        value(
            connection,
            """select count(*) from (select userid from mdl_role_assignments where roleid = 5
                                group by userid having count(*) > 1) s""",
        )
        > 0
    )
    statuses = dict(rows(connection, "select status, count(*) from mdl_user_enrolments group by 1"))
    assert statuses[0] > 50 and statuses.get(1, 0) >= 1
    assert value(connection, "select count(*) from mdl_user_enrolments where timeend <> 0") == 0
    assert value(
        connection, "select string_agg(distinct enrol, ',' order by enrol) from mdl_enrol"
    ) == ("guest,manual,self")


@pytest.mark.slow
def test_generation_speed_at_scale_10_is_reported(make_database, request):
    """Measured, not asserted: prints the speed. Runs only when asked for with -m slow."""
    if "slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("scale 10 takes about half a minute; run with -m slow to measure it")
    report = generate(make_database("gen10"), scale=10.0, seed=2019)
    print(
        f"\nscale 10: {report.row_counts['mdl_logstore_standard_log']} log rows"
        f" in {report.seconds:.1f} s "
        f"= {report.log_rows_per_second:,.0f} rows/s"
    )
    assert report.row_counts["mdl_logstore_standard_log"] > 3_500_000
