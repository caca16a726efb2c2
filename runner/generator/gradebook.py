"""The gradebook: grade categories and items per course, and the grades that quiz attempts
and teachers' marking write, replayed in time order so ids and history match Moodle's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .assessments import QuizAttempts, Submissions
from .courses import ASSIGN_GRADEMAX, N_COURSES, QUIZ_GRADEMAX
from .people import ADMIN_ID
from .site import Site

QUIZ_PASS, ASSIGN_PASS = 5, 50
FEEDBACK = (
    "<p>Good work; your analysis is clear.</p>",
    "<p>Please reference your sources.</p>",
    "<p>Solid attempt. Check the evaluation metric you used.</p>",
    "<p>Well structured, but the conclusion needs evidence.</p>",
)


@dataclass
class GradeItems:
    """Rows of mdl_grade_items (id = index + 1)."""

    course: list[int]
    itemtype: list[str]  # 'course' or 'mod'
    itemmodule: list[str | None]
    iteminstance: list[int]
    itemname: list[str | None]
    grademax: list[int]
    gradepass: list[int]
    sortorder: list[int]
    timecreated: list[int]
    course_item: dict[int, int] = field(default_factory=dict)  # course id -> item id
    item_of_cm: dict[int, int] = field(default_factory=dict)  # cm id -> item id


@dataclass
class Gradebook:
    items: GradeItems
    grades: dict[tuple[int, int], dict]  # (itemid, userid) -> grade_grades row values
    history: list[tuple]  # grade_grades_history rows without id
    # per quiz attempt: (item grade id, total grade id, item final, total final,
    # completion state or -1 when unchanged)
    quiz_rows: np.ndarray
    # per graded submission: same layout
    assign_rows: np.ndarray


def build_grade_items(site: Site) -> GradeItems:
    cms = site.courses.cms
    items = GradeItems([], [], [], [], [], [], [], [], [])

    def add(course, itemtype, module, instance, name, grademax, gradepass, sortorder, created):
        items.course.append(course)
        items.itemtype.append(itemtype)
        items.itemmodule.append(module)
        items.iteminstance.append(instance)
        items.itemname.append(name)
        items.grademax.append(grademax)
        items.gradepass.append(gradepass)
        items.sortorder.append(sortorder)
        items.timecreated.append(created)
        return len(items.course)

    for course in range(2, N_COURSES + 2):
        graded = [
            int(c)
            for c in np.flatnonzero(cms.course == course)
            if cms.modname[c] in ("quiz", "assign")
        ]
        total = sum(QUIZ_GRADEMAX if cms.modname[c] == "quiz" else ASSIGN_GRADEMAX for c in graded)
        created = int(site.courses.timecreated[course])
        # The course item takes the id of its grade category (one per course).
        items.course_item[course] = add(
            course, "course", None, course - 1, None, total, 0, 1, created
        )
        for position, cm in enumerate(graded, start=2):
            quiz = cms.modname[cm] == "quiz"
            items.item_of_cm[cm] = add(
                course,
                "mod",
                cms.modname[cm],
                int(cms.instance[cm]),
                cms.name[cm],
                QUIZ_GRADEMAX if quiz else ASSIGN_GRADEMAX,
                QUIZ_PASS if quiz else ASSIGN_PASS,
                position,
                int(cms.added[cm]),
            )
    return items


def replay_grades(items: GradeItems, attempts: QuizAttempts, submissions: Submissions) -> Gradebook:
    """Apply every grade-changing event in time order, as Moodle would have."""
    # (time, order, type, index): 0 quiz submitted, 1 assignment submitted, 2 assignment graded
    events = [(int(t), 0, i) for i, t in enumerate(attempts.submit)]
    events += [(int(t), 1, i) for i, t in enumerate(submissions.submit)]
    events += [
        (int(submissions.grade_time[i]), 2, int(i)) for i in np.flatnonzero(submissions.graded)
    ]
    events.sort()
    grades: dict[tuple[int, int], dict] = {}
    history: list[tuple] = []
    completion_state: dict[tuple[int, int], int] = {}
    quiz_rows = np.full((len(attempts.submit), 5), -1, dtype=np.int64)
    assign_rows = np.full((len(submissions.submit), 5), -1, dtype=np.int64)

    def write(item, user, time, actor, source, raw, created_now):
        key = (item, user)
        row = grades.get(key)
        if row is None:
            row = {
                "id": len(grades) + 1,
                "itemid": item,
                "userid": user,
                "rawgrade": None,
                "finalgrade": None,
                "usermodified": actor,
                "timecreated": created_now,
                "timemodified": time,
                "feedback": None,
            }
            grades[key] = row
            action = 1
        else:
            action = 2
        if raw is not None:
            row["rawgrade"] = raw if row["rawgrade"] is None else max(row["rawgrade"], raw)
            row["finalgrade"] = row["rawgrade"]
            row["usermodified"] = actor
        row["timemodified"] = time
        history.append(
            (
                action,
                row["id"],
                source,
                time,
                actor,
                item,
                user,
                row["rawgrade"],
                items.grademax[item - 1],
                actor if source != "system" else None,
                row["finalgrade"],
                row["feedback"],
            )
        )
        return row

    mod_items: dict[int, list[int]] = {}
    for item in items.item_of_cm.values():
        mod_items.setdefault(items.course[item - 1], []).append(item)

    def total(course, user, time, actor):
        item = items.course_item[course]
        if (item, user) not in grades:
            write(item, user, time, actor, "system", None, None)
        finals = [grades[(i, user)]["finalgrade"] for i in mod_items[course] if (i, user) in grades]
        row = grades[(item, user)]
        row["finalgrade"] = sum(f for f in finals if f is not None)
        row["timemodified"] = time
        history.append(
            (
                2,
                row["id"],
                "aggregation",
                time,
                actor,
                item,
                user,
                None,
                items.grademax[item - 1],
                None,
                row["finalgrade"],
                None,
            )
        )
        return row

    for time, kind, i in events:
        if kind == 0:
            user, course, cm = int(attempts.user[i]), int(attempts.course[i]), int(attempts.cm[i])
            item = items.item_of_cm[cm]
            row = write(item, user, time, user, "mod/quiz", int(attempts.score[i]), time)
            course_row = total(course, user, time, user)
            state = 2 if row["finalgrade"] >= QUIZ_PASS else 3
            changed = completion_state.get((user, cm)) != state
            completion_state[(user, cm)] = state
            quiz_rows[i] = (
                row["id"],
                course_row["id"],
                row["finalgrade"],
                course_row["finalgrade"],
                state if changed else -1,
            )
        elif kind == 1:
            user, course, cm = (
                int(submissions.user[i]),
                int(submissions.course[i]),
                int(submissions.cm[i]),
            )
            item = items.item_of_cm[cm]
            if (item, user) not in grades:
                write(item, user, time, user, "mod/assign", None, None)
        else:
            user, course, cm = (
                int(submissions.user[i]),
                int(submissions.course[i]),
                int(submissions.cm[i]),
            )
            teacher = int(submissions.grader[i])
            item = items.item_of_cm[cm]
            grades[(item, user)]["feedback"] = FEEDBACK[i % len(FEEDBACK)]
            row = write(item, user, time, teacher, "mod/assign", int(submissions.grade[i]), None)
            course_row = total(course, user, time, teacher)
            state = 2 if row["finalgrade"] >= ASSIGN_PASS else 3
            completion_state[(user, cm)] = state
            assign_rows[i] = (
                row["id"],
                course_row["id"],
                row["finalgrade"],
                course_row["finalgrade"],
                state,
            )
    return Gradebook(items, grades, history, quiz_rows, assign_rows)


def deleted_grade_history(gradebook: Gradebook, deleted_at: dict[int, int]) -> list[tuple]:
    """Deleting a user deletes their grades; the history keeps a 'delete' row for each."""
    rows = []
    for (item, user), row in sorted(gradebook.grades.items(), key=lambda kv: kv[1]["id"]):
        if user in deleted_at:
            rows.append(
                (
                    3,
                    row["id"],
                    "userdelete",
                    deleted_at[user],
                    ADMIN_ID,
                    item,
                    user,
                    row["rawgrade"],
                    gradebook.items.grademax[item - 1],
                    row["usermodified"],
                    row["finalgrade"],
                    row["feedback"],
                )
            )
    return sorted(rows, key=lambda r: (r[3], r[1]))
