"""The read-only reporting role: after `dbt build` a member of it reads every mart table and
nothing else (no staging view, no intermediate table, no Moodle table).

The role names are unique per run (var reporting_role), because roles belong to the whole
server; the test drops them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import psycopg2
import pytest
from psycopg2 import sql
from support.dbt_helpers import assert_dbt_succeeded, run_dbt
from support.progress_reference import build_real_site, rows

from runner.postgres.connection import ConnectionInfo


@pytest.fixture(scope="module")
def reporting_login(
    make_database: Callable[[str], ConnectionInfo],
    pg_server: ConnectionInfo,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ConnectionInfo, ConnectionInfo, str]]:
    """(superuser connection, a member's login connection, the group role) after a build."""
    suffix = uuid.uuid4().hex[:8]
    group, login, password = f"bi_reader_{suffix}", f"analyst_{suffix}", uuid.uuid4().hex
    work_dir = tmp_path_factory.mktemp("reporting_role")
    info = build_real_site(make_database, work_dir, "reporting_role", {"reporting_role": group})
    admin = info.connect(autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(login), sql.Literal(password), sql.Identifier(group)
            )
        )
    admin.close()
    yield info, replace(info, user=login, password=password), group
    admin = info.connect(autocommit=True)
    with admin.cursor() as cursor:
        for role in (login, group):
            cursor.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            cursor.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
    admin.close()


def can_select(info: ConnectionInfo, schema: str, table: str) -> bool:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("select count(*) from {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
            return cursor.fetchone() is not None
    except psycopg2.errors.InsufficientPrivilege:
        return False
    finally:
        connection.close()


def test_the_group_role_is_created_without_login(reporting_login) -> None:
    admin, _, group = reporting_login
    assert rows(admin, "select rolcanlogin from pg_roles where rolname = %s", (group,)) == [
        (False,)
    ]


def test_a_member_reads_every_mart_table(reporting_login) -> None:
    admin, member, _ = reporting_login
    mart_tables = [
        name
        for (name,) in rows(
            admin, "select table_name from information_schema.tables where table_schema = 'mart'"
        )
    ]
    assert {"fact_learner_week", "learner_engagement_bands", "fact_grade", "dim_user"} <= set(
        mart_tables
    )
    for table in mart_tables:
        assert can_select(member, "mart", table), table


def test_a_member_reads_no_staging_intermediate_or_moodle_table(reporting_login) -> None:
    _, member, _ = reporting_login
    assert not can_select(member, "staging", "stg_moodle__users")
    assert not can_select(member, "intermediate", "int_log_events_sessionised")
    assert not can_select(member, "public", "mdl_user")
    assert not can_select(member, "public", "mdl_logstore_standard_log")


def test_a_second_build_keeps_the_role_and_its_grants(
    reporting_login, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The role exists now: the hook must not fail on it, and rebuilt marts are granted again."""
    admin, member, group = reporting_login
    work_dir = tmp_path_factory.mktemp("reporting_role_again")
    result = run_dbt(
        ["build", "--select", "dim_module"], admin, work_dir, dbt_vars={"reporting_role": group}
    )
    assert_dbt_succeeded(result)
    assert can_select(member, "mart", "dim_module")


def test_a_role_name_that_is_not_an_identifier_stops_the_build(
    reporting_login, tmp_path_factory: pytest.TempPathFactory
) -> None:
    admin, _, _ = reporting_login
    work_dir = tmp_path_factory.mktemp("reporting_role_bad")
    result = run_dbt(
        ["build", "--select", "dim_module"],
        admin,
        work_dir,
        dbt_vars={"reporting_role": "bi; drop table mart.dim_user"},
    )
    assert result.returncode != 0
    assert "var reporting_role must be a lowercase PostgreSQL role name" in result.stdout
    assert can_select(admin, "mart", "dim_user")
