"""Where the Moodle database is: the standard libpq variables, never a file in the repo."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

import psycopg2
from psycopg2.extensions import connection as PgConnection

from runner.user_errors import UserError

# The variables libpq itself reads; a database counts as configured when any is set.
LIBPQ_VARIABLES = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")


class ConnectionError_(UserError):
    """The database cannot be reached; the message says why in one line."""


@dataclass(frozen=True)
class ConnectionInfo:
    host: str
    port: int
    user: str
    dbname: str
    # Read from the environment only; never printed nor written to a file.
    password: str | None = None
    # libpq's password file (PGPASSFILE) holding the password: the embedded server's secret.
    passfile: str | None = None

    def with_database(self, dbname: str) -> ConnectionInfo:
        return replace(self, dbname=dbname)

    def libpq_env(self) -> dict[str, str]:
        """Environment for dbt, psql and pg_restore (the profile reads these)."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
        }
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        if self.passfile is not None:
            env["PGPASSFILE"] = self.passfile
        return env

    def describe(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def connect(self, *, autocommit: bool = False, connect_timeout: int = 10) -> PgConnection:
        # Without a passfile of its own, libpq reads PGPASSFILE (or ~/.pgpass) as usual.
        passfile = {"passfile": self.passfile} if self.passfile is not None else {}
        try:
            connection = psycopg2.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                dbname=self.dbname,
                password=self.password,
                connect_timeout=connect_timeout,
                application_name="moodle-analytics",
                **passfile,
            )
        except psycopg2.OperationalError as error:
            raise ConnectionError_(explain_connection_error(self, error)) from error
        connection.autocommit = autocommit
        return connection


def explain_connection_error(info: ConnectionInfo, error: Exception) -> str:
    """One line a user can act on, from libpq's multi-line message."""
    text = str(error).strip()
    lowered = text.lower()
    where = f"{info.host}:{info.port}"
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        if info.passfile is not None:
            return (
                f"wrong or missing password for user {info.user!r} at {where} "
                f"(the password file {info.passfile} does not hold the right one)"
            )
        return f"wrong or missing password for user {info.user!r} at {where} (set PGPASSWORD)"
    if "does not exist" in lowered and "database" in lowered:
        return f"database {info.dbname!r} does not exist at {where}"
    if "does not exist" in lowered and "role" in lowered:
        return f"user {info.user!r} does not exist at {where}"
    if "could not translate host name" in lowered:
        return f"unknown host {info.host!r} (check PGHOST)"
    if (
        "connection refused" in lowered
        or "timeout expired" in lowered
        or "could not connect" in lowered
    ):
        return f"database unreachable at {where}: no PostgreSQL server answers there"
    first_line = text.splitlines()[0] if text else type(error).__name__
    return f"cannot connect to {where}: {first_line}"


def is_configured(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in LIBPQ_VARIABLES)


def from_environment(environ: Mapping[str, str] | None = None) -> ConnectionInfo:
    """The connection libpq would make, with libpq's own defaults for what is unset."""
    environ = os.environ if environ is None else environ
    user = environ.get("PGUSER") or _login_name()
    port_text = environ.get("PGPORT") or "5432"
    try:
        port = int(port_text)
    except ValueError as error:
        raise ConnectionError_(f"PGPORT={port_text!r} is not a port number") from error
    return ConnectionInfo(
        host=environ.get("PGHOST") or "127.0.0.1",
        port=port,
        user=user,
        dbname=environ.get("PGDATABASE") or user,
        password=environ.get("PGPASSWORD") or None,
    )


def _login_name() -> str:
    import getpass

    return getpass.getuser()
