"""The whole `dbt build` on DuckDB and Spark, beside PostgreSQL's, at one scale.

Both read the Parquet export of the Moodle tables (runner.moodle.parquet_source), which is timed as
a step of its own. Spark builds on a standalone cluster started from the pyspark package for
the build (a master and two workers, each offering one core: the executors run in JVMs of
their own, as on a cluster of many machines); its start is not timed. Each build is the same
project, vars and tests as PostgreSQL's; its wall time and peak memory (this process and its
children: the dbt subprocess and, for Spark, the driver's JVM and the cluster's master,
workers and executors) are measured the same way. A failed build is recorded with the names
of its failed nodes, not raised: the other engines' figures still count.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.log_source import LogSource
from bench.memory import MemoryPeak, measure_peak
from runner.dbt.engines import EngineBuild, EngineTarget, build_on_engine
from runner.dbt.spark_cluster import ClusterSettings, free_port, running_cluster
from runner.moodle.parquet_source import export_source

DBT_ENGINES = ("duckdb", "spark")
# Spark splits each shuffle into this many tasks per million log rows (at least 2): enough to
# keep each task's share of a window sort in the driver's memory at scale 30.
SPARK_PARTITIONS_PER_MILLION_ROWS = 1
# The cluster the Spark column is measured on: this machine's two cores, one per worker, and
# memory for one executor each (the profile's 2 GiB heap and its overhead).
SPARK_WORKERS = 2
SPARK_WORKER_MEMORY = "3g"


@dataclass
class EngineBuildResult:
    engine: str
    seconds: float | None = None
    success: bool = False
    nodes: int = 0
    failed_nodes: list[str] = field(default_factory=list)
    memory: MemoryPeak | None = None
    node_seconds_by_type: dict[str, float] = field(default_factory=dict)
    models: dict[str, float] = field(default_factory=dict)
    # Why it did not run (no Java for Spark), when it did not.
    skipped: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "success": self.success,
            "nodes": self.nodes,
            "failed_nodes": self.failed_nodes,
            "memory": self.memory.as_dict() if self.memory else None,
            "node_seconds_by_type": self.node_seconds_by_type,
            "models": self.models,
            "skipped": self.skipped,
            "settings": self.settings,
        }


@dataclass
class ParquetExport:
    seconds: float
    rows: int
    bytes_written: int
    memory: MemoryPeak

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "bytes": self.bytes_written,
            "memory": self.memory.as_dict(),
        }


def export_moodle_tables(source: LogSource, out_dir: Path) -> ParquetExport:
    """The 20 Moodle tables to Parquet, as `moodle-analytics export-source` writes them."""
    shutil.rmtree(out_dir, ignore_errors=True)
    with measure_peak(source.info) as memory:
        started = time.perf_counter()
        report = export_source(source.info, out_dir, schema=source.schema, prefix=source.prefix)
        seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in out_dir.rglob("*.parquet"))
    return ParquetExport(seconds, report.rows, size, memory)


def spark_partitions(log_rows: int) -> int:
    return max(2, math.ceil(log_rows / 1_000_000 * SPARK_PARTITIONS_PER_MILLION_ROWS))


def build_engine(
    engine: str, source: LogSource, parquet_dir: Path, work_dir: Path, log_rows: int
) -> EngineBuildResult:
    if engine == "spark" and shutil.which("java") is None:
        return EngineBuildResult(engine, skipped="no Java on this machine (PySpark needs it)")
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    if engine != "spark":
        target = EngineTarget(engine, work_dir, parquet_dir=parquet_dir)
        with measure_peak(source.info) as memory:
            build = build_on_engine(target)
        return _result(engine, build, memory, {})
    cluster_settings = ClusterSettings(
        work_dir / "cluster",
        port=free_port(),
        web_port=free_port(),
        workers=SPARK_WORKERS,
        cores_per_worker=1,
        memory_per_worker=SPARK_WORKER_MEMORY,
    )
    with running_cluster(cluster_settings) as cluster:
        target = EngineTarget(
            engine,
            work_dir,
            parquet_dir=parquet_dir,
            spark_master=cluster.master_url,
            spark_shuffle_partitions=spark_partitions(log_rows),
        )
        with measure_peak(source.info) as memory:
            build = build_on_engine(target)
    settings = {
        "master": f"standalone cluster, {SPARK_WORKERS} workers of 1 core, {SPARK_WORKER_MEMORY}",
        "shuffle_partitions": target.spark_shuffle_partitions,
    }
    return _result(engine, build, memory, settings)


def _result(
    engine: str, build: EngineBuild, memory: MemoryPeak, settings: dict[str, Any]
) -> EngineBuildResult:
    return EngineBuildResult(
        engine=engine,
        seconds=build.wall_seconds,
        success=build.success,
        nodes=len(build.nodes),
        failed_nodes=[node.name for node in build.failed_nodes],
        memory=memory,
        node_seconds_by_type=build.seconds_by_type(),
        models=build.as_dict()["models"],
        settings=settings,
    )
