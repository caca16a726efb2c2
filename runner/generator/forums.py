"""Forum discussions and posts: teachers' announcements, learners' questions and replies,
and the notifications cron mails to subscribers half an hour after each post."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline as tl
from .logwriter import CONTENT
from .plan import Cohort, Enrolments, Staff
from .site import Site

ANNOUNCEMENTS_PER_COURSE = 3
LEARNER_DISCUSSIONS_AT_SCALE1 = 30
REPLIES_AT_SCALE1 = 55
MAX_EDIT_SECONDS = 1800  # forum cron mails a post once it can no longer be edited
SUBJECTS = (
    "Handling missing values",
    "Question about the project brief",
    "Overfitting help",
    "Study group this weekend?",
    "Deadline clarification",
    "Sharing my notebook",
    "Which metric should we use?",
    "Trouble installing the libraries",
)
ANNOUNCEMENT_SUBJECTS = (
    "Welcome to the course",
    "Quiz reminder",
    "Project feedback is out",
    "Live session moved to Thursday",
)


@dataclass
class Posts:
    """One entry per post, in id (= time) order."""

    id: np.ndarray
    discussion: np.ndarray
    parent: np.ndarray
    user: np.ndarray
    course: np.ndarray
    cm: np.ndarray
    created: np.ndarray
    first: np.ndarray  # bool: the post that opens the discussion
    subscribes: np.ndarray  # bool: first post of this user in the discussion
    subscription_id: np.ndarray
    subject: list[str]
    message: np.ndarray  # index into CONTENT


@dataclass
class Discussions:
    id: np.ndarray
    course: np.ndarray
    cm: np.ndarray
    user: np.ndarray
    name: list[str]
    firstpost: np.ndarray
    created: np.ndarray
    timemodified: np.ndarray
    usermodified: np.ndarray


@dataclass
class Notifications:
    """Cron batches: one per post, mailing every subscriber but the author."""

    time: np.ndarray
    author: np.ndarray
    course: np.ndarray
    offsets: np.ndarray  # recipients[offsets[i]:offsets[i+1]]
    recipients: np.ndarray


def plan_forums(
    rng: np.random.Generator,
    site: Site,
    cohort: Cohort,
    enrolments: Enrolments,
    staff: Staff,
    scale: float,
) -> tuple[Discussions, Posts, Notifications]:
    courses = site.courses
    drafts = []  # (time, discussion key, user, course, cm, subject)
    # Teachers' announcements in each course's news forum.
    for course in range(2, len(courses.shortname)):
        news = courses.forums[course][0]
        days = np.sort(rng.integers(0, tl.TERM_DAYS - 7, size=ANNOUNCEMENTS_PER_COURSE))
        days[0] = 0
        times = tl.day_start(days) + tl.sample_seconds_of_day(rng, len(days), tl.STAFF_HOUR_WEIGHTS)
        for k, time in enumerate(times):
            subject = ANNOUNCEMENT_SUBJECTS[k % len(ANNOUNCEMENT_SUBJECTS)]
            drafts.append(
                (
                    int(time),
                    len(drafts),
                    staff.teachers_of[course][0][0],
                    course,
                    int(news),
                    subject,
                )
            )
    # Learners open discussions in the general forum of a course they are active in.
    rows = np.flatnonzero(enrolments.learner >= 0)
    rows = rows[~cohort.never[enrolments.learner[rows]]]
    weights = cohort.engagement[enrolments.learner[rows]]
    n_discussions = max(2, round(LEARNER_DISCUSSIONS_AT_SCALE1 * scale))
    openers = rng.choice(rows, size=n_discussions, p=weights / weights.sum())
    for row in openers:
        learner = enrolments.learner[row]
        day = int(
            rng.integers(
                cohort.start_day[learner],
                max(cohort.start_day[learner] + 1, min(cohort.end_day[learner], tl.TERM_DAYS - 3)),
            )
        )
        time = int(tl.day_start(day) + tl.sample_seconds_of_day(rng, 1, tl.HOUR_WEIGHTS)[0])
        course = int(enrolments.course[row])
        drafts.append(
            (
                time,
                len(drafts),
                int(enrolments.user[row]),
                course,
                int(courses.forums[course][1]),
                SUBJECTS[int(rng.integers(len(SUBJECTS)))],
            )
        )
    discussion_drafts = sorted(drafts)
    # Replies: learners of the course who are active then, or its teacher.
    posts = [
        (t, key, user, course, cm, subject, True)
        for t, key, user, course, cm, subject in discussion_drafts
    ]
    learner_discussions = [d for d in discussion_drafts if d[4] == courses.forums[d[3]][1]]
    n_replies = max(3, round(REPLIES_AT_SCALE1 * scale))
    for _ in range(n_replies):
        time0, key, _, course, cm, subject = learner_discussions[
            int(rng.integers(len(learner_discussions)))
        ]
        time = time0 + 600 + int(rng.exponential(2 * 86400))
        if time >= tl.TERM_END:
            continue
        day = int(tl.day_of(np.int64(time)))
        in_course = rows[enrolments.course[rows] == course]
        learners = enrolments.learner[in_course]
        active = in_course[(cohort.start_day[learners] <= day) & (cohort.end_day[learners] > day)]
        if rng.random() < 0.25 or not len(active):
            user = staff.teachers_of[course][0][0]
        else:
            user = int(enrolments.user[active[int(rng.integers(len(active)))]])
        posts.append((time, key, user, course, cm, "Re: " + subject, False))
    posts.sort()
    discussion_id = {d[1]: i + 1 for i, d in enumerate(discussion_drafts)}
    n = len(posts)
    post_discussion = np.array([discussion_id[p[1]] for p in posts], dtype=np.int64)
    first = np.array([p[6] for p in posts], dtype=bool)
    parent = np.zeros(n, dtype=np.int64)
    subscribes = np.zeros(n, dtype=bool)
    seen_posts: dict[int, list[int]] = {}
    subscribed: set[tuple[int, int]] = set()
    for i, post in enumerate(posts):
        d = post_discussion[i]
        earlier = seen_posts.setdefault(int(d), [])
        if not first[i]:
            parent[i] = (
                earlier[0] if rng.random() < 0.6 else earlier[int(rng.integers(len(earlier)))]
            )
        earlier.append(i + 1)
        if (int(d), post[2]) not in subscribed:
            subscribed.add((int(d), post[2]))
            subscribes[i] = True
    subscription_id = np.where(subscribes, np.cumsum(subscribes), 0)
    post_ids = np.arange(1, n + 1)
    users = np.array([p[2] for p in posts], dtype=np.int64)
    created = np.array([p[0] for p in posts], dtype=np.int64)
    last_post = {int(d): i for i, d in enumerate(post_discussion)}
    discussions = Discussions(
        id=np.arange(1, len(discussion_drafts) + 1),
        course=np.array([d[3] for d in discussion_drafts], dtype=np.int64),
        cm=np.array([d[4] for d in discussion_drafts], dtype=np.int64),
        user=np.array([d[2] for d in discussion_drafts], dtype=np.int64),
        name=[d[5] for d in discussion_drafts],
        firstpost=np.array(
            [
                post_ids[(post_discussion == k + 1) & first][0]
                for k in range(len(discussion_drafts))
            ],
            dtype=np.int64,
        ),
        created=np.array([d[0] for d in discussion_drafts], dtype=np.int64),
        timemodified=np.array(
            [created[last_post[k + 1]] for k in range(len(discussion_drafts))], np.int64
        ),
        usermodified=np.array(
            [users[last_post[k + 1]] for k in range(len(discussion_drafts))], np.int64
        ),
    )
    result_posts = Posts(
        id=post_ids,
        discussion=post_discussion,
        parent=parent,
        user=users,
        course=np.array([p[3] for p in posts], dtype=np.int64),
        cm=np.array([p[4] for p in posts], dtype=np.int64),
        created=created,
        first=first,
        subscribes=subscribes,
        subscription_id=subscription_id,
        subject=[p[5] for p in posts],
        message=rng.integers(0, len(CONTENT), size=n),
    )
    return discussions, result_posts, _notifications(rng, site, cohort, enrolments, result_posts)


def _notifications(rng, site, cohort, enrolments, posts: Posts) -> Notifications:
    news_forums = {int(site.courses.forums[c][0]) for c in range(2, len(site.courses.shortname))}
    learner_rows = np.flatnonzero(enrolments.learner >= 0)
    times, authors, courses, offsets, recipients = [], [], [], [0], []
    participants: dict[int, list[int]] = {}
    for i in range(len(posts.id)):
        author, course, time = int(posts.user[i]), int(posts.course[i]), int(posts.created[i])
        if int(posts.cm[i]) in news_forums:
            rows = learner_rows[enrolments.course[learner_rows] == course]
            learners = enrolments.learner[rows]
            deleted = cohort.deleted_at[learners]
            keep = ((deleted == 0) | (deleted > time)) & (enrolments.timecreated[rows] < time)
            targets = enrolments.user[rows[keep]].tolist()
        else:
            targets = [u for u in participants.get(int(posts.discussion[i]), []) if u != author]
        participants.setdefault(int(posts.discussion[i]), [])
        if author not in participants[int(posts.discussion[i])]:
            participants[int(posts.discussion[i])].append(author)
        if not targets:
            continue
        times.append(time + MAX_EDIT_SECONDS + int(rng.integers(30, 90)))
        authors.append(author)
        courses.append(course)
        recipients.extend(targets)
        offsets.append(len(recipients))
    return Notifications(
        time=np.array(times, dtype=np.int64),
        author=np.array(authors, dtype=np.int64),
        course=np.array(courses, dtype=np.int64),
        offsets=np.array(offsets, dtype=np.int64),
        recipients=np.array(recipients, dtype=np.int64),
    )
