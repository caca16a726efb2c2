"""`dbt build` with the runner's guarantees: validated options and one build per database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.build_lock import build_lock
from runner.connection import ConnectionInfo
from runner.dbt_invoke import DbtOutcome, NodeProgress, check_target, run_dbt, vars_argument
from runner.profiles import ensure_profile


@dataclass(frozen=True)
class BuildOptions:
    select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    full_refresh: bool = False
    vars: dict[str, Any] | None = None
    target: str | None = None

    def dbt_arguments(self) -> list[str]:
        arguments = ["build"]
        for selector in self.select:
            arguments += ["--select", selector]
        for selector in self.exclude:
            arguments += ["--exclude", selector]
        if self.full_refresh:
            arguments.append("--full-refresh")
        if self.vars:
            arguments += ["--vars", vars_argument(self.vars)]
        if self.target:
            arguments += ["--target", self.target]
        return arguments


def run_build(
    info: ConnectionInfo,
    options: BuildOptions,
    *,
    on_progress: Callable[[NodeProgress], None] | None = None,
    show_dbt_output: bool = False,
) -> DbtOutcome:
    """Run dbt build while holding the database's build lock (UserError if another build has it)."""
    if options.target:
        check_target(options.target, ensure_profile())
    with build_lock(info):
        return run_dbt(
            options.dbt_arguments(),
            info,
            on_progress=on_progress,
            show_dbt_output=show_dbt_output,
        )
