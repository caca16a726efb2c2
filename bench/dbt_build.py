"""`dbt build` on PostgreSQL in a subprocess with its own paths, timed per node by dbt.

Runs through runner.dbt.engines.build_on_engine (the postgres target), like every dbt build the
project times; this module adds what the benchmark reads from it: the sessionisation models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.dbt.command import NodeOutcome
from runner.dbt.engines import EngineTarget, build_on_engine
from runner.postgres.connection import ConnectionInfo

# The folder of the sessionisation models (int_log_events_sessionised and the aggregates).
SESSIONISATION_FOLDER = "models/intermediate/sessions/"


class DbtBuildFailed(RuntimeError):
    """dbt exited non-zero; the message ends with the end of its output."""


@dataclass
class BuildTiming:
    command: list[str]
    wall_seconds: float
    nodes: list[NodeOutcome] = field(default_factory=list)
    return_code: int = 0

    @property
    def failed_nodes(self) -> list[NodeOutcome]:
        return [node for node in self.nodes if node.failed]

    def require_sessionisation(self) -> None:
        """The benchmark needs the sessionisation models built, whatever else failed."""
        built = {node.name for node in self.sessionisation_nodes if node.status == "success"}
        if not built or len(built) < len(self.sessionisation_nodes):
            raise DbtBuildFailed(
                f"dbt {' '.join(self.command)} did not build the sessionisation models "
                f"({', '.join(node.name for node in self.failed_nodes) or 'no run results'})"
            )

    def nodes_under(self, folder: str) -> list[NodeOutcome]:
        return [node for node in self.nodes if (node.path or "").startswith(folder)]

    @property
    def sessionisation_nodes(self) -> list[NodeOutcome]:
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
    build = build_on_engine(
        EngineTarget("postgres", work_dir, moodle=info),
        command=command_name,
        select=select or (),
        extra_args=[
            *(["--selector", selector] if selector else []),
            *(["--full-refresh"] if full_refresh else []),
        ],
        timeout=timeout,
    )
    if not (work_dir / "target" / "run_results.json").exists():
        raise DbtBuildFailed(
            f"dbt {' '.join(build.command)} exited with {build.return_code} before running: "
            + dbt_error_summary(build.output_tail())
        )
    return BuildTiming(build.command, build.wall_seconds, build.nodes, build.return_code)


def dbt_error_summary(output: str) -> str:
    """dbt's reason in one line: what follows "Encountered an error:", whitespace squeezed."""
    marker = "Encountered an error:"
    text = output[output.rindex(marker) + len(marker) :] if marker in output else output
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:4]) if lines else "no output"
