"""One benchmark run: for each scale, generate the data, measure the floor and every engine,
check that the sessionisers agree, and (at the chosen scales) time one day's incremental build."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql

from bench.agreement import Agreement, compare_sessionisers
from bench.dbt_build import DbtBuildFailed
from bench.dbt_engines import EngineBuildResult, ParquetExport, build_engine, export_moodle_tables
from bench.floor import FloorResult, measure_floor
from bench.incremental import IncrementalResult, run_incremental
from bench.log_source import LogSource
from bench.memory import MemoryPeak, measure_peak
from bench.rules import SessionRules
from bench.sessionisers import SESSIONISERS, ProjectSessioniser, ScaleContext, SessioniserRun
from bench.settings import DATABASE_PREFIX, BenchSettings, database_name
from runner.generator import generate
from runner.generator.generate import existing_tables
from runner.postgres.admin import ensure_database
from runner.postgres.connection import ConnectionInfo

Say = Callable[[str], None]


@dataclass
class ScaleResult:
    scale: float
    database: str
    log_rows: int = 0
    known_user_rows: int = 0
    generator: dict[str, Any] = field(default_factory=dict)
    floor: FloorResult | None = None
    floor_memory: MemoryPeak | None = None
    runs: list[SessioniserRun] = field(default_factory=list)
    agreement: Agreement | None = None
    incremental: IncrementalResult | None = None
    parquet_export: ParquetExport | None = None
    dbt_engines: list[EngineBuildResult] = field(default_factory=list)
    # Why this scale stopped early (a dbt build that failed); the figures before it are kept.
    error: str | None = None

    def run(self, engine: str) -> SessioniserRun | None:
        return next((run for run in self.runs if run.engine == engine), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "database": self.database,
            "log_rows": self.log_rows,
            "known_user_rows": self.known_user_rows,
            "generator": self.generator,
            "floor": {
                **(self.floor.as_dict() if self.floor else {}),
                "memory": self.floor_memory.as_dict() if self.floor_memory else None,
            },
            "engines": {run.engine: run.as_dict() for run in self.runs},
            "agreement": self.agreement.as_dict() if self.agreement else None,
            "incremental": self.incremental.as_dict() if self.incremental else None,
            "parquet_export": self.parquet_export.as_dict() if self.parquet_export else None,
            "dbt_engines": {build.engine: build.as_dict() for build in self.dbt_engines},
            "error": self.error,
        }


def run_scale(
    server: ConnectionInfo, settings: BenchSettings, scale: float, say: Say
) -> ScaleResult:
    name = database_name(scale)
    info = server.with_database(name)
    result = ScaleResult(scale=scale, database=name)
    ensure_database(info)
    try:
        source = LogSource(info)
        _prepare_data(source, settings, scale, result, say)
        result.log_rows = source.count_log_rows()
        result.known_user_rows = source.count_known_user_rows()
        say(f"scale {scale:g}: floor ({result.log_rows:,} log rows)")
        with measure_peak(info) as floor_memory:
            result.floor = measure_floor(source, repeats=settings.floor_repeats)
        result.floor_memory = floor_memory
        context = ScaleContext(
            scale=scale,
            source=source,
            rules=SessionRules.from_vars(),
            work_dir=settings.work_dir / name,
            known_user_rows=result.known_user_rows,
            sample_users=settings.sample_users,
            seed=settings.seed,
            dbt_select=settings.dbt_select,
        )
        project: ProjectSessioniser | None = None
        for engine_name in settings.sessionisers:
            engine = SESSIONISERS[engine_name]()
            say(f"scale {scale:g}: {engine.label}")
            result.runs.append(engine.run(context))
            if isinstance(engine, ProjectSessioniser):
                project = engine
        result.agreement = compare_sessionisers(result.runs)
        if settings.dbt_engines:
            engines = ", ".join(settings.dbt_engines)
            say(f"scale {scale:g}: the Moodle tables to Parquet for {engines}")
            parquet_dir = context.work_dir / "parquet"
            result.parquet_export = export_moodle_tables(source, parquet_dir)
            for engine_name in settings.dbt_engines:
                say(f"scale {scale:g}: dbt build on {engine_name}")
                result.dbt_engines.append(
                    build_engine(
                        engine_name,
                        source,
                        parquet_dir,
                        context.work_dir / f"dbt-{engine_name}",
                        result.log_rows,
                    )
                )
        if project and project.build and scale in settings.incremental_scales:
            say(f"scale {scale:g}: one day's incremental dbt build")
            result.incremental = run_incremental(
                source, context.work_dir / "dbt-incremental", project.build
            )
    except DbtBuildFailed as error:
        # A long run keeps the other scales' figures; the CLI still exits with 1.
        result.error = str(error)
        say(f"scale {scale:g}: stopped: {error}")
    finally:
        if not settings.keep_databases:
            drop_bench_database(server, name)
    return result


def _prepare_data(
    source: LogSource, settings: BenchSettings, scale: float, result: ScaleResult, say: Say
) -> None:
    connection = source.info.connect()
    try:
        present = existing_tables(connection, source.schema, source.prefix)
    finally:
        connection.close()
    if settings.reuse_data and present:
        say(f"scale {scale:g}: reusing the generated data in {source.info.dbname}")
        result.generator = {"reused": True}
    else:
        say(f"scale {scale:g}: generating")
        report = generate(source.info, scale=scale, seed=settings.seed, replace=bool(present))
        log_rows = report.row_counts[source.prefix + "logstore_standard_log"]
        result.generator = {
            "seconds": round(report.seconds, 3),
            "log_rows": log_rows,
            "log_rows_per_second": round(report.log_rows_per_second),
        }
    # Settle the table as autovacuum eventually would, so that no engine pays for it mid-run.
    connection = source.info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("vacuum (analyze) {}").format(source.log_table))
    finally:
        connection.close()


def drop_bench_database(server: ConnectionInfo, name: str) -> None:
    """Drop one of the benchmark's own databases (refuses any other name)."""
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    connection = server.with_database("postgres").connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
    finally:
        connection.close()


def run_benchmark(server: ConnectionInfo, settings: BenchSettings, say: Say) -> list[ScaleResult]:
    results = []
    for scale in settings.scales:
        started = time.perf_counter()
        results.append(run_scale(server, settings, scale, say))
        say(f"scale {scale:g}: done in {time.perf_counter() - started:.0f} s")
    return results
