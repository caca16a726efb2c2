"""The original analysis's questions: every dbt analysis compiles, its compiled SQL runs, and
its answer equals the same question computed in Python over the raw Moodle rows.

Built on the real Moodle 4.5 site in its own timezone (Africa/Nairobi), so hours and months
are local ones.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from support.dbt_helpers import assert_dbt_succeeded, run_dbt
from support.progress_reference import LOGIN_ACTIONS, RawSite, build_real_site, read_site, rows

from runner.moodle.schema import OPTIONAL_TABLES, REQUIRED_TABLES, moodle_tables
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

ZONE = "Africa/Nairobi"
VERBS = (
    "loggedin", "viewed", "started", "submitted", "uploaded", "updated",
    "searched", "resumed", "answered", "attempted", "abandoned",
)  # fmt: skip
ANALYSES = (
    "moodle_table_count",
    "moodle_table_row_counts",
    "quiz_submissions_by_hour",
    "monthly_usage_time",
    "verb_counts_per_user",
    "learner_overall_grades",
    "forum_post_count",
)
MARTS_READ = ("+fact_activity", "+fact_session", "+dim_user", "+fact_grade", "+fact_forum_post")


@dataclass(frozen=True)
class Answered:
    info: ConnectionInfo
    site: RawSite
    compiled: dict[str, str]

    def answer(self, analysis: str) -> list[tuple[Any, ...]]:
        return rows(self.info, self.compiled[analysis])


@pytest.fixture(scope="module")
def answered(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> Answered:
    work_dir = tmp_path_factory.mktemp("analyses")
    dbt_vars = {"reporting_timezone": ZONE}
    info = build_real_site(make_database, work_dir, "analyses", dbt_vars, MARTS_READ)
    result = run_dbt(
        ["compile", "--select", "resource_type:analysis"], info, work_dir, dbt_vars=dbt_vars
    )
    assert_dbt_succeeded(result)
    folder = work_dir / "target" / "compiled" / "moodle_analytics" / "analyses"
    compiled = {path.stem: path.read_text() for path in folder.glob("*.sql")}
    return Answered(info, read_site(info), compiled)


def local(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, ZoneInfo(ZONE))


def test_every_question_has_a_compiled_analysis_and_a_documented_command(
    answered: Answered,
) -> None:
    assert sorted(answered.compiled) == sorted(ANALYSES)
    guide = (PROJECT_ROOT / "README.md").read_text()
    for analysis in ANALYSES:
        assert f"dbt show --select {analysis}" in guide


def test_table_count_and_row_counts(answered: Answered) -> None:
    info = answered.info
    tables = [
        name
        for (name,) in rows(
            info,
            "select tablename from pg_catalog.pg_tables where schemaname = 'public'"
            " and tablename like 'mdl\\_%%'",
        )
    ]
    assert answered.answer("moodle_table_count") == [(len(tables),)] == [(20,)]
    expected = {
        table.removeprefix("mdl_"): rows(info, f'select count(*) from public."{table}"')[0][0]
        for table in tables
    }
    assert dict(answered.answer("moodle_table_row_counts")) == expected
    assert expected["logstore_standard_log"] == 17428  # tests/data/README.md
    # The list in the analysis is the source's list of tables and the schema's.
    sources = yaml.safe_load(
        (PROJECT_ROOT / "models" / "staging" / "moodle" / "_moodle__sources.yml").read_text()
    )["sources"][0]["tables"]
    assert {table["name"] for table in sources} == set(moodle_tables())
    # The analysis counts the required tables; the optional ones are marked in the source.
    optional = {table["name"] for table in sources if (table.get("meta") or {}).get("optional")}
    assert set(expected) == set(moodle_tables()) - optional == set(REQUIRED_TABLES)
    assert optional == set(OPTIONAL_TABLES)


def test_quiz_submissions_by_local_hour(answered: Answered) -> None:
    site = answered.site
    counts = Counter(
        local(epoch).hour
        for _, user_id, _, event, _, epoch in site.log
        if event == "\\mod_quiz\\event\\attempt_submitted" and user_id in site.users
    )
    assert answered.answer("quiz_submissions_by_hour") == [
        (hour, counts[hour]) for hour in range(24)
    ]
    assert sum(counts.values()) == 81  # tests/data/README.md: 81 finished attempts


def test_monthly_usage_time_both_ways(answered: Answered) -> None:
    site = answered.site
    learners = {user_id for user_id, _ in site.learner_courses}
    spans: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    by_user: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for event_id, user_id, _, _, action, epoch in site.log:
        if user_id in site.users:
            by_user[user_id].append((epoch, event_id, action))
            if user_id in learners:
                spans[(user_id, local(epoch).date().replace(day=1))].append(epoch)
    session_time: dict[tuple[int, dt.date], int] = defaultdict(int)
    for user_id, events in by_user.items():
        started = ended = None
        for epoch, _, action in [*sorted(events), (None, None, "loggedin")]:
            if started is None or action in LOGIN_ACTIONS:
                if started is not None and user_id in learners:
                    month = local(started).date().replace(day=1)
                    session_time[(user_id, month)] += min(ended - started, 4 * 3600)
                started = epoch
            ended = epoch
    expected = {
        key: (max(epochs) - min(epochs), session_time[key]) for key, epochs in spans.items()
    }
    actual = {
        (user_id, month): (original, sessions)
        for user_id, month, _, _, original, sessions, difference in answered.answer(
            "monthly_usage_time"
        )
        if difference == original - sessions
    }
    assert actual == expected
    assert all(original >= sessions for original, sessions in expected.values())


def test_verb_counts_per_user(answered: Answered) -> None:
    site = answered.site
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for _, user_id, _, _, action, _ in site.log:
        if user_id in site.users:
            counts[user_id][action] += 1
    expected = {
        user_id: (*(verbs[verb] for verb in VERBS), sum(verbs.values()))
        for user_id, verbs in counts.items()
    }
    actual = {row[0]: row[1:] for row in answered.answer("verb_counts_per_user")}
    assert actual == expected


def test_learner_overall_grades(answered: Answered) -> None:
    info, site = answered.info, answered.site
    totals = dict(rows(info, "select courseid, id from mdl_grade_items where itemtype = 'course'"))
    grades = {
        (user_id, item_id): final
        for user_id, item_id, final in rows(
            info, "select userid, itemid, finalgrade from mdl_grade_grades"
        )
    }
    expected = {
        (user_id, course_id): grades.get((user_id, totals[course_id]))
        for user_id, course_id in site.learner_courses
        if course_id in totals
    }
    actual = {
        (user_id, course_id): grade
        for user_id, course_id, grade, _, _ in answered.answer("learner_overall_grades")
    }
    assert actual == expected
    assert sum(1 for grade in expected.values() if isinstance(grade, Decimal)) > 0


def test_forum_post_count(answered: Answered) -> None:
    info, site = answered.info, answered.site
    expected: dict[int, list[Any]] = defaultdict(lambda: [0, 0, set()])
    for user_id, course_id, discussion in rows(
        info,
        "select p.userid, d.course, d.id from mdl_forum_posts p"
        " join mdl_forum_discussions d on d.id = p.discussion",
    ):
        if user_id in site.users:
            figures = expected[course_id]
            figures[0] += 1
            figures[1] += (user_id, course_id) in site.learner_courses
            figures[2].add(discussion)
    actual = {row[0]: row[1:] for row in answered.answer("forum_post_count")}
    assert actual == {
        course: (posts, learner_posts, len(discussions))
        for course, (posts, learner_posts, discussions) in expected.items()
    }
    assert sum(posts for posts, _, _ in actual.values()) == 372  # tests/data/README.md
