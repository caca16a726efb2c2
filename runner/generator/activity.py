"""Browsing sessions, vectorised: everyone's logins, page views and clicks for a span of days.

A session is an optional failed login, a login (unless the browser session was still open,
or the user is on the mobile app), a run of actions in one course, and sometimes a logout
that lands on the front page as a visitor (userid 0). Actions expand into one or more log
rows (opening a forum then reading discussions; an assignment page logs two events in
the same request). Everything is drawn for all sessions of the span at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import people as ppl
from . import timeline as tl
from .catalogue import VIEW_KIND_BY_MODULE, K
from .logblock import WEB, WS, LogBlock, make_block
from .site import Site

# Action types.
(
    COURSE,
    MATERIAL,
    FORUM_READ,
    QUIZ_LOOK,
    ASSIGN_LOOK,
    GRADES,
    DASHBOARD,
    PARTICIPANTS,
    PROFILE,
    QUIZ_REPORT,
    GRADING_TABLE,
    GRADER,
    LOG_REPORT,
) = range(13)
N_TYPES = 13
# Which module list an action picks from: 0 material, 1 forum, 2 quiz, 3 assign, -1 none.
TYPE_CATEGORY = np.array([-1, 0, 1, 2, 3, -1, -1, -1, -1, 2, 3, -1, -1])
# Rows each action writes (FORUM_READ adds the discussions read).
TYPE_ROWS = np.array([1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 2, 1, 1])
_M = -1  # resolved from the module's type
TYPE_KINDS = np.array(
    [
        [K["course"], K["course"]],
        [_M, _M],
        [K["view_forum"], K["discussion_viewed"]],
        [K["view_quiz"], K["view_quiz"]],
        [K["view_assign"], K["assign_status"]],
        [K["grades_user"], K["grades_user"]],
        [K["dashboard"], K["dashboard"]],
        [K["user_list"], K["user_list"]],
        [K["profile"], K["profile"]],
        [K["view_quiz"], K["quiz_report"]],
        [K["view_assign"], K["assign_grading_table"]],
        [K["grades_grader"], K["grades_grader"]],
        [K["log_report"], K["log_report"]],
    ]
)
# Web-service function each action calls from the app (index into logwriter.WS_FUNCTIONS).
TYPE_WS_FUNCTION = np.array([3, 7, 5, 8, 9, 10, 1, 2, 0, 8, 9, 10, 0])
# Action mix per role (weights over the types above).
MIX = {
    ppl.LEARNER: [0.22, 0.30, 0.16, 0.05, 0.07, 0.06, 0.10, 0.02, 0.02, 0, 0, 0, 0],
    ppl.TEACHER: [0.20, 0.08, 0.18, 0.02, 0.04, 0.02, 0.05, 0.10, 0.05, 0.08, 0.10, 0.08, 0],
    ppl.ADMIN: [0.25, 0.04, 0.05, 0, 0, 0, 0.10, 0.20, 0.15, 0, 0, 0.05, 0.16],
    ppl.MANAGER: [0.30, 0, 0.05, 0, 0, 0, 0.20, 0.20, 0, 0, 0, 0.15, 0.10],
}
MEAN_ACTIONS = {ppl.LEARNER: 4.5, ppl.TEACHER: 9.0, ppl.ADMIN: 8.0, ppl.MANAGER: 4.0}
LEARNER_SESSIONS_PER_DAY = 0.2  # at engagement 1 on an ordinary weekday
TEACHER_SESSIONS_PER_DAY = 0.3  # for a course of 90 learners; grows with the class
MANAGER_SESSIONS_PER_DAY = 0.15
CONTINUATION_SHARE = 0.08  # browser session still open: no login row
FAILED_LOGIN_SHARE = 0.03
LOGOUT_SHARE = 0.22
LONG_GAP_SHARE = 0.03  # back more than four hours later in the same session
LOOKAHEAD_DAYS = 3  # material of the next topic is already visible


@dataclass
class Actors:
    """Everyone who browses: learners first (index = learner index), then staff."""

    user: np.ndarray
    role: np.ndarray
    rate: np.ndarray  # sessions per ordinary day
    start_day: np.ndarray
    end_day: np.ndarray
    courses: np.ndarray  # (n, 3) course ids padded with 0
    n_courses: np.ndarray
    app_only: np.ndarray
    no_first_login: np.ndarray
    staff_hours: np.ndarray  # bool: office-hours rhythm


class CmPicker:
    """Course modules per course and category, sorted by the day they open."""

    def __init__(self, site: Site):
        courses = site.courses
        lists = [courses.material, courses.forums, courses.quizzes, courses.assigns]
        n_courses = len(courses.shortname)
        self.flat, self.offset, self.open_count = [], [], []
        for per_course in lists:
            flat = np.concatenate([per_course[c] for c in range(n_courses)]).astype(np.int64)
            sizes = np.array([len(per_course[c]) for c in range(n_courses)])
            offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            days = np.arange(tl.TERM_DAYS + 1)
            counts = np.zeros((n_courses, len(days)), dtype=np.int64)
            for c in range(n_courses):
                opens = site.courses.cms.open_day[per_course[c]]
                counts[c] = np.searchsorted(np.sort(opens), days + LOOKAHEAD_DAYS, side="right")
            self.flat.append(flat)
            self.offset.append(offset)
            self.open_count.append(counts)

    def pick(self, rng, category: int, course: np.ndarray, day: np.ndarray) -> np.ndarray:
        """A module per action, favouring the most recently opened; 0 where none is open."""
        available = self.open_count[category][course, np.clip(day, 0, tl.TERM_DAYS)]
        back = np.floor(available * rng.random(len(course)) ** 2.5).astype(np.int64)
        index = self.offset[category][course] + np.maximum(available - 1 - back, 0)
        flat = self.flat[category]
        return np.where(available > 0, flat[np.minimum(index, len(flat) - 1)], 0)


def build_actors(site, cohort, enrolments, staff, learner_courses, n_learner_courses) -> Actors:
    people = site.people
    n = cohort.count
    learners_per_course = np.bincount(
        enrolments.course[enrolments.learner >= 0], minlength=len(site.courses.shortname)
    )
    teachers = people.ids_of(ppl.TEACHER)
    teacher_courses = np.zeros((len(teachers), 3), dtype=np.int64)
    teacher_counts = np.zeros(len(teachers), dtype=np.int64)
    position = {int(u): i for i, u in enumerate(teachers)}
    for course, members in enumerate(staff.teachers_of):
        for user, _ in members:
            i = position[user]
            if teacher_counts[i] < 3:
                teacher_courses[i, teacher_counts[i]] = course
                teacher_counts[i] += 1
    class_size = np.array(
        [
            learners_per_course[teacher_courses[i, : teacher_counts[i]]].sum()
            for i in range(len(teachers))
        ]
    )
    teacher_rate = TEACHER_SESSIONS_PER_DAY * np.maximum(class_size / 90, 0.05)
    managers = staff.managers
    learner_rate = np.where(cohort.never, 0.0, LEARNER_SESSIONS_PER_DAY * cohort.engagement)
    # The admin is on the site more than anyone: more than the keenest learner.
    admin_rate = 1.6 * LEARNER_SESSIONS_PER_DAY * cohort.engagement.max()
    n_staff = len(teachers) + len(managers) + 1
    staff_courses = np.zeros((n_staff, 3), dtype=np.int64)
    staff_courses[: len(teachers)] = teacher_courses
    staff_counts = np.concatenate([teacher_counts, np.zeros(len(managers) + 1, dtype=np.int64)])
    return Actors(
        user=np.concatenate([cohort.user, teachers, managers, [ppl.ADMIN_ID]]),
        role=np.concatenate(
            [
                np.full(n, ppl.LEARNER),
                np.full(len(teachers), ppl.TEACHER),
                np.full(len(managers), ppl.MANAGER),
                [ppl.ADMIN],
            ]
        ),
        rate=np.concatenate(
            [
                learner_rate,
                teacher_rate,
                np.full(len(managers), MANAGER_SESSIONS_PER_DAY),
                [admin_rate],
            ]
        ),
        start_day=np.concatenate([cohort.start_day, np.zeros(n_staff, dtype=np.int64)]),
        end_day=np.concatenate([cohort.end_day, np.full(n_staff, tl.TERM_DAYS)]),
        courses=np.concatenate([learner_courses, staff_courses]),
        n_courses=np.concatenate([n_learner_courses, staff_counts]),
        app_only=np.concatenate([cohort.app_only, np.zeros(n_staff, dtype=bool)]),
        no_first_login=np.concatenate([cohort.no_first_login, np.zeros(n_staff, dtype=bool)]),
        staff_hours=np.concatenate([np.zeros(n, dtype=bool), np.ones(n_staff, dtype=bool)]),
    )


class BrowsingSimulator:
    def __init__(self, site: Site, actors: Actors, staff, discussions, course_weights: np.ndarray):
        self.site, self.actors = site, actors
        self.picker = CmPicker(site)
        self.seen = np.zeros(len(actors.user), dtype=bool)
        self.day_weights = {False: tl.learner_day_weights(), True: tl.staff_day_weights()}
        roles = sorted(MIX)
        self.role_row = np.zeros(max(roles) + 1, dtype=np.int64)
        for i, role in enumerate(roles):
            self.role_row[role] = i
        weights = np.array([MIX[r] for r in roles], dtype=float)
        self.cumulative_mix = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        self.mean_actions = np.array([MEAN_ACTIONS[r] for r in roles])
        cms = site.courses.cms
        self.view_kind = np.array([VIEW_KIND_BY_MODULE.get(m, K["course"]) for m in cms.modname])
        self.first_teacher = np.array(
            [members[0][0] if members else ppl.ADMIN_ID for members in staff.teachers_of]
        )
        self.course_weights = course_weights / course_weights.sum()
        order = np.lexsort((discussions.created, discussions.cm))
        self.discussion_key = (discussions.cm[order] << 32) | discussions.created[order]
        self.discussion_id = discussions.id[order]
        self.discussion_start = np.searchsorted(self.discussion_key, np.arange(cms.count + 2) << 32)

    def sessions(
        self, rng: np.random.Generator, day0: int, day1: int, serial0: int
    ) -> tuple[LogBlock, int]:
        a = self.actors
        days = np.arange(day0, day1)
        active = (a.start_day[:, None] <= days[None, :]) & (a.end_day[:, None] > days[None, :])
        weights = np.where(
            a.staff_hours[:, None], self.day_weights[True][days], self.day_weights[False][days]
        )
        counts = rng.poisson(a.rate[:, None] * weights * active)
        actor, day_index = np.nonzero(counts)
        repeats = counts[actor, day_index]
        actor, day = np.repeat(actor, repeats), np.repeat(days[day_index], repeats)
        n = len(actor)
        if n == 0:
            return make_block(0), serial0
        staff = a.staff_hours[actor]
        second = np.where(
            staff,
            tl.sample_seconds_of_day(rng, n, tl.STAFF_HOUR_WEIGHTS),
            tl.sample_seconds_of_day(rng, n, tl.HOUR_WEIGHTS),
        )
        start = tl.day_start(day) + second
        order = np.lexsort((actor, start))
        actor, start = actor[order], start[order]
        role = a.role[actor]
        app = a.app_only[actor]
        # The very first session of some learners has no login row (the session predates the log).
        first_index = np.unique(actor, return_index=True)[1]
        first = np.zeros(n, dtype=bool)
        first[first_index] = ~self.seen[actor[first_index]]
        self.seen[actor] = True
        login = ~app & (rng.random(n) >= CONTINUATION_SHARE) & ~(first & a.no_first_login[actor])
        failed = login & (rng.random(n) < FAILED_LOGIN_SHARE)
        logout = ~app & (rng.random(n) < LOGOUT_SHARE)
        n_actions = np.minimum(rng.geometric(1 / self.mean_actions[self.role_row[role]]), 60)
        course = self._session_course(rng, actor)
        block = self._expand(
            rng, actor, start, role, app, login, failed, logout, n_actions, course, serial0
        )
        return block, serial0 + n

    def _session_course(self, rng, actor):
        a = self.actors
        count = a.n_courses[actor]
        pick = np.floor(rng.random(len(actor)) * np.maximum(count, 1)).astype(np.int64)
        course = a.courses[actor, pick]
        anywhere = count == 0
        course[anywhere] = 2 + rng.choice(
            len(self.course_weights), size=anywhere.sum(), p=self.course_weights
        )
        return course

    def _expand(
        self, rng, actor, start, role, app, login, failed, logout, n_actions, course, serial0
    ):
        a = self.actors
        n = len(actor)
        # --- actions
        session_of_action = np.repeat(np.arange(n), n_actions)
        n_act = len(session_of_action)
        mix = self.cumulative_mix[self.role_row[role[session_of_action]]]
        kind_type = (rng.random(n_act)[:, None] >= mix).sum(axis=1).clip(0, N_TYPES - 1)
        first_action = np.concatenate([[0], np.cumsum(n_actions)[:-1]])
        # After logging in Moodle shows the dashboard.
        to_dashboard = login & ~app & (rng.random(n) < 0.6)
        kind_type[first_action[to_dashboard]] = DASHBOARD
        action_course = course[session_of_action]
        action_day = tl.day_of(start[session_of_action])
        cm = np.zeros(n_act, dtype=np.int64)
        for category in range(4):
            rows = np.flatnonzero(TYPE_CATEGORY[kind_type] == category)
            cm[rows] = self.picker.pick(rng, category, action_course[rows], action_day[rows])
        kind_type[(TYPE_CATEGORY[kind_type] >= 0) & (cm == 0)] = COURSE
        extra = np.where(kind_type == FORUM_READ, np.minimum(rng.geometric(0.45, n_act) - 1, 8), 0)
        is_ws = app[session_of_action]
        rows_per_action = TYPE_ROWS[kind_type] + extra + is_ws
        # --- rows: [failed] [login] actions... [logout, front page]
        prefix = failed.astype(np.int64) + login
        suffix = 2 * logout.astype(np.int64)
        action_rows_per_session = np.bincount(
            session_of_action, weights=rows_per_action, minlength=n
        ).astype(np.int64)
        per_session = prefix + action_rows_per_session + suffix
        total = int(per_session.sum())
        session = np.repeat(np.arange(n), per_session)
        session_first_row = np.concatenate([[0], np.cumsum(per_session)[:-1]])
        position = np.arange(total) - session_first_row[session]
        kind = np.zeros(total, dtype=np.int64)
        gap = np.zeros(total, dtype=np.int64)
        cm_row = np.zeros(total, dtype=np.int64)
        user = a.user[actor][session]
        aux1 = np.zeros(total, dtype=np.int64)
        related = np.full(total, np.iinfo(np.int64).min, dtype=np.int64)
        # prefix rows
        is_failed = failed[session] & (position == 0)
        is_login = login[session] & (position == failed[session].astype(np.int64))
        kind[is_failed] = K["login_failed"]
        aux1[is_failed] = 3
        kind[is_login] = K["login"]
        gap[is_login & failed[session]] = rng.integers(
            8, 60, size=int((is_login & failed[session]).sum())
        )
        # action rows
        action_mask = (position >= prefix[session]) & (
            position < prefix[session] + action_rows_per_session[session]
        )
        action_rows = np.flatnonzero(action_mask)
        action_of_row = np.repeat(np.arange(n_act), rows_per_action)
        step = (
            np.arange(len(action_rows))
            - np.concatenate([[0], np.cumsum(rows_per_action)[:-1]])[action_of_row]
        )
        ws_first = is_ws[action_of_row] & (step == 0)
        step = step - is_ws[action_of_row]
        t = kind_type[action_of_row]
        row_kind = TYPE_KINDS[t, np.minimum(np.maximum(step, 0), 1)]
        row_cm = cm[action_of_row]
        row_kind = np.where(row_kind == _M, self.view_kind[row_cm], row_kind)
        grades_overview = (t == GRADES) & (rng.random(len(t)) < 0.3)
        row_kind[grades_overview] = K["grades_overview"]
        row_kind[ws_first] = K["ws_call"]
        kind[action_rows] = row_kind
        cm_row[action_rows] = row_cm
        aux1[action_rows[ws_first]] = TYPE_WS_FUNCTION[t[ws_first]]
        # gaps: between actions a reading time, within an action the click or the same request
        between = np.clip(rng.lognormal(np.log(45), 1.0, size=len(action_rows)), 2, 1500).astype(
            np.int64
        )
        reading = rng.random(len(action_rows)) < 0.07
        between[reading] = rng.integers(300, 1800, size=int(reading.sum()))
        starts_action = (step == 0) & ~is_ws[action_of_row] | ws_first
        within = np.where(
            t == FORUM_READ, np.clip(rng.lognormal(np.log(35), 0.8, len(t)), 3, 900), 0
        )
        within = np.where(
            (t == QUIZ_REPORT) | (t == GRADING_TABLE), rng.integers(3, 30, len(t)), within
        )
        within = np.where(
            step == 0, 0, within
        )  # the event after the app's call is the same request
        row_gap = np.where(starts_action, between, within).astype(np.int64)
        gap[action_rows] = row_gap
        # after a login the dashboard follows within a second or two
        after_login = action_rows[
            (position[action_rows] == prefix[session[action_rows]]) & login[session[action_rows]]
        ]
        gap[after_login] = rng.integers(0, 3, size=len(after_login))
        # the very first row of a session starts at the session start
        gap[session_first_row] = 0
        # some sessions pause for hours and go on without logging in again
        long_gap = (rng.random(n) < LONG_GAP_SHARE) & (n_actions >= 2)
        paused = (
            first_action[long_gap]
            + 1
            + np.floor(rng.random(long_gap.sum()) * (n_actions[long_gap] - 1)).astype(np.int64)
        )
        action_row_start = np.concatenate([[0], np.cumsum(rows_per_action)[:-1]])
        gap[action_rows[action_row_start[paused]]] = rng.integers(
            4 * 3600, 9 * 3600, size=len(paused)
        )
        # suffix rows
        end = session_first_row + per_session
        logout_rows = (end - 2)[logout]
        front_rows = (end - 1)[logout]
        kind[logout_rows] = K["logout"]
        gap[logout_rows] = np.clip(
            rng.lognormal(np.log(40), 1.0, size=len(logout_rows)), 2, 900
        ).astype(np.int64)
        aux1[logout_rows] = rng.integers(0, 4096, size=len(logout_rows))
        kind[front_rows] = K["course"]
        user[front_rows] = 0
        # times
        cumulative = np.cumsum(gap)
        time = start[session] + cumulative - cumulative[session_first_row][session]
        row_course = course[session]
        row_course[front_rows] = 1
        profile = kind == K["profile"]
        related[profile] = self.first_teacher[row_course[profile]]
        own = profile & (related == user)
        related[own] = a.user[
            rng.integers(0, max(1, int((a.role == ppl.LEARNER).sum())), size=int(own.sum()))
        ]
        block = make_block(
            total,
            kind=kind,
            time=time,
            order=(serial0 + session) * 1024 + position,
            user=user,
            course=row_course,
            cm=cm_row,
            related=related,
            aux1=aux1,
            origin=np.where(app[session], WS, WEB),
            ipuser=a.user[actor][session],
            ipvar=(rng.random(n) < 0.3)[session],
        )
        return self._resolve_discussions(rng, block)

    def _resolve_discussions(self, rng, block: LogBlock) -> LogBlock:
        """Point discussion views at a discussion that exists by then; drop them where none does."""
        rows = np.flatnonzero(block.kind == K["discussion_viewed"])
        cm, time = block.cm[rows], block.time[rows]
        available = (
            np.searchsorted(self.discussion_key, (cm << 32) | time) - self.discussion_start[cm]
        )
        back = np.floor(np.maximum(available, 0) * rng.random(len(rows)) ** 2).astype(np.int64)
        index = self.discussion_start[cm] + available - 1 - back
        ok = available > 0
        block.obj[rows[ok]] = self.discussion_id[index[ok]]
        keep = np.ones(len(block), dtype=bool)
        keep[rows[~ok]] = False
        return block.take(np.flatnonzero(keep))
