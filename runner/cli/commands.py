"""`moodle-analytics`: the command line around the dbt project.

Each command validates its options, hands off to a small module and reports: progress and
messages on stderr, results on stdout (a JSON document with --json), exit code 0 on success
and 1 on failure with a one-line cause first. Users' mistakes never show a traceback.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from runner import __version__
from runner.cli import output as ui
from runner.cli import renderers
from runner.cli.help import tidy_typer_help
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
from runner.cli.spark_cluster import spark_cluster_app
from runner.paths import DEFAULT_PARQUET_DIR, EXPORTS_DIR
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

if TYPE_CHECKING:  # the commands import their layers when they run, to start fast
    from runner.cli.demo import DemoReport
    from runner.dbt.docs_site import DocsReport
    from runner.dbt.invoke import DbtOutcome
    from runner.dbt.log_archive import ArchiveState
    from runner.moodle.dump_loader import LoadReport
    from runner.moodle.parquet_source import SourceExportReport
    from runner.publishing.export import ExportReport
    from runner.publishing.hyper_export import HyperReport
    from runner.publishing.prediction import TrainReport
    from runner.publishing.reminders import ReminderReport

tidy_typer_help()
app = typer.Typer(
    name="moodle-analytics",
    help="Turn a Moodle database into a tested, documented analytics warehouse (dbt + PostgreSQL).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    # Locals may hold connection settings: never print them in a traceback.
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(
    help="The embedded PostgreSQL server and connection details.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
archive_app = typer.Typer(
    help="The log archive: every Moodle log row the warehouse has read, kept when Moodle "
    "deletes it.",
    no_args_is_help=True,
)
app.add_typer(archive_app, name="archive")
app.add_typer(spark_cluster_app, name="spark-cluster")

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json", help="Print a machine-readable summary on stdout; progress goes to stderr."
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
SchemaOption = Annotated[
    str, typer.Option("--schema", help="Schema holding the Moodle tables.", show_default=True)
]
MartSchemaOption = Annotated[str, typer.Option("--mart-schema", help="Schema holding the marts.")]
PrefixOption = Annotated[
    str, typer.Option("--prefix", help="Moodle's table prefix.", show_default=True)
]


class UrlFormat(StrEnum):
    env = "env"
    url = "url"
    json = "json"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"moodle-analytics {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Turn a Moodle database into a tested, documented analytics warehouse.

    The database comes from the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
    PGDATABASE); when none is set, from the embedded PostgreSQL the runner manages.
    """


def _validated(check: Callable[[], object]) -> None:
    """Run a validator that raises ValueError and report its message as a user error."""
    try:
        check()
    except ValueError as error:
        raise UserError(str(error)) from None


def _connection() -> ConnectionInfo:
    """The configured database (PG* variables) or the embedded server, created if needed."""
    from runner.dbt.server import resolve_connection
    from runner.postgres.admin import check_reachable, ensure_database

    info = resolve_connection()
    ensure_database(info)
    check_reachable(info)
    return info


def _existing_connection() -> ConnectionInfo:
    """Like _connection, for commands that read: the database must exist already."""
    from runner.dbt.server import resolve_connection
    from runner.postgres.admin import check_reachable

    info = resolve_connection()
    check_reachable(info)
    return info


# --- demo --------------------------------------------------------------------------------


class _DemoConsole:
    def __init__(self, output: ui.Output) -> None:
        self.output = output

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.output.info(f"[bold]→ {name}[/]")
        started = time.monotonic()
        yield
        self.output.info(f"  {name} done in {time.monotonic() - started:.1f} s")

    def rows_progress(self, label: str):
        return ui.rows_progress(self.output, label)

    def dbt_progress(self, label: str):
        return ui.dbt_progress(self.output, label, node_lines=label == "dbt build")


