"""The product's user metrics, defined again in plain Python over raw Moodle rows.

The tests compare the marts with these: sessions, login and activity counts and dedication
(the original analysis's definitions), and the learner's own actions and active sessions (the
event classification seed and the active-session rules), with simple loops.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

SEED_CSV = PROJECT_ROOT / "seeds" / "moodle_event_classification.csv"
LOGIN_ACTIONS = frozenset({"loggedin", "loggedinas"})


# --- sessions between logins, login and activity counts, dedication -------------------------


@dataclass(frozen=True)
class SessionSettings:
    cap_seconds: int = 4 * 3600
    idle_timeout_seconds: int | None = None
    timezone: str = "UTC"


@dataclass
class Session:
    session_id: int
    user_id: int
    user_session_number: int
    starts_with_login: bool
    started_epoch: int
    ended_epoch: int
    event_count: int = 0

    def raw_duration(self) -> int:
        return self.ended_epoch - self.started_epoch


@dataclass
class UserFigures:
    login_count: int = 0
    activity_count: int = 0
    session_count: int = 0
    dedication_seconds: int = 0


@dataclass
class MoodleRows:
    # (id, userid, action, timecreated) of every log row
    log: list[tuple[int, int, str, int]]
    users: dict[int, tuple[bool, bool, str]]  # id -> (deleted, confirmed, username)
    role_archetypes: dict[int, str | None]
    contexts: dict[int, tuple[int, int]]  # id -> (contextlevel, instanceid)
    role_assignments: list[tuple[int, int, int]]  # (userid, roleid, contextid)
    course_ids: set[int]
    modules_per_course: dict[int, int] = field(default_factory=dict)


def read_moodle(info: ConnectionInfo) -> MoodleRows:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:

            def rows(query: str) -> list[tuple[Any, ...]]:
                cursor.execute(query)
                return cursor.fetchall()

            log = rows("select id, userid, action, timecreated from mdl_logstore_standard_log")
            users = {
                user_id: (deleted == 1, confirmed == 1, username)
                for user_id, deleted, confirmed, username in rows(
                    "select id, deleted, confirmed, username from mdl_user"
                )
            }
            archetypes = dict(rows("select id, archetype from mdl_role"))
            contexts = {
                context_id: (level, instance)
                for context_id, level, instance in rows(
                    "select id, contextlevel, instanceid from mdl_context"
                )
            }
            assignments = rows("select userid, roleid, contextid from mdl_role_assignments")
            course_ids = {row[0] for row in rows("select id from mdl_course")}
            modules = dict(
                rows(
                    "select course, count(*) from mdl_course_modules"
                    " where deletioninprogress = 0 group by course"
                )
            )
    finally:
        connection.close()
    return MoodleRows(log, users, archetypes, contexts, assignments, course_ids, modules)


def sessionise(
    moodle: MoodleRows, settings: SessionSettings
) -> tuple[dict[int, Session], dict[int, int]]:
    """Sessions by id, and the session of every event of a known user."""
    events_by_user: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for event_id, user_id, action, epoch in moodle.log:
        if user_id in moodle.users:
            events_by_user[user_id].append((epoch, event_id, action))
    sessions: dict[int, Session] = {}
    session_of_event: dict[int, int] = {}
    for user_id, events in events_by_user.items():
        events.sort()
        current: Session | None = None
        for epoch, event_id, action in events:
            is_login = action in LOGIN_ACTIONS
            timed_out = (
                current is not None
                and settings.idle_timeout_seconds is not None
                and epoch - current.ended_epoch > settings.idle_timeout_seconds
            )
            if current is None or is_login or timed_out:
                number = 1 if current is None else current.user_session_number + 1
                current = Session(event_id, user_id, number, is_login, epoch, epoch)
                sessions[event_id] = current
            current.ended_epoch = epoch
            current.event_count += 1
            session_of_event[event_id] = current.session_id
    return sessions, session_of_event


def user_figures(
    moodle: MoodleRows, sessions: dict[int, Session], settings: SessionSettings
) -> dict[int, UserFigures]:
    figures = {user_id: UserFigures() for user_id in moodle.users}
    for _, user_id, action, _ in moodle.log:
        if user_id in figures:
            if action in LOGIN_ACTIONS:
                figures[user_id].login_count += 1
            else:
                figures[user_id].activity_count += 1
    for session in sessions.values():
        figures[session.user_id].session_count += 1
        figures[session.user_id].dedication_seconds += min(
            session.raw_duration(), settings.cap_seconds
        )
    return figures


# --- the learner's own actions and active sessions ------------------------------------------


@dataclass(frozen=True)
class ActiveSettings:
    idle_timeout_seconds: int = 30 * 60
    cap_seconds: int = 4 * 3600


@dataclass(frozen=True)
class LogRow:
    event_id: int
    user_id: int
    event_name: str
    crud: str | None
    edulevel: int | None
    action: str
    origin: str
    real_user_id: int | None
    epoch: int


@dataclass
class ActiveSession:
    session_id: int
    user_id: int
    number: int
    start_reason: str
    started_epoch: int
    ended_epoch: int
    action_count: int = 0
    app_action_count: int = 0


@dataclass(frozen=True)
class Expected:
    own_kind: dict[int, str | None]  # event id -> engagement kind when the user's own, else None
    sessions: dict[int, ActiveSession]
    session_of_event: dict[int, int]


def read_seed() -> dict[str, tuple[str, str]]:
    with SEED_CSV.open(newline="") as handle:
        return {
            row["event_name"]: (row["actor_kind"], row["engagement_kind"])
            for row in csv.DictReader(handle)
        }


def classify(row: LogRow, seed: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(actor kind, engagement kind): the seed's, else the documented unknown-event rule."""
    if row.event_name in seed:
        return seed[row.event_name]
    if row.edulevel == 2 and row.crud in ("c", "r", "u", "d"):
        return "learner_action", "view" if row.crud == "r" else "write"
    if row.edulevel == 1:
        return "staff_action", "none"
    return "system_consequence", "none"


