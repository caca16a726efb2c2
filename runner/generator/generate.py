"""generate(): build the whole synthetic Moodle database and bulk-load it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from psycopg2 import sql

from runner.moodle.schema import (
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    create_schema,
    validate_identifier,
    validate_prefix,
)
from runner.postgres.connection import ConnectionInfo

from . import assessments, forums, gradebook, optional_tables, plan
from .activity import BrowsingSimulator, build_actors
from .anomalies import HostileData, validate_anomaly_rate
from .copyload import copy_rows
from .courses import N_COURSES
from .episodes import EpisodeExpander, Plans
from .loader import ParallelCopier, build_indexes_and_analyze, csv_payload
from .logstream import LogStream
from .logwriter import LOG_COLUMNS, LogEncoder
from .names import random_tokens
from .site import Site, build_site
from .tables import completion_table, static_tables, user_table

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class GenerationSettings:
    scale: float = 1.0
    seed: int = 2019
    anomaly_rate: float = 0.0  # hostile rows added to the clean ones: see anomalies.py


@dataclass
class GenerationReport:
    row_counts: dict[str, int] = field(default_factory=dict)  # physical table name -> rows
    seconds: float = 0.0
    log_rows_per_second: float = 0.0
    scale: float = 1.0
    seed: int = 2019
    anomalies: dict[str, int] = field(default_factory=dict)  # anomaly kind -> rows added


# The random stream of the hostile rows: apart from every clean stream, so adding anomalies
# changes no clean row.
ANOMALY_STREAM = 13
# The random stream of the optional tables (assignments, quizzes, course completion): apart
# too, so writing them changes no row of the 20 required tables.
OPTIONAL_STREAM = 14


def _stream(settings: GenerationSettings, index: int) -> np.random.Generator:
    """An independent, reproducible random stream per part of the generator."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([settings.seed, index])))


def build_world(settings: GenerationSettings) -> tuple[Site, Plans]:
    site = build_site(_stream(settings, 1), _stream(settings, 5), settings.scale)
    rng = _stream(settings, 2)
    cohort = plan.build_cohort(rng, site)
    staff = plan.build_staff(site)
    enrolments = plan.build_enrolments(rng, site, cohort, staff)
    attempts = assessments.plan_quiz_attempts(rng, site, cohort, enrolments)
    submissions = assessments.plan_submissions(rng, site, cohort, enrolments, staff)
    items = gradebook.build_grade_items(site)
    book = gradebook.replay_grades(items, attempts, submissions)
    discussions, posts, notifications = forums.plan_forums(
        rng, site, cohort, enrolments, staff, settings.scale
    )
    plans = Plans(
        cohort,
        enrolments,
        staff,
        attempts,
        submissions,
        book,
        discussions,
        posts,
        notifications,
        role_assignment_offset=len(staff.managers),
    )
    return site, plans


def generate(
    info: ConnectionInfo,
    schema: str = "public",
    prefix: str = "mdl_",
    scale: float = 1.0,
    seed: int = 2019,
    replace: bool = False,
    progress: Progress | None = None,
    anomaly_rate: float = 0.0,
) -> GenerationReport:
    """Write a synthetic Moodle 4.5 database (the 20 required tables and the optional ones)
    into ``schema``.

    ``anomaly_rate`` > 0 adds hostile rows (about that share of each table; anomalies.py) to
    exactly the rows the same seed gives without them.
    Raises ValueError for bad options, or when the tables exist and ``replace`` is False.
    """
    validate_identifier(schema, "schema")
    validate_prefix(prefix)
    if not scale > 0 or scale > 1000:
        raise ValueError(f"scale must be above 0 and at most 1000, not {scale!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    settings = GenerationSettings(
        scale=float(scale), seed=seed, anomaly_rate=validate_anomaly_rate(anomaly_rate)
    )
    report_progress = progress or (lambda stage, rows: None)
    started = time.perf_counter()
    connection = info.connect()
    try:
        existing = existing_tables(connection, schema, prefix)
        if existing and not replace:
            raise ValueError(
                f"schema {schema!r} already has Moodle tables ({', '.join(existing)}); "
                "pass replace=True to drop and recreate them"
            )
        create_schema(connection, schema, prefix, with_indexes=False, replace=replace)
    finally:
        connection.close()
    try:
        counts, anomalies = _load(info, schema, prefix, settings, report_progress)
        log_rows = counts[prefix + "logstore_standard_log"]
        build_indexes_and_analyze(
            info, schema, prefix, progress=lambda stage: report_progress(stage, log_rows)
        )
    except BaseException:
        # Never leave a half-loaded database behind: the tables were created by this call.
        _drop_tables(info, schema, prefix)
        raise
    seconds = time.perf_counter() - started
    return GenerationReport(
        counts, seconds, log_rows / seconds if seconds else 0.0, settings.scale, seed, anomalies
    )


