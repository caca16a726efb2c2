"""Run dbt in-process through its programmatic API, with progress events and plain results.

The in-process way of runner.dbt.command: the CLI's builds, with live progress.

dbt does all the transforming; this module only prepares its environment (profile,
connection through the libpq variables, no usage tracking), reports node-by-node progress
from dbt's own events and turns the run results into a small, printable outcome.
"""

from __future__ import annotations

import difflib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runner.dbt.command import NodeOutcome, location_arguments
from runner.dbt.profiles import ensure_profile, profile_targets
from runner.paths import PROJECT_ROOT, TARGET_DIR
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

DBT_PROJECT_FILE = PROJECT_ROOT / "dbt_project.yml"
SELECTORS_FILE = PROJECT_ROOT / "selectors.yml"

# dbtRunner keeps global state (flags, adapters, event manager): one invocation at a time.
_INVOCATION_LOCK = threading.Lock()


@dataclass(frozen=True)
class NodeProgress:
    """One progress event: ``total`` once, then ``started``/``finished`` per node."""

    kind: str  # "total" | "started" | "finished"
    total: int = 0
    unique_id: str = ""
    name: str = ""
    resource_type: str = ""
    status: str = ""


@dataclass
class DbtOutcome:
    command: str
    success: bool
    seconds: float
    nodes: list[NodeOutcome] = field(default_factory=list)
    # dbt's own message when it stopped before running nodes (parse error, bad profile, ...)
    error: str | None = None
    log_file: Path | None = None

    @property
    def failed_nodes(self) -> list[NodeOutcome]:
        return [node for node in self.nodes if node.failed]

    def count(self, *statuses: str) -> int:
        return sum(1 for node in self.nodes if node.status in statuses)

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "success": self.success,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "counts": {
                "total": len(self.nodes),
                "passed": self.count("success", "pass"),
                "failed": len(self.failed_nodes),
                "warned": self.count("warn"),
                "skipped": self.count("skipped"),
                # Nodes dbt visits without running SQL (exposures in dbt 1.11's build).
                "no_op": self.count("no-op"),
            },
            "failed_nodes": [node.as_dict() for node in self.failed_nodes],
            "log_file": str(self.log_file) if self.log_file else None,
        }


# --- paths -----------------------------------------------------------------------------


def target_dir() -> Path:
    """Where dbt writes its artifacts: DBT_TARGET_PATH if set, else the project's target/."""
    chosen = os.environ.get("DBT_TARGET_PATH")
    return _absolute(chosen) if chosen else TARGET_DIR


def log_dir() -> Path:
    chosen = os.environ.get("DBT_LOG_PATH")
    return _absolute(chosen) if chosen else PROJECT_ROOT / "logs"


