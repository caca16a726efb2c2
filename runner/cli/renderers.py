"""Every report's human-readable form: the tables and lines a command prints on stdout.

One function per report, ``(output, report)``: runner.cli.output.run_command calls it instead of
printing the report's JSON.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import typer
from rich.markup import escape
from rich.table import Table

from runner.cli.output import Output

if TYPE_CHECKING:
    from runner.cli.demo import DemoReport
    from runner.cli.reports import (
        ArchiveRebuilt,
        Checks,
        GeneratedSite,
        LoginCreated,
        ServerConnection,
        ServerStatus,
        ServerStopped,
        TableauFiles,
    )
    from runner.dbt.docs_site import DocsReport
    from runner.dbt.invoke import DbtOutcome
    from runner.dbt.log_archive import ArchiveState
    from runner.generator import GenerationReport
    from runner.moodle.dump_loader import LoadReport
    from runner.moodle.parquet_source import SourceExportReport
    from runner.publishing.export import ExportReport
    from runner.publishing.hyper_export import HyperReport
    from runner.publishing.prediction import TrainReport
    from runner.publishing.reminders import ReminderReport


# --- pipeline ------------------------------------------------------------------------------


def demo(output: Output, report: DemoReport) -> None:
    output.result(demo_summary(report))


def demo_summary(report: DemoReport) -> Table:
    info = report.connection
    marts = Table(show_header=True)
    marts.add_column("table")
    marts.add_column("rows", justify="right")
    for mart in report.marts:
        marts.add_row(mart.name, f"{mart.rows:,}")

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    if report.generation is not None:
        grid.add_row("Moodle data", generation_table(report.generation))
    grid.add_row("Marts (schema mart)", marts)
    # The embedded server's superuser is not for Tableau: a reporting login is (next steps).
    user = "a reporting login (next steps)" if report.embedded else info.user
    tableau = (
        f"server {info.host}  port {info.port}  database {info.dbname}  "
        f"user {user}  schema mart"
        + ("  (password: the one in PGPASSWORD)" if info.password else "")
    )
    grid.add_row("Tableau", escape(tableau))
    grid.add_row(
        "Exports", f"{report.export.out_dir} ({len(report.export.files)} files, manifest.json)"
    )
    grid.add_row("Docs", f"{report.docs.path} (open it in a browser; no server needed)")
    if report.tableau_sources is not None:
        grid.add_row(
            "Tableau sources",
            f"{report.tableau_sources.out_dir} ({len(report.tableau_sources.files)} .tds files)",
        )
    data = "generated" if report.generated else "reused existing Moodle tables"
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.steps)
    grid.add_row("Data", data)
    grid.add_row("Timing", steps)
    if report.warnings:
        warned = Table.grid(padding=(0, 1))
        for name, reason in report.warnings:
            warned.add_row(f"[yellow]WARN[/] {escape(name)}", escape(reason))
        grid.add_row("Warnings", warned)
    grid.add_row(
        "Next steps",
        "\n".join(
            f"{number}. {escape(step)}" for number, step in enumerate(report.next_steps(), 1)
        ),
    )
    return grid


def build(output: Output, outcome: DbtOutcome) -> None:
    output.result(build_summary_table(outcome))


def build_summary_table(outcome: DbtOutcome) -> Table:
    table = Table(title=f"dbt {outcome.command}: {outcome.seconds:.1f} s", show_header=True)
    columns = ("passed", "failed", "warned", "skipped", "no_op", "total")
    for column in columns:
        table.add_column(column.replace("_", "-"), justify="right")
    counts = outcome.as_dict()["counts"]
    table.add_row(*(str(counts[key]) for key in columns))
    return table


# --- exports -------------------------------------------------------------------------------


def export(output: Output, report: ExportReport) -> None:
    output.result(_written_files(report.out_dir, report.seconds, "file", report.files))


def export_source(output: Output, report: SourceExportReport) -> None:
    output.result(_written_files(report.out_dir, report.seconds, "table", report.tables))


def _written_files(out_dir: Path, seconds: float, what: str, written: Iterable[Any]) -> Table:
    """What an export wrote: each file's or table's name, rows and bytes."""
    table = Table(title=f"Exported to {out_dir} in {seconds:.1f} s")
    table.add_column(what)
    table.add_column("rows", justify="right")
    table.add_column("bytes", justify="right")
    for item in written:
        table.add_row(item.name, f"{item.rows:,}", f"{item.bytes:,}")
    return table


def export_hyper(output: Output, report: HyperReport) -> None:
    table = Table(title="Tables in schema mart of the extract")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for written in report.tables:
        table.add_row(written.name, f"{written.rows:,}")
    output.result(table)
    output.result(
        f"Tableau extract: {escape(str(report.path))} "
        f"({report.bytes:,} bytes, {report.seconds:.1f} s)"
    )


def tableau(output: Output, report: TableauFiles) -> None:
    lines = [f"Tableau data source: {path}" for path in report.sources.files]
    output.result("\n".join([*lines, f"Tableau workbook: {report.workbook}"]))


def reminders(output: Output, report: ReminderReport) -> None:
    contact = (
        "with names and e-mail (include_personal_data)"
        if report.contact_data
        else "without contact data (user ids only)"
    )
    output.result(
        f"{report.rows} open deadline(s) of {report.learners} learner(s) due "
        f"{report.as_of.isoformat()} to {report.within_days} day(s) later "
        f"({report.at_risk_rows} for learners at risk), {contact}: {escape(str(report.path))}"
    )


def predict_train(output: Output, report: TrainReport, mart_schema: str) -> None:
    table = Table(title=f"Dropout model, {report.folds} folds of whole courses (out of sample)")
    for column in ("course time", "learners", "dropouts", "AUC model", "AUC baseline"):
        table.add_column(column, justify="right")
    table.add_column("top 10 % model", justify="right")
    table.add_column("top 10 % baseline", justify="right")
    for score in report.checkpoints:
        row = score.as_dict()
        table.add_row(
            f"{score.share:.0%}",
            str(score.learners),
            str(score.dropouts),
            str(row["model_roc_auc"]),
            str(row["baseline_roc_auc"]),
            f"{score.model_precision:.3f}",
            f"{score.baseline_precision:.3f}",
        )
    output.result(table)
    verdict = "beats" if report.beats_baseline else "does NOT beat"
    output.result(
        f"The model {verdict} the rule-based at-risk flag. Trained on {report.course_count} "
        f"ended courses ({report.learner_count} learners, {report.dropout_count} dropped "
        f"out); stored in {report.model_table}; {report.scored_rows:,} learner-weeks "
        f"scored in {mart_schema}.learner_dropout_risk. Evaluation: "
        f"{escape(str(report.report_path))}"
    )


def docs(output: Output, report: DocsReport) -> None:
    output.result(f"Docs site: {report.path}")


# --- set-up and data -----------------------------------------------------------------------

CHECK_MARKS = {
    "ok": "[green]✓[/]",
    "fail": "[red]✗[/]",
    "warn": "[yellow]![/]",
    "skip": "[dim]-[/]",
}


def check(output: Output, report: Checks) -> None:
    for result in report.results:
        output.out.print(
            f"{CHECK_MARKS[result.status]} {result.name}: {escape(result.detail)}", soft_wrap=True
        )
    if report.failures:
        output.err.print(
            f"[bold red]{len(report.failures)} check(s) failed:[/] "
            + escape(", ".join(result.name for result in report.failures))
        )


def generate(output: Output, report: GeneratedSite) -> None:
    output.result(generation_table(report.generation))


def generation_table(report: GenerationReport) -> Table:
    """Rows per generated Moodle table, titled with the generation speed."""
    table = Table(
        title=f"Generated in {report.seconds:.1f} s ({report.log_rows_per_second:,.0f} log rows/s)"
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in report.row_counts.items():
        table.add_row(name, f"{rows:,}")
    return table


def load_dump(output: Output, report: LoadReport) -> None:
    if report.ok:
        output.result(
            f"Loaded {report.format} dump into schema {report.schema} "
            f"in {report.seconds:.1f} s "
            f"({report.tables_restored} tables restored); all 20 Moodle tables present"
        )


# --- archive -------------------------------------------------------------------------------


def archive_table(state: ArchiveState) -> Table:
    table = Table(show_header=False, box=None)
    table.add_row("archive", escape(state.archive_table))
    table.add_row("archived log rows", f"{state.archived_rows:,}")
    table.add_row("rows in Moodle's log", f"{state.moodle_rows:,}")
    table.add_row("archived rows Moodle no longer has", f"{state.archived_only_rows:,}")
    return table


def archive_status(output: Output, state: ArchiveState) -> None:
    if not state.exists:
        output.result(f"no archive yet: the next build creates {escape(state.archive_table)}")
    else:
        output.result(archive_table(state))


def archive_rebuild(output: Output, report: ArchiveRebuilt) -> None:
    output.result(
        f"archive rebuilt from Moodle's log: {report.dropped_rows:,} archived rows "
        "Moodle no longer had were dropped"
    )
    output.result(build_summary_table(report.outcome))


# --- db ------------------------------------------------------------------------------------


def db_start(output: Output, report: ServerConnection) -> None:
    output.result(f"Embedded PostgreSQL running at {escape(report.info.describe())}")


def db_stop(output: Output, report: ServerStopped) -> None:
    output.result("stopped" if report.was_running else "the embedded PostgreSQL was not running")


def db_status(output: Output, report: ServerStatus) -> None:
    for name, value in report.as_dict().items():
        output.out.print(f"{name}: {escape(str(value))}")


def db_url(output: Output, report: ServerConnection, url_format: str) -> None:
    info = report.info
    if url_format == "url":
        # libpq reads the password file named in the URL (psql "$(moodle-analytics db url
        # --format url)"); the password itself stays in that file.
        passfile = f"?passfile={quote(info.passfile)}" if info.passfile else ""
        typer.echo(info.describe() + passfile)
    else:
        for name, value in info.libpq_env().items():
            if name != "PGPASSWORD":
                typer.echo(f"export {name}={shlex.quote(value)}")


def db_reporting_login(output: Output, report: LoginCreated) -> None:
    login, info = report.login, report.info
    action = "created" if login.created else "given a new password"
    output.info(
        f"Login {login.name!r} {action}, member of {login.role!r}, at "
        f"{escape(info.host)}:{info.port}, database {escape(info.dbname)}."
    )
    output.info("Its password, shown this once and stored nowhere:")
    typer.echo(login.password)
