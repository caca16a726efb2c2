"""A pytest plugin for the reliability tests: one built warehouse and cheap copies of it.

The test modules list it in ``pytest_plugins``. The generated Moodle site is built once per
run with the project's real `dbt build`; each test works on its own copy made with
CREATE DATABASE ... TEMPLATE (a file copy, about a second), so no test sees another's changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from psycopg2 import sql

from runner.generator import generate
from runner.postgres.connection import ConnectionInfo
from support.dbt_helpers import assert_dbt_succeeded, run_dbt

SCALE = 0.05
SEED = 11


@pytest.fixture(scope="session")
def built_warehouse(shared_build: Callable[..., tuple[ConnectionInfo, Path]]) -> ConnectionInfo:
    """A generated Moodle site with every seed and model built (do not modify: copy it).

    Built once for the whole run (conftest.shared_build). dbt's data and unit tests are left
    out here: they change no table, and the tests that need a complete `dbt build` run one
    themselves.
    """

    def build(info: ConnectionInfo, work_dir: Path) -> None:
        generate(info, scale=SCALE, seed=SEED)
        result = run_dbt(
            ["build", "--exclude", "resource_type:test", "--exclude", "resource_type:unit_test"],
            info,
            work_dir,
        )
        assert_dbt_succeeded(result)

    return shared_build("reliability_base", build)[0]


@pytest.fixture(scope="session")
def copy_database(
    pg_server: ConnectionInfo,
) -> Iterator[Callable[[ConnectionInfo, str], ConnectionInfo]]:
    """Factory of copies of a database (CREATE DATABASE ... TEMPLATE), dropped at the end."""
    created: list[str] = []

    def copy(source: ConnectionInfo, label: str) -> ConnectionInfo:
        name = f"ma_test_{label}_{uuid.uuid4().hex[:8]}"
        admin = pg_server.connect(autocommit=True)
        try:
            with admin.cursor() as cursor:
                cursor.execute(
                    sql.SQL("create database {} template {}").format(
                        sql.Identifier(name), sql.Identifier(source.dbname)
                    )
                )
        finally:
            admin.close()
        created.append(name)
        return source.with_database(name)

    yield copy
    admin = pg_server.connect(autocommit=True)
    with admin.cursor() as cursor:
        for name in created:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
    admin.close()
