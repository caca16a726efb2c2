"""The Tableau extract (.hyper): written from PostgreSQL, opened back with the Hyper API."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from support.cli_helpers import assert_clean_failure, cli_env, invoke
from support.dbt_helpers import MARTS_EMPTY_ON_THE_REAL_SITE

from runner.postgres.connection import ConnectionInfo
from runner.publishing.export import PARTIAL_NAME

needs_hyper = pytest.mark.skipif(
    find_spec("tableauhyperapi") is None,
    reason="the hyper extra is not installed: pip install -e '.[hyper]'",
)

# Every type a mart can hold, plus ones Tableau has no type for.
TYPED_TABLE = """
create table mart.typed (
    id integer not null,
    small smallint,
    big bigint,
    exact numeric(12, 4),
    wide numeric(28, 6),
    free numeric,
    single real,
    double double precision,
    flag boolean,
    day date,
    local_time timestamp,
    moment timestamptz,
    label text,
    code varchar(10),
    fixed char(3),
    doc jsonb,
    span interval,
    tags text[]
)
"""
TYPED_ROWS = """
insert into mart.typed values
    (1, -32768, 9223372036854775807, 12345678.1234, 1234567890123456789012.123456,
     0.1, 1.1, 2.718281828459045, true, '1969-07-20', '2024-02-29 23:59:59.999999',
     '2024-03-31 01:30:00.123456+02', E'comma, "quote"\\nnew line', 'café', 'ab',
     '{"a": [1, 2]}', '1 day 02:03:04', '{x,y}'),
    (2, 0, -1, -0.0001, 0, 1e-20, -0.5, -1e300, false, '2099-12-31', '1900-01-01 00:00:00',
     '1970-01-01 00:00:00+00', '', 'Zoë ✓', 'xyz', 'null', '-1 mon', '{}'),
    (3, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
     null, null, null)
