"""fact_learner_week and learner_engagement_bands against the definitions computed in Python.

`dbt build` of the progress marts (their models, unit tests, data tests) runs on the real
Moodle 4.5 site in its own timezone (Africa/Nairobi, so weeks are local weeks) and on a
generated site with the defaults; then the week spine, the weekly measures, running totals,
grades to date and the bands are recomputed here from the raw Moodle rows and compared row
by row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.dbt_helpers import assert_dbt_succeeded, run_dbt
from support.progress_reference import (
    LOGIN_ACTIONS,
    RawSite,
    build_real_site,
    local_date,
    monday,
    read_site,
    rows,
    sessionise,
)

from runner.postgres.connection import ConnectionInfo

WEEK = dt.timedelta(days=7)
# The progress marts, everything upstream of them and every test on them.
PROGRESS_SELECTION = ("+learner_engagement_bands", "+dim_user", "+dim_course")
Key = tuple[int, int, dt.date]  # (user, course, week Monday)


@dataclass(frozen=True)
class Built:
    info: ConnectionInfo
    site: RawSite
    zone: ZoneInfo


@pytest.fixture(scope="module", params=["real, Nairobi weeks", "generated"])
def built(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> Built:
    work_dir = tmp_path_factory.mktemp("progress")
    if request.param == "generated":
        from runner.generator import generate

        info = make_database("progress_generated")
        generate(info, schema="public", prefix="mdl_", scale=0.1, seed=5)
        build = ["build", "--select", *PROGRESS_SELECTION, "--indirect-selection", "cautious"]
        assert_dbt_succeeded(run_dbt(build, info, work_dir))
        return Built(info, read_site(info), ZoneInfo("UTC"))
    zone = "Africa/Nairobi"
    info = build_real_site(
        make_database, work_dir, "progress_real", {"reporting_timezone": zone}, PROGRESS_SELECTION
    )
    return Built(info, read_site(info), ZoneInfo(zone))


def expected_spine(built: Built) -> dict[tuple[int, int], list[dt.date]]:
    """Mondays of every learner-course's weeks, from enrolment start to course end."""
    zone, info = built.zone, built.info
    starts: dict[tuple[int, int], int] = {}
    for user_id, course_id, timestart, timecreated in rows(
        info,
        "select ue.userid, e.courseid, ue.timestart, ue.timecreated"
        " from mdl_user_enrolments ue join mdl_enrol e on e.id = ue.enrolid",
    ):
        start = timestart or timecreated
        key = (user_id, course_id)
        if start and (key not in starts or start < starts[key]):
            starts[key] = start
    course_ends = {
        course_id: enddate
        for course_id, enddate in rows(info, "select id, enddate from mdl_course")
    }
    last_course_event: dict[int, int] = {}
    for _, _, course_id, _, _, epoch in built.site.log:
        if course_id is not None:
            last_course_event[course_id] = max(epoch, last_course_event.get(course_id, epoch))
    spine = {}
    for user_id, course_id in built.site.learner_courses:
        start = local_date(starts[(user_id, course_id)], zone)
        end_epoch = course_ends[course_id] or last_course_event.get(course_id)
        end = max(local_date(end_epoch, zone), start) if end_epoch else start
        weeks = []
        week = monday(start)
        while week <= monday(end):
            weeks.append(week)
            week += WEEK
        spine[(user_id, course_id)] = weeks
    return spine


