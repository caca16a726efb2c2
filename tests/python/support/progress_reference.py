"""The product's definitions in plain Python, over raw Moodle rows, for the progress tests.

Independent of the SQL on purpose: simple loops over what Moodle wrote, so a test that
compares them with the marts catches a mistake on either side.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from runner.postgres.connection import ConnectionInfo
from support.dbt_helpers import assert_dbt_succeeded, load_real_moodle, run_dbt

LOGIN_ACTIONS = frozenset({"loggedin", "loggedinas"})
CAP_SECONDS = 4 * 3600


def rows(info: ConnectionInfo, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def build_real_site(
    make_database: Callable[[str], ConnectionInfo],
    work_dir: Path,
    label: str,
    dbt_vars: dict[str, Any] | None = None,
    select: tuple[str, ...] = (),
) -> ConnectionInfo:
    """A fresh database with the real Moodle 4.5 site, built with `dbt build` (the models and
    tests of ``select`` only, when given, to keep the suite quick)."""
    info = make_database(label)
    load_real_moodle(info)
    # Cautious: a test runs only when every model it reads is built.
    selection = ["--select", *select, "--indirect-selection", "cautious"] if select else []
    assert_dbt_succeeded(run_dbt(["build", *selection], info, work_dir, dbt_vars=dbt_vars))
    return info


def local_date(epoch: int, zone: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, zone).date()


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class RawSite:
    # (id, userid, courseid or None, eventname, action, timecreated) of every log row
    log: list[tuple[int, int, int | None, str, str, int]]
    users: dict[int, tuple[bool, bool, str]]  # id -> (deleted, confirmed, username)
    learner_courses: set[tuple[int, int]]  # (user id, course id)


def read_site(info: ConnectionInfo) -> RawSite:
    log = rows(
        info,
        "select id, userid, nullif(courseid, 0), eventname, action, timecreated"
        " from mdl_logstore_standard_log",
    )
    users = {
        user_id: (deleted == 1, confirmed == 1, username)
        for user_id, deleted, confirmed, username in rows(
            info, "select id, deleted, confirmed, username from mdl_user"
        )
    }
    archetypes = dict(rows(info, "select id, archetype from mdl_role"))
    contexts = {
        context_id: (level, instance)
        for context_id, level, instance in rows(
            info, "select id, contextlevel, instanceid from mdl_context"
        )
    }
    learner_courses = set()
    for user_id, role_id, context_id in rows(
        info, "select userid, roleid, contextid from mdl_role_assignments"
    ):
        if user_id not in users or context_id not in contexts:
            continue
        deleted, confirmed, username = users[user_id]
        level, course_id = contexts[context_id]
        is_guest = user_id == 1 or username == "guest"
        is_student = archetypes.get(role_id) == "student" and level == 50
        if is_student and confirmed and not deleted and not is_guest:
            learner_courses.add((user_id, course_id))
    return RawSite(log, users, learner_courses)


@dataclass
class Session:
    user_id: int
    started: int
    ended: int
    courses: set[int]

    def duration(self) -> int:
        return min(self.ended - self.started, CAP_SECONDS)


def sessionise(site: RawSite) -> list[Session]:
    """Login-delimited sessions of known users, with the courses each one touched."""
    by_user: dict[int, list[tuple[int, int, str, int | None]]] = defaultdict(list)
    for event_id, user_id, course_id, _, action, epoch in site.log:
        if user_id in site.users:
            by_user[user_id].append((epoch, event_id, action, course_id))
    sessions = []
    for user_id, events in by_user.items():
        current: Session | None = None
        for epoch, _, action, course_id in sorted(events):
            if current is None or action in LOGIN_ACTIONS:
                current = Session(user_id, epoch, epoch, set())
                sessions.append(current)
            current.ended = epoch
            if course_id is not None:
                current.courses.add(course_id)
    return sessions
