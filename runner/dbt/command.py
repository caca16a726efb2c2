"""The one way the runner, the engines and the benchmark call dbt.

``dbt_arguments`` builds a command's arguments and ``location_arguments`` the folders dbt reads
and writes; ``run_dbt_subprocess`` runs them as a separate ``dbt`` process (the engines and the
benchmark: each build its own state, a Spark JVM ends with it), ``runner.dbt.invoke.run_dbt`` in
this process (the CLI: live progress from dbt's events). Either way every node comes back as one
``NodeOutcome``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


@dataclass(frozen=True)
class NodeOutcome:
    """One node of a dbt run: what dbt reported for it and how long it took."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None
    seconds: float
    failures: int | None = None
    path: str | None = None
    materialized: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_model(self) -> bool:
        return self.resource_type == "model"

    def as_dict(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "name": self.name,
            "resource_type": self.resource_type,
            "status": self.status,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "failures": self.failures,
            "path": self.path,
        }


def dbt_executable() -> Path:
    """The ``dbt`` installed beside this Python (the project's own, not one on PATH)."""
    return Path(sys.executable).parent / "dbt"


def vars_argument(values: Mapping[str, Any]) -> str:
    """The --vars value handed to dbt (JSON is valid YAML and needs no quoting care)."""
    return json.dumps(dict(values), default=str)


def dbt_arguments(
    command: str,
    *,
    target: str | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    full_refresh: bool = False,
    threads: int | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """``dbt <command>`` with its options, e.g. ``["build", "--select", "marts"]``."""
    arguments = [command]
    if target is not None:
        arguments += ["--target", target]
    for selector in select:
        arguments += ["--select", selector]
    for selector in exclude:
        arguments += ["--exclude", selector]
    if full_refresh:
        arguments.append("--full-refresh")
    if threads is not None:
        arguments += ["--threads", str(threads)]
    arguments += list(extra)
    if dbt_vars:
        arguments += ["--vars", vars_argument(dbt_vars)]
    return arguments


def location_arguments(
    *, project_dir: Path, profiles_dir: Path, target_path: Path, log_path: Path
) -> list[str]:
    """Where dbt finds the project and profile and writes its artifacts and log."""
    return [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]


@dataclass
class SubprocessRun:
    """A ``dbt`` process that ended: its exit code, wall time, nodes and console output."""

    arguments: list[str]
    return_code: int
    wall_seconds: float
    nodes: list[NodeOutcome] = field(default_factory=list)
    # False when dbt stopped before running anything (no run_results.json was written).
    ran: bool = True
    output_file: Path | None = None


def run_dbt_subprocess(
    arguments: Sequence[str],
    *,
    locations: Sequence[str],
    target_path: Path,
    work_dir: Path,
    env: Mapping[str, str],
    output_file: Path,
    timeout: float,
) -> SubprocessRun:
    """Run ``dbt <arguments> <locations>`` in ``work_dir``; dbt's output goes to ``output_file``.

    Failed tests or models do not raise: they are in the nodes, read from run_results.json.
    """
    results_file = target_path / "run_results.json"
    results_file.unlink(missing_ok=True)
    started = time.perf_counter()
    with output_file.open("w", encoding="utf-8") as output:
        completed = subprocess.run(
            [str(dbt_executable()), *arguments, *locations],
            cwd=work_dir,
            env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    return SubprocessRun(
        arguments=list(arguments),
        return_code=completed.returncode,
        wall_seconds=time.perf_counter() - started,
        nodes=read_run_results(target_path),
        ran=results_file.exists(),
        output_file=output_file,
    )


def read_run_results(target_path: Path) -> list[NodeOutcome]:
    """Each node's status and execution time from run_results.json (empty when absent), with its
    path and materialization from manifest.json when dbt wrote one."""
    results_file = target_path / "run_results.json"
    if not results_file.exists():
        return []
    results = json.loads(results_file.read_text(encoding="utf-8"))
    manifest_file = target_path / "manifest.json"
    manifest = (
        json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.exists() else {}
    )
    nodes = manifest.get("nodes", {})
    outcomes = []
    for result in results["results"]:
        unique_id = result["unique_id"]
        node = nodes.get(unique_id, {})
        outcomes.append(
            NodeOutcome(
                unique_id=unique_id,
                name=node.get("name") or _node_name(unique_id),
                resource_type=node.get("resource_type") or unique_id.split(".", 1)[0],
                status=str(result["status"]),
                message=result.get("message"),
                seconds=float(result.get("execution_time") or 0.0),
                failures=result.get("failures"),
                path=node.get("original_file_path"),
                materialized=(node.get("config") or {}).get("materialized"),
            )
        )
    return outcomes


def _node_name(unique_id: str) -> str:
    """model.<project>.dim_user -> dim_user; unit tests and hooks are named by their last part."""
    parts = unique_id.split(".")
    if parts[0] in ("unit_test", "operation") or len(parts) < 3:
        return parts[-1]
    return parts[2]
