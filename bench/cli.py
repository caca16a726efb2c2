"""`python -m bench`: run the benchmark, print the table, write the JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench.agreement import SessionisersDisagree, require_agreement
from bench.dbt_build import DbtBuildFailed
from bench.dbt_engines import DBT_ENGINES
from bench.report import (
    default_output_path,
    engines_table,
    machine_description,
    results_document,
    scale_table,
    targets_table,
    write_document,
)
from bench.run import run_benchmark
from bench.sessionisers import SESSIONISERS
from bench.settings import DEFAULT_SCALES, BenchSettings
from runner.dbt.server import resolve_connection
from runner.postgres.admin import check_reachable
from runner.user_errors import UserError

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
err = Console(stderr=True, soft_wrap=True)
# Piped output (a log, CI) gets a table wide enough to read instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() else 140)


def parse_scales(text: str, option: str) -> tuple[float, ...]:
    """'1,10,30' -> (1.0, 10.0, 30.0); '' or 'none' -> ()."""
    if text.strip().lower() in ("", "none"):
        return ()
    scales = []
    for part in text.split(","):
        try:
            scale = float(part)
        except ValueError:
            raise UserError(f"{option}: {part.strip()!r} is not a number") from None
        if not 0 < scale <= 1000:
            raise UserError(f"{option}: scale {scale:g} must be above 0 and at most 1000")
        scales.append(scale)
    return tuple(scales)


def parse_dbt_engines(text: str) -> tuple[str, ...]:
    """'duckdb,spark' -> ('duckdb', 'spark'); 'none' or '' -> ()."""
    if text.strip().lower() in ("", "none"):
        return ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in DBT_ENGINES]
    if unknown:
        raise UserError(
            f"--dbt-engines: unknown {', '.join(unknown)}; choose from {', '.join(DBT_ENGINES)}"
        )
    return names


def parse_sessionisers(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SESSIONISERS]
    if unknown or not names:
        raise UserError(
            f"--sessionisers: unknown {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(SESSIONISERS)}"
        )
    return names


@app.command()
def main(
    scales: Annotated[
        str, typer.Option(help="Comma-separated generator scales (1 = the 2019 cohort).")
    ] = ",".join(f"{scale:g}" for scale in DEFAULT_SCALES),
    quick: Annotated[
        bool, typer.Option("--quick", help="One tiny scale and a small sample: every step, fast.")
    ] = False,
    sessionisers: Annotated[
        str,
        typer.Option(
            "--sessionisers",
            "--engines",  # its earlier name, still accepted
            help="Sessionisation implementations to run, comma-separated.",
        ),
    ] = ",".join(SESSIONISERS),
    dbt_engines: Annotated[
        str,
        typer.Option(help="Engines the whole dbt build also runs on, beside PostgreSQL ('none')."),
    ] = ",".join(DBT_ENGINES),
    sample_users: Annotated[
        int, typer.Option(min=1, help="Users the original analysis's loops run on.")
    ] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Generator and sampling seed.")] = 2019,
    floor_repeats: Annotated[int, typer.Option(min=1, help="Floor passes (best kept).")] = 2,
    incremental_scales: Annotated[
        str, typer.Option(help="Scales at which one day's incremental build is timed ('none').")
    ] = "10",
    keep_databases: Annotated[
        bool, typer.Option("--keep-databases", help="Keep moodle_bench_scale_* afterwards.")
    ] = False,
    reuse_data: Annotated[
        bool, typer.Option("--reuse-data", help="Reuse kept databases instead of generating.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="JSON file (default bench/results/<date>-<host>.json).")
    ] = None,
) -> None:
    """Benchmark the project's sessionisation against the floor, pandas and the original loops."""
    try:
        sessioniser_names = parse_sessionisers(sessionisers)
        dbt_engine_names = parse_dbt_engines(dbt_engines)
        if quick:
            settings = BenchSettings.quick(
                sessionisers=sessioniser_names,
                dbt_engines=dbt_engine_names,
                seed=seed,
                keep_databases=keep_databases,
                reuse_data=reuse_data,
            )
        else:
            settings = BenchSettings(
                scales=parse_scales(scales, "--scales"),
                sessionisers=sessioniser_names,
                dbt_engines=dbt_engine_names,
                seed=seed,
                sample_users=sample_users,
                floor_repeats=floor_repeats,
                incremental_scales=parse_scales(incremental_scales, "--incremental-scales"),
                keep_databases=keep_databases,
                reuse_data=reuse_data,
            )
        if not settings.scales:
            raise UserError("--scales: give at least one scale")
        server = resolve_connection()
        check_reachable(server.with_database("postgres"))
        machine = machine_description(server)
        results = run_benchmark(server, settings, lambda text: err.print(f"[dim]{text}[/dim]"))
    except (UserError, DbtBuildFailed) as error:
        err.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
        sys.exit(1)
    document = results_document(results, settings, machine)
    path = write_document(document, output or default_output_path(machine))
    for scale_document in document["scales"]:
        out.print(scale_table(scale_document))
    per_engine = engines_table(document)
    if per_engine is not None:
        out.print(per_engine)
    out.print(targets_table(document))
    out.print(f"results written to {path}")
    failed = [result for result in results if result.error]
    for result in failed:
        err.print(f"[red]error:[/red] scale {result.scale:g}: {result.error}", highlight=False)
    try:
        for result in results:
            if result.agreement:
                require_agreement(result.agreement)
    except SessionisersDisagree as error:
        err.print(f"[red]error: the sessionisers disagree:[/red] {error}", highlight=False)
        sys.exit(1)
    if failed:
        sys.exit(1)
