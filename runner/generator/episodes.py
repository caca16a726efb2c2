"""Planned episodes as log rows: set-up, enrolments, quiz attempts, submissions, marking,
feedback, forum posts, cron mail, log-in-as, suspensions, deletions and sign-ups.

Each episode has an anchor time (the row other tables must agree with, e.g. the grade);
its other rows sit at offsets before and after it, never more than PRE_ANCHOR seconds
before, so a window that takes episodes by anchor can place all their rows in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import people as ppl
from . import timeline as tl
from .assessments import QuizAttempts, Submissions
from .catalogue import K
from .courses import N_COURSES
from .forums import Discussions, Notifications, Posts
from .gradebook import Gradebook
from .logblock import CLI, WEB, WS, LogBlock, concat, make_block
from .plan import Cohort, Enrolments, Staff
from .site import Site

PRE_ANCHOR = 3 * 3600  # no episode row is earlier than its anchor minus this
STEP = 1024  # order = serial * STEP + step


@dataclass
class Plans:
    cohort: Cohort
    enrolments: Enrolments
    staff: Staff
    attempts: QuizAttempts
    submissions: Submissions
    gradebook: Gradebook
    discussions: Discussions
    posts: Posts
    notifications: Notifications
    role_assignment_offset: int  # ra id = offset + user enrolment id


class EpisodeExpander:
    def __init__(self, site: Site, plans: Plans, rng: np.random.Generator):
        self.site, self.p = site, plans
        cohort = plans.cohort
        self.app_user = np.zeros(site.people.count + 1, dtype=bool)
        self.app_user[cohort.user[cohort.app_only]] = True
        self._plan_loginas(rng)
        self._plan_marking_sessions()
        self._plan_tokens(rng)
        self._plan_signup_failures(rng)

    # ----- planning of the small episode kinds
    def _plan_loginas(self, rng):
        c = self.p.cohort
        targets = c.loginas_targets
        days = (c.start_day[targets] + c.end_day[targets]) // 2
        days = days + np.where(days % 7 >= 5, 2, 0)
        self.loginas_time = tl.day_start(days) + rng.integers(
            9 * 3600, 16 * 3600, size=len(targets)
        )
        self.loginas_user = c.user[targets]
        first_course = {}
        for user, course in zip(self.p.enrolments.user, self.p.enrolments.course, strict=True):
            first_course.setdefault(int(user), int(course))
        self.loginas_course = np.array(
            [first_course[int(u)] for u in self.loginas_user], dtype=np.int64
        )

    def _plan_marking_sessions(self):
        s = self.p.submissions
        rows = np.flatnonzero(s.graded)
        day = tl.day_of(s.grade_time[rows])
        order = rows[np.lexsort((s.grade_time[rows], day, s.cm[rows], s.grader[rows]))]
        keys = np.stack([s.grader[order], s.cm[order], tl.day_of(s.grade_time[order])], axis=1)
        new = (
            np.concatenate([[True], np.any(keys[1:] != keys[:-1], axis=1)]) if len(order) else order
        )
        self.marking_first = order[new.astype(bool)] if len(order) else order

    def _plan_tokens(self, rng):
        c = self.p.cohort
        app = np.flatnonzero(c.app_only)
        self.token_user = c.user[app]
        self.token_time = tl.day_start(c.start_day[app]) + rng.integers(
            8 * 3600, 20 * 3600, size=len(app)
        )

    def _plan_signup_failures(self, rng):
        people = self.site.people
        signups = people.ids_of(ppl.SIGNUP)
        tries = rng.integers(0, 4, size=len(signups))
        self.failure_user = np.repeat(signups, tries)
        self.failure_time = np.repeat(people.timecreated[signups], tries) + rng.integers(
            600, 3 * 86400, size=int(tries.sum())
        )

    # ----- expansion
    def rows(
        self, rng: np.random.Generator, lo: float, hi: float, serial: int
    ) -> tuple[LogBlock, int]:
        """All episode rows whose anchor lies in [lo, hi)."""
        blocks: list[LogBlock] = []
        p, site = self.p, self.site

        def select(anchor):
            return np.flatnonzero((anchor >= lo) & (anchor < hi))

        producers = (
            (self._setup_anchor(), self._setup),
            (np.where(p.enrolments.by_cli, -1, p.enrolments.timecreated), self._late_enrolments),
            (p.attempts.submit, self._quiz_attempts),
            (p.submissions.submit, self._submissions),
            (p.submissions.grade_time[self.marking_first], self._marking_headers),
            (np.where(p.submissions.graded, p.submissions.grade_time, -1), self._marking),
            (np.where(p.submissions.graded, p.submissions.grade_time + 1800, -1), self._grade_mail),
            (
                np.where(p.submissions.feedback_time > 0, p.submissions.feedback_time, -1),
                self._feedback,
            ),
            (p.posts.created, self._posts),
            (p.notifications.time, self._forum_mail),
            (self.loginas_time, self._loginas),
            (
                np.where(p.enrolments.suspended_at > 0, p.enrolments.suspended_at, -1),
                self._suspensions,
            ),
            (np.where(p.cohort.deleted_at > 0, p.cohort.deleted_at, -1), self._deletions),
            (
                site.people.timecreated * (site.people.role == ppl.SIGNUP)
                - (site.people.role != ppl.SIGNUP),
                self._signups,
            ),
            (self.failure_time, self._signup_failures),
            (self.token_time, self._tokens),
        )
        for anchor, producer in producers:
            index = select(np.asarray(anchor))
            if len(index):
                block = producer(rng, index, serial)
                serial += len(index) + 1
                blocks.append(block)
        return concat(blocks), serial

    def _setup_anchor(self) -> np.ndarray:
        return np.array([tl.SETUP_START])

    def _wrap(self, rng, user, first_time, last_time, serials, staff=False) -> list[LogBlock]:
        """Login before and sometimes logout after an episode, for web users."""
        n = len(user)
        web = ~self.app_user[user]
        login = web & (rng.random(n) < (0.8 if staff else 0.7))
        failed = login & (rng.random(n) < 0.03)
        logout = web & (rng.random(n) < 0.25)
        login_time = first_time - rng.integers(15, 120, size=n)
        out_time = last_time + rng.integers(20, 300, size=n)
        ipvar = rng.random(n) < 0.3
        return [
            make_block(
                int(failed.sum()),
                kind=K["login_failed"],
                time=login_time[failed] - 25,
                order=serials[failed] * STEP,
                user=user[failed],
                aux1=3,
                ipuser=user[failed],
                ipvar=ipvar[failed],
            ),
            make_block(
                int(login.sum()),
                kind=K["login"],
                time=login_time[login],
                order=serials[login] * STEP + 1,
                user=user[login],
                ipuser=user[login],
                ipvar=ipvar[login],
            ),
            make_block(
                int(logout.sum()),
                kind=K["logout"],
                time=out_time[logout],
                order=serials[logout] * STEP + 1000,
                user=user[logout],
                ipuser=user[logout],
                ipvar=ipvar[logout],
                aux1=rng.integers(0, 4096, size=int(logout.sum())),
            ),
            make_block(
                int(logout.sum()),
                kind=K["course"],
                time=out_time[logout],
                order=serials[logout] * STEP + 1001,
                user=0,
                course=1,
                ipuser=user[logout],
                ipvar=ipvar[logout],
            ),
        ]

    @staticmethod
    def _origin(app: np.ndarray) -> np.ndarray:
        return np.where(app, WS, WEB)

    def _setup(self, rng, index, serial) -> LogBlock:
        """The admin's set-up script (CLI): configuration, accounts, courses, enrolments."""
        site, p = self.site, self.p
        t0 = tl.SETUP_START
        blocks = [
            make_block(
                1,
                kind=K["config_log"],
                time=t0 - 3600,
                order=serial * STEP,
                user=0,
                obj=1,
                origin=CLI,
            )
        ]
        people = site.people
        created = np.flatnonzero((people.role >= ppl.TEACHER) & (people.role <= ppl.LEARNER))
        blocks.append(
            make_block(
                len(created),
                kind=K["user_created"],
                time=people.timecreated[created],
                order=serial * STEP + 2,
                user=ppl.ADMIN_ID,
                related=created,
                origin=CLI,
            )
        )
        courses = np.arange(2, N_COURSES + 2)
        course_time = site.courses.timecreated[courses]
        blocks.append(
            make_block(
                len(courses),
                kind=K["course_created"],
                time=course_time,
                order=serial * STEP + 3,
                user=ppl.ADMIN_ID,
                course=courses,
                origin=CLI,
            )
        )
        for position, enrol in enumerate((0, 1)):
            blocks.append(
                make_block(
                    len(courses),
                    kind=K["enrol_instance"],
                    time=course_time,
                    order=serial * STEP + 4 + position,
                    user=ppl.ADMIN_ID,
                    course=courses,
                    obj=3 * (courses - 2) + 1 + 2 * enrol,
                    aux1=enrol,
                    origin=CLI,
                )
            )
        cms = site.courses.cms
        cm_ids = np.arange(1, cms.count + 1)
        blocks.append(
            make_block(
                len(cm_ids),
                kind=K["cm_created"],
                time=cms.added[cm_ids],
                order=serial * STEP + 8,
                user=ppl.ADMIN_ID,
                cm=cm_ids,
                origin=CLI,
            )
        )
        e = p.enrolments
        rows = np.flatnonzero(e.by_cli)
        blocks += self._enrolment_rows(
            rows, e.timecreated[rows], serial * STEP + 10, ppl.ADMIN_ID, CLI
        )
        return concat(blocks)

    def _enrolment_rows(self, rows, time, order, actor, origin) -> list[LogBlock]:
        e = self.p.enrolments
        ids = rows + 1
        common = dict(
            time=time,
            user=actor,
            course=e.course[rows],
            related=e.user[rows],
            origin=origin,
            ipuser=actor if origin != CLI else 0,
        )
        return [
            make_block(len(rows), kind=K["enrolled"], order=order, obj=ids, aux1=0, **common),
            make_block(
                len(rows),
                kind=K["role_assigned"],
                order=order + 1,
                obj=e.roleid[rows],
                aux1=self.p.role_assignment_offset + ids,
                **common,
            ),
        ]

    def _late_enrolments(self, rng, index, serial) -> LogBlock:
        e = self.p.enrolments
        serials = serial + np.arange(len(index))
        t = e.timecreated[index]
        admin = ppl.ADMIN_ID
        blocks = [
            make_block(
                len(index),
                kind=K["course"],
                time=t - 60,
                order=serials * STEP + 2,
                user=admin,
                course=e.course[index],
                ipuser=admin,
            ),
            make_block(
                len(index),
                kind=K["user_list"],
                time=t - 30,
                order=serials * STEP + 3,
                user=admin,
                course=e.course[index],
                ipuser=admin,
            ),
            *self._enrolment_rows(index, t, serials * STEP + 4, admin, WEB),
        ]
        return concat(blocks)

    def _quiz_attempts(self, rng, index, serial) -> LogBlock:
        a, g = self.p.attempts, self.p.gradebook
        n = len(index)
        serials = serial + np.arange(n)
        user, course, cm = a.user[index], a.course[index], a.cm[index]
        start, submit = a.start[index], a.submit[index]
        app = self.app_user[user]
        grade = g.quiz_rows[index]
        o = serials * STEP
        middle = start + (submit - start) // 2
        last_page = submit - rng.integers(5, 40, size=n)
        base = dict(user=user, course=course, cm=cm, origin=self._origin(app), ipuser=user)
        attempt = dict(obj=a.attempt_id[index], **base)
        items = self.p.gradebook.items
        total_item = np.array([items.course_item[int(c)] for c in course], dtype=np.int64)
        item = np.array([items.item_of_cm[int(c)] for c in cm], dtype=np.int64)
        changed = grade[:, 4] >= 0
        blocks = [
            make_block(
                n, kind=K["course"], time=start - rng.integers(40, 200, size=n), order=o + 2, **base
            ),
            make_block(
                n,
                kind=K["view_quiz"],
                time=start - rng.integers(5, 30, size=n),
                order=o + 3,
                **base,
            ),
            make_block(n, kind=K["quiz_started"], time=start, order=o + 4, **attempt),
            make_block(
                n, kind=K["quiz_attempt_viewed"], time=start, order=o + 5, aux1=0, **attempt
            ),
            make_block(n, kind=K["quiz_updated"], time=middle, order=o + 6, aux1=0, **attempt),
            make_block(
                n, kind=K["quiz_attempt_viewed"], time=middle + 1, order=o + 7, aux1=1, **attempt
            ),
            make_block(n, kind=K["quiz_updated"], time=last_page, order=o + 8, aux1=1, **attempt),
            make_block(n, kind=K["quiz_summary"], time=last_page + 1, order=o + 9, **attempt),
            make_block(n, kind=K["quiz_submitted"], time=submit, order=o + 10, **attempt),
            # A quiz grade is written by the learner; the course total is regraded by "nobody" (-1).
            make_block(
                n,
                kind=K["graded"],
                time=submit,
                order=o + 11,
                obj=grade[:, 0],
                related=user,
                aux1=item,
                aux2=grade[:, 2],
                **_without(base, "cm"),
            ),
            make_block(
                n,
                kind=K["graded"],
                time=submit,
                order=o + 12,
                obj=grade[:, 1],
                related=user,
                aux1=total_item,
                aux2=grade[:, 3],
                **{**_without(base, "cm"), "user": -1},
            ),
            make_block(
                n,
                kind=K["notification"],
                time=submit,
                order=o + 13,
                related=user,
                **{**_without(base, "cm"), "user": 0},
            ),
            make_block(
                int(changed.sum()),
                kind=K["completion"],
                time=submit[changed],
                order=o[changed] + 14,
                related=user[changed],
                aux1=grade[changed, 4],
                **{k: v[changed] for k, v in base.items()},
            ),
            make_block(
                n,
                kind=K["quiz_reviewed"],
                time=submit + rng.integers(2, 20, size=n),
                order=o + 15,
                **attempt,
            ),
        ]
        blocks += self._app_calls(app, user, start - 1, o, course)
        blocks += self._wrap(rng, user, start - 200, submit + 20, serials)
        return concat(blocks)

    def _app_calls(self, app, user, time, order, course) -> list[LogBlock]:
        """The mobile app's web-service call in front of an episode."""
        return [
            make_block(
                int(app.sum()),
                kind=K["ws_call"],
                time=time[app],
                order=order[app] + 1,
                user=user[app],
                course=course[app],
                aux1=8,
                origin=WS,
                ipuser=user[app],
            )
        ]

    def _submissions(self, rng, index, serial) -> LogBlock:
        s = self.p.submissions
        n = len(index)
        serials = serial + np.arange(n)
        o = serials * STEP
        user, course, cm, t = s.user[index], s.course[index], s.cm[index], s.submit[index]
        app = self.app_user[user]
        duration = rng.integers(300, 3600, size=n)
        opened = t - duration
        upload = t - rng.integers(20, 60, size=n)
        base = dict(user=user, course=course, cm=cm, origin=self._origin(app), ipuser=user)
        sub = dict(obj=s.submission_id[index], **base)
        blocks = [
            make_block(
                n, kind=K["course"], time=opened - rng.integers(20, 90, size=n), order=o + 2, **base
            ),
            make_block(n, kind=K["view_assign"], time=opened, order=o + 3, **base),
            make_block(n, kind=K["assign_status"], time=opened, order=o + 4, **base),
            make_block(
                n,
                kind=K["assign_form"],
                time=opened + rng.integers(5, 30, size=n),
                order=o + 5,
                **base,
            ),
            make_block(n, kind=K["assign_uploaded"], time=upload, order=o + 6, aux2=index, **sub),
            make_block(
                n,
                kind=K["assign_text_created"],
                time=upload,
                order=o + 7,
                aux1=s.submission_id[index],
                aux2=s.words[index],
                **sub,
            ),
            make_block(n, kind=K["assign_status"], time=upload + 1, order=o + 8, **base),
            make_block(n, kind=K["assign_submitted"], time=t, order=o + 9, **sub),
            make_block(
                n,
                kind=K["notification"],
                time=t,
                order=o + 10,
                related=user,
                **{**_without(base, "cm"), "user": 0},
            ),
            make_block(n, kind=K["assign_status"], time=t + 1, order=o + 11, **base),
        ]
        blocks += self._app_calls(app, user, opened - 1, o, course)
        blocks += self._wrap(rng, user, opened - 100, t + 5, serials)
        return concat(blocks)

    def _marking_headers(self, rng, index, serial) -> LogBlock:
        s = self.p.submissions
        rows = self.marking_first[index]
        n = len(rows)
        serials = serial + np.arange(n)
        o = serials * STEP
        t = s.grade_time[rows]
        teacher = s.grader[rows]
        base = dict(user=teacher, course=s.course[rows], cm=s.cm[rows], ipuser=teacher)
        blocks = [
            make_block(n, kind=K["course"], time=t - 110, order=o + 2, **base),
            make_block(n, kind=K["view_assign"], time=t - 100, order=o + 3, **base),
            make_block(n, kind=K["assign_grading_table"], time=t - 90, order=o + 4, **base),
        ]
        blocks += self._wrap(rng, teacher, t - 120, t + 1800, serials, staff=True)
        return concat(blocks)

    def _marking(self, rng, index, serial) -> LogBlock:
        s, g = self.p.submissions, self.p.gradebook
        n = len(index)
        o = (serial + np.arange(n)) * STEP
        t, teacher, learner = s.grade_time[index], s.grader[index], s.user[index]
        course, cm = s.course[index], s.cm[index]
        grade = g.assign_rows[index]
        items = g.items
        total_item = np.array([items.course_item[int(c)] for c in course], dtype=np.int64)
        item = np.array([items.item_of_cm[int(c)] for c in cm], dtype=np.int64)
        base = dict(user=teacher, course=course, cm=cm, ipuser=teacher)
        blocks = [
            make_block(
                n,
                kind=K["assign_grading_form"],
                time=t - rng.integers(20, 50, size=n),
                order=o + 2,
                related=learner,
                **base,
            ),
            make_block(
                n,
                kind=K["graded"],
                time=t,
                order=o + 3,
                obj=grade[:, 0],
                related=learner,
                aux1=item,
                aux2=grade[:, 2],
                **base,
            ),
            make_block(
                n,
                kind=K["graded"],
                time=t,
                order=o + 4,
                obj=grade[:, 1],
                related=learner,
                aux1=total_item,
                aux2=grade[:, 3],
                **{**base, "user": -1},
            ),
            make_block(
                n,
                kind=K["assign_graded"],
                time=t,
                order=o + 5,
                obj=s.assign_grade_id[index],
                related=learner,
                **base,
            ),
            make_block(
                n,
                kind=K["completion"],
                time=t,
                order=o + 6,
                related=learner,
                aux1=grade[:, 4],
                **base,
            ),
        ]
        return concat(blocks)

    def _grade_mail(self, rng, index, serial) -> LogBlock:
        s = self.p.submissions
        n = len(index)
        return make_block(
            n,
            kind=K["notification"],
            time=s.grade_time[index] + 1800,
            order=(serial + np.arange(n)) * STEP,
            user=s.grader[index],
            related=s.user[index],
            course=s.course[index],
            origin=CLI,
        )

    def _feedback(self, rng, index, serial) -> LogBlock:
        s = self.p.submissions
        n = len(index)
        serials = serial + np.arange(n)
        o = serials * STEP
        user, t = s.user[index], s.feedback_time[index]
        app = self.app_user[user]
        base = dict(
            user=user, course=s.course[index], cm=s.cm[index], origin=self._origin(app), ipuser=user
        )
        blocks = [
            make_block(
                n, kind=K["course"], time=t - rng.integers(20, 80, size=n), order=o + 2, **base
            ),
            make_block(n, kind=K["view_assign"], time=t, order=o + 3, **base),
            make_block(n, kind=K["assign_status"], time=t, order=o + 4, **base),
            make_block(
                n,
                kind=K["assign_feedback"],
                time=t,
                order=o + 5,
                obj=s.assign_grade_id[index],
                **base,
            ),
            make_block(
                n,
                kind=K["grades_user"],
                time=t + rng.integers(20, 120, size=n),
                order=o + 6,
                **base,
            ),
        ]
        blocks += self._app_calls(app, user, t - 100, o, s.course[index])
        blocks += self._wrap(rng, user, t - 100, t + 130, serials)
        return concat(blocks)

    def _posts(self, rng, index, serial) -> LogBlock:
        p = self.p.posts
        n = len(index)
        serials = serial + np.arange(n)
        o = serials * STEP
        user, t, first = p.user[index], p.created[index], p.first[index]
        reply = ~first
        app = self.app_user[user]
        base = dict(
            user=user, course=p.course[index], cm=p.cm[index], origin=self._origin(app), ipuser=user
        )
        discussion = p.discussion[index]
        post = dict(obj=p.id[index], aux1=discussion, aux2=p.message[index])

        def part(mask, **cols):
            return {k: v[mask] if isinstance(v, np.ndarray) else v for k, v in cols.items()}

        subscribes = p.subscribes[index]
        blocks = [
            make_block(
                n, kind=K["course"], time=t - rng.integers(400, 900, size=n), order=o + 2, **base
            ),
            make_block(
                n,
                kind=K["view_forum"],
                time=t - rng.integers(200, 390, size=n),
                order=o + 3,
                **base,
            ),
            make_block(
                int(reply.sum()),
                kind=K["discussion_viewed"],
                time=t[reply] - rng.integers(20, 190, size=int(reply.sum())),
                order=o[reply] + 4,
                **part(reply, obj=discussion, **base),
            ),
            make_block(
                int(first.sum()),
                kind=K["discussion_created"],
                time=t[first],
                order=o[first] + 5,
                **part(first, obj=discussion, **base),
            ),
            make_block(
                int(reply.sum()),
                kind=K["post_created"],
                time=t[reply],
                order=o[reply] + 5,
                **part(reply, **post, **base),
            ),
            make_block(
                int(first.sum()),
                kind=K["discussion_uploaded"],
                time=t[first],
                order=o[first] + 6,
                **part(first, **post, **base),
            ),
            make_block(
                int(reply.sum()),
                kind=K["post_uploaded"],
                time=t[reply],
                order=o[reply] + 6,
                **part(reply, **post, **base),
            ),
            make_block(
                int(subscribes.sum()),
                kind=K["discussion_subscribed"],
                time=t[subscribes],
                order=o[subscribes] + 7,
                **part(subscribes, obj=p.subscription_id[index], aux1=discussion, **base),
            ),
            make_block(
                n,
                kind=K["discussion_viewed"],
                time=t + rng.integers(1, 5, size=n),
                order=o + 8,
                obj=discussion,
                **base,
            ),
        ]
        blocks += self._app_calls(app, user, t - 901, o, p.course[index])
        blocks += self._wrap(rng, user, t - 900, t + 10, serials)
        return concat(blocks)

    def _forum_mail(self, rng, index, serial) -> LogBlock:
        """Cron mails each subscriber: many rows in the same second, origin cli, no ip."""
        m = self.p.notifications
        counts = m.offsets[index + 1] - m.offsets[index]
        batch = np.repeat(np.arange(len(index)), counts)
        position = np.arange(len(batch)) - np.repeat(np.cumsum(counts) - counts, counts)
        recipients = np.concatenate([m.recipients[m.offsets[i] : m.offsets[i + 1]] for i in index])
        return make_block(
            len(batch),
            kind=K["notification"],
            time=m.time[index][batch] + position // 25,
            order=(serial + batch) * STEP + position,
            user=m.author[index][batch],
            related=recipients,
            course=m.course[index][batch],
            origin=CLI,
        )

    def _loginas(self, rng, index, serial) -> LogBlock:
        n = len(index)
        o = (serial + np.arange(n)) * STEP
        t, learner, course = (
            self.loginas_time[index],
            self.loginas_user[index],
            self.loginas_course[index],
        )
        admin = ppl.ADMIN_ID
        general_forum = np.array(
            [self.site.courses.forums[int(c)][1] for c in course], dtype=np.int64
        )
        as_admin = dict(user=admin, course=course, ipuser=admin)
        as_learner = dict(user=learner, course=course, ipuser=admin, realuser=admin)
        blocks = [
            make_block(n, kind=K["course"], time=t - 60, order=o + 2, **as_admin),
            make_block(n, kind=K["profile"], time=t - 30, order=o + 3, related=learner, **as_admin),
            make_block(
                n,
                kind=K["loginas"],
                time=t,
                order=o + 4,
                related=learner,
                realuser=admin,
                user=admin,
                ipuser=admin,
            ),
            make_block(n, kind=K["course"], time=t + 2, order=o + 5, **as_learner),
            make_block(
                n, kind=K["view_forum"], time=t + 40, order=o + 6, cm=general_forum, **as_learner
            ),
            make_block(n, kind=K["grades_user"], time=t + 95, order=o + 7, **as_learner),
            make_block(
                n,
                kind=K["logout"],
                time=t + 150,
                order=o + 8,
                user=learner,
                ipuser=admin,
                aux1=rng.integers(0, 4096, size=n),
            ),
            make_block(
                n, kind=K["course"], time=t + 150, order=o + 9, user=0, course=1, ipuser=admin
            ),
        ]
        return concat(blocks)

    def _suspensions(self, rng, index, serial) -> LogBlock:
        e = self.p.enrolments
        n = len(index)
        o = (serial + np.arange(n)) * STEP
        t, teacher = e.suspended_at[index], e.suspended_by[index]
        base = dict(user=teacher, course=e.course[index], ipuser=teacher)
        return concat(
            [
                make_block(n, kind=K["user_list"], time=t - 40, order=o + 2, **base),
                make_block(
                    n,
                    kind=K["enrol_updated"],
                    time=t,
                    order=o + 3,
                    obj=index + 1,
                    related=e.user[index],
                    aux1=0,
                    **base,
                ),
            ]
        )

    def _deletions(self, rng, index, serial) -> LogBlock:
        c = self.p.cohort
        n = len(index)
        o = (serial + np.arange(n)) * STEP
        user, t = c.user[index], c.deleted_at[index]
        admin = ppl.ADMIN_ID
        return make_block(
            n, kind=K["user_deleted"], time=t, order=o, user=admin, related=user, ipuser=admin
        )

    def _signups(self, rng, index, serial) -> LogBlock:
        """Self-registration: the visitor (userid 0) creates an account they never confirm."""
        n = len(index)
        return make_block(
            n,
            kind=K["user_created"],
            time=self.site.people.timecreated[index],
            order=(serial + np.arange(n)) * STEP,
            user=0,
            related=index,
            ipuser=index,
        )

    def _signup_failures(self, rng, index, serial) -> LogBlock:
        n = len(index)
        user = self.failure_user[index]
        return make_block(
            n,
            kind=K["login_failed"],
            time=self.failure_time[index],
            order=(serial + np.arange(n)) * STEP,
            user=user,
            aux1=3,
            ipuser=user,
        )

    def _tokens(self, rng, index, serial) -> LogBlock:
        """The app's first sign-in: /login/token.php writes these two rows (origin web)."""
        n = len(index)
        user, t = self.token_user[index], self.token_time[index]
        o = (serial + np.arange(n)) * STEP
        return concat(
            [
                make_block(
                    n,
                    kind=K["token_created"],
                    time=t,
                    order=o,
                    user=user,
                    obj=index + 1,
                    ipuser=user,
                ),
                make_block(
                    n,
                    kind=K["token_sent"],
                    time=t,
                    order=o + 1,
                    user=user,
                    obj=index + 1,
                    ipuser=user,
                ),
            ]
        )


def _without(columns: dict, name: str) -> dict:
    return {k: v for k, v in columns.items() if k != name}
