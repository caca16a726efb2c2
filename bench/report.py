"""The results: ratios to the floor and to the project, the issue's targets, JSON and a table."""

from __future__ import annotations

import json
import math
import os
import platform
import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from rich.table import Table

from bench.run import ScaleResult
from bench.settings import RESULTS_DIR, BenchSettings
from runner.postgres.connection import ConnectionInfo

TARGET_SCALE = 10.0


@dataclass(frozen=True)
class Target:
    name: str
    met: bool | None  # None: not measurable in this run
    measured: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return value / reference


def scale_rows(result: ScaleResult) -> list[dict[str, Any]]:
    """The table's lines for one scale: each step with its ratios to the floor and the project."""
    floor = result.floor.client_seconds if result.floor else None
    project = result.run("project")
    project_seconds = project.seconds if project else None
    lines: list[dict[str, Any]] = []

    def add(
        step: str,
        seconds: float | None,
        rows: int | None,
        memory: dict[str, float] | None = None,
        **extra: Any,
    ) -> None:
        memory = memory or {}
        ratios = extra.pop("ratios", True)
        lines.append(
            {
                "step": step,
                "seconds": seconds,
                "rows_per_second": rows / seconds if rows and seconds else None,
                "x_floor": _ratio(seconds, floor) if ratios else None,
                "x_project": _ratio(seconds, project_seconds) if ratios else None,
                "runner_step_mib": memory.get("runner_step_mib"),
                "server_peak_mib": memory.get("server_peak_mib"),
                "server_temp_mib": memory.get("server_temp_mib"),
                **extra,
            }
        )

    if result.generator.get("seconds"):
        add(
            "generator (all 20 tables)",
            result.generator["seconds"],
            result.generator["log_rows"],
            ratios=False,
        )
    if result.floor:
        add(
            "floor: ordered pass, to client",
            result.floor.client_seconds,
            result.floor.rows,
            result.floor_memory.as_dict() if result.floor_memory else None,
        )
        add("floor: ordered pass, server only", result.floor.server_seconds, result.floor.rows)
    for run in result.runs:
        if run.covers_all_users:
            add(run.label, run.seconds, run.rows, run.memory.as_dict())
        else:
            # Ratios use the time for every user; rows/s is what the sample measured.
            lines.append(
                {
                    "step": f"{run.label}: {run.details.get('sample_users')} users run, "
                    "time for all estimated",
                    "seconds": run.full_seconds_estimate,
                    "rows_per_second": run.rows_per_second,
                    "x_floor": _ratio(run.full_seconds_estimate, floor),
                    "x_project": _ratio(run.full_seconds_estimate, project_seconds),
                    "runner_step_mib": run.memory.runner_step_mib,
                    "server_peak_mib": run.memory.server_peak_mib,
                    "server_temp_mib": run.memory.server_temp_mib,
                }
            )
    if project and "build" in project.details:
        build = project.details["build"]
        add("project: whole dbt build (wall)", build["wall_seconds"], None, build.get("memory"))
    postgres_build = (
        project.details["build"]["wall_seconds"]
        if project and "build" in (project.details)
        else None
    )
    if result.parquet_export:
        export = result.parquet_export
        add(
            "Moodle tables to Parquet (for duckdb, spark)",
            export.seconds,
            export.rows,
            export.memory.as_dict(),
            ratios=False,
        )
    for build in result.dbt_engines:
        if build.seconds is None:
            continue
        verdict = "" if build.success else f", {len(build.failed_nodes)} nodes failed"
        add(
            f"{build.engine}: whole dbt build (wall{verdict})",
            build.seconds,
            None,
            build.memory.as_dict() if build.memory else None,
            x_postgres_build=_ratio(build.seconds, postgres_build),
        )
    if result.incremental:
        add(
            "incremental: one appended day, dbt build",
            result.incremental.build.wall_seconds,
            None,
            rows_appended=result.incremental.rows_appended,
            share_of_full_build=result.incremental.share_of_full_build,
        )
    return [_rounded(line) for line in lines]


def _rounded(line: dict[str, Any]) -> dict[str, Any]:
    return {
        key: round(value, 4) if isinstance(value, float) else value for key, value in line.items()
    }


