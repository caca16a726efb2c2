"""Build the dbt project on PostgreSQL, DuckDB or Spark from the same Moodle data, and time it.

PostgreSQL reads the Moodle tables themselves; DuckDB and Spark read the Parquet export of
those tables (runner.moodle.parquet_source), through the views the project's on-run-start hook puts
over it. Each build runs `dbt` in a subprocess with the example profile's target of the same
name and its own work folder (dbt's target/ and logs/, the DuckDB file, Spark's metastore and
warehouse), so builds on different engines never share state, and a Spark JVM ends with its
build. `build_on_engine` returns dbt's own per-node timings: the benchmark calls it per engine.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.dbt.command import (
    NodeOutcome,
    dbt_arguments,
    location_arguments,
    run_dbt_subprocess,
)
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

ENGINES = ("postgres", "duckdb", "spark")
PROFILES_EXAMPLE = PROJECT_ROOT / "profiles.example.yml"
DUCKDB_FILE = "warehouse.duckdb"
SPARK_FOLDER = "spark"
# dbt's console output, kept in the work folder (Spark's own log lines go there too).
OUTPUT_FILE = "dbt_output.log"


@dataclass(frozen=True)
class EngineTarget:
    """One engine to build on: the profile target of that name, and where its state lives.

    ``moodle`` is the PostgreSQL database holding the Moodle tables (the postgres target
    builds in it); ``parquet_dir`` is their Parquet export, read by duckdb and spark.
    """

    engine: str
    work_dir: Path
    moodle: ConnectionInfo | None = None
    parquet_dir: Path | None = None
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 2

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        if self.engine == "postgres" and self.moodle is None:
            raise ValueError("the postgres engine needs the Moodle database (moodle=...)")
        if self.engine != "postgres" and self.parquet_dir is None:
            raise ValueError(f"the {self.engine} engine needs the Parquet export (parquet_dir=...)")

    @property
    def duckdb_path(self) -> Path:
        return self.work_dir / DUCKDB_FILE

    @property
    def spark_dir(self) -> Path:
        return self.work_dir / SPARK_FOLDER

    def environment(self) -> dict[str, str]:
        """What the example profile reads for this target (no secret is written anywhere)."""
        env = {"DBT_TARGET": self.engine, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        if self.moodle is not None:
            env.update(self.moodle.libpq_env())
        if self.engine == "duckdb":
            env["DUCKDB_PATH"] = str(self.duckdb_path)
        if self.engine == "spark":
            env["SPARK_DIR"] = str(self.spark_dir)
            env["SPARK_MASTER"] = self.spark_master
            env["SPARK_SHUFFLE_PARTITIONS"] = str(self.spark_shuffle_partitions)
        return env

    def dbt_vars(self) -> dict[str, Any]:
        if self.engine == "postgres":
            return {}
        return {"moodle_source_format": "parquet", "moodle_parquet_path": str(self.parquet_dir)}


@dataclass
class EngineBuild:
    engine: str
    command: list[str]
    return_code: int
    wall_seconds: float
    nodes: list[NodeOutcome] = field(default_factory=list)
    output_file: Path | None = None

    @property
    def success(self) -> bool:
        return self.return_code == 0 and not self.failed_nodes

    @property
    def failed_nodes(self) -> list[NodeOutcome]:
        return [node for node in self.nodes if node.failed]

    def seconds_by_type(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for node in self.nodes:
            totals[node.resource_type] = totals.get(node.resource_type, 0.0) + node.seconds
        return {kind: round(seconds, 3) for kind, seconds in sorted(totals.items())}

    def output_tail(self, characters: int = 6000) -> str:
        if self.output_file is None or not self.output_file.exists():
            return ""
        return self.output_file.read_text(encoding="utf-8", errors="replace")[-characters:]

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "command": " ".join(self.command),
            "success": self.success,
            "return_code": self.return_code,
            "wall_seconds": round(self.wall_seconds, 3),
            "node_seconds_by_type": self.seconds_by_type(),
            "nodes": len(self.nodes),
            "failed_nodes": [node.name for node in self.failed_nodes],
            "models": {
                node.name: round(node.seconds, 3)
                for node in self.nodes
                if node.resource_type == "model"
            },
        }


def _prepare_work_dir(target: EngineTarget) -> Path:
    profiles_dir = target.work_dir / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILES_EXAMPLE, profiles_dir / "profiles.yml")
    if target.engine == "spark":
        target.spark_dir.mkdir(exist_ok=True)
    return profiles_dir


def build_on_engine(
    target: EngineTarget,
    *,
    command: str = "build",
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dbt_vars: Mapping[str, Any] | None = None,
    threads: int | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 4 * 3600,
) -> EngineBuild:
    """Run ``dbt <command>`` on one engine; dbt's per-node timings come from run_results.json.

    Failed tests or models do not raise: they are in the result (``success``, ``failed_nodes``).
    """
    profiles_dir = _prepare_work_dir(target)
    target_dir = target.work_dir / "target"
    arguments = dbt_arguments(
        command,
        target=target.engine,
        select=select,
        exclude=exclude,
        threads=threads,
        extra=extra_args,
        dbt_vars={**target.dbt_vars(), **(dbt_vars or {})},
    )
    run = run_dbt_subprocess(
        arguments,
        locations=location_arguments(
            project_dir=PROJECT_ROOT,
            profiles_dir=profiles_dir,
            target_path=target_dir,
            log_path=target.work_dir / "logs",
        ),
        target_path=target_dir,
        work_dir=target.work_dir,
        env=target.environment(),
        output_file=target.work_dir / OUTPUT_FILE,
        timeout=timeout,
    )
    return EngineBuild(
        engine=target.engine,
        command=arguments,
        return_code=run.return_code,
        wall_seconds=run.wall_seconds,
        nodes=run.nodes,
        output_file=run.output_file,
    )