@app.command()
def demo(
    scale: Annotated[
        float,
        typer.Option(
            min=0.01, max=100.0, help="Size of the generated Moodle site (1 = ~417k log rows)."
        ),
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed of the generated data.")] = 2019,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the exports; the docs go to OUT/docs.")
    ] = EXPORTS_DIR,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Everything on a fresh machine: database, Moodle data, dbt build, exports, docs, summary.

    Uses the database the PG* variables name, else starts the embedded PostgreSQL. Generates
    the Moodle tables only when they are missing (existing ones are reused).
    """
    from runner.cli.demo import run_demo

    def work(output: ui.Output) -> DemoReport:
        report = run_demo(_DemoConsole(output), scale=scale, seed=seed, out_dir=out)
        if report.build is not None and not report.build.success:
            raise ui.dbt_failure(report.build)
        return report

    ui.run_command(json_output, quiet, work, renderers.demo)


# --- build -------------------------------------------------------------------------------


@app.command()
def build(
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select", "-s", help="dbt node selection; repeat it or quote several: -s 'a b'."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="dbt nodes to leave out (repeatable).")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
    ] = False,
    selector: Annotated[
        str | None,
        typer.Option(
            "--selector",
            help="A selector of selectors.yml: full_check runs every test (the weekly check); "
            "by default the nightly one runs.",
        ),
    ] = None,
    vars_text: Annotated[
        str | None,
        typer.Option(
            "--vars",
            help="Project vars as YAML or JSON, e.g. '{session_cap_hours: 2}'. "
            "Only vars declared in dbt_project.yml are accepted.",
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="dbt target of the profile.")
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show dbt's own log lines instead of a progress bar."),
    ] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run `dbt build` (models, seeds and tests) against the database, one build at a time.

    Shows progress node by node; on failure names each failed model or test with dbt's own
    message and exits 1. A second build started against the same database is refused.
    """
    from runner.dbt.build import BuildOptions, run_build
    from runner.dbt.invoke import check_target, parse_vars
    from runner.dbt.profiles import ensure_profile

    def work(output: ui.Output) -> DbtOutcome:
        options = BuildOptions(
            select=list(select or []),
            exclude=list(exclude or []),
            full_refresh=full_refresh,
            vars=parse_vars(vars_text) if vars_text is not None else None,
            target=target,
            selector=selector,
        )
        if target:
            check_target(target, ensure_profile())
        info = _existing_connection()
        output.info(f"Building in {escape(info.describe())}")
        if verbose and not json_output:
            outcome = run_build(info, options, show_dbt_output=True)
        else:
            with ui.dbt_progress(output, "dbt build") as progress:
                outcome = run_build(info, options, on_progress=progress)
        if not outcome.success:
            raise ui.dbt_failure(outcome)
        if not outcome.nodes:
            raise UserError(
                "nothing to build: the selection matched no models, seeds or tests",
                "check --select/--exclude (dbt node selection syntax)",
            )
        return outcome

    ui.run_command(json_output, quiet, work, renderers.build)


# --- export ------------------------------------------------------------------------------


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files to.")] = EXPORTS_DIR,
    mart_schema: MartSchemaOption = "mart",
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the marts to files (CSV, Parquet) with a manifest.

    For each metric and tier, top_<metric>_<pct>.csv lists the learners in it (user_id,
    metric_value, metric_rank); every mart table goes to OUT/mart/ as CSV and Parquet;
    manifest.json lists each file with rows, bytes and sha256. Files appear only when
    complete: an interrupted export leaves the previous one intact.
    """
    from runner.publishing.export import export_marts

    def work(output: ui.Output) -> ExportReport:
        _validated(lambda: _validate_schema(mart_schema, "mart schema"))
        info = _existing_connection()
        with ui.rows_progress(output, "export") as progress:
            return export_marts(info, out, schema=mart_schema, progress=progress)

    ui.run_command(json_output, quiet, work, renderers.export)


@app.command("export-source")
def export_source(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the Parquet export (one folder per table).")
    ] = DEFAULT_PARQUET_DIR,
    schema: SchemaOption = "public",
    prefix: PrefixOption = "mdl_",
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Export the 20 Moodle tables to Parquet for the spark and duckdb targets (docs/engines.md).

    Rows stream in chunks from one consistent snapshot; the folder is replaced only when the
    whole export is complete. dbt reads it through var moodle_parquet_path.
    """
    from runner.moodle.parquet_source import export_source as export_tables

    def work(output: ui.Output) -> SourceExportReport:
        _validated(lambda: (_validate_schema(schema, "schema"), _validate_prefix(prefix)))
        info = _existing_connection()
        with ui.rows_progress(output, "export-source") as progress:
            return export_tables(info, out, schema=schema, prefix=prefix, progress=progress)

    ui.run_command(json_output, quiet, work, renderers.export_source)


