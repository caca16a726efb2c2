"""`moodle-analytics spark-cluster start|stop|status`: a standalone Spark cluster on this machine.

The `spark` target builds on it when SPARK_MASTER holds the master URL that `start` prints
(docs/engines.md). The work is runner.dbt.spark_cluster's; this module only reads options and
reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from runner.cli import output as ui
from runner.dbt.spark_cluster import DEFAULT_FOLDER, ClusterSettings, SparkCluster
from runner.user_errors import UserError

spark_cluster_app = typer.Typer(
    help="A standalone Spark cluster on this machine (a master and workers from pyspark), for "
    "the spark target: SPARK_MASTER=<the master URL> dbt build --target spark.",
    no_args_is_help=True,
)

FolderOption = Annotated[
    Path,
    typer.Option("--folder", help="Where the cluster keeps its logs, state and scratch files."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")]


def _describe(cluster: SparkCluster) -> str:
    return (
        f"master {escape(cluster.master_url)} (web UI {escape(cluster.web_url)}), "
        f"{cluster.workers} worker(s); logs in {escape(str(cluster.folder))}"
    )


@spark_cluster_app.command("start")
def start(
    host: Annotated[str, typer.Option(help="Address the master and workers listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="The master's port (spark://host:port).")] = 7077,
    web_port: Annotated[int, typer.Option(help="The master's web UI port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes to start.")] = 2,
    cores: Annotated[int, typer.Option(help="Cores each worker offers.")] = 1,
    memory: Annotated[str, typer.Option(help="Memory each worker offers (e.g. 3g).")] = "3g",
    folder: FolderOption = DEFAULT_FOLDER,
    json_output: JsonOption = False,
) -> None:
    """Start a master and workers; return once every worker has registered with the master."""
    from runner.dbt.spark_cluster import start_cluster

    output = ui.Output(json_output, False)
    with ui.user_errors(output):
        settings = ClusterSettings(folder, host, port, web_port, workers, cores, memory)
        cluster = start_cluster(settings)
        if json_output:
            output.emit_json({"ok": True, **cluster.as_dict()})
            return
        output.result(f"Spark cluster running: {_describe(cluster)}")
        output.info(
            f"Build on it: SPARK_MASTER={escape(cluster.master_url)} dbt build --target spark"
        )


@spark_cluster_app.command("stop")
def stop(folder: FolderOption = DEFAULT_FOLDER, json_output: JsonOption = False) -> None:
    """Stop the cluster started from --folder (its executors too)."""
    from runner.dbt.spark_cluster import stop_cluster

    output = ui.Output(json_output, False)
    with ui.user_errors(output):
        stopped = stop_cluster(folder)
        if json_output:
            output.emit_json({"ok": True, "stopped": [process.role for process in stopped]})
            return
        if stopped:
            output.result("stopped: " + ", ".join(process.role for process in stopped))
        else:
            output.result(f"no Spark cluster was running from {escape(str(folder))}")


@spark_cluster_app.command("status")
def status(folder: FolderOption = DEFAULT_FOLDER, json_output: JsonOption = False) -> None:
    """Show the cluster started from --folder (exit 1 unless every worker is registered)."""
    from runner.dbt.spark_cluster import cluster_status

    output = ui.Output(json_output, False)
    with ui.user_errors(output):
        current = cluster_status(folder)
        if current is None:
            raise UserError(f"no Spark cluster was started from {folder}")
        if json_output:
            output.emit_json({"ok": current.ready, **current.as_dict()})
        else:
            output.result(
                f"{_describe(current.cluster)}\nrunning: {', '.join(current.running) or 'none'}; "
                f"workers registered: {current.alive_workers} of {current.cluster.workers}"
            )
        if not current.ready:
            raise typer.Exit(1)
