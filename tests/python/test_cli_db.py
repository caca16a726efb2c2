"""db start/status/url/stop and check with the embedded server, in a runtime folder of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli_helpers import run_cli

from runner.postgres.connection import LIBPQ_VARIABLES
from runner.postgres.pg_tools import find_tool


@pytest.fixture()
def runtime_env() -> Iterator[dict[str, str]]:
    """No PG* variables (so the embedded server is used) and a private runtime folder.

    The folder must be traversable by the unprivileged account the server runs as under root.
    """
    root = Path(tempfile.mkdtemp(prefix="ma_cli_runtime_"))
    root.chmod(0o755)
    unset = (*LIBPQ_VARIABLES, "PGPASSFILE")
    env = {name: value for name, value in os.environ.items() if name not in unset}
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
    # The password file is named, the password never printed; psql gets in with it only.
    password_file = Path(runtime_env["MOODLE_ANALYTICS_RUNTIME"]) / "postgres.pgpass"
    assert f"export PGPASSFILE={password_file}" in url.stdout.splitlines()
    password = password_file.read_text().strip().rsplit(":", 1)[1]
    as_url = run_cli(["db", "url", "--format", "url"], {}, base_env=runtime_env).stdout.strip()
    assert as_url.endswith(f"?passfile={password_file}")
    assert password not in url.stdout + as_url
    variables = dict(
        line.removeprefix("export ").split("=", 1) for line in url.stdout.split("\n") if line
    )
    psql = [str(find_tool("psql")), "-XAtc", "select current_user"]
    shell = {**runtime_env, **variables}
    assert subprocess.run(psql, env=shell, capture_output=True, text=True).stdout == "postgres\n"
    shell["PGPASSFILE"] = str(password_file.with_name("no.pgpass"))
    refused = subprocess.run(psql, env=shell, capture_output=True, text=True)
    assert refused.returncode != 0 and "no password supplied" in refused.stderr

    code, check = cli_json(["check", "--json"], runtime_env)
    statuses = {item["name"]: item["status"] for item in check["checks"]}
    assert statuses["embedded server"] == "ok" and statuses["database"] == "ok"
    assert statuses["moodle tables"] == "fail" and code == 1  # nothing loaded yet

    code, stopped = cli_json(["db", "stop", "--json"], runtime_env)
    assert code == 0 and stopped["was_running"] is True
    code, status = cli_json(["db", "status", "--json"], runtime_env)
    assert (code, status["running"]) == (1, False)
