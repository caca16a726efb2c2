"""The CLI's failure paths: each user mistake gives exit 1, one clear line, no traceback."""

from __future__ import annotations

import json

import pytest
from support.cli_helpers import assert_clean_failure, cli_env, invoke, run_cli

from runner import __version__
from runner.dbt.build_lock import build_lock
from runner.moodle.schema import create_schema


@pytest.fixture()
def env(empty_database, tmp_path):
    return cli_env(empty_database, tmp_path)


def test_version_is_eager_and_help_lists_every_command(env):
    version = invoke(["--version"], env)
    assert version.exit_code == 0
    assert version.stdout.strip() == f"moodle-analytics {__version__}"
    bare = invoke([], env)
    for command in ("demo", "build", "export", "docs", "check", "generate", "load-dump", "db"):
        assert command in bare.stdout
    db_help = invoke(["db", "--help"], env)
    for command in ("start", "stop", "status", "url"):
        assert command in db_help.stdout


def test_unreachable_database_is_one_line(env):
    env = {**env, "PGPORT": "1"}
    result = invoke(["build"], env)
    assert_clean_failure(result, "database unreachable at 127.0.0.1:1")
    check = invoke(["check", "--json"], env)
    assert check.exit_code == 1
    report = json.loads(check.stdout)
    database = next(item for item in report["checks"] if item["name"] == "database")
    assert database["status"] == "fail"
    assert "unreachable" in database["detail"]


def test_unknown_var_is_refused_with_a_suggestion(env):
    result = invoke(["build", "--vars", "{session_cap_hour: 2}"], env)
    assert_clean_failure(
        result, "unknown var 'session_cap_hour'", "did you mean 'session_cap_hours'"
    )


def test_malformed_vars_are_refused(env):
    assert_clean_failure(
        invoke(["build", "--vars", "{session_cap_hours: [1,"], env), "not valid YAML"
    )
    assert_clean_failure(invoke(["build", "--vars", "42"], env), "must be a mapping")


def test_json_error_document_is_parseable(env):
    result = invoke(["build", "--json", "--vars", "{nope: 1}"], env)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert "unknown var 'nope'" in document["error"]


def test_unknown_target_is_refused(env):
    assert_clean_failure(invoke(["build", "--target", "prod"], env), "unknown dbt target 'prod'")


def test_selectors_other_than_the_projects_are_refused(env):
    from runner.dbt.build import BuildOptions

    unknown = invoke(["build", "--selector", "weekly"], env)
    assert_clean_failure(unknown, "--selector 'weekly' is not a selector of this project")
    assert "selectors.yml defines: nightly, full_check" in unknown.stderr
    assert_clean_failure(
        invoke(["build", "--selector", "full_check", "--select", "dim_user"], env),
        "--selector cannot be combined with --select or --exclude",
    )
    # A known one goes to dbt as it is (the weekly full check).
    weekly = BuildOptions(full_refresh=True, selector="full_check")
    assert weekly.dbt_arguments() == ["build", "--full-refresh", "--selector", "full_check"]


def test_bad_schema_names_are_refused_before_reaching_sql(env):
    assert_clean_failure(
        invoke(["check", "--schema", "x; drop table y"], env), "not a plain identifier"
    )
    assert_clean_failure(invoke(["export", "--mart-schema", "Mart"], env), "not a plain identifier")
    assert_clean_failure(invoke(["generate", "--schema", "1abc"], env), "not a plain identifier")
    assert_clean_failure(invoke(["check", "--prefix", "MDL-"], env), "prefix")


def test_check_names_missing_moodle_tables(empty_database, env):
    connection = empty_database.connect()
    create_schema(connection, "public", "mdl_", with_indexes=False)
    with connection.cursor() as cursor:
        cursor.execute("drop table mdl_forum_posts")
        cursor.execute("drop table mdl_grade_grades_history")
    connection.commit()
    connection.close()

    result = invoke(["check", "--json"], env)
    assert result.exit_code == 1
    checks = {item["name"]: item for item in json.loads(result.stdout)["checks"]}
    assert checks["database"]["status"] == "ok"
    assert checks["moodle tables"]["status"] == "fail"
    assert "mdl_forum_posts" in checks["moodle tables"]["detail"]
    assert "mdl_grade_grades_history" in checks["moodle tables"]["detail"]
    assert "2 of 20" in checks["moodle tables"]["detail"]

    human = invoke(["check"], env)
    assert human.exit_code == 1
    assert "mdl_forum_posts" in human.stdout
    assert "check(s) failed: moodle tables" in human.stderr


