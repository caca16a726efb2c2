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

from runner import connection as conn_mod
from runner import embedded
from runner.connection import ConnectionError_, ConnectionInfo
from runner.database import check_reachable, ensure_database, resolve_connection
from runner.embedded import EmbeddedPostgres, EmbeddedPostgresError


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
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def server(make_server: Callable[..., EmbeddedPostgres]) -> EmbeddedPostgres:
    return make_server()


def _query(info: ConnectionInfo, statement: str, *params: object) -> list[tuple]:
    connection = psycopg2.connect(
        host=info.host, port=info.port, user=info.user, dbname=info.dbname, password=info.password
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


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
    assert address == "127.0.0.1/32" and listen == "127.0.0.1" and sockets == ""
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


def test_superuser_is_trusted_but_other_roles_need_a_scram_password(
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
    try:
        info = server.start()
    finally:
        blocker.close()
    assert info.port != taken
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
def test_an_unreachable_data_dir_is_explained(make_server: Callable[..., EmbeddedPostgres]) -> None:
    server = make_server()
    private = server.data_dir.parent / "private"
    private.mkdir(mode=0o700)
    hidden = EmbeddedPostgres(private / "pg", preferred_port=0)

    with pytest.raises(EmbeddedPostgresError) as failure:
        hidden.start()
    assert f"cannot enter {private}" in str(failure.value)
    assert f"chmod o+x {private}" in str(failure.value)
    assert not (private / "pg").exists()


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
