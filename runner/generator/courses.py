"""The courses of the 10 Academy 2019 cohort: course modules, forums, grade items, enrolment
instances, with their ids laid out as a Moodle site would number them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timeline as tl

# mdl_modules of a standard 4.5 install, in id order, with the disabled ones (visible 0).
MODULES: tuple[tuple[str, int], ...] = (
    ("assign", 1),
    ("bigbluebuttonbn", 0),
    ("book", 1),
    ("chat", 0),
    ("choice", 1),
    ("data", 1),
    ("feedback", 1),
    ("folder", 1),
    ("forum", 1),
    ("glossary", 1),
    ("h5pactivity", 1),
    ("imscp", 1),
    ("label", 1),
    ("lesson", 1),
    ("lti", 1),
    ("page", 1),
    ("quiz", 1),
    ("resource", 1),
    ("scorm", 1),
    ("subsection", 0),
    ("survey", 0),
    ("url", 1),
    ("wiki", 1),
    ("workshop", 1),
)
MODULE_ID = {name: index + 1 for index, (name, _) in enumerate(MODULES)}

COURSE_TITLES = (
    ("Python for Data Science", "PYDS101"),
    ("Statistics for Machine Learning", "STAT110"),
    ("SQL and Data Warehousing", "SQL120"),
    ("Data Visualisation and Storytelling", "VIZ130"),
    ("Professional Skills for Data Careers", "PROF100"),
    ("Machine Learning Foundations", "ML201"),
    ("Data Engineering Pipelines", "DE210"),
    ("Cloud Computing for Data Teams", "CLOUD220"),
    ("Deep Learning", "DL301"),
    ("MLOps in Practice", "MLOPS310"),
    ("Natural Language Processing", "NLP320"),
    ("Computer Vision", "CV330"),
    ("Causal Inference", "CAUS340"),
    ("Time Series Forecasting", "TS350"),
    ("Responsible AI", "RAI150"),
)
N_COURSES = len(COURSE_TITLES)
SITE_COURSE = 1
SECTIONS = 7  # weekly-style topics, each about a month of the term
SECTION_DAYS = tl.TERM_DAYS / SECTIONS
# Learning material per topic section: probability that a section has one of each.
MATERIAL_ODDS = (
    ("page", 0.65),
    ("resource", 0.4),
    ("url", 0.2),
    ("lesson", 0.07),
    ("folder", 0.05),
    ("book", 0.05),
    ("h5pactivity", 0.05),
    ("label", 0.08),
)
ASSESSMENT_ODDS = 0.45  # per section, for a quiz and (independently) an assignment
QUIZ_GRADEMAX, ASSIGN_GRADEMAX = 10, 100
# Share of material with view-based completion tracking (the rest has none).
VIEW_COMPLETION_SHARE = 0.2
TEACHER_ROLE, EDITING_TEACHER_ROLE, STUDENT_ROLE, MANAGER_ROLE, AUDITOR_ROLE = 4, 3, 5, 1, 9
ROLES = (
    (1, "manager"),
    (2, "coursecreator"),
    (3, "editingteacher"),
    (4, "teacher"),
    (5, "student"),
    (6, "guest"),
    (7, "user"),
    (8, "frontpage"),
)
CUSTOM_ROLE = (
    9,
    "Auditor",
    "auditor",
    "Audits a course: learns like a student, but is not assessed.",
    "student",
)


@dataclass
class CourseModules:
    """One row per course module; arrays indexed by cm id (index 0 unused)."""

    course: np.ndarray
    module: np.ndarray  # mdl_modules.id
    modname: list[str]
    instance: np.ndarray
    section: np.ndarray
    name: list[str]
    added: np.ndarray
    completion: np.ndarray  # 0 none, 2 automatic
    completionview: np.ndarray
    completionpassgrade: np.ndarray
    open_day: np.ndarray  # term day the module becomes relevant
    due: np.ndarray  # deadline epoch for quiz/assign, 0 otherwise
    forumtype: list[str]  # 'news'/'general' for forums, '' otherwise

    @property
    def count(self) -> int:
        return len(self.course) - 1


@dataclass
class Courses:
    """The 15 cohort courses (ids 2..16) and the site course (id 1)."""

    shortname: list[str]  # indexed by course id
    fullname: list[str]
    timecreated: np.ndarray
    cms: CourseModules
    # per course id: cm ids of each category, for picking what a learner opens
    material: list[np.ndarray]
    forums: list[np.ndarray]
    quizzes: list[np.ndarray]
    assigns: list[np.ndarray]

    @property
    def ids(self) -> np.ndarray:
        return np.arange(2, N_COURSES + 2)


def due_epoch(section: int, rng: np.random.Generator) -> int:
    """A deadline at 23:59 local near the end of a section's month."""
    day = int(section * SECTION_DAYS) - int(rng.integers(0, 6))
    return tl.day_start(min(day, tl.TERM_DAYS - 1)) + 86340


