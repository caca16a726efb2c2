"""How the CLI talks: messages and progress on stderr, results on stdout (JSON with --json).

``run_command`` is every command's envelope: it creates the Output, turns a UserError into one
line (and exit 1), and prints the command's report, as JSON or through its renderer.

On a terminal long steps show a live progress bar; in CI logs (no terminal) they print one
line per finished dbt node instead, so the log still tells what ran.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from runner.dbt.invoke import DbtOutcome, NodeProgress, first_meaningful_line
from runner.user_errors import UserError

STATUS_STYLES = {
    "success": "green",
    "pass": "green",
    "warn": "yellow",
    "skipped": "dim",
    "error": "red",
    "fail": "red",
}


def _styled_status(text: str, status: str) -> str:
    """Rich markup for a node status; statuses without a style (e.g. an exposure's) stay plain,
    since an empty "[]...[/]" pair is a markup error that would fail dbt's node."""
    style = STATUS_STYLES.get(status)
    return f"[{style}]{escape(text)}[/]" if style else escape(text)


@dataclass
class Output:
    json_mode: bool = False
    quiet: bool = False
    # soft_wrap: a message stays one line however narrow the terminal (grep-able logs).
    err: Console = field(
        default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True)
    )
    out: Console = field(default_factory=lambda: Console(highlight=False))

    @property
    def chatty(self) -> bool:
        """Whether human-readable progress and summaries are wanted."""
        return not self.quiet

    def info(self, message: str) -> None:
        if self.chatty:
            self.err.print(message)

    def error(self, message: str, hint: str | None = None) -> None:
        self.err.print(f"[bold red]Error:[/] {escape(message)}")
        if hint:
            self.err.print(escape(hint.rstrip()), style="dim")
        if self.json_mode:
            self.emit_json({"ok": False, "error": message, "details": hint})

    def emit_json(self, document: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        sys.stdout.flush()

    def result(self, renderable: Any) -> None:
        """A human-readable result on stdout (suppressed by --json and --quiet)."""
        if not self.json_mode and not self.quiet:
            self.out.print(renderable)


@contextmanager
def dbt_progress(
    output: Output, label: str, *, node_lines: bool = True
) -> Iterator[Callable[[NodeProgress], None] | None]:
    """A dbt event handler showing node-by-node progress, or None when quiet.

    Without a terminal it prints a line per finished node (``node_lines``) or none.
    """
    if not output.chatty:
        yield None
        return
    lock = threading.Lock()
    finished = 0
    total = 0
    if not output.err.is_terminal:

        def log_line(event: NodeProgress) -> None:
            nonlocal finished, total
            with lock:
                if event.kind == "total":
                    total = event.total
                    output.err.print(f"{label}: {total} nodes")
                elif event.kind == "finished" and node_lines:
                    finished += 1
                    # dbt's announced count leaves out unit tests: grow it rather than overshoot.
                    total = max(total, finished)
                    status = _styled_status(f"{event.status.upper():7}", event.status)
                    output.err.print(
                        f"  [{finished}/{total}] {status} "
                        f"{event.resource_type} {escape(event.name)}"
                    )

        yield log_line
        return

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=output.err,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(event: NodeProgress) -> None:
            nonlocal finished, total
            if event.kind == "total":
                total = event.total
                progress.update(task, total=total)
            elif event.kind == "finished":
                finished += 1
                total = max(total, finished)
                status = _styled_status(event.status, event.status)
                progress.update(
                    task,
                    total=total,
                    completed=finished,
                    description=f"{label} {status} {escape(event.name)}",
                )

        yield advance
        progress.update(task, description=f"{label} done")


@contextmanager
def rows_progress(output: Output, label: str) -> Iterator[Callable[[str, int], None]]:
    """A (stage, rows_done) handler for generators and exports."""
    if not output.chatty or not output.err.is_terminal:
        last_stage: list[str] = []

        def stage_line(stage: str, rows_done: int) -> None:
            if output.chatty and (not last_stage or last_stage[-1] != stage):
                last_stage.append(stage)
                output.err.print(f"{label}: {escape(stage)}")

        yield stage_line
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=output.err,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(stage: str, rows_done: int) -> None:
            progress.update(task, description=f"{label}: {escape(stage)}", completed=rows_done)

        yield update


def dbt_failure(outcome: DbtOutcome) -> UserError:
    """The error of a failed dbt command: a one-line cause, each failed node in the hint."""
    if outcome.error and not outcome.failed_nodes:
        return UserError(
            f"dbt {outcome.command} failed: {first_meaningful_line(outcome.error)}",
            outcome.error,
        )
    failed = outcome.failed_nodes
    names = ", ".join(f"{node.resource_type} {node.name}" for node in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    cause = f"dbt {outcome.command} failed: {len(failed)} failed ({names}{more})"
    details = []
    for node in failed:
        where = f" ({node.path})" if node.path else ""
        details.append(f"{node.status.upper()} {node.resource_type} {node.name}{where}")
        details.extend(f"    {line}" for line in (node.message or "no message").splitlines())
    skipped = outcome.count("skipped")
    if skipped:
        details.append(f"{skipped} nodes skipped because something they depend on failed")
    if outcome.log_file:
        details.append(f"dbt's full log: {outcome.log_file}")
    return UserError(cause, "\n".join(details))


class Report(Protocol):
    """What a command reports. ``ok`` (when the report has it) False: exit 1 after printing."""

    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Report)


@contextmanager
def user_errors(output: Output) -> Iterator[None]:
    """Turn users' mistakes into a one-line message and exit code 1; Ctrl-C into 130."""
    try:
        yield
    except UserError as error:
        output.error(error.message, error.hint)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        output.error("interrupted")
        raise typer.Exit(130) from None


def run_command(
    json_output: bool,
    quiet: bool,
    work: Callable[[Output], R],
    render: Callable[[Output, R], None],
    *,
    then: Callable[[Output, R], None] | None = None,
) -> None:
    """Run one command: ``work`` does it and returns its report, which is printed as JSON
    (``{"ok": ..., **report.as_dict()}``) or by ``render``; ``then`` runs after the printing
    (e.g. serving the docs). A report whose ``ok`` is False exits 1, after its ``problem``."""
    output = Output(json_output, quiet)
    with user_errors(output):
        report = work(output)
        ok = getattr(report, "ok", True)
        if json_output:
            output.emit_json({"ok": ok, **report.as_dict()})
        else:
            render(output, report)
        problem = getattr(report, "problem", None)
        if not ok and problem:
            output.err.print(f"[bold red]Error:[/] {escape(problem)}")
        if then is not None:
            then(output, report)
        if not ok:
            raise typer.Exit(1)
