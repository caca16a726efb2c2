"""Hostile rows outside the log (see anomalies.py): odd accounts, odd gradebook columns and
grades, forum posts whose discussion is gone. All are extra rows with ids after the clean
ones, so the clean rows stay exactly as they are.

- ``blank_name``: an account with an empty or blank first and last name (uploads, LDAP sync).
- ``non_ascii_name``: accounts named in other scripts, with emoji, combining marks, RTL text.
- ``deleted_rewritten_username``: deleted accounts as delete_user() leaves them: username
  ``<email>.<time>``, email the md5 of the old username, no context.
- ``zero_grade_max``: a manual gradebook column whose maximum is 0 (its range is empty).
- ``grade_above_max``: grades above their column's maximum (on a manual column of 10 points).
- ``null_grade``: grade rows with a raw grade but no final grade (lost, or never computed).
- ``orphan_post``: forum posts whose discussion no longer exists.

None of the new accounts holds a role, so the learners (and their tiers) stay the same.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import timeline as tl
from .courses import STUDENT_ROLE
from .episodes import Plans
from .logwriter import CONTENT
from .people import ADMIN_ID
from .site import SYSTEM_CONTEXT, Site
from .tables import TableRows

NON_ASCII_NAMES = (
    ("Zoë", "Ñúñez-Øberg"),
    ("王", "芳"),
    ("Ольга", "Иванова"),
    ("أحمد", "الحسن"),
    ("Ngũgĩ", "wa Thiong’o"),
    ("🙂 Sam", "O’Brien"),
    ("Nguyễn", "Thị Minh Khai"),
    ("Þórunn", "Ægisdóttir"),
)
BLANK_NAMES = (("", ""), (" ", " "), ("", "Otieno"))
OTHER_KINDS = (
    "blank_name",
    "non_ascii_name",
    "deleted_rewritten_username",
    "zero_grade_max",
    "grade_above_max",
    "null_grade",
    "orphan_post",
)
MANUAL_ITEM_MAX = 10
GONE_DISCUSSION_OFFSET = 100_000


@dataclass
class ExtraRows:
    tables: list[TableRows] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def build_extra_rows(rate: float, rng: np.random.Generator, site: Site, plans: Plans) -> ExtraRows:
    extra = ExtraRows()
    users, contexts = _accounts(rate, rng, site, extra.counts)
    items, grades = _gradebook(rate, rng, plans, extra.counts)
    posts = _orphan_posts(rate, rng, plans, extra.counts)
    extra.tables = [users, contexts, items, grades, posts]
    return extra


def _how_many(rate: float, clean_rows: int) -> int:
    """About ``rate`` x the clean rows, and at least one, so every kind shows at any scale."""
    return max(1, round(rate * clean_rows))


def _accounts(
    rate: float, rng: np.random.Generator, site: Site, counts: Counter[str]
) -> tuple[TableRows, TableRows]:
    people = site.people
    per_kind = _how_many(rate, people.count)
    next_user = people.count + 1
    next_context = max(row[0] for row in site.contexts.rows) + 1
    users, contexts = [], []
    created = tl.TERM_START + 86400
    for kind in ("blank_name", "non_ascii_name", "deleted_rewritten_username"):
        for k in range(per_kind):
            user = next_user
            next_user += 1
            counts[kind] += 1
            username = f"hostile.{user}"
            email = f"{username}@example.com"
            deleted = kind == "deleted_rewritten_username"
            if kind == "blank_name":
                first, last = BLANK_NAMES[k % len(BLANK_NAMES)]
            elif kind == "non_ascii_name":
                first, last = NON_ASCII_NAMES[k % len(NON_ASCII_NAMES)]
            else:
                first, last = "Former", f"Account {k + 1}"
                deleted_at = created + int(rng.integers(86400, 60 * 86400))
                # delete_user(): username becomes email.time, email the md5 of the old username.
                username, email = (
                    f"{email}.{deleted_at}",
                    hashlib.md5(username.encode()).hexdigest(),
                )
            users.append(
                (user, "manual", 1, int(deleted), 1, username, "!", first, last, email, created)
            )
            if not deleted:  # delete_user() deletes the account's context
                path = f"/{SYSTEM_CONTEXT}/{next_context}"
                contexts.append((next_context, 30, user, path, 2, 0))
                next_context += 1
    user_columns = (
        "id",
        "auth",
        "confirmed",
        "deleted",
        "mnethostid",
        "username",
        "password",
        "firstname",
        "lastname",
        "email",
        "timecreated",
    )
    context_columns = ("id", "contextlevel", "instanceid", "path", "depth", "locked")
    return ("user", user_columns, iter(users)), ("context", context_columns, iter(contexts))


def _course_learners(plans: Plans) -> dict[int, list[int]]:
    """Learners holding the student role in each course, deleted accounts left out."""
    deleted = {int(u) for u, t in zip(plans.cohort.user, plans.cohort.deleted_at, strict=True) if t}
    e = plans.enrolments
    learners: dict[int, list[int]] = {}
    for user, course, role in zip(e.user, e.course, e.roleid, strict=True):
        if int(role) == STUDENT_ROLE and int(user) not in deleted:
            learners.setdefault(int(course), []).append(int(user))
    return learners


def _gradebook(
    rate: float, rng: np.random.Generator, plans: Plans, counts: Counter[str]
) -> tuple[TableRows, TableRows]:
    """Manual columns in courses with learners: some with maximum 0, some of 10 points whose
    grades go above it or have no value."""
    book = plans.gradebook
    next_item = len(book.items.course) + 1
    next_grade = max(row["id"] for row in book.grades.values()) + 1
    learners = _course_learners(plans)
    courses = sorted(learners)
    per_kind = _how_many(rate, len(book.items.course))
    # At least two grades per column: one above the maximum and one with no value.
    grade_rows_wanted = max(2, _how_many(rate, len(book.grades)))
    items, grades = [], []
    when = tl.TERM_START + 30 * 86400
    for kind in ("zero_grade_max", "grade_above_max"):
        for _ in range(per_kind):
            course = courses[int(rng.integers(len(courses)))]
            grademax = 0 if kind == "zero_grade_max" else MANUAL_ITEM_MAX
            name = "Imported participation" if grademax == 0 else "Bonus task (imported)"
            # id, courseid, categoryid (the course's top category), itemname, itemtype,
            # itemmodule, iteminstance, itemnumber, gradetype (value), grademax, grademin,
            # gradepass, aggregationcoef2, sortorder, timecreated, timemodified
            items.append(
                (next_item, course, course - 1, name, "manual", None, None, None, 1,
                 grademax, 0, 0, 0, 1000 + next_item, when, when)
            )  # fmt: skip
            if grademax == 0:
                counts["zero_grade_max"] += 1
            graded = rng.permutation(learners[course])[:grade_rows_wanted]
            for k, user in enumerate(graded):
                raw = None
                if grademax == 0:
                    final = 0.0
                elif k % 2 == 0:
                    final = round(float(MANUAL_ITEM_MAX + rng.uniform(0.5, 5)), 5)
                    counts["grade_above_max"] += 1
                else:
                    raw, final = float(rng.integers(1, MANUAL_ITEM_MAX)), None
                    counts["null_grade"] += 1
                grades.append(
                    (next_grade, next_item, int(user), raw, grademax, ADMIN_ID, final,
                     when, when, "unknown")
                )  # fmt: skip
                next_grade += 1
            next_item += 1
    item_columns = (
        "id",
        "courseid",
        "categoryid",
        "itemname",
        "itemtype",
        "itemmodule",
        "iteminstance",
        "itemnumber",
        "gradetype",
        "grademax",
        "grademin",
        "gradepass",
        "aggregationcoef2",
        "sortorder",
        "timecreated",
        "timemodified",
    )
    grade_columns = (
        "id",
        "itemid",
        "userid",
        "rawgrade",
        "rawgrademax",
        "usermodified",
        "finalgrade",
        "timecreated",
        "timemodified",
        "aggregationstatus",
    )
    return ("grade_items", item_columns, iter(items)), ("grade_grades", grade_columns, iter(grades))


def _orphan_posts(
    rate: float, rng: np.random.Generator, plans: Plans, counts: Counter[str]
) -> TableRows:
    """First posts of discussions whose row is gone (a half-finished deletion)."""
    posts, discussions = plans.posts, plans.discussions
    next_post = int(posts.id.max()) + 1 if len(posts.id) else 1
    gone = (int(discussions.id.max()) if len(discussions.id) else 0) + GONE_DISCUSSION_OFFSET
    learners = sorted({u for users in _course_learners(plans).values() for u in users})
    rows = []
    for k in range(_how_many(rate, len(posts.id))):
        user = learners[int(rng.integers(len(learners)))]
        created = tl.TERM_START + int(rng.integers(0, tl.TERM_DAYS * 86400))
        message = CONTENT[k % len(CONTENT)]
        rows.append(
            (next_post + k, gone + k % 3, 0, user, created, created, 1, "Re: lost thread",
             message, 1, 0, "", 0, 0, 0, 0)
        )  # fmt: skip
        counts["orphan_post"] += 1
    columns = (
        "id",
        "discussion",
        "parent",
        "userid",
        "created",
        "modified",
        "mailed",
        "subject",
        "message",
        "messageformat",
        "messagetrust",
        "attachment",
        "totalscore",
        "mailnow",
        "deleted",
        "privatereplyto",
    )
    return "forum_posts", columns, iter(rows)