"""
# PostgreSQL type -> the Hyper type the extract must hold (file format 2).
EXPECTED_TYPES = {
    "id": ("int", None),
    "small": ("small_int", None),
    "big": ("big_int", None),
    "exact": ("numeric", (12, 4)),
    "wide": ("double", None),  # precision 28 needs Hyper's file format 3
    "free": ("double", None),
    "single": ("double", None),
    "double": ("double", None),
    "flag": ("bool", None),
    "day": ("date", None),
    "local_time": ("timestamp", None),
    "moment": ("timestamp_tz", None),
    "label": ("text", None),
    "code": ("text", None),
    "fixed": ("text", None),
    "doc": ("text", None),
    "span": ("text", None),
    "tags": ("text", None),
}


@contextmanager
def open_extract(path: Path, log_dir: Path) -> Iterator[Any]:
    """A Hyper connection to ``path`` (read back as a user's tool would, telemetry off)."""
    import tableauhyperapi as hyper

    with (
        hyper.HyperProcess(
            hyper.Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
            parameters={"log_dir": str(log_dir)},
        ) as process,
        hyper.Connection(process.endpoint, str(path)) as connection,
    ):
        yield connection


def extract_tables(connection: Any) -> dict[str, Any]:
    """Table name -> TableDefinition, for every table in the extract (all schemas)."""
    found = {}
    for schema in connection.catalog.get_schema_names():
        for table in connection.catalog.get_table_names(schema):
            definition = connection.catalog.get_table_definition(table)
            found[f"{schema.name.unescaped}.{table.name.unescaped}"] = definition
    return found


def plain(value: Any) -> Any:
    """A Hyper API value as the Python value psycopg2 gives for the same datum."""
    import tableauhyperapi as hyper

    if isinstance(value, hyper.Timestamp):
        return value.to_datetime()
    if isinstance(value, hyper.Date):
        return value.to_date()
    return value


def same_value(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(actual, float):
        return actual == float(expected) or math.isclose(actual, float(expected), rel_tol=1e-15)
    return expected == actual


def postgres_rows(info: ConnectionInfo, query: str) -> list[tuple]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("set time zone 'UTC'")
            cursor.execute(query)
            return cursor.fetchall()
    finally:
        connection.close()


def sortable(row: tuple) -> tuple:
    """A sort key that orders a PostgreSQL row and its Hyper twin alike (85.500000 == 85.5)."""
    return tuple(
        (value is None, "" if value is None else str(float(value) if is_number(value) else value))
        for value in row
    )


def is_number(value: Any) -> bool:
    return isinstance(value, Decimal | float)


def partial_files(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if PARTIAL_NAME.match(path.name)]


# --- without the extra --------------------------------------------------------------------


def test_the_cli_says_how_to_install_the_missing_extra(
    empty_database: ConnectionInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import tableauhyperapi` raise ImportError, as when not installed.
    monkeypatch.setitem(sys.modules, "tableauhyperapi", None)
    result = invoke(
        ["export-hyper", "--out", str(tmp_path / "mart.hyper")], cli_env(empty_database, tmp_path)
    )
    assert_clean_failure(result, "Tableau Hyper API", "pip install -e '.[hyper]'")
    assert not (tmp_path / "mart.hyper").exists()


# --- one hand-made mart with every type ---------------------------------------------------


@dataclass(frozen=True)
class Typed:
    info: ConnectionInfo
    path: Path
    report: Any
    log_dir: Path
    progress: list[tuple[str, int]]


@pytest.fixture(scope="module")
def typed(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> Typed:
    from runner.publishing.hyper_export import export_hyper

    info = make_database("hyper_typed")
    connection = info.connect(autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("create schema mart")
        cursor.execute(TYPED_TABLE)
        cursor.execute(TYPED_ROWS)
        cursor.execute("create table mart.empty (key bigint, name text)")
        cursor.execute("create table mart.numbers as select n from generate_series(1, 5000) n")
        cursor.execute("create schema staging")
        cursor.execute("create table staging.not_exported (x int)")
    connection.close()
    work = tmp_path_factory.mktemp("hyper_typed")
    progress: list[tuple[str, int]] = []
    report = export_hyper(
        info,
        work / "out" / "mart.hyper",
        progress=lambda name, rows: progress.append((name, rows)),
        log_dir=work / "hyper-log",
    )
    return Typed(info, work / "out" / "mart.hyper", report, work / "hyper-log", progress)


@needs_hyper
def test_every_mart_table_and_only_those_is_in_schema_mart(typed: Typed, tmp_path: Path) -> None:
    with open_extract(typed.path, tmp_path) as connection:
        tables = extract_tables(connection)
        counts = {
            name: connection.execute_scalar_query(f"select count(*) from {tables[name].table_name}")
            for name in tables
        }
    assert sorted(tables) == ["mart.empty", "mart.numbers", "mart.typed"]
    assert counts == {"mart.empty": 0, "mart.numbers": 5000, "mart.typed": 3}
    assert {table.name: table.rows for table in typed.report.tables} == {
        "empty": 0,
        "numbers": 5000,
        "typed": 3,
    }


@needs_hyper
def test_each_column_gets_the_closest_hyper_type_and_keeps_not_null(
    typed: Typed, tmp_path: Path
) -> None:
    import tableauhyperapi as hyper

    with open_extract(typed.path, tmp_path) as connection:
        definition = extract_tables(connection)["mart.typed"]
    columns = {column.name.unescaped: column for column in definition.columns}
    assert list(columns) == list(EXPECTED_TYPES)  # same names, same order
    for name, (factory, arguments) in EXPECTED_TYPES.items():
        expected = getattr(hyper.SqlType, factory)(*(arguments or ()))
        assert columns[name].type == expected, name
    assert columns["id"].nullability == hyper.Nullability.NOT_NULLABLE
    assert columns["label"].nullability == hyper.Nullability.NULLABLE


@needs_hyper
def test_values_read_back_equal_postgres_including_nulls_and_awkward_text(
    typed: Typed, tmp_path: Path
) -> None:
    # Types without a Hyper counterpart are compared with PostgreSQL's own text form.
    text_columns = {"doc", "span", "tags"}
    select = ", ".join(f"{name}::text" if name in text_columns else name for name in EXPECTED_TYPES)
    expected = postgres_rows(typed.info, f"select {select} from mart.typed order by id")
    with open_extract(typed.path, tmp_path) as connection:
        actual = [
            tuple(plain(value) for value in row)
            for row in connection.execute_list_query('select * from "mart"."typed" order by id')
        ]
    assert len(actual) == len(expected) == 3
    for expected_row, actual_row in zip(expected, actual, strict=True):
        for name, want, got in zip(EXPECTED_TYPES, expected_row, actual_row, strict=True):
            assert same_value(want, got), (name, want, got)
    first, second = actual[0], actual[1]
    assert first[1:3] == (-32768, 9223372036854775807)
    assert first[3] == Decimal("12345678.1234")  # numeric(12,4) stays exact
    assert first[6] == 1.1  # a real travels as its shortest text form, not 1.100000023841858
    assert first[11] == dt.datetime(2024, 3, 30, 23, 30, 0, 123456, tzinfo=dt.UTC)
    assert first[12] == 'comma, "quote"\nnew line'
    assert second[12] == ""  # an empty string is not NULL
    assert actual[2][1:] == (None,) * (len(EXPECTED_TYPES) - 1)


@needs_hyper
def test_hyperd_runs_with_telemetry_off_and_logs_outside_the_cwd(typed: Typed) -> None:
    log = typed.log_dir / "hyperd.log"
    settings = [
        json.loads(line)["v"]
        for line in log.read_text(encoding="utf-8").splitlines()
        if '"k":"telemetry-settings"' in line
    ]
    assert settings, "hyperd logged no telemetry settings"
    assert all(setting["user-opt-in"] is False for setting in settings)
    assert not (Path.cwd() / "hyperd.log").exists()


@needs_hyper
def test_progress_names_each_table_and_the_folder_keeps_no_temporary_file(typed: Typed) -> None:
    assert typed.progress == [
        ("empty", 0),
        ("empty", 0),
        ("numbers", 0),
        ("numbers", 5000),
        ("typed", 0),
        ("typed", 3),
    ]
    assert sorted(path.name for path in typed.path.parent.iterdir()) == ["mart.hyper"]
    assert typed.report.bytes == typed.path.stat().st_size


@needs_hyper
def test_an_interrupted_export_leaves_the_previous_extract_untouched(
    typed: Typed, tmp_path: Path
) -> None:
    from runner.publishing.hyper_export import export_hyper

    folder = tmp_path / "out"
    first = export_hyper(typed.info, folder / "mart.hyper", log_dir=tmp_path / "log")
    before = (folder / "mart.hyper").read_bytes()

    def interrupt(name: str, rows: int) -> None:
        if name == "numbers" and rows == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_hyper(typed.info, folder, progress=interrupt, log_dir=tmp_path / "log")
    assert (folder / "mart.hyper").read_bytes() == before
    assert first.bytes == len(before)
    assert partial_files(folder) == []


@needs_hyper
def test_partial_files_of_killed_exports_are_removed_but_live_ones_kept(
    typed: Typed, tmp_path: Path
) -> None:
    from runner.publishing.hyper_export import export_hyper

    folder = tmp_path / "out"
    folder.mkdir()
    dead_pid = 2**22 + 17  # above the default pid_max: no such process
    dead = folder / f".mart.hyper.{dead_pid}.partial"
    dead_csv = folder / f".typed.csv.{dead_pid}.partial"
    alive = folder / f".mart.hyper.{os.getppid()}.partial"
    for path in (dead, dead_csv, alive):
        path.write_bytes(b"left over")
    (folder / "sub").mkdir()
    below = folder / "sub" / f".other.hyper.{dead_pid}.partial"
    below.write_bytes(b"not ours to judge")
    export_hyper(typed.info, folder, log_dir=tmp_path / "log")
    assert not dead.exists() and not dead_csv.exists()
    assert alive.exists() and below.exists()
    assert (folder / "mart.hyper").exists()


@needs_hyper
def test_user_mistakes_are_one_line_errors(typed: Typed, tmp_path: Path) -> None:
    env = cli_env(typed.info, tmp_path)
    wrong_suffix = invoke(["export-hyper", "--out", str(tmp_path / "mart.csv")], env)
    assert_clean_failure(wrong_suffix, "--out", ".hyper")
    bad_schema = invoke(
        ["export-hyper", "--out", str(tmp_path), "--mart-schema", "mart; drop table x"], env
    )
    assert_clean_failure(bad_schema, "mart schema")
    no_marts = invoke(["export-hyper", "--out", str(tmp_path), "--mart-schema", "nothing"], env)
    assert_clean_failure(no_marts, "nothing", "moodle-analytics build")
    assert list(tmp_path.glob("*.hyper")) == []


# --- a generated warehouse built with dbt, through the CLI --------------------------------


@dataclass(frozen=True)
class BuiltExtract:
    info: ConnectionInfo
    path: Path
    document: dict[str, Any]


@pytest.fixture(scope="module")
def built_extract(
    real_site_build: tuple[ConnectionInfo, Path], tmp_path_factory: pytest.TempPathFactory
) -> BuiltExtract:
    """The run's shared build of the real site, exported by the CLI (which only reads it)."""
    info = real_site_build[0]
    work = tmp_path_factory.mktemp("hyper_built")
    env = cli_env(info, work)
    exported = invoke(["export-hyper", "--json", "--out", str(work / "tableau")], env)
    assert exported.exit_code == 0, exported.stderr
    document = json.loads(exported.stdout)
    return BuiltExtract(info, Path(document["path"]), document)


def mart_tables(info: ConnectionInfo) -> list[str]:
    rows = postgres_rows(
        info,
        "select table_name from information_schema.tables where table_schema = 'mart' "
        "order by table_name",
    )
    return [name for (name,) in rows]


@needs_hyper
@pytest.mark.slow
def test_the_extract_of_a_built_warehouse_holds_every_mart_row_for_row(
    built_extract: BuiltExtract, tmp_path: Path
) -> None:
    names = mart_tables(built_extract.info)
    assert "fact_learner_week" in names and "dim_user" in names
    assert built_extract.path.name == "mart.hyper"
    assert [table["name"] for table in built_extract.document["tables"]] == names
    with open_extract(built_extract.path, tmp_path) as connection:
        tables = extract_tables(connection)
        assert sorted(tables) == [f"mart.{name}" for name in names]
        for name in names:
            expected = postgres_rows(built_extract.info, f'select * from mart."{name}"')
            definition = tables[f"mart.{name}"]
            actual = [
                tuple(plain(value) for value in row)
                for row in connection.execute_list_query(f"select * from {definition.table_name}")
            ]
            reported = next(t for t in built_extract.document["tables"] if t["name"] == name)
            assert len(actual) == len(expected) == reported["rows"], name
            if name not in MARTS_EMPTY_ON_THE_REAL_SITE:
                assert len(expected) > 0, f"mart.{name} is empty: the comparison proves nothing"
            for expected_row, actual_row in zip(
                sorted(expected, key=sortable), sorted(actual, key=sortable), strict=True
            ):
                assert all(
                    same_value(want, got)
                    for want, got in zip(expected_row, actual_row, strict=True)
                ), (name, expected_row, actual_row)
