"""`check`: is this machine ready to build? Each check says in words what is wrong and what to do.

Nothing here changes anything: the embedded server is inspected, never started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from runner.dbt.invoke import DBT_PROJECT_FILE, dbt_versions
from runner.dbt.profiles import EXAMPLE_PROFILE, PROFILES_DIR, profile_targets, user_profiles_dir
from runner.moodle.schema import missing_tables, validate_identifier, validate_prefix
from runner.postgres import connection as connection_module
from runner.postgres.connection import ConnectionError_, ConnectionInfo
from runner.user_errors import UserError

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def required_dbt_versions() -> SpecifierSet:
    document = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8")) or {}
    required = document.get("require-dbt-version") or []
    if isinstance(required, str):
        required = [required]
    return SpecifierSet(",".join(required))


def check_dbt() -> CheckResult:
    versions = dbt_versions()
    core, adapter = versions["dbt-core"], versions["dbt-postgres"]
    if core is None:
        return CheckResult("dbt", FAIL, "dbt-core is not installed: pip install -e .")
    if adapter is None:
        return CheckResult("dbt", FAIL, "dbt-postgres is not installed: pip install -e .")
    required = required_dbt_versions()
    if Version(core) not in required:
        return CheckResult(
            "dbt", FAIL, f"dbt-core {core} is installed but the project requires {required}"
        )
    return CheckResult("dbt", OK, f"dbt-core {core}, dbt-postgres {adapter}")


def check_profile() -> CheckResult:
    chosen = user_profiles_dir()
    if chosen is not None:
        try:
            targets = profile_targets(chosen / "profiles.yml")
        except UserError as error:
            return CheckResult("profile", FAIL, f"{error.message} (DBT_PROFILES_DIR={chosen})")
        return CheckResult(
            "profile", OK, f"{chosen / 'profiles.yml'} (from DBT_PROFILES_DIR), targets {targets}"
        )
    if not EXAMPLE_PROFILE.exists():
        return CheckResult("profile", FAIL, f"profile template missing: {EXAMPLE_PROFILE}")
    written = PROFILES_DIR / "profiles.yml"
    state = "written" if written.exists() else "written on the first dbt command"
    return CheckResult("profile", OK, f"{written} ({state}; reads PGHOST, PGPORT, ...)")


def configured_connection() -> tuple[ConnectionInfo | None, CheckResult]:
    """The database the runner would use, without starting anything."""
    if connection_module.is_configured():
        try:
            info = connection_module.from_environment()
        except ConnectionError_ as error:
            return None, CheckResult("database settings", FAIL, str(error))
        return info, CheckResult("database settings", OK, f"{info.describe()} (from PG* variables)")
    from runner.postgres.embedded import EmbeddedPostgres

    status = EmbeddedPostgres().status()
    if not status.initialised:
        return None, CheckResult(
            "embedded server",
            FAIL,
            "no database configured (PGHOST, ...) and the embedded PostgreSQL is not set up: "
            "run `moodle-analytics db start` or `moodle-analytics demo`",
        )
    if not status.running:
        return None, CheckResult(
            "embedded server",
            FAIL,
            f"embedded PostgreSQL in {status.data_dir} is not running: "
            "run `moodle-analytics db start`",
        )
    info = ConnectionInfo(
        status.host, int(status.port), "postgres", "moodle", passfile=str(status.password_file)
    )
    return info, CheckResult("embedded server", OK, f"running, pid {status.pid}, {info.describe()}")


def check_database(info: ConnectionInfo) -> CheckResult:
    try:
        connection = info.connect(connect_timeout=5)
    except ConnectionError_ as error:
        return CheckResult("database", FAIL, str(error))
    with connection.cursor() as cursor:
        cursor.execute("show server_version")
        version = cursor.fetchone()[0]
    connection.close()
    return CheckResult("database", OK, f"reachable, PostgreSQL {version}")


def check_moodle_tables(info: ConnectionInfo, schema: str, prefix: str) -> CheckResult:
    connection = info.connect(connect_timeout=5)
    try:
        missing = missing_tables(connection, schema, prefix)
    finally:
        connection.close()
    if missing:
        return CheckResult(
            "moodle tables",
            FAIL,
            f"{len(missing)} of 20 Moodle tables missing in schema {schema!r}: "
            + ", ".join(missing)
            + " (run `moodle-analytics generate` or `load-dump`)",
        )
    return CheckResult("moodle tables", OK, f"all 20 present in {schema!r} with prefix {prefix!r}")


def check_marts(info: ConnectionInfo, mart_schema: str = "mart") -> CheckResult:
    connection = info.connect(connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select count(*) from information_schema.tables where table_schema = %s",
                (mart_schema,),
            )
            count = int(cursor.fetchone()[0])
    finally:
        connection.close()
    if count == 0:
        return CheckResult("marts", WARN, "not built yet: run `moodle-analytics build`")
    return CheckResult("marts", OK, f"{count} tables in schema {mart_schema!r}")


def run_checks(schema: str = "public", prefix: str = "mdl_") -> list[CheckResult]:
    validate_identifier(schema, "schema")
    validate_prefix(prefix)
    results = [check_dbt(), check_profile()]
    info, settings = configured_connection()
    results.append(settings)
    if info is None:
        return results
    database = check_database(info)
    results.append(database)
    if database.status != OK:
        results.append(CheckResult("moodle tables", SKIP, "database unreachable"))
        return results
    results.append(check_moodle_tables(info, schema, prefix))
    results.append(check_marts(info))
    return results
