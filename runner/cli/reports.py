"""What a command reports when its result comes from more than one layer, or from a layer whose
own result says nothing of where it went: each with ``as_dict()`` for --json, ``ok`` for the exit
code, and a renderer in runner.cli.renderers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the CLI imports each layer when a command needs it
    from runner.cli.checks import CheckResult
    from runner.dbt.invoke import DbtOutcome
    from runner.generator import GenerationReport
    from runner.postgres.connection import ConnectionInfo
    from runner.postgres.embedded import EmbeddedStatus
    from runner.postgres.reporting_login import ReportingLogin
    from runner.publishing.tableau import TableauReport


@dataclass(frozen=True)
class GeneratedSite:
    database: str
    schema: str
    generation: GenerationReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "schema": self.schema,
            "row_counts": self.generation.row_counts,
            "anomalies": self.generation.anomalies,
            "seconds": round(self.generation.seconds, 3),
            "log_rows_per_second": round(self.generation.log_rows_per_second),
        }


@dataclass(frozen=True)
class TableauFiles:
    sources: TableauReport
    workbook: Path

    def as_dict(self) -> dict[str, Any]:
        return {**self.sources.as_dict(), "workbook": str(self.workbook)}


@dataclass(frozen=True)
class Checks:
    results: list[CheckResult]

    @property
    def failures(self) -> list[CheckResult]:
        from runner.cli.checks import FAIL

        return [result for result in self.results if result.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [result.as_dict() for result in self.results]}


@dataclass(frozen=True)
class ArchiveRebuilt:
    dropped_rows: int
    outcome: DbtOutcome

    def as_dict(self) -> dict[str, Any]:
        return {"dropped_rows": self.dropped_rows, **self.outcome.as_dict()}


@dataclass(frozen=True)
class ServerConnection:
    """Where a server listens; ``as_dict`` never holds a password (only the file naming it)."""

    info: ConnectionInfo

    def as_dict(self) -> dict[str, Any]:
        info = self.info
        return {
            "host": info.host,
            "port": info.port,
            "user": info.user,
            "database": info.dbname,
            "url": info.describe(),
            "passfile": info.passfile,
        }


@dataclass(frozen=True)
class ServerStopped:
    was_running: bool

    def as_dict(self) -> dict[str, Any]:
        return {"was_running": self.was_running}


@dataclass(frozen=True)
class ServerStatus:
    status: EmbeddedStatus

    @property
    def ok(self) -> bool:
        return bool(self.status.running)

    def as_dict(self) -> dict[str, Any]:
        status = self.status
        return {
            "initialised": status.initialised,
            "running": status.running,
            "host": status.host,
            "port": status.port,
            "pid": status.pid,
            "data_dir": str(status.data_dir),
            "version": status.version,
            "log_file": str(status.log_file) if status.log_file else None,
            # libpq's password file (PGPASSFILE): the superuser's password, never printed.
            "password_file": str(status.password_file),
            "socket_dir": str(status.socket_dir),
        }


@dataclass(frozen=True)
class LoginCreated:
    login: ReportingLogin
    info: ConnectionInfo

    def as_dict(self) -> dict[str, Any]:
        # The password is shown once on the terminal, never in a document.
        return {"name": self.login.name, "role": self.login.role, "created": self.login.created}
