"""A newcomer's first hour: a plain `dbt` in the project folder, reporting logins, help pages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg2 import sql
from support.cli_helpers import cli_env, invoke
from typer.main import get_command

from runner.cli.commands import app
from runner.dbt import profiles
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import LIBPQ_VARIABLES, ConnectionInfo
from runner.postgres.embedded import EmbeddedPostgres


@pytest.fixture(scope="module")
def private_server() -> Iterator[tuple[EmbeddedPostgres, ConnectionInfo]]:
    """An embedded server of this module's own (under root it needs a folder others enter)."""
    root = Path(tempfile.mkdtemp(prefix="ma_first_hour_"))
    root.chmod(0o755)
    server = EmbeddedPostgres(root / "postgres", preferred_port=0)
    try:
        yield server, server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _without_connection_settings(home: Path) -> dict[str, str]:
    """A shell with no PG* variable, no password file, no dbt profile of its own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in (*LIBPQ_VARIABLES, "PGPASSFILE", "DBT_PROFILES_DIR", "DBT_TARGET")
    }
    env.update(HOME=str(home), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    return env


def test_a_plain_dbt_in_the_project_folder_reaches_the_embedded_server(
    private_server: tuple[EmbeddedPostgres, ConnectionInfo], tmp_path: Path
) -> None:
    server, info = private_server
    text = profiles.project_profile_text(server.socket_dir, info.port, info.user, info.dbname)
    password = server.password_file.read_text().strip().rsplit(":", 1)[1]
    assert password not in text  # no secret: the socket lets the server's user in
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "profiles.yml").write_text(text)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [
            str(dbt),
            "show",
            "--inline",
            "select current_user as who, current_database() as db",
            "--project-dir",
            str(PROJECT_ROOT),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=folder,  # dbt finds ./profiles.yml there, as in the project folder
        env=_without_connection_settings(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\|\s*postgres\s*\|\s*moodle\s*\|", result.stdout), result.stdout
    # The project's copy is git-ignored.
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "profiles.yml"], cwd=PROJECT_ROOT, check=False
    )
    assert ignored.returncode == 0


def test_the_project_profile_never_replaces_ones_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profiles.yml"
    monkeypatch.setattr(profiles, "PROJECT_PROFILE", target)
    written = profiles.write_project_profile(tmp_path / "socket", 54329, "postgres", "moodle")
    assert written == target and target.read_text().startswith(profiles.PROJECT_PROFILE_HEADER)
    assert "env_var('PGPORT', '54329')" in target.read_text()
    # Rewritten when the port changes.
    profiles.write_project_profile(tmp_path / "socket", 54330, "postgres", "moodle")
    assert "env_var('PGPORT', '54330')" in target.read_text()
    target.write_text("moodle_analytics: {}\n")  # the user's own
    assert profiles.write_project_profile(tmp_path / "socket", 1, "postgres", "moodle") is None
    assert target.read_text() == "moodle_analytics: {}\n"


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether pg_authid's scram-sha-256 verifier is that of ``password``."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    assert match, verifier
    iterations, salt, stored_key = int(match[1]), base64.b64decode(match[2]), match[3]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


def test_a_reporting_login_gets_a_password_shown_once_and_stored_nowhere(
    empty_database: ConnectionInfo, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    login, group = f"ma_login_{suffix}", f"ma_group_{suffix}"
    env = cli_env(empty_database, tmp_path)
    admin = empty_database.connect(autocommit=True)
    try:
        result = invoke(["db", "reporting-login", login, "--role", group], env)
        assert result.exit_code == 0, result.stderr
        password = result.stdout.strip()
        assert len(password) >= 20 and "\n" not in password
        assert f"'{login}' created, member of '{group}'" in result.stderr
        with admin.cursor() as cursor:
            cursor.execute(
                "select a.rolpassword, a.rolcanlogin, pg_has_role(a.rolname, %s, 'member')"
                " from pg_authid as a where a.rolname = %s",
                (group, login),
            )
            verifier, can_login, member = cursor.fetchone()
        assert can_login and member and _scram_matches(verifier, password)
        # It logs in with that password (the embedded server checks it over TCP).
        reader = ConnectionInfo(
            empty_database.host, empty_database.port, login, empty_database.dbname, password
        )
        connection = reader.connect()
        with connection.cursor() as cursor:
            cursor.execute("select current_user")
            assert cursor.fetchone() == (login,)
        connection.close()
        # Never in a file: not the runtime folder, the project's profile, nor the work folder.
        folders = [tmp_path, PROJECT_ROOT / ".runtime", PROJECT_ROOT / "target"]
        for folder in filter(Path.is_dir, folders):
            for path in folder.rglob("*"):
                if path.is_file() and path.stat().st_size < 50_000_000:
                    assert password.encode() not in path.read_bytes(), path
        # Again: refused without --reset; --reset gives a new password.
        again = invoke(["db", "reporting-login", login, "--role", group], env)
        assert again.exit_code == 1 and "--reset" in again.stderr
        reset = invoke(["db", "reporting-login", login, "--role", group, "--reset"], env)
        assert reset.exit_code == 0, reset.stderr
        with admin.cursor() as cursor:
            cursor.execute("select rolpassword from pg_authid where rolname = %s", (login,))
            (new_verifier,) = cursor.fetchone()
        assert _scram_matches(new_verifier, reset.stdout.strip())
        assert not _scram_matches(new_verifier, password)
    finally:
        with admin.cursor() as cursor:
            for role in (login, group):
                cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.close()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if hasattr(command, "commands"):  # a group (Typer may bring its own click)
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_help_pages_show_plain_metavars_and_reflowed_prose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # wide: a reflowed paragraph fits on one line
    root = get_command(app)
    pages = 0
    for path in _commands(root):
        result = invoke([*path, "--help"], {})
        assert result.exit_code == 0, (path, result.stderr)
        text = result.stdout
        assert not re.search(r"<(bool|str|int|float|path|list\[\w+\])>", text), (path, text)
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage  # PATH, not {path}
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        paragraphs = (command.help or "").split("\n\n")[1:]
        for paragraph in paragraphs:
            words = " ".join(paragraph.split())
            if paragraph.lstrip().startswith("\b") or not words:
                continue
            # The paragraph is one line, not broken where the docstring happened to break.
            lines = [" ".join(line.split()) for line in text.splitlines()]
            # Its start and its end (past any rich markup) on the same line.
            head = re.split(r"[\[\\]", words)[0][:50]
            tail = re.split(r"[\]\\]", words)[-1][-25:]
            assert any(head in line and tail in line for line in lines), (path, words)
        pages += 1
    assert pages >= 15
