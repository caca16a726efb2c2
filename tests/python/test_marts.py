"""The marts against an independent computation of the product's definitions.

`dbt build` (every model, unit test and data test) runs on the real Moodle 4.5 site and on a
generated one; then sessions, user metrics, learners and tiers are recomputed here in plain
Python, with simple loops over the raw Moodle rows, and compared row by row with the marts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.dbt_helpers import assert_dbt_succeeded, load_real_moodle, run_dbt
from support.metric_reference import (
    MoodleRows,
    UserFigures,
    read_moodle,
    sessionise,
    user_figures,
)
from support.metric_reference import SessionSettings as Settings

from runner.generator import generate
from runner.postgres.connection import ConnectionInfo

TIER_PERCENTS = (1, 5, 10, 25)
METRICS = ("login_count", "activity_count", "dedication_time")
GENERATED_SCALE = 0.2
# A second build with every sessionisation var changed, into schemas of its own.
VARIANT_VARS = {
    "schema_prefix": "variant_",
    "session_cap_hours": 2,
    "session_idle_timeout_minutes": 30,
    "reporting_timezone": "Africa/Nairobi",
}
# The variant build runs the singular invariant tests and the unit tests; the column tests
# (not_null, unique, ...), which no var changes, run in the default builds. dbt runs about
# 500 of them, half the CPU of a build.
VARIANT_EXCLUDE = ("--exclude", "test_type:generic")


# --- the definitions, in plain Python -------------------------------------------------------


def course_learners(moodle: MoodleRows) -> set[tuple[int, int]]:
    """(course id, user id) of every learner's student-archetype role in a course context."""
    pairs = set()
    for user_id, role_id, context_id in moodle.role_assignments:
        if user_id not in moodle.users or context_id not in moodle.contexts:
            continue
        deleted, confirmed, username = moodle.users[user_id]
        level, course_id = moodle.contexts[context_id]
        is_guest = user_id == 1 or username == "guest"
        if (
            moodle.role_archetypes.get(role_id) == "student"
            and level == 50
            and confirmed
            and not deleted
            and not is_guest
        ):
            pairs.add((course_id, user_id))
    return pairs


def expected_tiers(
    learners: set[int], figures: dict[int, UserFigures]
) -> dict[tuple[int, str], tuple[int, int, str | None]]:
    """(user, metric) -> (value, rank, top tier) for every learner and metric."""
    result = {}
    count = len(learners)
    for metric in METRICS:
        values = {}
        for user_id in learners:
            figure = figures[user_id]
            values[user_id] = {
                "login_count": figure.login_count,
                "activity_count": figure.activity_count,
                "dedication_time": figure.dedication_seconds,
            }[metric]
        for user_id, value in values.items():
            rank = 1 + sum(1 for other in values.values() if other > value)
            tier = None
            for percent in TIER_PERCENTS:
                bound = -(-percent * count // 100)  # ceil(percent / 100 * count), exactly
                if value > 0 and rank <= bound:
                    tier = f"top {percent}%"
                    break
            result[(user_id, metric)] = (value, rank, tier)
    return result


# --- reading the marts ----------------------------------------------------------------------


def query(info: ConnectionInfo, sql: str) -> list[tuple[Any, ...]]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


@dataclass(frozen=True)
class BuiltWarehouse:
    info: ConnectionInfo
    moodle: MoodleRows
    settings: Settings
    mart: str  # schema holding the marts
    is_real_site: bool
    work_dir: Path  # dbt's profiles, target and logs for this build

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return query(self.info, sql.replace("{mart}", self.mart))


def build(
    info: ConnectionInfo,
    work_dir: Path,
    settings: Settings,
    dbt_vars: dict[str, Any] | None,
    is_real_site: bool,
    exclude: tuple[str, ...] = (),
) -> BuiltWarehouse:
    result = run_dbt(["build", *exclude], info, work_dir, dbt_vars=dbt_vars)
    assert_dbt_succeeded(result)
    prefix = (dbt_vars or {}).get("schema_prefix", "")
    return BuiltWarehouse(
        info, read_moodle(info), settings, f"{prefix}mart", is_real_site, work_dir
    )


@pytest.fixture(scope="module", params=["real", "generated", "real, variant vars"])
def built(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], ConnectionInfo],
    tmp_path_factory: pytest.TempPathFactory,
) -> BuiltWarehouse:
    if request.param == "real":
        # The run's shared build of the real site with the default vars.
        info, work_dir = request.getfixturevalue("real_site_build")
        return BuiltWarehouse(info, read_moodle(info), Settings(), "mart", True, work_dir)
    work_dir = tmp_path_factory.mktemp("dbt")
    if request.param == "generated":
        info = make_database("marts_generated")
        generate(info, schema="public", prefix="mdl_", scale=GENERATED_SCALE, seed=11)
        return build(info, work_dir, Settings(), None, is_real_site=False)
    # Every sessionisation var changed, built into schemas of its own beside the default build.
    variant = Settings(
        cap_seconds=2 * 3600, idle_timeout_seconds=30 * 60, timezone="Africa/Nairobi"
    )
    real_database = make_database("marts_real_variant")
    load_real_moodle(real_database)
    return build(
        real_database, work_dir, variant, VARIANT_VARS, is_real_site=True, exclude=VARIANT_EXCLUDE
    )


