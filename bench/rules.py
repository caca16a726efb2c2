"""The sessionisation definitions every engine applies, read from the dbt project's vars.

Reading them from dbt_project.yml (not repeating the numbers here) keeps the pandas version
and the port of the original analysis on exactly the definitions the project builds with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.dbt.invoke import declared_vars


@dataclass(frozen=True)
class SessionRules:
    cap_seconds: int
    login_actions: tuple[str, ...]
    idle_timeout_seconds: int | None = None

    @classmethod
    def from_vars(cls, overrides: dict[str, Any] | None = None) -> SessionRules:
        values = {**declared_vars(), **(overrides or {})}
        idle_minutes = values.get("session_idle_timeout_minutes")
        return cls(
            cap_seconds=round(float(values["session_cap_hours"]) * 3600),
            login_actions=tuple(str(action) for action in values["login_actions"]),
            idle_timeout_seconds=None if idle_minutes is None else round(idle_minutes * 60),
        )


@dataclass(frozen=True)
class UserDedication:
    """What every engine reports per user, and what the agreement check compares."""

    session_count: int
    dedication_seconds: int