def expected_measures(built: Built) -> dict[Key, dict[str, int]]:
    zone, site, info = built.zone, built.site, built.info
    measures: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    courses_of: dict[int, list[int]] = defaultdict(list)
    for user_id, course_id in site.learner_courses:
        courses_of[user_id].append(course_id)
    for _, user_id, course_id, _, action, epoch in site.log:
        if user_id not in site.users:
            continue
        week = monday(local_date(epoch, zone))
        if action in LOGIN_ACTIONS:
            for learner_course in courses_of[user_id]:
                measures[(user_id, learner_course, week)]["login_count"] += 1
        if course_id is not None and (user_id, course_id) in site.learner_courses:
            measures[(user_id, course_id, week)]["activity_count"] += 1
    for session in sessionise(site):
        week = monday(local_date(session.started, zone))
        for course_id in session.courses:
            if (session.user_id, course_id) in site.learner_courses:
                key = (session.user_id, course_id, week)
                measures[key]["session_count"] += 1
                measures[key]["dedication_seconds"] += session.duration()
    for user_id, course_id, created in rows(
        info,
        "select p.userid, d.course, p.created from mdl_forum_posts p"
        " join mdl_forum_discussions d on d.id = p.discussion where p.deleted = 0",
    ):
        if (user_id, course_id) in site.learner_courses:
            measures[(user_id, course_id, monday(local_date(created, zone)))][
                "forum_post_count"
            ] += 1
    for user_id, course_id, modified in rows(
        info,
        "select c.userid, cm.course, c.timemodified from mdl_course_modules_completion c"
        " join mdl_course_modules cm on cm.id = c.coursemoduleid"
        " where c.completionstate in (1, 2, 3)",
    ):
        if (user_id, course_id) in site.learner_courses:
            measures[(user_id, course_id, monday(local_date(modified, zone)))][
                "modules_completed_count"
            ] += 1
    return measures


def expected_grade_points(built: Built, spine: dict[tuple[int, int], list[dt.date]]) -> dict:
    """Points of activity grade items in force at the end of each spine week."""
    zone, info = built.zone, built.info
    items = {
        item_id: course_id
        for item_id, course_id in rows(
            info,
            "select id, courseid from mdl_grade_items"
            " where itemtype = 'mod' and gradetype in (1, 2)",
        )
    }
    changes: dict[tuple[int, int], list[tuple[dt.date, int, int, Decimal | None]]] = defaultdict(
        list
    )
    for history_id, user_id, item_id, action, final, modified in rows(
        info,
        "select id, userid, itemid, action, finalgrade, timemodified from mdl_grade_grades_history",
    ):
        if modified:
            week = monday(local_date(modified, zone))
            changes[(user_id, item_id)].append(
                (week, modified, history_id, None if action == 3 else final)
            )
    for user_id, item_id, final, modified, created in rows(
        info, "select userid, itemid, finalgrade, timemodified, timecreated from mdl_grade_grades"
    ):
        when = modified or created
        if (user_id, item_id) not in changes and when:
            changes[(user_id, item_id)].append((monday(local_date(when, zone)), when, 0, final))
    points = {}
    for (user_id, course_id), weeks in spine.items():
        course_items = [item for item, course in items.items() if course == course_id]
        for week in weeks:
            total = Decimal(0)
            for item_id in course_items:
                known = [
                    change for change in changes.get((user_id, item_id), []) if change[0] <= week
                ]
                if known:
                    final = max(known, key=lambda change: change[:3])[3]
                    total += final or 0
            points[(user_id, course_id, week)] = total
    return points


def mart_weeks(built: Built, columns: str) -> dict[Key, tuple[Any, ...]]:
    return {
        (row[0], row[1], row[2]): row[3:]
        for row in rows(
            built.info,
            f"select user_id, course_id, week_start_date, {columns} from mart.fact_learner_week",
        )
    }


def test_weeks_run_from_enrolment_start_to_course_end_without_gaps(built: Built) -> None:
    spine = expected_spine(built)
    expected = {
        (user_id, course_id, week): number
        for (user_id, course_id), weeks in spine.items()
        for number, week in enumerate(weeks, start=1)
    }
    actual = {key: values[0] for key, values in mart_weeks(built, "enrolment_week_number").items()}
    assert actual == expected
    assert len({(user, course) for user, course, _ in actual}) == len(built.site.learner_courses)