def test_export_before_build_says_to_build_first(env, tmp_path):
    out = tmp_path / "exports"
    result = invoke(["export", "--out", str(out)], env)
    assert_clean_failure(result, "mart.learner_tiers does not exist", "build")
    assert not out.exists()  # nothing created for an export that cannot run


def test_failed_models_are_named_with_dbt_message(env):
    # An empty database: every staging model fails because its Moodle table is missing.
    result = invoke(["build", "--select", "stg_moodle__users", "-s", "stg_moodle__roles"], env)
    first = assert_clean_failure(result, "dbt build failed: 2 failed")
    assert "stg_moodle__users" in first and "stg_moodle__roles" in first
    # dbt's own message follows, per failed model, naming the missing Moodle table.
    details = result.stderr.split(first, 1)[1]
    users = details.split("ERROR model stg_moodle__users", 1)[1].split("ERROR model", 1)[0]
    roles = details.split("ERROR model stg_moodle__roles", 1)[1].split("ERROR model", 1)[0]
    assert '"mdl_user"' in users
    assert '"mdl_role"' in roles
    assert "skipped because something they depend on failed" in details


def test_selection_matching_nothing_is_an_error(env):
    assert_clean_failure(
        invoke(["build", "--select", "no_such_model_anywhere"], env), "nothing to build"
    )


def test_second_build_is_refused_while_the_lock_is_held(empty_database, env):
    with build_lock(empty_database):
        # Another process, as a second CI job would be.
        result = run_cli(["build"], env)
    assert result.returncode == 1, result.stderr
    first = next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    assert first.startswith("Error: another build is already running against database")
    assert empty_database.dbname in first
    assert "held by server pid" in result.stderr
    assert "Traceback" not in result.stderr

    # Released: the next build gets past the lock (and fails only on the missing tables).
    after = invoke(["build", "--select", "stg_moodle__roles"], env)
    assert "another build" not in after.stderr
    assert "stg_moodle__roles" in after.stderr


def test_db_url_prints_connection_lines_never_the_password(empty_database, env):
    env = {**env, "PGPASSWORD": "s3cret-not-to-print"}
    lines = invoke(["db", "url"], env)
    assert lines.exit_code == 0
    assert "s3cret" not in lines.stdout
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in lines.stdout.strip().splitlines()
    )
    assert exported == {
        "PGHOST": empty_database.host,
        "PGPORT": str(empty_database.port),
        "PGUSER": empty_database.user,
        "PGDATABASE": empty_database.dbname,
    }
    as_json = json.loads(invoke(["db", "url", "--format", "json"], env).stdout)
    assert as_json["database"] == empty_database.dbname
    assert "s3cret" not in json.dumps(as_json)
    assert invoke(["db", "url", "--format", "url"], env).stdout.strip() == empty_database.describe()
    assert invoke(["db", "url", "--format", "yaml"], env).exit_code == 2


def test_db_status_json_matches_its_exit_code(env):
    result = invoke(["db", "status", "--json"], env)
    status = json.loads(result.stdout)
    assert set(status) >= {"initialised", "running", "host", "port", "pid", "data_dir"}
    assert result.exit_code == (0 if status["running"] else 1)


def test_missing_user_profile_is_reported_by_check_and_build(env, tmp_path):
    empty_profiles = tmp_path / "no_profiles_here"
    empty_profiles.mkdir()
    env = {**env, "DBT_PROFILES_DIR": str(empty_profiles)}
    check = invoke(["check", "--json"], env)
    assert check.exit_code == 1
    profile = next(item for item in json.loads(check.stdout)["checks"] if item["name"] == "profile")
    assert profile["status"] == "fail"
    assert "profiles.yml does not exist" in profile["detail"]
    assert_clean_failure(invoke(["build"], env), "dbt profile missing", str(empty_profiles))


def test_check_reports_the_installed_dbt_against_the_project_requirement(env):
    from importlib.metadata import version

    checks = json.loads(invoke(["check", "--json"], env).stdout)["checks"]
    dbt = next(item for item in checks if item["name"] == "dbt")
    assert dbt["status"] == "ok"
    assert f"dbt-core {version('dbt-core')}" in dbt["detail"]
    assert f"dbt-postgres {version('dbt-postgres')}" in dbt["detail"]