def _absolute(path_text: str) -> Path:
    path = Path(path_text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


# --- selectors -------------------------------------------------------------------------


def declared_selectors(selectors_file: Path = SELECTORS_FILE) -> list[str]:
    """The names of the selectors selectors.yml defines (`nightly`, `full_check`)."""
    document = yaml.safe_load(selectors_file.read_text(encoding="utf-8")) or {}
    return [entry["name"] for entry in document.get("selectors") or []]


def check_selector(name: str, selectors_file: Path = SELECTORS_FILE) -> None:
    """Refuse a selector selectors.yml does not define, naming the ones it does."""
    known = declared_selectors(selectors_file)
    if name not in known:
        raise UserError(
            f"--selector {name!r} is not a selector of this project",
            f"selectors.yml defines: {', '.join(known)}",
        )


# --- vars ------------------------------------------------------------------------------


def declared_vars(project_file: Path = DBT_PROJECT_FILE) -> dict[str, Any]:
    """The vars dbt_project.yml declares, with their defaults."""
    document = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    declared = document.get("vars") or {}
    return dict(declared) if isinstance(declared, dict) else {}


def parse_vars(text: str, project_file: Path = DBT_PROJECT_FILE) -> dict[str, Any]:
    """Parse a --vars string (YAML or JSON) and refuse names the project does not declare."""
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UserError(f"--vars is not valid YAML or JSON: {problem}", str(error)) from error
    if not isinstance(values, dict) or not values:
        raise UserError(
            "--vars must be a mapping of var names to values, e.g. --vars '{session_cap_hours: 2}'"
        )
    declared = declared_vars(project_file)
    for name in values:
        if not isinstance(name, str) or name not in declared:
            close = difflib.get_close_matches(str(name), list(declared), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(
                f"unknown var {name!r}{hint}: the project declares " + ", ".join(sorted(declared)),
            )
    return values


def check_target(target: str, profiles_dir: Path) -> None:
    targets = profile_targets(profiles_dir / "profiles.yml")
    if target not in targets:
        raise UserError(
            f"unknown dbt target {target!r}: the profile has " + ", ".join(targets),
        )


# --- running ---------------------------------------------------------------------------


@contextmanager
def _dbt_environment(info: ConnectionInfo) -> Iterator[None]:
    """Put the connection (libpq variables) into the environment dbt's profile reads."""
    overrides = {**info.libpq_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Events of a node that carry "index of total"; the hooks' own lines count hooks only.
_COUNTED_EVENTS = frozenset(
    {
        "LogStartLine",
        "LogTestResult",
        "LogModelResult",
        "LogSeedResult",
        "LogSnapshotResult",
        "LogNodeResult",
        "LogNodeNoOpResult",
        "LogFunctionResult",
        "SkippingDetails",
    }
)


def _progress_callback(on_progress: Callable[[NodeProgress], None]) -> Callable[[Any], None]:
    # dbt announces its node count (ConcurrencyLine) before adding the unit tests of `build`
    # to it; its per-node lines carry the final count, which is what the nodes add up to.
    announced = 0

    def callback(message: Any) -> None:
        nonlocal announced
        name = message.info.name
        if name in _COUNTED_EVENTS:
            total = int(getattr(message.data, "total", 0) or 0)
            if total > announced:
                announced = total
                on_progress(NodeProgress("total", total=total))
        if name in ("NodeStart", "NodeFinished"):
            node = message.data.node_info
            on_progress(
                NodeProgress(
                    "started" if name == "NodeStart" else "finished",
                    unique_id=node.unique_id,
                    name=node.node_name,
                    resource_type=node.resource_type,
                    status=node.node_status,
                )
            )

    return callback


def _node_outcomes(result: Any) -> list[NodeOutcome]:
    outcomes = []
    for run_result in getattr(result, "results", None) or []:
        node = run_result.node
        outcomes.append(
            NodeOutcome(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=str(node.resource_type),
                status=str(run_result.status),
                message=run_result.message,
                seconds=float(run_result.execution_time or 0.0),
                failures=run_result.failures,
                path=getattr(node, "original_file_path", None),
                materialized=getattr(getattr(node, "config", None), "materialized", None),
            )
        )
    return outcomes


def run_dbt(
    command: list[str],
    info: ConnectionInfo,
    *,
    on_progress: Callable[[NodeProgress], None] | None = None,
    show_dbt_output: bool = False,
    project_dir: Path = PROJECT_ROOT,
) -> DbtOutcome:
    """Run one dbt command (e.g. ["build", "--select", "marts"]) against ``info``'s database."""
    from dbt.cli.main import dbtRunner  # imported late: it takes a second to load

    if not _INVOCATION_LOCK.acquire(blocking=False):
        raise UserError("a dbt command is already running in this process")
    try:
        profiles = ensure_profile()
        args = [
            *command,
            *location_arguments(
                project_dir=project_dir,
                profiles_dir=profiles,
                target_path=target_dir(),
                log_path=log_dir(),
            ),
            "--log-level",
            "info" if show_dbt_output else "none",
            # The console stays quiet, but the full log a failure points to is always written.
            "--log-level-file",
            "debug",
            "--no-send-anonymous-usage-stats",
        ]
        callbacks = [_progress_callback(on_progress)] if on_progress else []
        started = time.monotonic()
        with _dbt_environment(info):
            result = dbtRunner(callbacks=callbacks).invoke(args)
        if isinstance(result.exception, KeyboardInterrupt):
            # dbtRunner swallows Ctrl-C; hand it back so the CLI reports "interrupted".
            raise KeyboardInterrupt
        outcome = DbtOutcome(
            command=command[0],
            success=bool(result.success),
            seconds=time.monotonic() - started,
            nodes=_node_outcomes(result.result),
            log_file=log_dir() / "dbt.log",
        )
        if result.exception is not None:
            outcome.error = str(result.exception).strip() or type(result.exception).__name__
        return outcome
    finally:
        _INVOCATION_LOCK.release()


def first_meaningful_line(text: str) -> str:
    """dbt's errors start with a category line ("Runtime Error"); keep it with the reason."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown dbt error"
    if len(lines) > 1 and lines[0].endswith("Error") and len(lines[0].split()) <= 3:
        return f"{lines[0]}: {lines[1]}"
    # "Compilation Error in macro x (path)" names where; the reason is the next line that is
    # not the same header repeated.
    header = _ERROR_HEADER.match(lines[0])
    if header:
        reasons = [line for line in lines[1:] if not _ERROR_HEADER.match(line)]
        if reasons:
            return f"{header.group(1)}: {reasons[0]}"
    return lines[0]


_ERROR_HEADER = re.compile(r"^(\w+ Error) in \w+ [\w.]+ \(.*\)$")


def dbt_versions() -> dict[str, str | None]:
    """Installed versions of dbt-core and dbt-postgres (None when missing)."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for package in ("dbt-core", "dbt-postgres"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return versions