def evaluate_targets(results: list[ScaleResult]) -> list[Target]:
    targets: list[Target] = []
    by_scale = {result.scale: result for result in results}
    at_target = by_scale.get(TARGET_SCALE)

    def sessionisation_vs_floor(result: ScaleResult) -> float | None:
        project = result.run("project")
        if not (project and result.floor):
            return None
        return project.seconds / result.floor.client_seconds

    ratio = sessionisation_vs_floor(at_target) if at_target else None
    targets.append(
        Target(
            "sessionisation models within 3x the floor at scale 10",
            None if ratio is None else ratio <= 3,
            "not run at scale 10" if ratio is None else f"{ratio:.2f}x the floor",
        )
    )

    built = [
        result
        for result in results
        if result.run("project") and "build" in result.run("project").details
    ]
    if len(built) >= 2:
        first, last = built[0], built[-1]
        time_growth = _build_wall(last) / _build_wall(first)
        bound = _n_log_n(last.log_rows) / _n_log_n(first.log_rows)
        targets.append(
            Target(
                f"dbt build grows no faster than n log n (scale {first.scale:g} to {last.scale:g})",
                time_growth <= bound,
                f"time x{time_growth:.2f} for rows x{last.log_rows / first.log_rows:.2f} "
                f"(n log n bound x{bound:.2f})",
            )
        )
    else:
        targets.append(Target("dbt build grows no faster than n log n", None, "needs 2 scales"))

    comparisons = []
    for result in results:
        project, pandas = result.run("project"), result.run("pandas")
        if project and pandas:
            comparisons.append(
                f"scale {result.scale:g}: sessionisation {project.seconds:.1f} s, whole build "
                f"{_build_wall(result):.1f} s, pandas {pandas.seconds:.1f} s"
            )
    faster = [
        result.run("project").seconds < result.run("pandas").seconds
        for result in results
        if result.run("project") and result.run("pandas")
    ]
    targets.append(
        Target(
            "project faster than the vectorised pandas version end to end",
            all(faster) if faster else None,
            "; ".join(comparisons) or "not measured",
        )
    )

    # Below scale 1 the generator's fixed start-up cost dominates: its speed means nothing there.
    speeds = [
        result.generator["log_rows_per_second"]
        for result in results
        if result.generator.get("log_rows_per_second") and result.scale >= 1
    ]
    targets.append(
        Target(
            "generator at 100,000 log rows/s or better",
            min(speeds) >= 100_000 if speeds else None,
            f"slowest {min(speeds):,.0f} rows/s" if speeds else "not generated at scale >= 1",
        )
    )

    incremental = at_target.incremental if at_target else None
    if incremental is None:
        measured_elsewhere = [result for result in results if result.incremental]
        incremental = measured_elsewhere[-1].incremental if measured_elsewhere else None
    targets.append(
        Target(
            "one day's incremental run under 5 % of the full build (scale 10)",
            None if incremental is None else incremental.share_of_full_build < 0.05,
            "not measured"
            if incremental is None
            else f"{incremental.share_of_full_build:.1%} "
            f"({len(incremental.build.incremental_models)} incremental models)",
        )
    )
    agreements = [result.agreement for result in results if result.agreement]
    targets.append(
        Target(
            "project, port and pandas agree for every user they all cover",
            all(agreement.agrees for agreement in agreements) if agreements else None,
            ", ".join(
                f"scale {result.scale:g}: {result.agreement.users_compared} users, "
                f"{len(result.agreement.mismatches)} differ"
                for result in results
                if result.agreement
            ),
        )
    )
    return targets


def _build_wall(result: ScaleResult) -> float:
    return float(result.run("project").details["build"]["wall_seconds"])


def _n_log_n(rows: int) -> float:
    return rows * math.log(max(rows, 2))


def machine_description(server: ConnectionInfo) -> dict[str, Any]:
    memory = psutil.virtual_memory()
    description: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "memory_gib": round(memory.total / 1024**3, 1),
        "python": platform.python_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    connection = server.with_database("postgres").connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("select current_setting('server_version')")
            description["postgres"] = cursor.fetchone()[0]
            for setting in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather"):
                cursor.execute("select current_setting(%s)", (setting,))
                description[setting] = cursor.fetchone()[0]
    finally:
        connection.close()
    description["versions"] = {
        package: _installed_version(package)
        for package in (
            "dbt-core",
            "dbt-postgres",
            "dbt-duckdb",
            "duckdb",
            "dbt-spark",
            "pyspark",
            "pandas",
            "numpy",
        )
    }
    return description