@app.command("export-hyper")
def export_hyper(
    out: Annotated[
        Path, typer.Option("--out", help="The .hyper file to write, or a folder for mart.hyper.")
    ] = EXPORTS_DIR / "tableau" / "mart.hyper",
    mart_schema: MartSchemaOption = "mart",
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write every mart table into one Tableau extract (.hyper) for offline work.

    Needs the optional extra: pip install -e '.\\[hyper]'. Tables keep their
    names, in schema mart of the file, which appears only when complete (docs/hyper.md).
    """
    from runner.publishing.hyper_export import export_hyper as write_extract
    from runner.publishing.hyper_export import load_hyper_api

    def work(output: ui.Output) -> HyperReport:
        _validated(lambda: _validate_schema(mart_schema, "mart schema"))
        load_hyper_api()  # before connecting: a missing extra is the first thing to fix
        info = _existing_connection()
        with ui.rows_progress(output, "export-hyper") as progress:
            return write_extract(info, out, schema=mart_schema, progress=progress)

    ui.run_command(json_output, quiet, work, renderers.export_hyper)


def _validate_schema(schema: str, what: str) -> None:
    from runner.moodle.schema import validate_identifier

    validate_identifier(schema, what)


# --- tableau -----------------------------------------------------------------------------

TABLEAU_DIR = EXPORTS_DIR / "tableau"


@app.command()
def tableau(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the .tds files and the workbook.")
    ] = TABLEAU_DIR,
    mart_schema: MartSchemaOption = "mart",
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="dbt manifest.json to read (default: run dbt parse)."),
    ] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write Tableau data sources (.tds) for the mart and the learner progress workbook (.twb).

    One data source per fact table, with its dimensions; learner_progress.twb holds the
    "Learner progress" dashboard on the same sources. Live PostgreSQL connection (server,
    port, database, user of the current connection; no password), every field's caption and
    description from the dbt docs, and the relationships between facts and dimensions.
    """
    from runner.dbt.invoke import first_meaningful_line, run_dbt, target_dir
    from runner.publishing.tableau import write_tableau_sources
    from runner.publishing.tableau_workbook import write_learner_workbook

    def work(output: ui.Output) -> TableauFiles:
        _validated(lambda: _validate_schema(mart_schema, "mart schema"))
        info = _existing_connection()
        chosen = manifest
        if chosen is None:
            outcome = run_dbt(["parse"], info)
            if not outcome.success:
                raise UserError(f"dbt parse failed: {first_meaningful_line(outcome.error or '')}")
            chosen = target_dir() / "manifest.json"
        report = write_tableau_sources(info, out, chosen, schema=mart_schema)
        workbook = write_learner_workbook(info, out, chosen, schema=mart_schema)
        return TableauFiles(report, workbook)

    ui.run_command(json_output, quiet, work, renderers.tableau)


# --- reminders and dropout prediction ----------------------------------------------------


@app.command()
def reminders(
    within_days: Annotated[
        int, typer.Option("--within-days", help="Deadlines due from the day to this many days on.")
    ] = 7,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day (YYYY-MM-DD) to list for; default: the data's last."),
    ] = None,
    file_format: Annotated[
        str, typer.Option("--format", help="File format: csv or json.", show_default=True)
    ] = "csv",
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the list, or a file path.")
    ] = EXPORTS_DIR / "reminders",
    mart_schema: MartSchemaOption = "mart",
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write the learners' open deadlines due within N days of a day, for a mailer to send.

    One row per learner and activity not yet completed or submitted, with the learner's
    engagement band and at-risk flag known that day. Names and e-mail addresses only when the
    warehouse was built with var include_personal_data: true, and then only in this file
    (readable by its owner alone). The project sends nothing.
    """
    from runner.publishing.reminders import (
        ReminderFormat,
        check_within_days,
        parse_as_of,
        write_reminders,
    )

    def work(output: ui.Output) -> ReminderReport:
        check_within_days(within_days)
        day = parse_as_of(as_of)
        if file_format not in {choice.value for choice in ReminderFormat}:
            raise UserError(f"--format must be csv or json, got {file_format!r}")
        _validated(lambda: _validate_schema(mart_schema, "mart schema"))
        info = _existing_connection()
        return write_reminders(
            info,
            within_days=within_days,
            as_of=day,
            fmt=ReminderFormat(file_format),
            out=out,
            mart_schema=mart_schema,
        )

    ui.run_command(json_output, quiet, work, renderers.reminders)


predict_app = typer.Typer(
    help="Dropout prediction: train on ended courses, scored in mart.learner_dropout_risk.",
    no_args_is_help=True,
)
app.add_typer(predict_app, name="predict")


@predict_app.command("train")
def predict_train(
    report_path: Annotated[
        Path, typer.Option("--report", help="Markdown file for the evaluation.")
    ] = EXPORTS_DIR / "prediction" / "dropout_evaluation.md",
    mart_schema: MartSchemaOption = "mart",
    model_schema: Annotated[
        str, typer.Option("--model-schema", help="Schema for the model's coefficients table.")
    ] = "prediction",
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fit a logistic regression on the ended courses, measure it, store it and score with it.

    Measured out of sample on folds of whole courses at 25/50/75 % of each course's duration
    against the rule-based at-risk flag; the model is stored as a table and dbt rebuilds
    mart.learner_dropout_risk with it. Exits 1, saying why, when too few courses have ended.
    """
    from runner.dbt.build import BuildOptions, run_build
    from runner.publishing.prediction import count_scored_rows, load_sklearn, train, write_report

    def work(output: ui.Output) -> TrainReport:
        _validated(
            lambda: (
                _validate_schema(mart_schema, "mart schema"),
                _validate_schema(model_schema, "model schema"),
            )
        )
        load_sklearn()
        info = _existing_connection()
        report = train(info, mart_schema=mart_schema, model_schema=model_schema)
        write_report(report, report_path)
        options = BuildOptions(
            select=["learner_dropout_risk"],
            vars={"dropout_model_schema": model_schema} if model_schema != "prediction" else None,
        )
        with ui.dbt_progress(output, "dbt build learner_dropout_risk") as progress:
            outcome = run_build(info, options, on_progress=progress)
        if not outcome.success:
            raise ui.dbt_failure(outcome)
        report.scored_rows = count_scored_rows(info, mart_schema)
        return report

    def render(output: ui.Output, report: TrainReport) -> None:
        renderers.predict_train(output, report, mart_schema)

    ui.run_command(json_output, quiet, work, render)