def rows_by_user(log: list[LogRow], users: set[int]) -> dict[int, list[LogRow]]:
    """Every known user's rows, in the product's order: time, then log id."""
    by_user: dict[int, list[LogRow]] = defaultdict(list)
    for row in log:
        if row.user_id in users:
            by_user[row.user_id].append(row)
    for rows in by_user.values():
        rows.sort(key=lambda row: (row.epoch, row.event_id))
    return by_user


def impersonated_ids(by_user: dict[int, list[LogRow]]) -> set[int]:
    """Rows written during "Log in as", plus the logout that ends it (no realuserid)."""
    found = set()
    for rows in by_user.values():
        for previous, row in zip([None, *rows], rows, strict=False):
            ends_it = (
                row.action == "loggedout"
                and previous is not None
                and previous.real_user_id is not None
            )
            if row.real_user_id is not None or ends_it:
                found.add(row.event_id)
    return found


def expected_active(log: list[LogRow], users: set[int], settings: ActiveSettings) -> Expected:
    seed = read_seed()
    by_user = rows_by_user(log, users)
    impersonated = impersonated_ids(by_user)
    own_kind: dict[int, str | None] = {}
    sessions: dict[int, ActiveSession] = {}
    session_of_event: dict[int, int] = {}
    for user_id, rows in by_user.items():
        current: ActiveSession | None = None
        for row in rows:
            actor_kind, engagement_kind = classify(row, seed)
            is_own = (
                actor_kind == "learner_action"
                and row.event_id not in impersonated
                and row.origin != "cli"
            )
            own_kind[row.event_id] = engagement_kind if is_own else None
            if not is_own:
                continue
            if current is None:
                reason: str | None = "first_action"
            elif row.action in LOGIN_ACTIONS:
                reason = "login"
            elif row.epoch - current.ended_epoch > settings.idle_timeout_seconds:
                reason = "idle_gap"
            else:
                reason = None
            if reason is not None:
                number = 1 if current is None else current.number + 1
                current = ActiveSession(row.event_id, user_id, number, reason, row.epoch, row.epoch)
                sessions[row.event_id] = current
            assert current is not None
            current.ended_epoch = row.epoch
            current.action_count += 1
            current.app_action_count += row.origin == "ws"
            session_of_event[row.event_id] = current.session_id
    return Expected(own_kind, sessions, session_of_event)
