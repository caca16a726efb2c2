"""The sessionisers: implementations that sessionise the log, one class each, all reporting the
same SessioniserRun ("engines" in this project means dbt targets: see runner.dbt.engines).

To benchmark another implementation, add a class with a ``name``, a ``label`` and a
``run(context)`` returning a SessioniserRun, and register it in SESSIONISERS. The agreement check
and the report treat every sessioniser alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from psycopg2 import sql

from bench.dbt_build import SESSIONISATION_FOLDER, BuildTiming, run_dbt_build
from bench.log_source import LogSource, read_log_frame, read_user_ids
from bench.memory import MemoryPeak, measure_peak
from bench.original_port import original_dedication
from bench.pandas_sessions import pandas_dedication
from bench.rules import SessionRules, UserDedication

# Where the project's per-user sessions and dedication land (schema_prefix left at '').
PROJECT_USER_MODEL = ("intermediate", "int_users_activity_aggregated")


@dataclass(frozen=True)
class ScaleContext:
    """What every engine needs at one scale: the data, the rules and where to write."""

    scale: float
    source: LogSource
    rules: SessionRules
    work_dir: Path
    known_user_rows: int
    sample_users: int = 200
    seed: int = 2019
    dbt_select: tuple[str, ...] = ()


@dataclass
class SessioniserRun:
    engine: str
    label: str
    seconds: float  # end to end, for what the engine covered
    rows: int  # log rows it sessionised
    covers_all_users: bool
    dedication: dict[int, UserDedication]
    memory: MemoryPeak
    # Time the engine would need for every user (= seconds unless it ran on a sample).
    full_seconds_estimate: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "rows_per_second": round(self.rows_per_second),
            "users": len(self.dedication),
            "covers_all_users": self.covers_all_users,
            "full_seconds_estimate": round(self.full_seconds_estimate, 3),
            "memory": self.memory.as_dict(),
            **self.details,
        }


class Sessioniser(Protocol):
    name: ClassVar[str]
    label: ClassVar[str]

    def run(self, context: ScaleContext) -> SessioniserRun: ...


class ProjectSessioniser:
    """The dbt project on PostgreSQL: the whole `dbt build`, timed per model by dbt itself."""

    name = "project"
    label = "project: sessionisation models alone (dbt)"

    def __init__(self) -> None:
        self.build: BuildTiming | None = None

    def run(self, context: ScaleContext) -> SessioniserRun:
        info = context.source.info
        with measure_peak(info) as build_memory:
            # The whole build is the full check (selectors.yml): every test on every row, as
            # the weekly full rebuild runs it; the nightly build is timed by bench/incremental.py.
            self.build = run_dbt_build(
                info,
                context.work_dir / "dbt",
                full_refresh=True,
                select=list(context.dbt_select),
                selector=None if context.dbt_select else "full_check",
            )
        self.build.require_sessionisation()
        # In the build, dbt's threads run models side by side; the floor ran alone. Timing the
        # sessionisation models again on their own compares like with like.
        with measure_peak(info) as memory:
            alone = run_dbt_build(
                info,
                context.work_dir / "dbt-sessions",
                full_refresh=True,
                select=["path:" + SESSIONISATION_FOLDER.rstrip("/")],
                command_name="run",
            )
        alone.require_sessionisation()
        dedication = read_project_dedication(context.source)
        seconds = alone.sessionisation_seconds
        return SessioniserRun(
            engine=self.name,
            label=self.label,
            seconds=seconds,
            rows=context.known_user_rows,
            covers_all_users=True,
            dedication=dedication,
            memory=memory,
            full_seconds_estimate=seconds,
            details={
                "sessionisation_models": {
                    node.name: round(node.seconds, 3) for node in alone.sessionisation_nodes
                },
                "sessionisation_seconds_within_build": round(self.build.sessionisation_seconds, 3),
                "build": {**self.build.as_dict(), "memory": build_memory.as_dict()},
            },
        )


def read_project_dedication(source: LogSource) -> dict[int, UserDedication]:
    connection = source.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("select user_id, session_count, dedication_seconds from {}").format(
                    sql.Identifier(*PROJECT_USER_MODEL)
                )
            )
            return {
                int(user_id): UserDedication(int(sessions), int(seconds))
                for user_id, sessions, seconds in cursor.fetchall()
            }
    finally:
        connection.close()


class PandasSessioniser:
    """The vectorised pandas version, end to end: read the rows, then sessionise them."""

    name = "pandas"
    label = "pandas vectorised: read + sessionise"

    def run(self, context: ScaleContext) -> SessioniserRun:
        with measure_peak(context.source.info) as memory:
            started = time.perf_counter()
            log = read_log_frame(context.source)
            user_ids = read_user_ids(context.source)
            read_done = time.perf_counter()
            dedication = pandas_dedication(log, user_ids, context.rules)
            finished = time.perf_counter()
            rows = int(log["userid"].isin(user_ids).sum())
            del log
        return SessioniserRun(
            engine=self.name,
            label=self.label,
            seconds=finished - started,
            rows=rows,
            covers_all_users=True,
            dedication=dedication,
            memory=memory,
            full_seconds_estimate=finished - started,
            details={
                "read_seconds": round(read_done - started, 3),
                "sessionise_seconds": round(finished - read_done, 3),
            },
        )


class OriginalPortSessioniser:
    """The original analysis's per-user Python loops, on a random sample of users."""

    name = "original"
    label = "original analysis's loops (port)"

    def run(self, context: ScaleContext) -> SessioniserRun:
        with measure_peak(context.source.info) as memory:
            started = time.perf_counter()
            log = read_log_frame(context.source)
            user_ids = read_user_ids(context.source)
            read_seconds = time.perf_counter() - started
            active_users = np.sort(log.loc[log["userid"].isin(user_ids), "userid"].unique())
            sample = sample_users(active_users, context.sample_users, context.seed)
            sample_rows = int(log["userid"].isin(sample).sum())
            loop_started = time.perf_counter()
            dedication = original_dedication(log, sample, context.rules)
            loop_seconds = time.perf_counter() - loop_started
            del log
        share = len(sample) / len(active_users) if len(active_users) else 1.0
        return SessioniserRun(
            engine=self.name,
            label=self.label,
            seconds=loop_seconds,
            rows=sample_rows,
            covers_all_users=len(sample) == len(active_users),
            dedication=dedication,
            memory=memory,
            full_seconds_estimate=read_seconds + (loop_seconds / share if share else 0.0),
            details={
                "read_seconds": round(read_seconds, 3),
                "sample_users": len(sample),
                "active_users": len(active_users),
            },
        )


def sample_users(users: np.ndarray, size: int, seed: int) -> list[int]:
    """A reproducible uniform sample of ``size`` users (all of them when there are fewer)."""
    if size >= len(users):
        return [int(user) for user in users]
    rng = np.random.default_rng(seed)
    return sorted(int(user) for user in rng.choice(users, size=size, replace=False))


SESSIONISERS: dict[str, type[Sessioniser]] = {
    ProjectSessioniser.name: ProjectSessioniser,
    PandasSessioniser.name: PandasSessioniser,
    OriginalPortSessioniser.name: OriginalPortSessioniser,
}
