"""The dbt docs site as one static HTML file that opens from disk, with tracking switched off.

`dbt docs generate --static` inlines the manifest and catalog into target/static_index.html.
The page's JavaScript would load a tracker from a CDN when the manifest allows usage
statistics; the project turns those off, and this module also removes the tracker's loader
from the page so the file never reaches the network, whatever the manifest says.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from runner.dbt.invoke import (
    DbtOutcome,
    NodeProgress,
    first_meaningful_line,
    run_dbt,
    target_dir,
)
from runner.paths import EXPORTS_DIR
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

DEFAULT_DOCS_DIR = EXPORTS_DIR / "docs"
STATIC_PAGE = "static_index.html"

# (pattern, replacement, what it disables), applied to dbt-docs' minified bundle.
TRACKING_PATCHES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"!0===(\w+)\.track&&(\w+)\.turn_on_tracking\(\)"),
        "!1",
        "the call that turns tracking on",
    ),
    (
        re.compile(r"\"//[a-z0-9.-]+\.cloudfront\.net/[^\"]*\""),
        '""',
        "the tracker script's CDN address",
    ),
    (re.compile(r"\"[a-z0-9.-]*sinter-collect\.com\""), '""', "the tracker's collector address"),
)
TRACKING_ON = re.compile(r"\"send_anonymous_usage_stats\":\s*true")


@dataclass(frozen=True)
class DocsReport:
    path: Path
    seconds: float
    patches_applied: list[str]
    outcome: DbtOutcome

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "seconds": round(self.seconds, 3),
            "tracking_patches": self.patches_applied,
        }


def disable_tracking(html: str) -> tuple[str, list[str]]:
    """The page with the tracker's loader removed, and what was removed."""
    applied = []
    for pattern, replacement, what in TRACKING_PATCHES:
        html, count = pattern.subn(replacement, html)
        if count:
            applied.append(what)
    html = TRACKING_ON.sub('"send_anonymous_usage_stats": false', html)
    return html, applied


def generate_docs(
    info: ConnectionInfo,
    out_dir: Path = DEFAULT_DOCS_DIR,
    *,
    on_progress: Callable[[NodeProgress], None] | None = None,
) -> DocsReport:
    """Run `dbt docs generate --static` and write the page to ``out_dir/index.html``."""
    started = time.monotonic()
    outcome = run_dbt(["docs", "generate", "--static"], info, on_progress=on_progress)
    if not outcome.success:
        raise UserError(
            f"dbt docs generate failed: {first_meaningful_line(outcome.error or '')}",
            outcome.error,
        )
    source = target_dir() / STATIC_PAGE
    if not source.exists():
        raise UserError(f"dbt docs generate did not write {source}")
    html, applied = disable_tracking(source.read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "index.html"
    partial = out_dir / f".index.html.{os.getpid()}.partial"
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, final)
    return DocsReport(final, time.monotonic() - started, applied, outcome)


def make_server(page: Path, port: int = 8080, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server for the folder holding ``page`` (port 0 picks a free port)."""
    if not page.exists():
        raise UserError(f"no docs site at {page}: run `moodle-analytics docs` first")
    handler = functools.partial(_QuietHandler, directory=str(page.parent))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise UserError(f"cannot serve on {host}:{port}: {error.strerror}") from error


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
