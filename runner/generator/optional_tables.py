"""Rows of the optional tables: assignments and quizzes with their deadlines, submissions and
attempts, course completion criteria and course completions.

Assignments, quizzes, submissions and attempts follow from what the rest of the generator
already decided (the course modules and their deadlines, the planned submissions and quiz
attempts the log records), so they agree with the log to the second. Course completion is
"manual completion by others": in the courses with criteria, the editing teacher marks complete,
in the course's last week, the learners still taking part in its last quarter, and misses a few.
The generator writes no log row for those marks (that would change the log's existing rows).
The only new random choices (which courses have criteria, which learners left a draft, whom a
teacher misses, the day of each mark) come from their own stream, so adding these tables
changes no other row.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import timeline as tl
from .courses import ASSIGN_GRADEMAX, EDITING_TEACHER_ROLE, N_COURSES, QUIZ_GRADEMAX
from .episodes import Plans
from .site import Site
from .tables import TableRows

# Moodle's criteria type "manual completion by others" (COMPLETION_CRITERIA_TYPE_ROLE).
CRITERIA_TYPE_ROLE = 7
# Share of courses whose teachers set course completion criteria.
COURSES_WITH_CRITERIA_SHARE = 0.4
# Share of the learners still taking part whom the teacher forgets to mark complete.
MISSED_MARK_SHARE = 0.06
# Every course runs the whole term: its last quarter starts three quarters in.
LAST_QUARTER_START_DAY = (3 * tl.TERM_DAYS) // 4
# Late submissions arrive up to four days after the due date (assessments.py); the cut-off
# leaves a week, marking is expected within a fortnight.
CUTOFF_AFTER_DUE = 7 * tl.DAY
GRADING_AFTER_DUE = 14 * tl.DAY
# Share of learners without a submission who opened the assignment and left a draft.
DRAFT_SHARE = 0.15


def _opens(site: Site, cm: int) -> int:
    return tl.TERM_START + int(site.courses.cms.open_day[cm]) * tl.DAY


def _cms_of(site: Site, modname: str) -> list[int]:
    cms = site.courses.cms
    return [cm for cm in range(1, cms.count + 1) if cms.modname[cm] == modname]


def courses_with_criteria(rng: np.random.Generator) -> list[int]:
    """Course ids whose completion has criteria (at least one, never all)."""
    chosen = rng.random(N_COURSES) < COURSES_WITH_CRITERIA_SHARE
    chosen[0] = True
    chosen[-1] = False
    return [int(course) + 2 for course in np.flatnonzero(chosen)]


def assignment_tables(site: Site, plans: Plans, rng: np.random.Generator) -> list[TableRows]:
    cms = site.courses.cms
    assign_rows = []
    for cm in _cms_of(site, "assign"):
        due = int(cms.due[cm])
        assign_rows.append(
            (
                int(cms.instance[cm]),
                int(cms.course[cm]),
                cms.name[cm],
                "",
                1,
                due,
                _opens(site, cm),
                ASSIGN_GRADEMAX,
                int(cms.added[cm]),
                due + CUTOFF_AFTER_DUE,
                due + GRADING_AFTER_DUE,
            )
        )
    s = plans.submissions
    submitted = {(int(s.user[i]), int(s.cm[i])) for i in range(len(s.submission_id))}
    rows = [
        (
            int(s.submission_id[i]),
            int(cms.instance[s.cm[i]]),
            int(s.user[i]),
            int(s.submit[i]),
            int(s.submit[i]),
            "submitted",
        )
        for i in range(len(s.submission_id))
    ]
    rows += _drafts(site, plans, rng, submitted, first_id=len(rows) + 1)
    return [
        (
            "assign",
            (
                "id",
                "course",
                "name",
                "intro",
                "introformat",
                "duedate",
                "allowsubmissionsfromdate",
                "grade",
                "timemodified",
                "cutoffdate",
                "gradingduedate",
            ),
            iter(assign_rows),
        ),
        (
            "assign_submission",
            (
                "id",
                "assignment",
                "userid",
                "timecreated",
                "timemodified",
                "status",
                "groupid",
                "attemptnumber",
                "latest",
            ),
            iter([(*row, 0, 0, 1) for row in rows]),
        ),
    ]


def _drafts(
    site: Site,
    plans: Plans,
    rng: np.random.Generator,
    submitted: set[tuple[int, int]],
    first_id: int,
) -> list[tuple]:
    """Draft rows (never submitted) of learners who opened an assignment, some hours before its
    due date, while still active."""
    e, cohort, cms = plans.enrolments, plans.cohort, site.courses.cms
    deleted = {int(u) for u, t in zip(cohort.user, cohort.deleted_at, strict=True) if t}
    rows = []
    for k in np.flatnonzero(e.learner >= 0):
        learner, user, course = int(e.learner[k]), int(e.user[k]), int(e.course[k])
        if cohort.never[learner] or user in deleted:
            continue
        for cm in site.courses.assigns[course]:
            cm = int(cm)
            if (user, cm) in submitted or rng.random() >= DRAFT_SHARE:
                continue
            created = int(cms.due[cm]) - int(rng.integers(2, 72)) * 3600
            if tl.day_of(created) >= cohort.end_day[learner] or created < _opens(site, cm):
                continue
            submitted.add((user, cm))
            rows.append((first_id + len(rows), int(cms.instance[cm]), user, created, created))
    return [(*row, "draft") for row in rows]


def quiz_tables(site: Site, plans: Plans) -> list[TableRows]:
    cms = site.courses.cms
    quiz_rows = [
        (
            int(cms.instance[cm]),
            int(cms.course[cm]),
            cms.name[cm],
            "",
            1,
            _opens(site, cm),
            int(cms.due[cm]),
            3600,
            "autosubmit",
            "deferredfeedback",
            2,
            1,
            QUIZ_GRADEMAX,
            QUIZ_GRADEMAX,
            int(cms.added[cm]),
            int(cms.added[cm]),
            "",
            "",
            "-",
        )
        for cm in _cms_of(site, "quiz")
    ]
    a = plans.attempts
    number: dict[tuple[int, int], int] = {}
    attempt_rows = []
    for i in np.argsort(a.attempt_id, kind="stable"):
        key = (int(a.cm[i]), int(a.user[i]))
        number[key] = number.get(key, 0) + 1
        attempt_rows.append(
            (
                int(a.attempt_id[i]),
                int(cms.instance[a.cm[i]]),
                int(a.user[i]),
                number[key],
                int(a.attempt_id[i]),
                "1,0",
                "finished",
                int(a.start[i]),
                int(a.submit[i]),
                int(a.submit[i]),
                int(a.score[i]),
            )
        )
    return [
        (
            "quiz",
            (
                "id",
                "course",
                "name",
                "intro",
                "introformat",
                "timeopen",
                "timeclose",
                "timelimit",
                "overduehandling",
                "preferredbehaviour",
                "attempts",
                "grademethod",
                "sumgrades",
                "grade",
                "timecreated",
                "timemodified",
                "password",
                "subnet",
                "browsersecurity",
            ),
            iter(quiz_rows),
        ),
        (
            "quiz_attempts",
            (
                "id",
                "quiz",
                "userid",
                "attempt",
                "uniqueid",
                "layout",
                "state",
                "timestart",
                "timefinish",
                "timemodified",
                "sumgrades",
            ),
            iter(attempt_rows),
        ),
    ]


def criteria_table(courses: Iterable[int]) -> TableRows:
    """One criterion per course with criteria: marked complete by its editing teacher."""
    rows = [
        (index + 1, course, CRITERIA_TYPE_ROLE, EDITING_TEACHER_ROLE)
        for index, course in enumerate(courses)
    ]
    return "course_completion_criteria", ("id", "course", "criteriatype", "role"), iter(rows)


def course_completions_table(
    plans: Plans, rng: np.random.Generator, courses: Iterable[int]
) -> TableRows:
    """One row per learner of a course with criteria (Moodle's cron adds them on enrolment);
    completed when the teacher marked the learner, in the course's last week. Deleting a user
    deletes their rows, as it deletes their activity completions."""
    e, cohort = plans.enrolments, plans.cohort
    deleted = {int(u) for u, t in zip(cohort.user, cohort.deleted_at, strict=True) if t}
    chosen = set(courses)
    taking_part: dict[tuple[int, int], bool] = {}
    enrolled: dict[tuple[int, int], int] = {}
    for k in np.flatnonzero(e.learner >= 0):
        learner, user, course = int(e.learner[k]), int(e.user[k]), int(e.course[k])
        if course not in chosen or user in deleted:
            continue
        key = (user, course)
        enrolled[key] = min(enrolled.get(key, int(e.timestart[k])), int(e.timestart[k]))
        suspended_early = e.status[k] == 1 and tl.day_of(e.suspended_at[k]) < tl.TERM_DAYS
        taking_part[key] = taking_part.get(key, False) or bool(
            not cohort.never[learner]
            and cohort.start_day[learner] < LAST_QUARTER_START_DAY < cohort.end_day[learner]
            and not suspended_early
        )
    rows = []
    for (user, course), timeenrolled in sorted(enrolled.items()):
        missed = rng.random() < MISSED_MARK_SHARE
        mark_day = tl.TERM_DAYS - 1 - int(rng.integers(0, 7))
        marked = tl.day_start(mark_day) + int(rng.integers(9 * 3600, 17 * 3600))
        completed = marked if taking_part[(user, course)] and not missed else None
        rows.append((len(rows) + 1, user, course, timeenrolled, 0, completed, 0))
    return (
        "course_completions",
        ("id", "userid", "course", "timeenrolled", "timestarted", "timecompleted", "reaggregate"),
        iter(rows),
    )
