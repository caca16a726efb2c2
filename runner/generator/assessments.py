"""Quiz attempts, assignment submissions, teachers' grading and learners reading feedback.

Deadlines pull the work into the days just before them; grading happens in teachers'
marking sessions a few days after the deadline. Times are exact here, because the
gradebook and the log must agree on them to the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline as tl
from .courses import ASSIGN_GRADEMAX, QUIZ_GRADEMAX
from .plan import Cohort, Enrolments, Staff
from .site import Site


@dataclass
class QuizAttempts:
    learner: np.ndarray
    user: np.ndarray
    course: np.ndarray
    cm: np.ndarray
    start: np.ndarray
    submit: np.ndarray  # anchor: attempt_submitted
    score: np.ndarray  # 0..QUIZ_GRADEMAX
    attempt_id: np.ndarray


@dataclass
class Submissions:
    learner: np.ndarray
    user: np.ndarray
    course: np.ndarray
    cm: np.ndarray
    submit: np.ndarray  # anchor: assessable_submitted
    submission_id: np.ndarray
    words: np.ndarray
    graded: np.ndarray  # bool
    grader: np.ndarray
    grade_time: np.ndarray  # exact second of the teacher's user_graded rows
    grade: np.ndarray
    assign_grade_id: np.ndarray  # mdl_assign_grades.id (submission_graded / feedback_viewed)
    feedback_time: np.ndarray  # 0 when the learner never reads the feedback


def _learner_times(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    return tl.day_start(days) + tl.sample_seconds_of_day(rng, len(days), tl.HOUR_WEIGHTS)


def _pairs(enrolments: Enrolments, cohort: Cohort, per_course: list[np.ndarray]):
    """(enrolment row, cm) for every learner enrolment and every module in its course."""
    rows = np.flatnonzero(enrolments.learner >= 0)
    rows = rows[~cohort.never[enrolments.learner[rows]]]
    counts = np.array([len(per_course[c]) for c in enrolments.course[rows]])
    row_of_pair = np.repeat(rows, counts)
    cms = np.concatenate([per_course[c] for c in enrolments.course[rows]]) if len(rows) else rows
    return row_of_pair, cms.astype(np.int64)


def _deadline_days(rng, site, cohort, learner, cms, mean_days_before):
    due = site.courses.cms.due[cms]
    due_day = tl.day_of(due)
    open_day = site.courses.cms.open_day[cms]
    day = due_day - np.floor(rng.exponential(mean_days_before, size=len(cms))).astype(np.int64)
    day = np.maximum(day, np.maximum(open_day, cohort.start_day[learner]))
    return day, due, due_day


def plan_quiz_attempts(
    rng: np.random.Generator, site: Site, cohort: Cohort, enrolments: Enrolments
):
    rows, cms = _pairs(enrolments, cohort, site.courses.quizzes)
    learner = enrolments.learner[rows]
    engagement = cohort.engagement[learner]
    takes = rng.random(len(cms)) < np.clip(0.15 + 0.22 * np.sqrt(engagement), 0, 0.9)
    day, due, due_day = _deadline_days(rng, site, cohort, learner, cms, 2.5)
    takes &= (day <= due_day) & (day < cohort.end_day[learner])
    rows, cms, learner, day, due = rows[takes], cms[takes], learner[takes], day[takes], due[takes]
    submit = np.minimum(_learner_times(rng, day), due - rng.integers(300, 7200, size=len(day)))
    # Some take a second attempt to improve, a few hours to days later, still before it closes.
    second = rng.random(len(submit)) < 0.3
    again = submit + rng.integers(3600, 3 * 86400, size=len(submit))
    second &= again < due - 600
    index = np.concatenate([np.arange(len(submit)), np.flatnonzero(second)])
    submit = np.concatenate([submit, again[second]])
    attempt_number = np.concatenate(
        [np.zeros(len(day), dtype=np.int64), np.ones(second.sum(), np.int64)]
    )
    duration = np.clip(rng.lognormal(np.log(12 * 60), 0.5, size=len(submit)), 180, 55 * 60).astype(
        np.int64
    )
    learner = learner[index]
    p_correct = 1 / (1 + np.exp(-(0.3 + 0.9 * cohort.ability[learner] + 0.4 * attempt_number)))
    score = rng.binomial(QUIZ_GRADEMAX, p_correct)
    start = submit - duration
    order = np.lexsort((index, start))
    attempts = QuizAttempts(
        learner=learner[order],
        user=cohort.user[learner[order]],
        course=enrolments.course[rows[index[order]]],
        cm=cms[index[order]],
        start=start[order],
        submit=submit[order],
        score=score[order],
        attempt_id=np.arange(1, len(order) + 1),
    )
    return attempts


def plan_submissions(
    rng: np.random.Generator, site: Site, cohort: Cohort, enrolments: Enrolments, staff: Staff
) -> Submissions:
    rows, cms = _pairs(enrolments, cohort, site.courses.assigns)
    learner = enrolments.learner[rows]
    engagement = cohort.engagement[learner]
    submits = rng.random(len(cms)) < np.clip(0.12 + 0.22 * np.sqrt(engagement), 0, 0.85)
    day, due, due_day = _deadline_days(rng, site, cohort, learner, cms, 1.8)
    late = rng.random(len(cms)) < 0.07
    day = np.where(late, due_day + rng.integers(1, 5, size=len(cms)), day)
    submits &= (day < cohort.end_day[learner]) & (day < tl.TERM_DAYS)
    rows, cms, learner, day, due, late = (a[submits] for a in (rows, cms, learner, day, due, late))
    submit = _learner_times(rng, day)
    submit = np.where(
        late, submit, np.minimum(submit, due - rng.integers(120, 5400, size=len(day)))
    )
    order = np.lexsort((learner, submit))
    rows, cms, learner, submit = rows[order], cms[order], learner[order], submit[order]
    n = len(submit)
    course = enrolments.course[rows]
    grader = np.array(
        [_pick_grader(rng, staff.teachers_of[int(c)]) for c in course], dtype=np.int64
    ).reshape(n)
    grade_day = np.maximum(tl.day_of(site.courses.cms.due[cms]), tl.day_of(submit)) + 1
    grade_day += np.floor(rng.exponential(3.5, size=n)).astype(np.int64)
    graded = (grade_day < tl.TERM_DAYS) & (rng.random(n) > 0.08)
    # Weekends are rarely used for marking: move to the Monday.
    weekday = grade_day % 7
    grade_day = np.where(weekday >= 5, grade_day + 7 - weekday, grade_day)
    graded &= grade_day < tl.TERM_DAYS
    grade_time = _marking_times(rng, grader, cms, grade_day, graded)
    grade = np.clip(np.round(rng.normal(62 + 14 * cohort.ability[learner], 10)), 5, ASSIGN_GRADEMAX)
    assign_grade_id = np.zeros(n, dtype=np.int64)
    graded_rows = np.flatnonzero(graded)
    assign_grade_id[graded_rows[np.argsort(grade_time[graded_rows], kind="stable")]] = np.arange(
        1, len(graded_rows) + 1
    )
    feedback_day = tl.day_of(grade_time) + np.floor(rng.exponential(2.0, size=n)).astype(np.int64)
    reads = graded & (rng.random(n) < 0.65) & (feedback_day < cohort.end_day[learner])
    reads &= feedback_day < tl.TERM_DAYS
    feedback_time = np.where(reads, _learner_times(rng, np.where(reads, feedback_day, 0)), 0)
    too_early = reads & (feedback_time <= grade_time + 600)
    feedback_time[too_early] = grade_time[too_early] + rng.integers(
        3600, 5 * 3600, size=too_early.sum()
    )
    return Submissions(
        learner=learner,
        user=cohort.user[learner],
        course=course,
        cm=cms,
        submit=submit,
        submission_id=np.arange(1, n + 1),
        words=rng.integers(120, 1500, size=n),
        graded=graded,
        grader=grader,
        grade_time=np.where(graded, grade_time, 0),
        grade=grade.astype(np.int64),
        assign_grade_id=assign_grade_id,
        feedback_time=feedback_time,
    )


def _pick_grader(rng: np.random.Generator, teachers: list[tuple[int, int]]) -> int:
    return teachers[0][0] if rng.random() < 0.7 or len(teachers) == 1 else teachers[1][0]


def _marking_times(rng, grader, cms, grade_day, graded) -> np.ndarray:
    """Submissions of one assignment marked by one teacher on one day form one marking
    session: a start time in office hours, then one submission every few minutes."""
    n = len(grader)
    times = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(graded)
    if not len(rows):
        return times
    order = rows[np.lexsort((rows, grade_day[rows], cms[rows], grader[rows]))]
    keys = np.stack([grader[order], cms[order], grade_day[order]], axis=1)
    new_group = np.concatenate([[True], np.any(keys[1:] != keys[:-1], axis=1)])
    group = np.cumsum(new_group) - 1
    starts = tl.day_start(grade_day[order][new_group]) + tl.sample_seconds_of_day(
        rng, int(new_group.sum()), tl.STAFF_HOUR_WEIGHTS
    )
    gaps = rng.integers(60, 420, size=len(order))
    cumulative = np.cumsum(gaps)
    first_of_group = np.flatnonzero(new_group)
    within = cumulative - cumulative[first_of_group][group] + gaps[first_of_group][group]
    times[order] = starts[group] + 120 + within
    return times
