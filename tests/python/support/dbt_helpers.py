"""Helpers for tests that run the dbt project: Moodle data in, `dbt` in a subprocess.

Each run gets its own profiles dir (a copy of profiles.example.yml), target and log paths, so
tests never touch ./target or ./logs and can run beside a developer's own dbt.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.dbt.command import dbt_executable, location_arguments, vars_argument
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

REAL_DUMP_SQL = PROJECT_ROOT / "tests" / "data" / "moodle45_real_20tables.sql.gz"
# Marts empty until `moodle-analytics predict train` stores a model: a plain build leaves them
# empty, so tests that need rows in every mart leave these out.
MARTS_EMPTY_UNTIL_TRAINED = frozenset({"learner_dropout_risk"})
# Marts the real Moodle 4.5 site (tests/data) leaves empty: none of its 21 course modules has an
# "expect completed on" date, so no learner has an upcoming deadline.
MARTS_EMPTY_ON_THE_REAL_SITE = MARTS_EMPTY_UNTIL_TRAINED | {"learner_upcoming_deadlines"}
PROFILES_EXAMPLE = PROJECT_ROOT / "profiles.example.yml"


def psql_program() -> str:
    """A psql able to talk to the test server: the bundled one first, else any on PATH."""
    try:
        from runner.postgres.pg_tools import find_tool

        return str(find_tool("psql"))
    except Exception:  # the bundled tools are optional here: any psql will do
        found = shutil.which("psql")
        assert found, "no psql to load the real Moodle dump"
        return found


def load_real_moodle(info: ConnectionInfo) -> None:
    """Restore the real Moodle 4.5 site's 20 tables (tests/data) into ``info``'s database."""
    with gzip.open(REAL_DUMP_SQL, "rb") as dump:
        subprocess.run(
            [psql_program(), "-q", "-v", "ON_ERROR_STOP=1", "-d", info.dbname],
            input=dump.read(),
            env={**os.environ, **info.libpq_env()},
            check=True,
            capture_output=True,
        )


def write_profiles(directory: Path) -> Path:
    """A profiles dir holding the project's example profile as profiles.yml."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROFILES_EXAMPLE, directory / "profiles.yml")
    return directory


def run_dbt(
    args: Sequence[str],
    info: ConnectionInfo,
    work_dir: Path,
    dbt_vars: Mapping[str, Any] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args>`` on the project against ``info``, with paths under ``work_dir``."""
    profiles_dir = work_dir / "profiles"
    if not (profiles_dir / "profiles.yml").exists():
        write_profiles(profiles_dir)
    command = [
        str(dbt_executable()),
        *args,
        *location_arguments(
            project_dir=PROJECT_ROOT,
            profiles_dir=profiles_dir,
            target_path=work_dir / "target",
            log_path=work_dir / "logs",
        ),
    ]
    if dbt_vars:
        command += ["--vars", vars_argument(dbt_vars)]
    env = {**os.environ, **info.libpq_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        command, cwd=work_dir, env=env, capture_output=True, text=True, timeout=timeout
    )


def assert_dbt_succeeded(result: subprocess.CompletedProcess[str]) -> None:
    """Fail the test with the end of dbt's output (where the failing node is) when dbt failed."""
    assert result.returncode == 0, (
        f"dbt exited with {result.returncode}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    )
