"""The embedded PostgreSQL and database resolution, on real servers in throw-away data dirs.

Every server here has its own temporary data directory (never the project's default one,
which other sessions may be using) and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import psycopg2
import pytest

from runner.dbt.server import resolve_connection
from runner.postgres import connection as conn_mod
from runner.postgres import embedded
from runner.postgres.admin import check_reachable, ensure_database
from runner.postgres.connection import ConnectionError_, ConnectionInfo
from runner.postgres.embedded import EmbeddedPostgres, EmbeddedPostgresError


@pytest.fixture()
def make_server() -> Iterator[Callable[..., EmbeddedPostgres]]:
    """Factory of servers in fresh data dirs under a folder any user can traverse.

    (pytest's tmp_path is private to its user; under root the server runs as another one.)
    """
    roots: list[Path] = []
    servers: list[EmbeddedPostgres] = []

    def make(preferred_port: int = 0) -> EmbeddedPostgres:
        root = Path(tempfile.mkdtemp(prefix="ma_embedded_test_"))
        root.chmod(0o755)
        roots.append(root)
        server = EmbeddedPostgres(root / "pg", preferred_port=preferred_port)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        if server.data_dir.parent.parent == embedded.SYSTEM_DIR:
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def server(make_server: Callable[..., EmbeddedPostgres]) -> EmbeddedPostgres:
    return make_server()


def _query(info: ConnectionInfo, statement: str, *params: object) -> list[tuple]:
    connection = psycopg2.connect(
        host=info.host,
        port=info.port,
        user=info.user,
        dbname=info.dbname,
        password=info.password,
        passfile=info.passfile or _NO_PASSWORD_FILE,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


# A password file that does not exist: libpq then finds no password (not even in PGPASSFILE).
_NO_PASSWORD_FILE = "/nonexistent/moodle-analytics/no.pgpass"


def _postmasters_of(data_dir: Path) -> list[int]:
    """Postmaster processes started on ``data_dir`` (their command line names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"/postgres") and str(data_dir).encode() in argv:
            found.append(int(entry.name))
    return found


def test_fresh_start_serves_tcp_on_localhost_with_the_project_database(
    server: EmbeddedPostgres,
) -> None:
    before = server.status()
    assert (before.initialised, before.running, before.pid, before.version) == (
        False,
        False,
        None,
        None,
    )

    info = server.start()

    assert (info.host, info.user, info.dbname) == ("127.0.0.1", "postgres", "moodle")
    rows = _query(
        info,
        """
        select inet_server_addr()::text, current_setting('listen_addresses'),
               current_setting('unix_socket_directories'), current_setting('server_version_num'),
               pg_encoding_to_char(d.encoding), d.datcollate,
               current_setting('shared_buffers'), current_setting('work_mem'),
               current_setting('max_connections')::int
        from pg_database as d where d.datname = current_database()
        """,
    )
    address, listen, sockets, version_num, encoding, collate, buffers, work_mem, max_conn = rows[0]
    assert address == "127.0.0.1/32" and listen == "127.0.0.1"
    # The socket's folder is the server user's alone.
    assert sockets == str(server.socket_dir)
    assert server.socket_dir.stat().st_mode & 0o777 == 0o700
    assert version_num.startswith("16")
    assert (encoding, collate) == ("UTF8", "C")
    assert (buffers, work_mem) == ("512MB", "64MB") and max_conn >= 50
    status = server.status()
    assert status.running and status.initialised and status.port == info.port
    assert status.pid in _postmasters_of(server.data_dir)
    assert status.version is not None and status.version.startswith("16.")
    assert (
        status.log_file.is_file() and "ready to accept connections" in status.log_file.read_text()
    )
    assert json.loads(server.state_file.read_text()) == {"port": info.port}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs another account")
def test_under_root_the_server_runs_as_an_unprivileged_user(server: EmbeddedPostgres) -> None:
    server.start()
    pid = server.status().pid
    assert pid is not None
    assert Path(f"/proc/{pid}").stat().st_uid != 0
    assert server.data_dir.stat().st_uid == Path(f"/proc/{pid}").stat().st_uid


def _files_holding(text: str, *folders: Path) -> list[Path]:
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink() and text.encode() in path.read_bytes():
                found.append(path)
    return found


def test_only_who_holds_the_password_file_gets_in(server: EmbeddedPostgres) -> None:
    info = server.start()
    assert info.password is None and info.passfile == str(server.password_file)
    assert server.password_file.stat().st_mode & 0o777 == 0o600
    assert server.password_file.stat().st_uid == os.geteuid()
    secret_line = [line for line in server.password_file.read_text().splitlines() if line[0] != "#"]
    assert len(secret_line) == 1
    host, port, database, user, password = secret_line[0].split(":")
    assert (host, int(port), database, user) == ("127.0.0.1", info.port, "*", "postgres")
    assert len(password) >= 32

    # Without the secret the superuser is refused over TCP, with a wrong one too.
    without = ConnectionInfo(info.host, info.port, "postgres", "moodle")
    with pytest.raises(psycopg2.OperationalError, match="no password supplied"):
        _query(without, "select 1")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _query(ConnectionInfo(info.host, info.port, "postgres", "moodle", "guess"), "select 1")
    assert _query(info, "select current_user") == [("postgres",)]
    stored = _query(info, "select rolpassword from pg_authid where rolname = 'postgres'")[0][0]
    assert stored.startswith("SCRAM-SHA-256$4096:")
    # The password is in no other file: not the data directory, its log, nor the runtime folder.
    holders = _files_holding(password, server.data_dir, server.password_file.parent)
    assert holders == [server.password_file]

    server.stop()
    assert server.start() == info  # the same secret after a restart
    assert server.password_file.read_text().count(password) == 1


def test_a_data_dir_of_an_older_version_gets_a_secret(server: EmbeddedPostgres) -> None:
    info = server.start()
    _query(info, "create table kept (id int); insert into kept values (3)")
    # What versions before the password made: the superuser trusted, no password file.
    (server.data_dir / "pg_hba.conf").write_text(
        "host    all       postgres  127.0.0.1/32   trust\n"
        "host    all       all       127.0.0.1/32   scram-sha-256\n"
    )
    _query(info, "alter role postgres password null; select pg_reload_conf()")
    server.password_file.unlink()
    old_pid = server.status().pid
    assert _query(ConnectionInfo(info.host, info.port, "postgres", "moodle"), "select 1") == [(1,)]

    again = server.start()  # running: it is stopped, given a secret and started again
    assert server.status().pid != old_pid
    assert _query(again, "select id from kept") == [(3,)]
    with pytest.raises(psycopg2.OperationalError, match="no password supplied"):
        _query(ConnectionInfo(info.host, info.port, "postgres", "moodle"), "select 1")


def test_the_owner_is_the_superuser_on_the_socket_without_a_password(
    server: EmbeddedPostgres,
) -> None:
    info = server.start()
    over_socket = ConnectionInfo(str(server.socket_dir), info.port, "postgres", "moodle")
    assert _query(over_socket, "select current_user") == [("postgres",)]
    _query(info, "create role ma_socket login password 'battery staple'")
    # Any other role needs its password on the socket too.
    with pytest.raises(psycopg2.OperationalError, match="password"):
        _query(ConnectionInfo(str(server.socket_dir), info.port, "ma_socket", "moodle"), "select 1")


def test_other_roles_need_a_scram_password(
    server: EmbeddedPostgres,
) -> None:
    info = server.start()
    _query(info, "create role ma_reader login password 'correct horse'")
    stored = _query(info, "select rolpassword from pg_authid where rolname = 'ma_reader'")[0][0]
    assert stored.startswith("SCRAM-SHA-256$")

    reader = ConnectionInfo(info.host, info.port, "ma_reader", "moodle")
    with pytest.raises(psycopg2.OperationalError, match="password"):
        _query(reader, "select 1")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _query(ConnectionInfo(info.host, info.port, "ma_reader", "moodle", "wrong"), "select 1")
    authenticated = ConnectionInfo(info.host, info.port, "ma_reader", "moodle", "correct horse")
    assert _query(authenticated, "select current_user") == [("ma_reader",)]


def test_start_is_idempotent_even_when_called_concurrently(server: EmbeddedPostgres) -> None:
    results: list[ConnectionInfo] = []
    threads = [threading.Thread(target=lambda: results.append(server.start())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 3 and len(set(results)) == 1
    first_pid = server.status().pid
    assert server.start() == results[0]
    assert server.status().pid == first_pid
    assert _postmasters_of(server.data_dir) == [first_pid]


def test_stop_and_start_keep_the_port_and_the_data(server: EmbeddedPostgres) -> None:
    info = server.start()
    _query(info, "create table kept (id int); insert into kept values (7)")

    assert server.stop() is True
    stopped = server.status()
    assert not stopped.running and stopped.pid is None and stopped.port == info.port
    assert server.stop() is False
    with pytest.raises(psycopg2.OperationalError):
        _query(info, "select 1")

    again = server.start()
    assert again == info
    assert _query(again, "select id from kept") == [(7,)]


def test_a_killed_server_restarts_despite_its_stale_pid_file(server: EmbeddedPostgres) -> None:
    info = server.start()
    _query(info, "create table survivor (id int); insert into survivor values (1), (2)")
    old_pid = server.status().pid
    assert old_pid is not None

    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (server.data_dir / "postmaster.pid").exists()  # the stale lock is still there
    assert not server.status().running

    again = server.start()
    assert again.port == info.port
    assert server.status().pid not in (None, old_pid)
    assert _query(again, "select count(*) from survivor") == [(2,)]


def test_a_taken_preferred_port_gives_a_free_one_that_is_then_kept(
    make_server: Callable[..., EmbeddedPostgres],
) -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    server = make_server(preferred_port=taken)
    following = next(port for port in range(taken + 1, taken + 100) if embedded._port_is_free(port))
    try:
        info = server.start()
    finally:
        blocker.close()
    # "The preferred port, or the next free one" (README).
    assert info.port == following
    server.stop()
    # The preferred port is free now, but the remembered one wins.
    assert server.start().port == info.port


def test_a_failed_start_shows_the_server_log(server: EmbeddedPostgres) -> None:
    server.start()
    server.stop()
    auto_conf = server.data_dir / "postgresql.auto.conf"
    original = auto_conf.read_text()
    auto_conf.write_text(original + "work_mem = 'plenty'\n")

    with pytest.raises(EmbeddedPostgresError) as failure:
        server.start()
    message = str(failure.value)
    assert message.splitlines()[0].startswith("the embedded PostgreSQL did not start")
    assert str(server.log_file) in message
    assert 'invalid value for parameter "work_mem"' in message

    auto_conf.write_text(original)
    assert server.start().dbname == "moodle"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_root_starts_the_server_from_a_private_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clone under /root (0700): programs and data dir are placed where moodle_pg reaches."""
    private = Path(tempfile.mkdtemp(prefix="ma_private_clone_"))  # 0700, like /root
    assert private.stat().st_mode & 0o777 == 0o700
    # The bundled server programs inside the private folder, as in a venv of that clone.
    bundled = embedded._server_bin_dir().parent
    package = bundled.parent
    clone_site = private / ".venv" / "site-packages"
    clone_install = clone_site / package.name / bundled.name
    shutil.copytree(bundled, clone_install, symlinks=True)
    for libraries in package.parent.glob(f"{package.name}.libs"):
        shutil.copytree(libraries, clone_site / libraries.name, symlinks=True)
    monkeypatch.setattr(embedded, "_server_bin_dir", lambda: clone_install / "bin")
    server = EmbeddedPostgres(private / ".runtime" / "postgres", preferred_port=0)
    copies = set(embedded.SYSTEM_DIR.glob("pgsql-*"))
    try:
        info = server.start()
        assert _query(info, "select current_database()") == [("moodle",)]
        status = server.status()
        assert status.running and Path(f"/proc/{status.pid}").stat().st_uid != 0
        # The service account's files: under the root-owned 0755 system folder.
        assert server.data_dir.parent.parent == embedded.SYSTEM_DIR
        assert server.data_dir.parent.stat().st_mode & 0o777 == 0o755
        assert server.data_dir.stat().st_mode & 0o777 == 0o700
        assert server.data_dir.stat().st_uid == Path(f"/proc/{status.pid}").stat().st_uid
        running = os.readlink(f"/proc/{status.pid}/exe")
        assert running.startswith(str(embedded.SYSTEM_DIR / "pgsql-")), running
        # The user's folder stays closed; their own files (password, port) stay in it.
        assert private.stat().st_mode & 0o777 == 0o700
        assert server.password_file.parent == private / ".runtime"
        server.stop()
        assert server.start() == info
    finally:
        server.stop()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)
        for copy in set(embedded.SYSTEM_DIR.glob("pgsql-*")) - copies:
            shutil.rmtree(copy, ignore_errors=True)


def test_a_folder_that_is_no_data_dir_is_refused(server: EmbeddedPostgres) -> None:
    server.data_dir.mkdir()
    (server.data_dir / "notes.txt").write_text("mine")
    with pytest.raises(EmbeddedPostgresError, match="not a PostgreSQL data directory"):
        server.start()
    assert (server.data_dir / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------ database resolution


def _clear_libpq_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in conn_mod.LIBPQ_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_configured_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_libpq_environment(monkeypatch)
    monkeypatch.setenv("PGHOST", "db.example.org")
    monkeypatch.setenv("PGPORT", "6543")
    monkeypatch.setenv("PGUSER", "analyst")
    monkeypatch.setenv("PGDATABASE", "site")

    resolved = resolve_connection()
    assert resolved == ConnectionInfo("db.example.org", 6543, "analyst", "site")
    assert resolve_connection(dbname="other").dbname == "other"


def test_without_configuration_the_embedded_server_is_used(
    monkeypatch: pytest.MonkeyPatch, server: EmbeddedPostgres
) -> None:
    _clear_libpq_environment(monkeypatch)
    # Resolution must use the default server; point "the default" at this test's data dir.
    monkeypatch.setattr(
        embedded, "EmbeddedPostgres", partial(EmbeddedPostgres, server.data_dir, preferred_port=0)
    )

    resolved = resolve_connection()
    assert resolved.dbname == "moodle" and resolved.port == server.status().port
    assert server.status().running
    assert resolve_connection(dbname="postgres") == resolved.with_database("postgres")

    monkeypatch.setenv("PGHOST", "127.0.0.1")
    monkeypatch.setenv("PGPORT", "1")
    forced = resolve_connection(embedded=True)
    assert forced == resolved
    assert resolve_connection(embedded=False).port == 1


def test_embedded_false_uses_libpq_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_libpq_environment(monkeypatch)
    resolved = resolve_connection(embedded=False)
    assert (resolved.host, resolved.port) == ("127.0.0.1", 5432)


def test_check_reachable_explains_in_one_line(pg_server: ConnectionInfo) -> None:
    check_reachable(pg_server)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(ConnectionError_) as unreachable:
        check_reachable(ConnectionInfo("127.0.0.1", closed_port, "postgres", "postgres"))
    assert str(unreachable.value) == (
        f"database unreachable at 127.0.0.1:{closed_port}: no PostgreSQL server answers there"
    )

    with pytest.raises(ConnectionError_) as no_database:
        check_reachable(pg_server.with_database("ma_test_no_such_database"))
    assert "\n" not in str(no_database.value)
    assert "'ma_test_no_such_database' does not exist" in str(no_database.value)


def test_ensure_database_creates_once_with_a_quoted_name(pg_server: ConnectionInfo) -> None:
    name = f'ma_test_Odd "Name"; {uuid.uuid4().hex[:6]}'
    target = pg_server.with_database(name)
    try:
        ensure_database(target)
        ensure_database(target)  # already there: nothing to do, no error
        check_reachable(target)
        count = _query(pg_server, "select count(*) from pg_database where datname = %s", name)
        assert count == [(1,)]
    finally:
        _query(pg_server, 'drop database if exists "{}"'.format(name.replace('"', '""')))
