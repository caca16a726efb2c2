"""Building twice without new Moodle data gives the same marts, row for row.

The session's warehouse was built once; a copy of it is built again with the runner's
`moodle-analytics build` (every seed and model; dbt's data and unit tests, which write no
table, are left out to keep the suite quick) and each mart is compared by its row count and
the md5 of all its rows in a total order. Anything that depends on when or how often the
build runs (a build timestamp, random or unordered row numbering, rows appended instead of
replaced) makes a checksum differ.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.dbt_helpers import MARTS_EMPTY_UNTIL_TRAINED
from support.reliability_support import cli_environment, leftover_relations, mart_checksums, run_cli

from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]


def test_a_second_build_without_new_data_gives_identical_marts(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path: Path,
) -> None:
    database = copy_database(built_warehouse, "idempotent")
    first = mart_checksums(database)
    assert len(first) >= 5 and all(
        count > 0 for table, (count, _) in first.items() if table not in MARTS_EMPTY_UNTIL_TRAINED
    ), first

    result = run_cli(
        ["build", "--exclude", "resource_type:test", "--exclude", "resource_type:unit_test"],
        cli_environment(database, tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]

    second = mart_checksums(database)
    assert set(second) == set(first)
    changed = {
        table: (first[table], second[table]) for table in first if first[table] != second[table]
    }
    assert changed == {}, "marts differ after a second build without new data"
    assert leftover_relations(database) == []