# --- docs --------------------------------------------------------------------------------


@app.command()
def docs(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the site's index.html.")
    ] = EXPORTS_DIR / "docs",
    serve: Annotated[
        bool, typer.Option("--serve", help="Also serve the site on 127.0.0.1 until Ctrl-C.")
    ] = False,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port for --serve (0: any free port).")
    ] = 8080,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate the dbt docs site as one static HTML file.

    The page (lineage graph, models, column descriptions) opens from disk without a server
    and never calls the network. --serve also serves it on 127.0.0.1.
    """
    from runner.dbt.docs_site import generate_docs, make_server

    def work(output: ui.Output) -> DocsReport:
        info = _existing_connection()
        with ui.dbt_progress(output, "dbt docs generate", node_lines=False) as progress:
            return generate_docs(info, out, on_progress=progress)

    def serve_site(output: ui.Output, report: DocsReport) -> None:
        if not serve:
            return
        server = make_server(report.path, port)
        host, bound = server.server_address[:2]
        # Ctrl-C stops it as promised, even when this process was started with SIGINT ignored
        # (children inherit that from a script's background job or a test runner's worker).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        output.info(f"Serving http://{host}:{bound}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            output.info("stopped")
        finally:
            server.server_close()

    ui.run_command(json_output, quiet, work, renderers.docs, then=serve_site)


# --- check -------------------------------------------------------------------------------


@app.command()
def check(
    schema: SchemaOption = "public",
    prefix: PrefixOption = "mdl_",
    json_output: JsonOption = False,
) -> None:
    """Check the set-up and say what is wrong: dbt, profile, database, Moodle tables, marts.

    Exits 1 if any check fails. Starts nothing.
    """
    from runner.cli.checks import run_checks

    def work(output: ui.Output) -> Checks:
        _validated(lambda: (_validate_schema(schema, "schema"), _validate_prefix(prefix)))
        return Checks(run_checks(schema, prefix))

    ui.run_command(json_output, False, work, renderers.check)


def _validate_prefix(prefix: str) -> None:
    from runner.moodle.schema import validate_prefix

    validate_prefix(prefix)


# --- data --------------------------------------------------------------------------------


@app.command()
def generate(
    scale: Annotated[
        float, typer.Option(min=0.01, max=100.0, help="1 = ~1,000 learners and ~417k log rows.")
    ] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same data.")
    ] = 2019,
    schema: SchemaOption = "public",
    prefix: PrefixOption = "mdl_",
    replace: Annotated[
        bool, typer.Option("--replace", help="Drop and recreate Moodle tables that already exist.")
    ] = False,
    anomaly_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="Add hostile rows (impossible times, copies, unknown users, ...) at this"
            " rate, on top of the same clean rows (docs/hostile_data.md).",
        ),
    ] = 0.0,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate a realistic synthetic Moodle 4.5 database (the 20 tables the project reads)."""

    def work(output: ui.Output) -> GeneratedSite:
        _validated(lambda: (_validate_schema(schema, "schema"), _validate_prefix(prefix)))
        from runner.generator import generate as generate_moodle

        info = _connection()
        output.info(
            f"Generating scale {scale} (seed {seed}) "
            f"into {escape(info.describe())}, schema {schema}"
        )
        with ui.rows_progress(output, "generate") as progress:
            try:
                report = generate_moodle(
                    info,
                    schema=schema,
                    prefix=prefix,
                    scale=scale,
                    seed=seed,
                    replace=replace,
                    progress=progress,
                    anomaly_rate=anomaly_rate,
                )
            except ValueError as error:
                raise UserError(str(error), "use --replace to regenerate them") from None
        return GeneratedSite(info.dbname, schema, report)

    ui.run_command(json_output, quiet, work, renderers.generate)