def _installed_version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def results_document(
    results: list[ScaleResult], settings: BenchSettings, machine: dict[str, Any]
) -> dict[str, Any]:
    return {
        "benchmark": "moodle-analytics: sessionisation against the floor",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "settings": {
            "scales": list(settings.scales),
            "engines": list(settings.sessionisers),
            "seed": settings.seed,
            "sample_users": settings.sample_users,
            "floor_repeats": settings.floor_repeats,
            "incremental_scales": list(settings.incremental_scales),
            "dbt_engines": list(settings.dbt_engines),
        },
        "scales": [{**result.as_dict(), "table": scale_rows(result)} for result in results],
        "targets": [target.as_dict() for target in evaluate_targets(results)],
    }


def default_output_path(machine: dict[str, Any]) -> Path:
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in machine["hostname"])
    return RESULTS_DIR / f"{datetime.now(UTC):%Y-%m-%d}-{host}.json"


def write_document(document: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def _fmt(value: float | None, pattern: str) -> str:
    return "" if value is None else format(value, pattern)


def scale_table(scale_document: dict[str, Any]) -> Table:
    table = Table(
        title=f"scale {scale_document['scale']:g}: {scale_document['log_rows']:,} log rows "
        f"({scale_document['known_user_rows']:,} of known users)",
        title_justify="left",
    )
    for header in (
        "step", "seconds", "rows/s", "x floor", "x project",
        "runner +MiB", "server MiB", "temp MiB",
    ):  # fmt: skip
        table.add_column(header, justify="left" if header == "step" else "right")
    for line in scale_document["table"]:
        step = line["step"]
        if line.get("share_of_full_build") is not None:
            step += f" = {line['share_of_full_build']:.1%} of the full build"
        if line.get("x_postgres_build") is not None:
            step += f" = {line['x_postgres_build']:.1f}x PostgreSQL's"
        table.add_row(
            step,
            _fmt(line["seconds"], ".2f"),
            _fmt(line["rows_per_second"], ",.0f"),
            _fmt(line["x_floor"], ".2f"),
            _fmt(line["x_project"], ".2f"),
            _fmt(line["runner_step_mib"], ",.0f"),
            _fmt(line["server_peak_mib"], ",.0f"),
            _fmt(line["server_temp_mib"], ",.0f"),
        )
    return table


def engines_table(document: dict[str, Any]) -> Table | None:
    """The whole dbt build per engine and scale: wall time, peak memory, growth between scales."""
    engines = ["postgres", *sorted({name for scale in document["scales"]
                                    for name in scale.get("dbt_engines") or {}})]  # fmt: skip
    if len(engines) == 1:
        return None
    table = Table(
        title="the whole dbt build on each engine (seconds, runner peak MiB; growth from the "
        "previous scale in brackets)",
        title_justify="left",
    )
    table.add_column("scale")
    table.add_column("log rows", justify="right")
    for engine in engines:
        table.add_column(engine, justify="right")
    previous: dict[str, float] = {}
    for scale in document["scales"]:
        cells = []
        for engine in engines:
            seconds, memory, note = _engine_build(scale, engine)
            if seconds is None:
                cells.append(note or "")
                continue
            growth = f" (x{seconds / previous[engine]:.1f})" if engine in previous else ""
            previous[engine] = seconds
            cells.append(f"{seconds:,.0f} s{growth}, {memory:,.0f} MiB{note}")
        table.add_row(f"{scale['scale']:g}", f"{scale['log_rows']:,}", *cells)
    return table


def _engine_build(scale: dict[str, Any], engine: str) -> tuple[float | None, float, str]:
    if engine == "postgres":
        build = ((scale.get("engines") or {}).get("project") or {}).get("build")
        if not build:
            return None, 0.0, ""
        memory = (build.get("memory") or {}).get("runner_peak_mib") or 0.0
        return float(build["wall_seconds"]), memory, ""
    build = (scale.get("dbt_engines") or {}).get(engine)
    if not build:
        return None, 0.0, ""
    if build["seconds"] is None:
        return None, 0.0, build.get("skipped") or "not run"
    memory = (build.get("memory") or {}).get("runner_peak_mib") or 0.0
    note = "" if build["success"] else f", {len(build['failed_nodes'])} failed"
    return float(build["seconds"]), memory, note


def targets_table(document: dict[str, Any]) -> Table:
    table = Table(title="targets (reported, not asserted)", title_justify="left")
    table.add_column("target")
    table.add_column("met")
    table.add_column("measured")
    for target in document["targets"]:
        met = {True: "yes", False: "NO", None: "-"}[target["met"]]
        table.add_row(target["name"], met, target["measured"])
    return table
