"""Rows of the 19 non-log tables, from the site, the plans and what the log simulation
observed (logins, accesses, completions)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import people as ppl
from . import timeline as tl
from .courses import CUSTOM_ROLE, MODULES, N_COURSES, ROLES, SECTIONS
from .episodes import Plans
from .gradebook import deleted_grade_history
from .logwriter import CONTENT
from .site import CATEGORY_ID, SYSTEM_CONTEXT, Site

TableRows = tuple[str, tuple[str, ...], Iterator[tuple]]


@dataclass
class Observed:
    """What the log says about each user (arrays by user id) and the completion rows."""

    firstaccess: np.ndarray
    lastaccess: np.ndarray
    lastlogin: np.ndarray
    currentlogin: np.ndarray
    lastip: list[str]
    completions: dict[int, list[int]]  # key -> [id, coursemoduleid, userid, state, timemodified]


def manual_enrol_id(course: int) -> int:
    return 3 * (course - 2) + 1


def static_tables(site: Site, plans: Plans) -> list[TableRows]:
    """Tables that do not depend on the log simulation."""
    return [
        (
            "context",
            ("id", "contextlevel", "instanceid", "path", "depth", "locked"),
            iter([(*row, 0) for row in site.contexts.rows]),
        ),
        _courses(site),
        (
            "modules",
            ("id", "name", "cron", "lastcron", "search", "visible"),
            iter([(i + 1, name, 0, 0, "", visible) for i, (name, visible) in enumerate(MODULES)]),
        ),
        _course_modules(site),
        *_gradebook(site, plans),
        *_forums(site, plans),
        (
            "role",
            ("id", "name", "shortname", "description", "sortorder", "archetype"),
            iter(
                [(i, "", short, "", i, short) for i, short in ROLES]
                + [(*CUSTOM_ROLE[:4], 9, CUSTOM_ROLE[4])]
            ),
        ),
        _role_assignments(site, plans),
        _enrol(),
        _user_enrolments(plans),
    ]


def _courses(site: Site) -> TableRows:
    courses = site.courses
    rows = [
        (
            1,
            0,
            1,
            courses.fullname[1],
            courses.shortname[1],
            "",
            "",
            0,
            "site",
            1,
            3,
            0,
            0,
            1,
            int(courses.timecreated[1]),
            int(courses.timecreated[1]),
            0,
            None,
        )
    ]
    for course in range(2, N_COURSES + 2):
        created = int(courses.timecreated[course])
        rows.append(
            (
                course,
                CATEGORY_ID,
                10000 + N_COURSES + 2 - course,
                courses.fullname[course],
                courses.shortname[course],
                f"{courses.shortname[course]}-2019",
                f"<p>{courses.fullname[course]} for the 10 Academy 2019 cohort.</p>",
                1,
                "topics",
                1,
                1,
                tl.TERM_START,
                tl.TERM_END,
                1,
                created,
                created,
                1,
                1,
            )
        )
    columns = (
        "id",
        "category",
        "sortorder",
        "fullname",
        "shortname",
        "idnumber",
        "summary",
        "summaryformat",
        "format",
        "showgrades",
        "newsitems",
        "startdate",
        "enddate",
        "visible",
        "timecreated",
        "timemodified",
        "enablecompletion",
        "showcompletionconditions",
    )
    return "course", columns, iter(rows)


def _course_modules(site: Site) -> TableRows:
    cms = site.courses.cms
    columns = (
        "id",
        "course",
        "module",
        "instance",
        "section",
        "idnumber",
        "added",
        "completion",
        "completiongradeitemnumber",
        "completionview",
        "completionexpected",
        "completionpassgrade",
        "downloadcontent",
    )

    def rows():
        for cm in range(1, cms.count + 1):
            course = int(cms.course[cm])
            section_id = 2 + (course - 2) * (SECTIONS + 1) + int(cms.section[cm])
            graded = cms.modname[cm] in ("quiz", "assign")
            yield (
                cm,
                course,
                int(cms.module[cm]),
                int(cms.instance[cm]),
                section_id,
                "",
                int(cms.added[cm]),
                int(cms.completion[cm]),
                0 if graded else None,
                int(cms.completionview[cm]),
                # Teachers set "expect completed on" to a quiz's or assignment's deadline.
                int(cms.due[cm]),
                int(cms.completionpassgrade[cm]),
                1,
            )

    return "course_modules", columns, rows()


def _gradebook(site: Site, plans: Plans) -> list[TableRows]:
    g = plans.gradebook
    items = g.items
    deleted = {
        int(plans.cohort.user[i]): int(t) for i, t in enumerate(plans.cohort.deleted_at) if t
    }
    categories = [
        (course - 1, course, int(site.courses.timecreated[course]))
        for course in range(2, N_COURSES + 2)
    ]
    category_rows = [
        (cid, course, None, 1, f"/{cid}/", "?", 13, 0, 0, 1, 0, t, t, 0)
        for cid, course, t in categories
    ]
    category_history = []
    for cid, course, t in categories:
        category_history.append(
            (1, cid, "system", t, ppl.ADMIN_ID, course, None, 0, None, "?", 13, 0, 0, 1, 0, 0, 0)
        )
        category_history.append(
            (
                2,
                cid,
                "system",
                t,
                ppl.ADMIN_ID,
                course,
                None,
                1,
                f"/{cid}/",
                "?",
                13,
                0,
                0,
                1,
                0,
                0,
                0,
            )
        )
    item_rows, item_history = [], []
    for i in range(len(items.course)):
        item_id = i + 1
        course_item = items.itemtype[i] == "course"
        category = None if course_item else items.course[i] - 1
        total = items.grademax[items.course_item[items.course[i]] - 1]
        weight = 0 if course_item else round(items.grademax[i] / total, 5)
        created = items.timecreated[i]
        item_rows.append(
            (
                item_id,
                items.course[i],
                category,
                items.itemname[i],
                items.itemtype[i],
                items.itemmodule[i],
                items.iteminstance[i],
                None if course_item else 0,
                1,
                items.grademax[i],
                0,
                items.gradepass[i],
                weight,
                items.sortorder[i],
                created,
                created,
            )
        )
        source = "system" if course_item else None
        for action in (1, 2):
            item_history.append(
                (
                    action,
                    item_id,
                    source if action == 1 or not course_item else "aggregation",
                    created,
                    ppl.ADMIN_ID,
                    items.course[i],
                    category,
                    items.itemname[i],
                    items.itemtype[i],
                    items.itemmodule[i],
                    items.iteminstance[i],
                    None if course_item else 0,
                    1,
                    items.grademax[i],
                    0,
                    items.gradepass[i],
                )
            )
    item_history.sort(key=lambda r: r[3])
    grade_rows = []
    for (item, user), row in sorted(g.grades.items(), key=lambda kv: kv[1]["id"]):
        if user in deleted:
            continue
        graded = row["finalgrade"] is not None
        course_item = items.itemtype[item - 1] == "course"
        total = items.grademax[items.course_item[items.course[item - 1]] - 1]
        status = "unknown" if course_item else ("used" if graded else "novalue")
        weight = round(items.grademax[item - 1] / total, 5) if graded and not course_item else None
        grade_rows.append(
            (
                row["id"],
                item,
                user,
                row["rawgrade"],
                items.grademax[item - 1],
                row["usermodified"] if not course_item else None,
                row["finalgrade"],
                row["feedback"],
                1 if row["feedback"] else 2,
                2,
                row["timecreated"],
                row["timemodified"],
                status,
                weight,
            )
        )
    history = sorted([*g.history, *deleted_grade_history(g, deleted)], key=lambda r: r[3])
    history_rows = (
        (k + 1, *h[:10], h[10], 1 if h[11] else 2, h[11], 2) for k, h in enumerate(history)
    )
    return [
        (
            "grade_categories",
            (
                "id",
                "courseid",
                "parent",
                "depth",
                "path",
                "fullname",
                "aggregation",
                "keephigh",
                "droplow",
                "aggregateonlygraded",
                "aggregateoutcomes",
                "timecreated",
                "timemodified",
                "hidden",
            ),
            iter(category_rows),
        ),
        (
            "grade_categories_history",
            (
                "action",
                "oldid",
                "source",
                "timemodified",
                "loggeduser",
                "courseid",
                "parent",
                "depth",
                "path",
                "fullname",
                "aggregation",
                "keephigh",
                "droplow",
                "aggregateonlygraded",
                "aggregateoutcomes",
                "aggregatesubcats",
                "hidden",
            ),
            iter(category_history),
        ),
        (
            "grade_items",
            (
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
            ),
            iter(item_rows),
        ),
        (
            "grade_items_history",
            (
                "action",
                "oldid",
                "source",
                "timemodified",
                "loggeduser",
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
            ),
            iter(item_history),
        ),
        (
            "grade_grades",
            (
                "id",
                "itemid",
                "userid",
                "rawgrade",
                "rawgrademax",
                "usermodified",
                "finalgrade",
                "feedback",
                "feedbackformat",
                "informationformat",
                "timecreated",
                "timemodified",
                "aggregationstatus",
                "aggregationweight",
            ),
            iter(grade_rows),
        ),
        (
            "grade_grades_history",
            (
                "id",
                "action",
                "oldid",
                "source",
                "timemodified",
                "loggeduser",
                "itemid",
                "userid",
                "rawgrade",
                "rawgrademax",
                "usermodified",
                "finalgrade",
                "feedbackformat",
                "feedback",
                "informationformat",
            ),
            history_rows,
        ),
    ]


def _forums(site: Site, plans: Plans) -> list[TableRows]:
    cms = site.courses.cms
    forum_rows = []
    for cm in range(1, cms.count + 1):
        if cms.modname[cm] != "forum":
            continue
        news = cms.forumtype[cm] == "news"
        intro = (
            "General news and announcements"
            if news
            else "<p>Ask questions and help each other.</p>"
        )
        forum_rows.append(
            (
                int(cms.instance[cm]),
                int(cms.course[cm]),
                cms.forumtype[cm],
                cms.name[cm],
                intro,
                1,
                int(cms.added[cm]),
                1 if news else 0,
                1,
            )
        )
    forum_rows.sort()
    d, p = plans.discussions, plans.posts
    discussion_rows = [
        (
            int(d.id[i]),
            int(d.course[i]),
            int(cms.instance[d.cm[i]]),
            d.name[i],
            int(d.firstpost[i]),
            int(d.user[i]),
            -1,
            0,
            int(d.timemodified[i]),
            int(d.usermodified[i]),
            0,
            0,
            0,
            0,
        )
        for i in range(len(d.id))
    ]
    post_rows = []
    for i in range(len(p.id)):
        message = CONTENT[int(p.message[i])]
        words = len(message.replace("<p>", "").replace("</p>", "").split())
        post_rows.append(
            (
                int(p.id[i]),
                int(p.discussion[i]),
                int(p.parent[i]),
                int(p.user[i]),
                int(p.created[i]),
                int(p.created[i]),
                1,
                p.subject[i],
                message,
                1,
                0,
                "",
                0,
                0,
                0,
                0,
                words,
                len(message) - 7,
            )
        )
    return [
        (
            "forum",
            (
                "id",
                "course",
                "type",
                "name",
                "intro",
                "introformat",
                "timemodified",
                "forcesubscribe",
                "trackingtype",
            ),
            iter(forum_rows),
        ),
        (
            "forum_discussions",
            (
                "id",
                "course",
                "forum",
                "name",
                "firstpost",
                "userid",
                "groupid",
                "assessed",
                "timemodified",
                "usermodified",
                "timestart",
                "timeend",
                "pinned",
                "timelocked",
            ),
            iter(discussion_rows),
        ),
        (
            "forum_posts",
            (
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
                "wordcount",
                "charcount",
            ),
            iter(post_rows),
        ),
    ]


def _deleted_users(plans: Plans) -> set[int]:
    return {int(u) for u, t in zip(plans.cohort.user, plans.cohort.deleted_at, strict=True) if t}


def _role_assignments(site: Site, plans: Plans) -> TableRows:
    e = plans.enrolments
    deleted = _deleted_users(plans)
    rows = [
        (i + 1, 1, SYSTEM_CONTEXT, int(u), tl.SETUP_START + 7200, ppl.ADMIN_ID, "", 0, 0)
        for i, u in enumerate(plans.staff.managers)
    ]
    for k in range(len(e.user)):
        if int(e.user[k]) in deleted:
            continue
        rows.append(
            (
                plans.role_assignment_offset + k + 1,
                int(e.roleid[k]),
                int(site.contexts.course[e.course[k]]),
                int(e.user[k]),
                int(e.timecreated[k]),
                ppl.ADMIN_ID,
                "",
                0,
                0,
            )
        )
    columns = (
        "id",
        "roleid",
        "contextid",
        "userid",
        "timemodified",
        "modifierid",
        "component",
        "itemid",
        "sortorder",
    )
    return "role_assignments", columns, iter(rows)


def _enrol() -> TableRows:
    rows = []
    for course in range(2, N_COURSES + 2):
        created = tl.SETUP_START + (course - 2) * 1800
        base = manual_enrol_id(course)
        rows.append((base, "manual", 0, course, 0, 86400, 5, created, created))
        rows.append((base + 1, "guest", 1, course, 1, 0, 0, created, created))
        rows.append((base + 2, "self", 1, course, 2, 86400, 5, created, created))
    columns = (
        "id",
        "enrol",
        "status",
        "courseid",
        "sortorder",
        "expirythreshold",
        "roleid",
        "timecreated",
        "timemodified",
    )
    return "enrol", columns, iter(rows)


def _user_enrolments(plans: Plans) -> TableRows:
    e = plans.enrolments
    deleted = _deleted_users(plans)
    rows = []
    for k in range(len(e.user)):
        if int(e.user[k]) in deleted:
            continue
        modified = int(e.suspended_at[k] or e.timecreated[k])
        modifier = int(e.suspended_by[k]) if e.suspended_at[k] else ppl.ADMIN_ID
        rows.append(
            (
                k + 1,
                int(e.status[k]),
                manual_enrol_id(int(e.course[k])),
                int(e.user[k]),
                int(e.timestart[k]),
                0,
                modifier,
                int(e.timecreated[k]),
                modified,
            )
        )
    columns = (
        "id",
        "status",
        "enrolid",
        "userid",
        "timestart",
        "timeend",
        "modifierid",
        "timecreated",
        "timemodified",
    )
    return "user_enrolments", columns, iter(rows)


def user_table(site: Site, plans: Plans, seen: Observed) -> TableRows:
    people = site.people
    deleted = {
        int(u): int(t) for u, t in zip(plans.cohort.user, plans.cohort.deleted_at, strict=True) if t
    }
    columns = (
        "id",
        "auth",
        "confirmed",
        "deleted",
        "mnethostid",
        "username",
        "password",
        "idnumber",
        "firstname",
        "lastname",
        "email",
        "phone1",
        "institution",
        "department",
        "city",
        "country",
        "firstaccess",
        "lastaccess",
        "lastlogin",
        "currentlogin",
        "lastip",
        "description",
        "timecreated",
        "timemodified",
    )

    def rows():
        for user in range(1, people.count + 1):
            username, email, password = (
                people.username[user],
                people.email[user],
                people.password[user],
            )
            modified = int(people.timecreated[user]) or tl.SETUP_START
            if user in deleted:
                # delete_user(): username becomes email.time, email the md5 of the old username.
                username = f"{email}.{deleted[user]}"
                email = hashlib.md5(people.username[user].encode()).hexdigest()
                modified = deleted[user]
            yield (
                user,
                people.auth[user],
                int(people.confirmed[user]),
                1 if user in deleted else 0,
                1,
                username,
                password,
                "",
                people.firstname[user],
                people.lastname[user],
                email,
                people.phone[user],
                "10 Academy" if people.role[user] >= ppl.TEACHER else "",
                people.department[user],
                people.city[user],
                people.country[user],
                int(seen.firstaccess[user]),
                int(seen.lastaccess[user]),
                int(seen.lastlogin[user]),
                int(seen.currentlogin[user]),
                seen.lastip[user],
                "",
                int(people.timecreated[user]),
                modified,
            )

    return "user", columns, rows()


def completion_table(plans: Plans, seen: Observed) -> TableRows:
    """Deleting a user deletes their completion rows too."""
    deleted = _deleted_users(plans)
    rows = sorted(r for r in seen.completions.values() if r[2] not in deleted)
    return (
        "course_modules_completion",
        ("id", "coursemoduleid", "userid", "completionstate", "timemodified"),
        iter([tuple(r) for r in rows]),
    )