@app.command("load-dump")
def load_dump(
    path: Annotated[
        Path, typer.Argument(help="A Moodle pg_dump: custom format (-Fc), .sql or .sql.gz.")
    ],
    schema: SchemaOption = "public",
    prefix: PrefixOption = "mdl_",
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace Moodle tables that already exist in the schema."),
    ] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Load a real Moodle database dump; exits 1 naming any required table it lacks."""
    from runner.moodle.dump_loader import load_dump as load

    def work(output: ui.Output) -> LoadReport:
        _validated(lambda: (_validate_schema(schema, "schema"), _validate_prefix(prefix)))
        info = _connection()
        output.info(f"Loading {path} into {escape(info.describe())}, schema {schema}")
        report = load(info, path, schema=schema, prefix=prefix, replace=replace)
        for warning in report.warnings:
            output.info(f"[yellow]warning:[/] {escape(warning)}")
        return report

    ui.run_command(json_output, quiet, work, renderers.load_dump)


# --- archive -----------------------------------------------------------------------------


@archive_app.command("status")
def archive_status(
    vars_text: Annotated[
        str | None, typer.Option("--vars", help="Project vars as YAML or JSON.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Count the archived log rows beside Moodle's log: how much history only the warehouse has."""
    from runner.dbt.invoke import parse_vars
    from runner.dbt.log_archive import inspect_archive

    def work(output: ui.Output) -> ArchiveState:
        dbt_vars = parse_vars(vars_text) if vars_text is not None else None
        return inspect_archive(_existing_connection(), dbt_vars)

    ui.run_command(json_output, False, work, renderers.archive_status)