# --- the checks -----------------------------------------------------------------------------


def test_every_session_matches_python(built: BuiltWarehouse) -> None:
    expected, _ = sessionise(built.moodle, built.settings)
    cap = built.settings.cap_seconds
    actual = {
        row[0]: row[1:]
        for row in built.rows(
            "select session_id, user_id, user_session_number, event_count,"
            " raw_duration_seconds, duration_seconds, is_capped, starts_with_login,"
            " extract(epoch from started_at)::bigint, extract(epoch from ended_at)::bigint"
            " from {mart}.fact_session"
        )
    }
    assert set(actual) == set(expected)
    for session_id, session in expected.items():
        raw = session.raw_duration()
        assert actual[session_id] == (
            session.user_id,
            session.user_session_number,
            session.event_count,
            raw,
            min(raw, cap),
            raw > cap,
            session.starts_with_login,
            session.started_epoch,
            session.ended_epoch,
        ), session_id


def test_every_event_of_a_known_user_is_in_its_python_session(
    built: BuiltWarehouse,
) -> None:
    _, expected = sessionise(built.moodle, built.settings)
    actual = dict(built.rows("select event_id, session_id from {mart}.fact_activity"))
    assert actual == expected


def test_event_dates_are_in_the_reporting_timezone(built: BuiltWarehouse) -> None:
    zone = ZoneInfo(built.settings.timezone)
    epochs = {event_id: epoch for event_id, _, _, epoch in built.moodle.log}
    rows = built.rows("select event_id, event_date from {mart}.fact_activity")
    assert rows
    for event_id, event_date in rows:
        assert event_date == dt.datetime.fromtimestamp(epochs[event_id], zone).date(), event_id
    all_dates = {dt.datetime.fromtimestamp(epoch, zone).date() for epoch in epochs.values()}
    calendar = [row[0] for row in built.rows("select date_day from {mart}.dim_date")]
    span = (max(all_dates) - min(all_dates)).days + 1
    assert sorted(calendar) == [min(all_dates) + dt.timedelta(days=n) for n in range(span)]


def test_every_user_figure_matches_python(built: BuiltWarehouse) -> None:
    moodle, settings = built.moodle, built.settings
    sessions, _ = sessionise(moodle, settings)
    expected = user_figures(moodle, sessions, settings)
    learners = {user_id for _, user_id in course_learners(moodle)}
    actual = {
        row[0]: row[1:]
        for row in built.rows(
            "select user_id, is_learner, login_count, activity_count, session_count,"
            " dedication_seconds from {mart}.dim_user"
        )
    }
    assert set(actual) == set(moodle.users)
    for user_id, figure in expected.items():
        assert actual[user_id] == (
            user_id in learners,
            figure.login_count,
            figure.activity_count,
            figure.session_count,
            figure.dedication_seconds,
        ), user_id


