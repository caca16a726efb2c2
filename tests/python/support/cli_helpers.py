"""Helpers for the CLI tests: environments, invocations, Moodle data and headless Chromium."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from runner.cli.commands import app
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

REAL_DUMP_SQL = PROJECT_ROOT / "tests" / "data" / "moodle45_real_20tables.sql.gz"


def cli_env(info: ConnectionInfo, work: Path, **extra: str) -> dict[str, str]:
    """Environment for one CLI run: the database and dbt paths of its own (not ./target)."""
    env = {
        **info.libpq_env(),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    env.update(extra)
    return env


def invoke(args: list[str], env: dict[str, str]) -> Any:
    """Run the CLI in-process; the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def run_cli(
    args: list[str],
    env: dict[str, str],
    timeout: float = 300,
    base_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the CLI as a separate process, as a user or CI would.

    The process gets ``base_env`` (default: this process's environment) updated with ``env``.
    """
    full_env = {**(os.environ if base_env is None else base_env), **env}
    return subprocess.run(
        [sys.executable, "-m", "runner.cli.commands", *args],
        env=full_env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_clean_failure(result: Any, *fragments: str) -> str:
    """Exit code 1, a one-line cause naming ``fragments`` before any detail, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    text = result.stderr
    assert "Traceback" not in text + result.stdout
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert errors, text
    first = errors[0]
    for fragment in fragments:
        assert fragment in first, (fragment, first)
    return first


def generator_available() -> bool:
    try:
        from runner.generator import generate  # noqa: F401
    except ImportError:
        return False
    return True


def load_moodle_data(info: ConnectionInfo) -> str:
    """Fill ``info``'s database with Moodle tables: generated at scale 0.05, else the real site."""
    if generator_available():
        from runner.generator import generate

        generate(info, scale=0.05, seed=7)
        return "generated"
    psql = _psql()
    with gzip.open(REAL_DUMP_SQL, "rb") as dump:
        subprocess.run(
            [psql, "-q", "-v", "ON_ERROR_STOP=1", "-d", info.dbname],
            input=dump.read(),
            env={**os.environ, **info.libpq_env()},
            check=True,
            capture_output=True,
        )
    return "real"


def _psql() -> str:
    try:
        from runner.postgres.pg_tools import find_tool

        return str(find_tool("psql"))
    except Exception:  # the bundled tools are optional here: any psql will do
        found = shutil.which("psql")
        assert found, "no psql to load the real Moodle dump"
        return found


# --- headless Chromium over the DevTools protocol (pipe transport, stdlib only) ----------


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class HeadlessChromium:
    """Chromium with --remote-debugging-pipe: commands on fd 3, replies on fd 4, NUL-separated."""

    def __init__(self, binary: str, profile_dir: Path) -> None:
        to_browser_read, to_browser_write = os.pipe()
        from_browser_read, from_browser_write = os.pipe()

        def wire_pipes() -> None:
            # Duplicate first so that neither dup2 clobbers the other pipe's descriptor.
            commands, replies = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(commands, 3)
            os.dup2(replies, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={profile_dir}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            preexec_fn=wire_pipes,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._writer = os.fdopen(to_browser_write, "wb", buffering=0)
        self._reader = os.fdopen(from_browser_read, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        self._writer.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = self._reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str, width: int = 1400, height: int = 1000) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        self.session = attached["sessionId"]
        self.send("Network.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll a JavaScript expression until it is truthy; returns its last value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        return value

    def requested_urls(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._writer.close()
        self._reader.close()


def password_marker(info: ConnectionInfo, fallback: str) -> str:
    """A password to run with that must never reach a file or an output.

    On a server that checks passwords (the embedded one: its superuser's password is in libpq's
    password file), the real one, so the run still connects; on a trusting server, ``fallback``.
    """
    passfile = info.passfile or os.environ.get("PGPASSFILE")
    if passfile and Path(passfile).is_file():
        for line in Path(passfile).read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if len(fields) == 5 and not line.startswith("#") and fields[3] == info.user:
                return fields[4]
    return fallback