@archive_app.command("rebuild")
def archive_rebuild(
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Drop the archived rows Moodle's log no longer has, for good."),
    ] = False,
    vars_text: Annotated[
        str | None, typer.Option("--vars", help="Project vars as YAML or JSON.")
    ] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Rebuild the log archive, and every log model, from Moodle's log as it is now.

    Without --yes it only says how many archived rows (history Moodle's log cleanup has
    deleted) the rebuild would drop, and exits 1. `dbt build --full-refresh` never does this.
    """
    from runner.dbt.build import BuildOptions
    from runner.dbt.invoke import parse_vars
    from runner.dbt.log_archive import inspect_archive, rebuild_archive, rebuild_refused

    def work(output: ui.Output) -> ArchiveRebuilt:
        options = BuildOptions(vars=parse_vars(vars_text) if vars_text is not None else None)
        info = _existing_connection()
        state = inspect_archive(info, options.vars)
        if not yes:
            raise rebuild_refused(state)
        with ui.dbt_progress(output, "dbt build --full-refresh") as progress:
            outcome = rebuild_archive(info, options, on_progress=progress)
        if not outcome.success:
            raise ui.dbt_failure(outcome)
        return ArchiveRebuilt(state.archived_only_rows, outcome)

    ui.run_command(json_output, quiet, work, renderers.archive_rebuild)


# --- db ----------------------------------------------------------------------------------


@db_app.command("start")
def db_start(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Start the embedded PostgreSQL (initialising it on first use); reuses a running one."""
    from runner.postgres.embedded import EmbeddedPostgres

    ui.run_command(
        json_output,
        quiet,
        lambda output: ServerConnection(EmbeddedPostgres().start()),
        renderers.db_start,
    )


@db_app.command("stop")
def db_stop(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Stop the embedded PostgreSQL."""
    from runner.postgres.embedded import EmbeddedPostgres

    ui.run_command(
        json_output,
        quiet,
        lambda output: ServerStopped(EmbeddedPostgres().stop()),
        renderers.db_stop,
    )


@db_app.command("status")
def db_status(json_output: JsonOption = False) -> None:
    """Show whether the embedded PostgreSQL is set up and running (exit 1 when it is not)."""
    from runner.postgres.embedded import EmbeddedPostgres

    ui.run_command(
        json_output,
        False,
        lambda output: ServerStatus(EmbeddedPostgres().status()),
        renderers.db_status,
    )


@db_app.command("url")
def db_url(
    format: Annotated[
        UrlFormat, typer.Option("--format", help="env: export lines to eval; url; json.")
    ] = UrlFormat.env,
) -> None:
    """Print the connection details of the database the runner uses (never the password).

    eval "$(moodle-analytics db url)" points psql and dbt at it; for the embedded server
    that includes PGPASSFILE, libpq's password file holding its superuser's password.
    """
    from runner.dbt.server import resolve_connection

    def render(output: ui.Output, report: ServerConnection) -> None:
        renderers.db_url(output, report, format.value)

    ui.run_command(
        format is UrlFormat.json,
        False,
        lambda output: ServerConnection(resolve_connection()),
        render,
    )


@db_app.command("reporting-login")
def db_reporting_login(
    name: Annotated[str, typer.Argument(help="The login to create, e.g. tableau.")],
    role: Annotated[
        str, typer.Option("--role", help="The read-only reporting role to join.")
    ] = "bi_reader",
    reset: Annotated[
        bool, typer.Option("--reset", help="Give an existing login a new password.")
    ] = False,
) -> None:
    """Create a login in the reporting role (read-only, marts only) for Tableau or psql.

    Its generated password is shown once, here, and written to no file: keep it in Tableau
    or your password manager. The role's grants on the marts come with each build.
    """
    from runner.postgres.reporting_login import create_reporting_login

    def work(output: ui.Output) -> LoginCreated:
        _validated(lambda: _validate_schema(name, "login name"))
        info = _existing_connection()
        return LoginCreated(create_reporting_login(info, name, role=role, reset=reset), info)

    ui.run_command(False, False, work, renderers.db_reporting_login)


if __name__ == "__main__":
    app()
