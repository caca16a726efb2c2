"""The original 2019 analysis's sessionisation, ported faithfully: Python loops over the rows.

The 10 Academy notebook loaded the log into a DataFrame and, for each user, selected that
user's rows from the whole frame, walked them one by one in time order, opened a session at
each login and added min(last - first, cap) when the next session began. That per-user
boolean selection over the whole log plus a row-by-row loop is what this port keeps, so its
cost per user is what the original paid; it applies the project's definitions (opening
session before the first login, ties broken by log id) so that its results can be compared.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from bench.rules import SessionRules, UserDedication


def original_dedication(
    log: pd.DataFrame, users: Iterable[int], rules: SessionRules
) -> dict[int, UserDedication]:
    """Session count and dedication of each user in ``users`` who has at least one event."""
    logins = set(rules.login_actions)
    results: dict[int, UserDedication] = {}
    for user_id in users:
        user_rows = log[log["userid"] == user_id].sort_values(["timecreated", "id"])
        if user_rows.empty:
            continue
        sessions = 0
        dedication = 0
        session_first = session_last = None
        for _, row in user_rows.iterrows():
            event_time = int(row["timecreated"])
            starts = session_first is None or row["action"] in logins
            if (
                not starts
                and rules.idle_timeout_seconds is not None
                and event_time - session_last > rules.idle_timeout_seconds
            ):
                starts = True
            if starts:
                if session_first is not None:
                    dedication += min(session_last - session_first, rules.cap_seconds)
                sessions += 1
                session_first = event_time
            session_last = event_time
        dedication += min(session_last - session_first, rules.cap_seconds)
        results[int(user_id)] = UserDedication(sessions, dedication)
    return results
