"""Administration of a PostgreSQL server: is it reachable, create a database on it."""

from __future__ import annotations

import psycopg2
from psycopg2 import errors, sql

from runner.postgres.connection import (
    ConnectionError_,
    ConnectionInfo,
    explain_connection_error,
)

# Where to connect while creating a database; `template1` survives where `postgres` was dropped.
MAINTENANCE_DATABASES = ("postgres", "template1")


def check_reachable(info: ConnectionInfo) -> None:
    """Raise ``ConnectionError_`` with one actionable line unless ``info`` accepts a query."""
    connection = info.connect(connect_timeout=5)  # raises ConnectionError_ already explained
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
    except psycopg2.Error as error:
        raise ConnectionError_(explain_connection_error(info, error)) from error
    finally:
        connection.close()


def ensure_database(info: ConnectionInfo) -> None:
    """Create the database ``info.dbname`` on its server unless it exists already."""
    admin = _maintenance_connection(info)
    try:
        with admin.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (info.dbname,))
            if cursor.fetchone() is not None:
                return
            try:
                cursor.execute(sql.SQL("create database {}").format(sql.Identifier(info.dbname)))
            except errors.DuplicateDatabase:
                return  # created meanwhile by another process: just as good
            except errors.InsufficientPrivilege as error:
                raise ConnectionError_(
                    f"database {info.dbname!r} does not exist at {info.host}:{info.port} and user "
                    f"{info.user!r} may not create it (ask for CREATEDB or create it yourself)"
                ) from error
    finally:
        admin.close()


def _maintenance_connection(info: ConnectionInfo):
    last_error: ConnectionError_ | None = None
    for name in MAINTENANCE_DATABASES:
        try:
            return info.with_database(name).connect(autocommit=True)
        except ConnectionError_ as error:
            if "does not exist" not in str(error):
                raise
            last_error = error
    assert last_error is not None
    raise last_error