def build_courses(rng: np.random.Generator) -> Courses:
    shortname = ["", "KOA"]
    fullname = ["", "10 Academy Online"]
    rows: list[dict] = [{}]  # cm id 0 unused
    instances = dict.fromkeys(MODULE_ID, 0)
    timecreated = [0, tl.SETUP_START - 86400]
    for index, (title, code) in enumerate(COURSE_TITLES):
        course = index + 2
        shortname.append(code)
        fullname.append(title)
        created = tl.SETUP_START + index * 1800
        timecreated.append(created)
        plan: list[tuple[str, int, str]] = [
            ("forum", 0, "Announcements"),
            ("forum", 0, f"{code} discussion board"),
        ]
        if rng.random() < 0.3:
            plan.append(("label", 0, "Welcome"))
        if rng.random() < 0.3:
            plan.append(("choice", 0, "Which session time suits you?"))
        quiz_number = assign_number = 0
        for section in range(1, SECTIONS + 1):
            for modname, odds in MATERIAL_ODDS:
                if rng.random() < odds:
                    plan.append((modname, section, f"Topic {section}: {_MATERIAL_TITLE[modname]}"))
            if rng.random() < ASSESSMENT_ODDS or (section == SECTIONS and quiz_number == 0):
                quiz_number += 1
                plan.append(("quiz", section, f"Quiz {quiz_number}: {title.lower()} check"))
            if rng.random() < ASSESSMENT_ODDS or (section == SECTIONS and assign_number == 0):
                assign_number += 1
                plan.append(("assign", section, f"Assignment {assign_number}: {code} project"))
        for position, (modname, section, name) in enumerate(plan):
            instances[modname] += 1
            tracked = modname in _VIEW_TRACKABLE and rng.random() < VIEW_COMPLETION_SHARE
            graded = modname in ("quiz", "assign")
            open_day = int((section - 1) * SECTION_DAYS) if section else 0
            rows.append(
                {
                    "course": course,
                    "module": MODULE_ID[modname],
                    "modname": modname,
                    "instance": instances[modname],
                    "section": section,
                    "name": name,
                    "added": created + 60 + position * 7,
                    "completion": 2 if tracked or graded else 0,
                    "completionview": 1 if tracked else 0,
                    "completionpassgrade": 1 if graded else 0,
                    "open_day": max(open_day, 0),
                    "due": due_epoch(section, rng) if graded else 0,
                    "forumtype": ("news" if name == "Announcements" else "general")
                    if modname == "forum"
                    else "",
                }
            )
    cms = CourseModules(
        course=np.array([r.get("course", 0) for r in rows], dtype=np.int64),
        module=np.array([r.get("module", 0) for r in rows], dtype=np.int64),
        modname=[r.get("modname", "") for r in rows],
        instance=np.array([r.get("instance", 0) for r in rows], dtype=np.int64),
        section=np.array([r.get("section", 0) for r in rows], dtype=np.int64),
        name=[r.get("name", "") for r in rows],
        added=np.array([r.get("added", 0) for r in rows], dtype=np.int64),
        completion=np.array([r.get("completion", 0) for r in rows], dtype=np.int64),
        completionview=np.array([r.get("completionview", 0) for r in rows], dtype=np.int64),
        completionpassgrade=np.array(
            [r.get("completionpassgrade", 0) for r in rows], dtype=np.int64
        ),
        open_day=np.array([r.get("open_day", 0) for r in rows], dtype=np.int64),
        due=np.array([r.get("due", 0) for r in rows], dtype=np.int64),
        forumtype=[r.get("forumtype", "") for r in rows],
    )
    ids = np.arange(len(rows))

    def of(course: int, names: tuple[str, ...]) -> np.ndarray:
        selected = [i for i in ids[1:] if cms.course[i] == course and cms.modname[i] in names]
        return np.array(sorted(selected, key=lambda i: (cms.open_day[i], i)), dtype=np.int64)

    course_ids = range(N_COURSES + 2)
    material = (*(m for m in _VIEW_TRACKABLE if m != "label"), "choice")
    return Courses(
        shortname=shortname,
        fullname=fullname,
        timecreated=np.array(timecreated, dtype=np.int64),
        cms=cms,
        material=[of(c, material) for c in course_ids],
        forums=[of(c, ("forum",)) for c in course_ids],
        quizzes=[of(c, ("quiz",)) for c in course_ids],
        assigns=[of(c, ("assign",)) for c in course_ids],
    )


_VIEW_TRACKABLE = ("page", "resource", "url", "lesson", "folder", "book", "h5pactivity")
_MATERIAL_TITLE = {
    "page": "notes",
    "resource": "slides (PDF)",
    "url": "further reading",
    "lesson": "guided lesson",
    "folder": "datasets",
    "book": "handbook",
    "h5pactivity": "interactive exercise",
    "label": "what to do this month",
}