def test_weekly_measures_and_running_totals_match_python(built: Built) -> None:
    names = (
        "login_count",
        "activity_count",
        "session_count",
        "dedication_seconds",
        "forum_post_count",
        "modules_completed_count",
    )
    expected = expected_measures(built)
    actual = mart_weeks(built, ", ".join(names) + ", cumulative_activity_count, is_future_week")
    running: dict[tuple[int, int], int] = defaultdict(int)
    checked_activity = 0
    for key in sorted(actual):
        values = actual[key]
        assert values[: len(names)] == tuple(expected[key][name] for name in names), key
        running[key[:2]] += expected[key]["activity_count"]
        assert values[len(names)] == running[key[:2]], key
        checked_activity += expected[key]["activity_count"]
        if values[-1]:  # a future week cannot hold activity
            assert values[0] == values[1] == 0, key
    assert checked_activity > 0


def test_grade_to_date_carries_each_items_latest_grade(built: Built) -> None:
    spine = expected_spine(built)
    expected = expected_grade_points(built, spine)
    actual = {key: values[0] for key, values in mart_weeks(built, "grade_points_to_date").items()}
    assert set(actual) == set(expected)
    for key, points in expected.items():
        assert actual[key] == points, key
    assert any(points > 0 for points in expected.values())


def expected_band(week: dict[str, Any]) -> tuple[str, str | None]:
    """The documented rules with their default thresholds."""
    share = week["graded_share_to_date"]
    if week["days_since_last_action"] >= 7:
        return "struggling", "inactive"
    if week["missed_deadline_count"] >= 1:
        return "struggling", "missed deadline"
    if share is not None and share < Decimal("0.4"):
        return "struggling", "low grade"
    if (
        week["active_day_count"] >= 2
        and week["cognitive_depth_level"] >= 3
        and (share is None or share >= Decimal("0.7"))
    ):
        return "doing well", None
    return "doing OK", None


def test_bands_and_risk_follow_the_documented_rules(built: Built) -> None:
    columns = (
        "days_since_last_action, missed_deadline_count, graded_share_to_date,"
        " active_day_count, cognitive_depth_level, is_future_week"
    )
    weeks = mart_weeks(built, columns)
    bands = {
        (row[0], row[1], row[2]): row[3:]
        for row in rows(
            built.info,
            "select user_id, course_id, week_start_date, engagement_band, struggling_reason,"
            " is_at_risk from mart.learner_engagement_bands",
        )
    }
    names = [name.strip() for name in columns.split(",")]
    streak: dict[tuple[int, int], int] = defaultdict(int)
    seen = set()
    for key in sorted(weeks):
        week = dict(zip(names, weeks[key], strict=True))
        if week["is_future_week"]:
            assert key not in bands
            continue
        band, reason = expected_band(week)
        streak[key[:2]] = streak[key[:2]] + 1 if band == "struggling" else 0
        assert bands[key] == (band, reason, streak[key[:2]] >= 2), key
        seen.add(band)
    assert len(bands) == sum(1 for values in weeks.values() if not values[-1])
    assert "struggling" in seen and len(seen) >= 2


def test_never_active_learners_are_at_risk_from_their_third_week(built: Built) -> None:
    """tests/data/README.md: lucy.akinyi and ibrahim.yusuf never log in."""
    if built.zone.key != "Africa/Nairobi":
        pytest.skip("facts of the real site only")
    silent = [
        user_id
        for user_id, (_, _, username) in built.site.users.items()
        if username in ("lucy.akinyi", "ibrahim.yusuf")
    ]
    assert len(silent) == 2
    for user_id in silent:
        flags = rows(
            built.info,
            "select enrolment_week_number, learner_action_count, is_at_risk"
            " from mart.learner_engagement_bands where user_id = %s"
            " order by course_id, week_start_date",
            (user_id,),
        )
        assert flags and all(actions == 0 for _, actions, _ in flags)
        # Enrolled on a Sunday evening: inactive from week 2, at risk from week 3.
        assert all(at_risk == (number >= 3) for number, _, at_risk in flags), flags
