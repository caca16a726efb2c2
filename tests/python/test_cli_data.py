"""generate, load-dump and demo from an empty database, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from support.cli_helpers import (
    REAL_DUMP_SQL,
    assert_clean_failure,
    cli_env,
    generator_available,
    invoke,
)

from runner.moodle.schema import REQUIRED_TABLES, create_schema
from runner.postgres.pg_tools import find_tool

needs_generator = pytest.mark.skipif(
    not generator_available(), reason="runner.generator has not landed yet"
)


@pytest.fixture()
def env(empty_database, tmp_path):
    return cli_env(empty_database, tmp_path)


def row_count(info, table: str, schema: str = "public") -> int:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'select count(*) from "{schema}"."{table}"')
            return int(cursor.fetchone()[0])
    finally:
        connection.close()


def test_load_dump_restores_the_real_site_into_another_schema(empty_database, env):
    result = invoke(["load-dump", str(REAL_DUMP_SQL), "--schema", "moodle_site", "--json"], env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["format"] == "plain-gz"
    assert report["tables_restored"] == len(REQUIRED_TABLES)
    assert report["missing_tables"] == []
    # Row counts from tests/data/README.md.
    assert row_count(empty_database, "mdl_logstore_standard_log", "moodle_site") == 17428
    assert row_count(empty_database, "mdl_user", "moodle_site") == 46

    check = json.loads(invoke(["check", "--schema", "moodle_site", "--json"], env).stdout)
    tables = next(item for item in check["checks"] if item["name"] == "moodle tables")
    assert tables["status"] == "ok"

    again = invoke(["load-dump", str(REAL_DUMP_SQL), "--schema", "moodle_site"], env)
    assert_clean_failure(again, "already holds", "mdl_logstore_standard_log")
    assert row_count(empty_database, "mdl_user", "moodle_site") == 46


def test_load_dump_lacking_a_table_exits_non_zero_naming_it(make_database, env, tmp_path):
    # A real pg_dump of a site whose mdl_forum_posts table is gone.
    source = make_database("cli_src")
    connection = source.connect()
    create_schema(connection, "public", "mdl_")
    with connection.cursor() as cursor:
        cursor.execute("drop table mdl_forum_posts")
        cursor.execute("insert into mdl_course (fullname, shortname) values ('Site', 'site')")
    connection.commit()
    server_major = connection.server_version // 10000
    connection.close()
    dump = tmp_path / "site_without_forum_posts.dump"
    subprocess.run(
        [
            str(find_tool("pg_dump", server_major=server_major)),
            "-Fc",
            "-f",
            str(dump),
            source.dbname,
        ],
        env={**os.environ, **source.libpq_env()},
        check=True,
    )

    result = invoke(["load-dump", str(dump), "--schema", "site", "--json"], env)
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["missing_tables"] == ["mdl_forum_posts"]
    assert "lacks required Moodle tables: mdl_forum_posts" in result.stderr
    assert "Traceback" not in result.stderr


def test_load_dump_of_a_missing_file_is_one_line(env, tmp_path):
    assert_clean_failure(invoke(["load-dump", str(tmp_path / "nope.dump")], env), "nope.dump")


@needs_generator
def test_generate_prints_row_counts_and_refuses_to_overwrite(empty_database, env):
    result = invoke(["generate", "--scale", "0.05", "--seed", "3", "--json"], env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    counts = report["row_counts"]
    assert set(counts) >= {f"mdl_{name}" for name in REQUIRED_TABLES}
    assert counts["mdl_logstore_standard_log"] > 1000
    for table, rows in counts.items():
        assert row_count(empty_database, table) == rows, table
    assert report["log_rows_per_second"] > 0

    again = invoke(["generate", "--scale", "0.05"], env)
    assert_clean_failure(again, "mdl_")
    assert "--replace" in again.stderr


@pytest.mark.slow
@needs_generator
def test_demo_on_an_empty_database_generates_builds_exports_and_documents(
    empty_database, env, tmp_path
):
    out = tmp_path / "demo"
    result = invoke(["demo", "--scale", "0.05", "--out", str(out), "--json"], env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["generated"] is True
    assert report["generation"]["row_counts"]["mdl_logstore_standard_log"] > 1000
    assert report["build"]["counts"]["failed"] == 0
    marts = {mart["table"]: mart["rows"] for mart in report["marts"]}
    assert marts["learner_tiers"] > 0 and marts["fact_activity"] > 0
    assert (out / "manifest.json").is_file()
    assert (out / "docs" / "index.html").is_file()