def test_every_tier_and_rank_matches_python(built: BuiltWarehouse) -> None:
    moodle, settings = built.moodle, built.settings
    sessions, _ = sessionise(moodle, settings)
    figures = user_figures(moodle, sessions, settings)
    learners = {user_id for _, user_id in course_learners(moodle)}
    expected = expected_tiers(learners, figures)
    actual = {
        (row[0], row[1]): row[2:]
        for row in built.rows(
            "select user_id, metric, metric_value, metric_rank, top_tier from {mart}.learner_tiers"
            # The learner-reflecting metrics are checked in test_active_engagement.py.
            f" where metric in {METRICS}"
        )
    }
    assert actual == expected


def test_course_learner_and_module_counts_match_python(built: BuiltWarehouse) -> None:
    learners_per_course: dict[int, int] = defaultdict(int)
    for course_id, _ in course_learners(built.moodle):
        learners_per_course[course_id] += 1
    actual = {
        row[0]: row[1:]
        for row in built.rows(
            "select course_id, learner_count, module_count from {mart}.dim_course"
            " where not is_course_deleted"
        )
    }
    assert set(actual) == built.moodle.course_ids
    for course_id in built.moodle.course_ids:
        assert actual[course_id] == (
            learners_per_course[course_id],
            built.moodle.modules_per_course.get(course_id, 0),
        ), course_id


def test_real_site_people_are_classified_as_documented(built: BuiltWarehouse) -> None:
    """tests/data/README.md: 40 students + 1 auditor learn; 2 never log in; 2 use only the app."""
    if not built.is_real_site:
        pytest.skip("facts of the real site only")
    by_name = {username: user_id for user_id, (_, _, username) in built.moodle.users.items()}
    learners = built.rows(
        "select user_id, login_count, activity_count from {mart}.dim_user where is_learner"
    )
    assert len(learners) == 41
    figures = {user_id: (logins, activity) for user_id, logins, activity in learners}
    for never_logged_in in ("lucy.akinyi", "ibrahim.yusuf"):
        assert figures[by_name[never_logged_in]] == (0, 0)
    for app_only in ("mercy.wambui", "samuel.kariuki"):
        logins, activity = figures[by_name[app_only]]
        assert logins == 0 and activity > 0
    tiers_of_silent = built.rows(
        "select count(*), count(top_tier) from {mart}.learner_tiers"
        f" where user_id = {by_name['lucy.akinyi']}"
    )
    # One row per metric (the 3 original and the 2 learner-reflecting ones), none in a tier.
    assert tiers_of_silent == [(5, 0)]


def test_docs_describe_every_intermediate_and_mart_model_and_column(
    built: BuiltWarehouse, tmp_path: Path
) -> None:
    """`dbt docs generate`: every built column of these layers has a description, and no
    description names a column the table does not have."""
    if built.mart != "mart" or not built.is_real_site:
        pytest.skip("the docs are generated once, for the real site's default build")
    # A target folder of its own: the build's is shared with other modules.
    assert_dbt_succeeded(run_dbt(["docs", "generate"], built.info, tmp_path))
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    checked = 0
    for unique_id, table in catalog["nodes"].items():
        node = manifest["nodes"][unique_id]
        if node["schema"] not in ("intermediate", "mart"):
            continue
        checked += 1
        assert node["description"].strip(), unique_id
        built_columns = {name.lower() for name in table["columns"]}
        described = {
            name for name, column in node["columns"].items() if column["description"].strip()
        }
        assert built_columns == described, unique_id
    assert checked >= 10