def existing_tables(connection, schema: str, prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (schema,),
        )
        present = {row[0] for row in cursor.fetchall()}
    return [prefix + name for name in REQUIRED_TABLES + OPTIONAL_TABLES if prefix + name in present]


def _load(
    info: ConnectionInfo, schema: str, prefix: str, settings: GenerationSettings, progress: Progress
) -> tuple[dict[str, int], dict[str, int]]:
    """Every row of the tables, in two transactions: the log's COPY streams and the rest.
    Also returns the hostile rows added, by anomaly kind."""
    counts: dict[str, int] = {}
    site, plans = build_world(settings)
    optional_rng = _stream(settings, OPTIONAL_STREAM)
    criteria_courses = optional_tables.courses_with_criteria(optional_rng)
    hostile = HostileData(settings.anomaly_rate, _stream(settings, ANOMALY_STREAM), site, plans)
    progress("plan", 0)
    log_table = prefix + "logstore_standard_log"
    connection = info.connect()
    copier = ParallelCopier(info, schema, log_table, list(LOG_COLUMNS))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            for table, columns, rows in (
                *static_tables(site, plans),
                *optional_tables.assignment_tables(site, plans, optional_rng),
                *optional_tables.quiz_tables(site, plans),
                optional_tables.criteria_table(criteria_courses),
            ):
                counts[prefix + table] = copy_rows(cursor, schema, prefix + table, columns, rows)
            progress("tables", sum(counts.values()))
            stream = _log_stream(site, plans, settings)
            encoder = LogEncoder(site, random_tokens(_stream(settings, 4), 4096, 26))
            counts[log_table] = 0
            for block, first_id in stream.blocks():
                log_rows = encoder.encode(block, first_id)
                hostile.sample(log_rows)
                copier.put(csv_payload(log_rows))
                counts[log_table] += len(block)
                progress("log", counts[log_table])
            hostile_log_rows = hostile.log_rows(first_id=counts[log_table] + 1)
            if hostile_log_rows.num_rows:
                copier.put(csv_payload(hostile_log_rows))
                counts[log_table] += hostile_log_rows.num_rows
            observed = stream.finish()
            for table, columns, rows in (
                user_table(site, plans, observed),
                completion_table(plans, observed),
                optional_tables.course_completions_table(plans, optional_rng, criteria_courses),
            ):
                counts[prefix + table] = copy_rows(cursor, schema, prefix + table, columns, rows)
            for table, columns, rows in hostile.tables():
                counts[prefix + table] += copy_rows(cursor, schema, prefix + table, columns, rows)
        copier.finish()
        connection.commit()
    except BaseException:
        with contextlib.suppress(BaseException):  # the original error is the one to report
            copier.finish(commit=False)
        connection.rollback()
        raise
    finally:
        connection.close()
    row_counts = {
        prefix + name: counts.get(prefix + name, 0) for name in REQUIRED_TABLES + OPTIONAL_TABLES
    }
    return row_counts, dict(sorted(hostile.counts.items()))


def _log_stream(site: Site, plans: Plans, settings: GenerationSettings) -> LogStream:
    actors = build_actors(
        site,
        plans.cohort,
        plans.enrolments,
        plans.staff,
        *plan.learner_courses(plans.enrolments, plans.cohort.count),
    )
    course_weights = np.bincount(plans.enrolments.course, minlength=N_COURSES + 2)[2:].astype(float)
    simulator = BrowsingSimulator(site, actors, plans.staff, plans.discussions, course_weights)
    expander = EpisodeExpander(site, plans, _stream(settings, 3))
    return LogStream(site, simulator, expander, settings.seed, settings.scale)


def _drop_tables(info: ConnectionInfo, schema: str, prefix: str) -> None:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            for name in REQUIRED_TABLES + OPTIONAL_TABLES:
                cursor.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, prefix + name))
                )
    finally:
        connection.close()
