"""The static site: people, courses and the context tree that ties them together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .courses import N_COURSES, Courses, build_courses
from .people import People, build_people

SYSTEM_CONTEXT = 1
FRONTPAGE_CONTEXT = 2
CATEGORY_CONTEXT = 3
CATEGORY_ID = 1


@dataclass
class Contexts:
    rows: list[tuple[int, int, int, str, int]]  # id, contextlevel, instanceid, path, depth
    user: np.ndarray  # context id by user id
    course: np.ndarray  # by course id
    cm: np.ndarray  # by course module id


@dataclass
class Site:
    people: People
    courses: Courses
    contexts: Contexts


def build_contexts(people: People, courses: Courses) -> Contexts:
    """Context ids in the order a site creates them: system, front page, category, early
    accounts, each course followed by its modules, then the learner accounts."""
    rows: list[tuple[int, int, int, str, int]] = []
    user_ctx = np.zeros(people.count + 1, dtype=np.int64)
    course_ctx = np.zeros(N_COURSES + 2, dtype=np.int64)
    cm_ctx = np.zeros(courses.cms.count + 1, dtype=np.int64)

    def add(level: int, instance: int, parent_path: str) -> int:
        context_id = len(rows) + 1
        path = f"{parent_path}/{context_id}"
        rows.append((context_id, level, instance, path, path.count("/")))
        return context_id

    add(10, 0, "")
    course_ctx[1] = add(50, 1, "/1")
    category_path = f"/1/{add(40, CATEGORY_ID, '/1')}"
    learners_start = int(np.flatnonzero(people.role >= 5)[0])
    for user in range(1, learners_start):
        user_ctx[user] = add(30, user, "/1")
    for course in range(2, N_COURSES + 2):
        course_ctx[course] = add(50, course, category_path)
        course_path = rows[-1][3]
        for cm in np.flatnonzero(courses.cms.course == course):
            cm_ctx[cm] = add(70, int(cm), course_path)
    for user in range(learners_start, people.count + 1):
        user_ctx[user] = add(30, user, "/1")
    return Contexts(rows, user_ctx, course_ctx, cm_ctx)


def build_site(
    people_rng: np.random.Generator, course_rng: np.random.Generator, scale: float
) -> Site:
    """Courses come from their own random stream, so they are the same at every scale."""
    people = build_people(people_rng, scale)
    courses = build_courses(course_rng)
    return Site(people, courses, build_contexts(people, courses))
