"""`demo`: from a fresh machine to marts, exports and docs in one command.

Steps: database (embedded unless PG* variables name one), Moodle data (generated at the
requested scale only when the tables are missing), dbt build, export, docs, Tableau data
sources. Each step is
timed; the caller supplies the progress handlers so this module stays free of UI code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from runner.dbt.build import BuildOptions, run_build
from runner.dbt.docs_site import DocsReport, generate_docs
from runner.dbt.invoke import DbtOutcome, NodeProgress
from runner.moodle.schema import REQUIRED_TABLES, missing_tables
from runner.postgres.connection import ConnectionInfo
from runner.publishing.export import ExportReport, export_marts
from runner.publishing.summary import (
    MartTable,
    mart_tables,
    next_steps,
    tableau_connection,
    warning_reasons,
)
from runner.publishing.tableau import TableauReport
from runner.user_errors import UserError


class DemoUI(Protocol):
    def step(self, name: str) -> AbstractContextManager[None]: ...
    def rows_progress(self, label: str) -> AbstractContextManager[Callable[[str, int], None]]: ...
    def dbt_progress(
        self, label: str
    ) -> AbstractContextManager[Callable[[NodeProgress], None] | None]: ...


@dataclass
class DemoReport:
    connection: ConnectionInfo | None = None
    generated: bool = False
    generation: Any = None
    build: DbtOutcome | None = None
    export: ExportReport | None = None
    docs: DocsReport | None = None
    tableau_sources: TableauReport | None = None
    tableau_workbook: Path | None = None
    marts: list[MartTable] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)
    embedded: bool = False  # the runner's own server (no PG* variables)
    project_profile: Path | None = None  # ./profiles.yml for a plain `dbt`, when written
    # (test name, one-line reason) of each test that warned.
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def next_steps(self) -> list[str]:
        return next_steps(
            docs_path=self.docs.path if self.docs else None,
            tableau_files=list(self.tableau_sources.files) if self.tableau_sources else [],
            tableau_workbook=self.tableau_workbook,
            embedded=self.embedded,
            project_profile=self.project_profile,
        )

    def as_dict(self) -> dict[str, Any]:
        generation = self.generation
        return {
            "ok": True,
            "tableau": tableau_connection(self.connection) if self.connection else None,
            "generated": self.generated,
            "generation": {
                "row_counts": generation.row_counts,
                "seconds": round(generation.seconds, 3),
                "log_rows_per_second": round(generation.log_rows_per_second),
            }
            if generation is not None
            else None,
            "build": self.build.as_dict() if self.build else None,
            "marts": [{"table": mart.name, "rows": mart.rows} for mart in self.marts],
            "exports": self.export.as_dict() if self.export else None,
            "docs": self.docs.as_dict() if self.docs else None,
            "tableau_sources": self.tableau_sources.as_dict() if self.tableau_sources else None,
            "tableau_workbook": str(self.tableau_workbook) if self.tableau_workbook else None,
            "warnings": [{"test": name, "reason": reason} for name, reason in self.warnings],
            "next_steps": self.next_steps(),
            "steps": [{"step": name, "seconds": round(seconds, 3)} for name, seconds in self.steps],
        }


@contextmanager
def timed(report: DemoReport, name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        report.steps.append((name, time.monotonic() - started))


def ensure_moodle_data(
    info: ConnectionInfo,
    *,
    schema: str,
    prefix: str,
    scale: float,
    seed: int,
    progress: Callable[[str, int], None] | None,
) -> Any:
    """Generate the Moodle tables when none exist; reuse them when all do; refuse a half set."""
    connection = info.connect()
    try:
        missing = missing_tables(connection, schema, prefix)
    finally:
        connection.close()
    if not missing:
        return None
    if len(missing) < len(REQUIRED_TABLES):
        raise UserError(
            f"schema {schema!r} holds only some Moodle tables; missing: " + ", ".join(missing),
            "run `moodle-analytics generate --replace` to regenerate them, "
            "or `moodle-analytics load-dump` to load a real site",
        )
    from runner.generator import generate

    return generate(info, schema=schema, prefix=prefix, scale=scale, seed=seed, progress=progress)


def run_demo(
    ui: DemoUI,
    *,
    scale: float,
    seed: int,
    out_dir: Path,
    schema: str = "public",
    prefix: str = "mdl_",
) -> DemoReport:
    from runner.dbt.invoke import target_dir
    from runner.dbt.profiles import PROJECT_PROFILE
    from runner.dbt.server import resolve_connection
    from runner.postgres.admin import ensure_database
    from runner.postgres.connection import is_configured
    from runner.publishing.tableau import load_manifest, write_tableau_sources
    from runner.publishing.tableau_workbook import write_learner_workbook

    report = DemoReport()
    with ui.step("database"), timed(report, "database"):
        report.embedded = not is_configured()
        info = resolve_connection()
        ensure_database(info)
        report.connection = info
        if report.embedded and PROJECT_PROFILE.is_file():
            report.project_profile = PROJECT_PROFILE
    with ui.step("moodle data"), timed(report, "moodle data"), ui.rows_progress("generate") as rows:
        report.generation = ensure_moodle_data(
            info, schema=schema, prefix=prefix, scale=scale, seed=seed, progress=rows
        )
        report.generated = report.generation is not None
    with ui.step("build"), timed(report, "build"), ui.dbt_progress("dbt build") as progress:
        report.build = run_build(info, BuildOptions(), on_progress=progress)
    if not report.build.success:
        return report
    manifest_path = target_dir() / "manifest.json"
    report.warnings = warning_reasons(report.build.nodes, load_manifest(manifest_path))
    with ui.step("export"), timed(report, "export"), ui.rows_progress("export") as rows:
        report.export = export_marts(info, out_dir, progress=rows)
    with ui.step("docs"), timed(report, "docs"), ui.dbt_progress("dbt docs") as progress:
        report.docs = generate_docs(info, out_dir / "docs", on_progress=progress)
    with ui.step("tableau"), timed(report, "tableau"):
        report.tableau_sources = write_tableau_sources(info, out_dir / "tableau", manifest_path)
        report.tableau_workbook = write_learner_workbook(info, out_dir / "tableau", manifest_path)
    report.marts = mart_tables(info)
    return report
