"""Who the learners are and where they learn: engagement, ability, when they start and stop,
their enrolments, and the staff of each course. Everything later is drawn from this plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import people as ppl
from . import timeline as tl
from .courses import AUDITOR_ROLE, EDITING_TEACHER_ROLE, N_COURSES, STUDENT_ROLE, TEACHER_ROLE
from .site import Site

DROPOUT_SHARE = 0.27
NEVER_LOGIN_SHARE = 0.02
LATE_START_SHARE = 0.12
NO_FIRST_LOGIN_SHARE = 0.05
SUSPENDED_SHARE_OF_DROPOUTS = 0.15


@dataclass
class Cohort:
    """Per learner (index 0..n-1): the learner's user id and behaviour parameters."""

    user: np.ndarray
    engagement: np.ndarray  # heavy-tailed multiplier of activity (lognormal)
    ability: np.ndarray  # standard normal, drives grades
    start_day: np.ndarray  # first term day they may be active
    end_day: np.ndarray  # first term day they are no longer active (drop-outs stop early)
    never: np.ndarray  # enrolled but never log in
    app_only: np.ndarray  # use only the mobile app (web services, no login rows)
    no_first_login: np.ndarray  # their first activity comes from a session without a login row
    deleted_at: np.ndarray  # epoch the admin deleted the account, 0 if never
    loginas_targets: np.ndarray  # learner indexes the admin logs in as

    @property
    def count(self) -> int:
        return len(self.user)


@dataclass
class Enrolments:
    """One row per user enrolment, ids in creation order (staff first, then learners)."""

    user: np.ndarray
    learner: np.ndarray  # learner index, -1 for staff
    course: np.ndarray
    roleid: np.ndarray
    timestart: np.ndarray
    timecreated: np.ndarray
    by_cli: np.ndarray  # created by the admin's set-up script (origin cli) rather than the web
    status: np.ndarray  # 0 active, 1 suspended
    suspended_at: np.ndarray  # epoch of suspension, 0 if none
    suspended_by: np.ndarray

    @property
    def ids(self) -> np.ndarray:
        return np.arange(1, len(self.user) + 1)


@dataclass
class Staff:
    teachers_of: list[list[tuple[int, int]]]  # course id -> [(user, roleid)], editing teacher first
    managers: np.ndarray


def build_cohort(rng: np.random.Generator, site: Site) -> Cohort:
    users = site.people.ids_of(ppl.LEARNER)
    n = len(users)
    engagement = np.clip(rng.lognormal(0.0, 0.95, size=n), 0.08, 7.0)
    ability = 0.5 * (np.log(engagement) / 0.95) + 0.85 * rng.standard_normal(n)
    start_day = rng.integers(0, 5, size=n)
    late = rng.random(n) < LATE_START_SHARE
    start_day[late] = rng.integers(7, 45, size=late.sum())
    end_day = np.full(n, tl.TERM_DAYS, dtype=np.int64)
    # Drop-outs are likelier among the less engaged; they stop well before the end.
    dropout_odds = DROPOUT_SHARE * 1.6 / (1 + engagement**0.5)
    dropout_odds *= DROPOUT_SHARE / dropout_odds.mean()
    dropout = rng.random(n) < dropout_odds
    end_day[dropout] = (
        start_day[dropout] + 14 + rng.integers(0, int(tl.TERM_DAYS * 0.6), size=dropout.sum())
    )
    order = rng.permutation(n)
    n_never = max(1, round(NEVER_LOGIN_SHARE * n))
    n_app = max(2, round(0.002 * n))
    never = np.zeros(n, dtype=bool)
    never[order[:n_never]] = True
    app_only = np.zeros(n, dtype=bool)
    app_only[order[n_never : n_never + n_app]] = True
    end_day[app_only] = tl.TERM_DAYS  # the app users stay to the end
    no_first_login = (rng.random(n) < NO_FIRST_LOGIN_SHARE) & ~app_only & ~never
    # A few drop-outs have their accounts deleted a few weeks after they stop.
    deleted_at = np.zeros(n, dtype=np.int64)
    candidates = np.flatnonzero(dropout & ~never & ~app_only & (end_day < tl.TERM_DAYS - 50))
    n_deleted = min(len(candidates), max(1, round(0.008 * n)))
    chosen = rng.choice(candidates, size=n_deleted, replace=False) if n_deleted else candidates[:0]
    deleted_at[chosen] = (
        tl.day_start(end_day[chosen] + rng.integers(14, 45, size=len(chosen))) + 10 * 3600
    )
    active = np.flatnonzero(~never & ~app_only & (end_day - start_day > 30))
    n_loginas = min(len(active), max(1, round(3 * n / ppl.LEARNERS_AT_SCALE1)))
    return Cohort(
        user=users,
        engagement=engagement,
        ability=ability,
        start_day=start_day,
        end_day=end_day,
        never=never,
        app_only=app_only,
        no_first_login=no_first_login,
        deleted_at=deleted_at,
        loginas_targets=np.sort(rng.choice(active, size=n_loginas, replace=False)),
    )


