"""Shared fixtures: a real PostgreSQL server and throw-away databases on it.

The server is the one the libpq variables (PGHOST, PGPORT, PGUSER, ...) name; when none
is set, the project's embedded PostgreSQL, exactly as a fresh machine would use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from runner import connection as conn_mod
from runner.connection import ConnectionInfo


@pytest.fixture(scope="session")
def pg_server() -> ConnectionInfo:
    """A superuser connection to a running server, database `postgres`."""
    if conn_mod.is_configured():
        return conn_mod.from_environment().with_database("postgres")
    from runner.embedded import EmbeddedPostgres

    return EmbeddedPostgres().start().with_database("postgres")


@pytest.fixture(scope="session")
def make_database(pg_server: ConnectionInfo) -> Iterator[Callable[[str], ConnectionInfo]]:
    """Factory of empty databases, dropped at the end of the test session."""
    created: list[str] = []

    def make(label: str = "t") -> ConnectionInfo:
        name = f"ma_test_{label}_{uuid.uuid4().hex[:8]}"
        admin = pg_server.connect(autocommit=True)
        with admin.cursor() as cursor:
            cursor.execute(f'create database "{name}"')
        admin.close()
        created.append(name)
        return pg_server.with_database(name)

    yield make
    admin = pg_server.connect(autocommit=True)
    with admin.cursor() as cursor:
        for name in created:
            cursor.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


@pytest.fixture()
def empty_database(make_database: Callable[[str], ConnectionInfo]) -> ConnectionInfo:
    return make_database("db")
