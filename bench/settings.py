"""What one benchmark run measures: scales, engines, sample size, where to write."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runner.paths import PROJECT_ROOT, RUNTIME_DIR

DEFAULT_SCALES = (1.0, 10.0, 30.0)
QUICK_SCALE = 0.05
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
WORK_DIR = RUNTIME_DIR / "bench"
# Databases the benchmark creates and drops; it never touches any other. Engineers sharing one
# server set MOODLE_BENCH_DATABASE_PREFIX so that their runs do not drop each other's data.
DATABASE_PREFIX = os.environ.get("MOODLE_BENCH_DATABASE_PREFIX", "moodle_bench_scale_")


@dataclass(frozen=True)
class BenchSettings:
    scales: tuple[float, ...] = DEFAULT_SCALES
    engines: tuple[str, ...] = ("project", "pandas", "original")
    # The whole dbt build on these engines too, beside PostgreSQL's (issue 9).
    dbt_engines: tuple[str, ...] = ("duckdb", "spark")
    seed: int = 2019
    sample_users: int = 200
    floor_repeats: int = 2
    # Scales at which one day's incremental run is measured (issue 6 asks for scale 10).
    incremental_scales: tuple[float, ...] = (10.0,)
    keep_databases: bool = False
    reuse_data: bool = False
    work_dir: Path = WORK_DIR
    output: Path | None = None
    dbt_select: tuple[str, ...] = field(default=())

    @classmethod
    def quick(cls, **overrides: object) -> BenchSettings:
        """A tiny run (seconds of data, a few users) that exercises every step."""
        values: dict[str, object] = {
            "scales": (QUICK_SCALE,),
            "sample_users": 25,
            "floor_repeats": 1,
            "incremental_scales": (QUICK_SCALE,),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def database_name(scale: float) -> str:
    """moodle_bench_scale_1, moodle_bench_scale_0_05, ..."""
    text = f"{scale:g}".replace(".", "_")
    return DATABASE_PREFIX + text
