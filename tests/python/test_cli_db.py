"""db start/status/url/stop and check with the embedded server, in a runtime folder of its own."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import run_cli

from runner.connection import LIBPQ_VARIABLES


@pytest.fixture()
def runtime_env() -> Iterator[dict[str, str]]:
    """No PG* variables (so the embedded server is used) and a private runtime folder.

    The folder must be traversable by the unprivileged account the server runs as under root.
    """
    root = Path(tempfile.mkdtemp(prefix="ma_cli_runtime_"))
    root.chmod(0o755)
    env = {name: value for name, value in os.environ.items() if name not in LIBPQ_VARIABLES}
    env["MOODLE_ANALYTICS_RUNTIME"] = str(root)
    yield env
    run_cli(["db", "stop"], {}, base_env=env)
    shutil.rmtree(root, ignore_errors=True)


def cli_json(args: list[str], env: dict[str, str]) -> tuple[int, dict]:
    result = run_cli(args, {}, base_env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_embedded_server_lifecycle_through_the_cli(runtime_env):
    code, status = cli_json(["db", "status", "--json"], runtime_env)
    assert (code, status["initialised"], status["running"]) == (1, False, False)

    code, check = cli_json(["check", "--json"], runtime_env)
    assert code == 1
    embedded = next(item for item in check["checks"] if item["name"] == "embedded server")
    assert embedded["status"] == "fail" and "db start" in embedded["detail"]

    code, started = cli_json(["db", "start", "--json"], runtime_env)
    assert code == 0 and started["database"] == "moodle" and started["host"] == "127.0.0.1"

    code, status = cli_json(["db", "status", "--json"], runtime_env)
    assert (code, status["running"], status["port"]) == (0, True, started["port"])

    url = run_cli(["db", "url"], {}, base_env=runtime_env)
    assert url.returncode == 0
    assert f"export PGPORT={started['port']}" in url.stdout.splitlines()
    assert "export PGDATABASE=moodle" in url.stdout.splitlines()

    code, check = cli_json(["check", "--json"], runtime_env)
    statuses = {item["name"]: item["status"] for item in check["checks"]}
    assert statuses["embedded server"] == "ok" and statuses["database"] == "ok"
    assert statuses["moodle tables"] == "fail" and code == 1  # nothing loaded yet

    code, stopped = cli_json(["db", "stop", "--json"], runtime_env)
    assert code == 0 and stopped["was_running"] is True
    code, status = cli_json(["db", "status", "--json"], runtime_env)
    assert (code, status["running"]) == (1, False)