def build_staff(site: Site) -> Staff:
    teachers = site.people.ids_of(ppl.TEACHER)
    teachers_of: list[list[tuple[int, int]]] = [[] for _ in range(N_COURSES + 2)]
    for i, user in enumerate(teachers):
        course = 2 + i % N_COURSES
        editing = i < N_COURSES
        teachers_of[course].append((int(user), EDITING_TEACHER_ROLE if editing else TEACHER_ROLE))
    # Five editing teachers also co-teach a neighbouring course.
    for i in range(5):
        course = 2 + (i * 3 + 1) % N_COURSES
        teachers_of[course].append((int(teachers[(i * 3) % N_COURSES]), EDITING_TEACHER_ROLE))
    return Staff(teachers_of, site.people.ids_of(ppl.MANAGER))


def build_enrolments(
    rng: np.random.Generator, site: Site, cohort: Cohort, staff: Staff
) -> Enrolments:
    n = cohort.count
    # Course popularity is uneven: the first courses of the programme are the biggest.
    popularity = 1.0 / np.arange(1, N_COURSES + 1) ** 0.5
    popularity /= popularity.sum()
    n_courses = rng.choice([1, 2, 3], size=n, p=[0.72, 0.23, 0.05])
    rows = []  # (timecreated, user, learner, course, role, timestart, by_cli)
    setup_enrol_time = tl.SETUP_START + 2 * 86400
    for course in range(2, N_COURSES + 2):
        for user, role in staff.teachers_of[course]:
            rows.append((setup_enrol_time - 3600, user, -1, course, role, tl.TERM_START, True))
    for learner in range(n):
        courses = 2 + rng.choice(N_COURSES, size=n_courses[learner], replace=False, p=popularity)
        late = cohort.start_day[learner] >= 7
        start = tl.day_start(int(cohort.start_day[learner]))
        created = (
            start - 2 * 3600 + int(rng.integers(0, 3600))
            if late
            else setup_enrol_time + learner * 2
        )
        role = AUDITOR_ROLE if rng.random() < 0.005 else STUDENT_ROLE
        for course in sorted(courses.tolist()):
            rows.append(
                (
                    created,
                    int(cohort.user[learner]),
                    learner,
                    course,
                    role,
                    start if late else tl.TERM_START,
                    not late,
                )
            )
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    columns = list(zip(*rows, strict=True))
    enrolments = Enrolments(
        user=np.array(columns[1], dtype=np.int64),
        learner=np.array(columns[2], dtype=np.int64),
        course=np.array(columns[3], dtype=np.int64),
        roleid=np.array(columns[4], dtype=np.int64),
        timestart=np.array(columns[5], dtype=np.int64),
        timecreated=np.array(columns[0], dtype=np.int64),
        by_cli=np.array(columns[6], dtype=bool),
        status=np.zeros(len(rows), dtype=np.int64),
        suspended_at=np.zeros(len(rows), dtype=np.int64),
        suspended_by=np.zeros(len(rows), dtype=np.int64),
    )
    _suspend_some_dropouts(rng, enrolments, cohort, staff)
    return enrolments


def _suspend_some_dropouts(
    rng: np.random.Generator, enrolments: Enrolments, cohort: Cohort, staff: Staff
):
    """Teachers suspend some inactive learners a few weeks after they stop coming."""
    learner = enrolments.learner
    is_learner = learner >= 0
    end = np.where(is_learner, cohort.end_day[np.maximum(learner, 0)], tl.TERM_DAYS)
    candidates = np.flatnonzero(is_learner & (end < tl.TERM_DAYS - 40))
    candidates = candidates[cohort.deleted_at[learner[candidates]] == 0]
    chosen = candidates[rng.random(len(candidates)) < SUSPENDED_SHARE_OF_DROPOUTS]
    for row in chosen:
        day = int(end[row]) + int(rng.integers(14, 35))
        enrolments.status[row] = 1
        enrolments.suspended_at[row] = tl.day_start(day) + int(rng.integers(9 * 3600, 16 * 3600))
        enrolments.suspended_by[row] = staff.teachers_of[int(enrolments.course[row])][0][0]


def learner_courses(enrolments: Enrolments, n_learners: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_learners x 3) course ids padded with 0, and how many each learner has."""
    table = np.zeros((n_learners, 3), dtype=np.int64)
    counts = np.zeros(n_learners, dtype=np.int64)
    for learner, course in zip(enrolments.learner, enrolments.course, strict=True):
        if learner >= 0:
            table[learner, counts[learner]] = course
            counts[learner] += 1
    return table, counts
