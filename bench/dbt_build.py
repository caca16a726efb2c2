"""`dbt build` in a subprocess with its own paths, timed per node from run_results.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.connection import ConnectionInfo
from runner.paths import PROJECT_ROOT

PROFILES_EXAMPLE = PROJECT_ROOT / "profiles.example.yml"
# The folder of the sessionisation models (int_log_events_sessionised and the aggregates).
SESSIONISATION_FOLDER = "models/intermediate/sessions/"
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


class DbtBuildFailed(RuntimeError):
    """dbt exited non-zero; the message ends with the end of its output."""


@dataclass(frozen=True)
class NodeTiming:
    unique_id: str
    name: str
    resource_type: str
    materialized: str | None
    path: str
    status: str
    seconds: float

    @property
    def is_model(self) -> bool:
        return self.resource_type == "model"


@dataclass
class BuildTiming:
    command: list[str]
    wall_seconds: float
    nodes: list[NodeTiming] = field(default_factory=list)
    return_code: int = 0

    @property
    def failed_nodes(self) -> list[NodeTiming]:
        return [node for node in self.nodes if node.status in FAILED_STATUSES]

    def require_sessionisation(self) -> None:
        """The benchmark needs the sessionisation models built, whatever else failed."""
        built = {node.name for node in self.sessionisation_nodes if node.status == "success"}
        if not built or len(built) < len(self.sessionisation_nodes):
            raise DbtBuildFailed(
                f"dbt {' '.join(self.command)} did not build the sessionisation models "
                f"({', '.join(node.name for node in self.failed_nodes) or 'no run results'})"
            )

    def nodes_under(self, folder: str) -> list[NodeTiming]:
        return [node for node in self.nodes if node.path.startswith(folder)]

    @property
    def sessionisation_nodes(self) -> list[NodeTiming]:
        return [node for node in self.nodes_under(SESSIONISATION_FOLDER) if node.is_model]

    @property
    def sessionisation_seconds(self) -> float:
        return sum(node.seconds for node in self.sessionisation_nodes)

    @property
    def incremental_models(self) -> list[str]:
        return [node.name for node in self.nodes if node.materialized == "incremental"]

    def seconds_by_type(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for node in self.nodes:
            totals[node.resource_type] = totals.get(node.resource_type, 0.0) + node.seconds
        return {kind: round(seconds, 3) for kind, seconds in sorted(totals.items())}

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": " ".join(self.command),
            "wall_seconds": round(self.wall_seconds, 3),
            "node_seconds_by_type": self.seconds_by_type(),
            "sessionisation_seconds": round(self.sessionisation_seconds, 3),
            "incremental_models": self.incremental_models,
            "return_code": self.return_code,
            "failed_nodes": [node.name for node in self.failed_nodes],
            "models": {
                node.name: round(node.seconds, 3)
                for node in sorted(self.nodes, key=lambda node: -node.seconds)
                if node.is_model
            },
        }


def dbt_executable() -> Path:
    return Path(sys.executable).parent / "dbt"


def run_dbt_build(
    info: ConnectionInfo,
    work_dir: Path,
    *,
    full_refresh: bool = True,
    select: list[str] | None = None,
    selector: str | None = None,
    command_name: str = "build",
    timeout: float = 4 * 3600,
) -> BuildTiming:
    """Run ``dbt build`` (or ``run``) against ``info`` and read dbt's own per-node timings.

    A failing test does not stop the benchmark (its timings are still dbt's): the failures are
    recorded in the result. Only a dbt that produced no run results raises DbtBuildFailed.
    """
    profiles_dir = work_dir / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILES_EXAMPLE, profiles_dir / "profiles.yml")
    target_dir = work_dir / "target"
    (target_dir / "run_results.json").unlink(missing_ok=True)
    arguments = [command_name]
    for pattern in select or []:
        arguments += ["--select", pattern]
    if selector:
        arguments += ["--selector", selector]
    if full_refresh:
        arguments.append("--full-refresh")
    command = [
        str(dbt_executable()),
        *arguments,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(work_dir / "logs"),
    ]
    environment = {**os.environ, **info.libpq_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=work_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall_seconds = time.perf_counter() - started
    if not (target_dir / "run_results.json").exists():
        raise DbtBuildFailed(
            f"dbt {' '.join(arguments)} exited with {completed.returncode} before running: "
            + dbt_error_summary(completed.stdout + completed.stderr)
        )
    return BuildTiming(arguments, wall_seconds, read_node_timings(target_dir), completed.returncode)


def dbt_error_summary(output: str) -> str:
    """dbt's reason in one line: what follows "Encountered an error:", whitespace squeezed."""
    marker = "Encountered an error:"
    text = output[output.rindex(marker) + len(marker) :] if marker in output else output
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:4]) if lines else "no output"


def read_node_timings(target_dir: Path) -> list[NodeTiming]:
    """Per-node execution time from run_results.json, with each node's path from manifest.json."""
    results = json.loads((target_dir / "run_results.json").read_text(encoding="utf-8"))
    manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    nodes = manifest.get("nodes", {})
    timings = []
    for result in results["results"]:
        unique_id = result["unique_id"]
        node = nodes.get(unique_id, {})
        timings.append(
            NodeTiming(
                unique_id=unique_id,
                name=node.get("name", unique_id.rsplit(".", 1)[-1]),
                resource_type=node.get("resource_type", unique_id.split(".", 1)[0]),
                materialized=(node.get("config") or {}).get("materialized"),
                path=node.get("original_file_path", ""),
                status=str(result["status"]),
                seconds=float(result.get("execution_time") or 0.0),
            )
        )
    return timings
