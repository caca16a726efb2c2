"""The benchmark's pieces at a tiny scale: its engines must agree and its measurements be real.

The hand-made log states the definitions (opening session, cap, ties by id, loggedinas,
unknown users); the generated database checks the project, the pandas version and the port
of the original analysis against each other for every user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bench.agreement import SessionisersDisagree, compare_sessionisers, require_agreement
from bench.cli import parse_dbt_engines, parse_scales, parse_sessionisers
from bench.dbt_build import dbt_error_summary
from bench.dbt_engines import EngineBuildResult, export_moodle_tables, spark_partitions
from bench.floor import measure_floor
from bench.incremental import DAY_SECONDS, append_one_day, remove_rows_after
from bench.log_source import LogSource, read_log_frame, read_user_ids
from bench.memory import MemoryPeak
from bench.original_port import original_dedication
from bench.pandas_sessions import pandas_dedication
from bench.report import engines_table, evaluate_targets, results_document, scale_rows
from bench.rules import SessionRules, UserDedication
from bench.run import ScaleResult
from bench.sessionisers import (
    OriginalPortSessioniser,
    PandasSessioniser,
    ProjectSessioniser,
    ScaleContext,
    SessioniserRun,
)
from bench.settings import BenchSettings
from runner.generator import generate
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

RULES = SessionRules(cap_seconds=4 * 3600, login_actions=("loggedin", "loggedinas"))

# (userid, timecreated, id, action), deliberately not in time order.
HAND_MADE_LOG = [
    # user 10: two views before the first login (opening session, 100 s), a session longer
    # than the cap (20,000 s -> 14,400 s) and a last login alone (0 s).
    (10, 21_000, 5, "viewed"),
    (10, 100, 1, "viewed"),
    (10, 200, 2, "viewed"),
    (10, 1_000, 3, "loggedin"),
    (10, 30_000, 6, "loggedin"),
    # user 11: two logins in the same second; the log id orders them: {7} lasts 0, {8, 9} 300 s.
    (11, 800, 9, "viewed"),
    (11, 500, 8, "loggedin"),
    (11, 500, 7, "loggedin"),
    # user 12: log-in-as starts a session like a login: 50 s + 60 s.
    (12, 0, 10, "loggedinas"),
    (12, 50, 11, "viewed"),
    (12, 100, 12, "loggedin"),
    (12, 160, 13, "viewed"),
    # userid 0 (nobody) and 99 (not a row of `user`) belong to no user's sessions.
    (0, 10, 14, "viewed"),
    (99, 20, 15, "loggedin"),
]
KNOWN_USERS = pd.Index([10, 11, 12, 13], dtype="int64")  # 13 has no event
EXPECTED = {
    10: UserDedication(session_count=3, dedication_seconds=100 + 14_400 + 0),
    11: UserDedication(session_count=2, dedication_seconds=0 + 300),
    12: UserDedication(session_count=2, dedication_seconds=50 + 60),
}


def hand_made_log() -> pd.DataFrame:
    return pd.DataFrame(HAND_MADE_LOG, columns=["userid", "timecreated", "id", "action"])


def test_pandas_version_applies_the_definitions() -> None:
    assert pandas_dedication(hand_made_log(), KNOWN_USERS, RULES) == EXPECTED


def test_port_of_the_original_applies_the_definitions() -> None:
    assert original_dedication(hand_made_log(), KNOWN_USERS, RULES) == EXPECTED


def test_idle_timeout_splits_sessions_in_both_python_engines() -> None:
    # With a 1,000 s timeout user 10's capped session splits: 100 s, then 1,000 / 21,000 / 30,000
    # each alone. User 12's gaps (50 s, 60 s) stay under it.
    rules = replace(RULES, idle_timeout_seconds=1_000)
    expected = {**EXPECTED, 10: UserDedication(4, 100)}
    assert pandas_dedication(hand_made_log(), KNOWN_USERS, rules) == expected
    assert original_dedication(hand_made_log(), KNOWN_USERS, rules) == expected


def test_rules_come_from_the_dbt_project_vars() -> None:
    rules = SessionRules.from_vars({"session_cap_hours": 2, "login_actions": ["loggedin"]})
    assert rules == SessionRules(cap_seconds=7_200, login_actions=("loggedin",))
    assert SessionRules.from_vars() == RULES


def test_agreement_check_names_the_user_that_differs() -> None:
    pandas_run = _run("pandas", EXPECTED, complete=True)
    port_run = _run("original", {11: EXPECTED[11], 12: UserDedication(2, 111)}, complete=False)
    agreement = compare_sessionisers([pandas_run, port_run])
    assert [mismatch["user_id"] for mismatch in agreement.mismatches] == [12]
    with pytest.raises(SessionisersDisagree, match="1 users differ"):
        require_agreement(agreement)
    missing = compare_sessionisers([pandas_run, _run("project", {10: EXPECTED[10]}, complete=True)])
    assert {mismatch["user_id"] for mismatch in missing.mismatches} == {11, 12}


def _run(engine: str, dedication: dict[int, UserDedication], complete: bool) -> SessioniserRun:
    return SessioniserRun(engine, engine, 1.0, 1, complete, dedication, MemoryPeak())


def test_command_line_options_fail_with_one_line() -> None:
    assert parse_scales("1,10,30", "--scales") == (1.0, 10.0, 30.0)
    assert parse_scales("none", "--incremental-scales") == ()
    with pytest.raises(UserError, match="'ten' is not a number"):
        parse_scales("1,ten", "--scales")
    with pytest.raises(UserError, match="choose from project, pandas, original"):
        parse_sessionisers("project,spark")
    assert parse_dbt_engines("duckdb, spark") == ("duckdb", "spark")
    assert parse_dbt_engines("none") == ()
    with pytest.raises(UserError, match="unknown oracle; choose from duckdb, spark"):
        parse_dbt_engines("duckdb,oracle")


def test_spark_gets_more_shuffle_partitions_as_the_log_grows() -> None:
    assert spark_partitions(20_000) == 2
    assert spark_partitions(4_068_396) == 5
    assert spark_partitions(12_200_000) == 13


def test_a_dbt_that_stops_early_is_summed_up_in_one_line() -> None:
    output = (
        "08:43:19  Running with dbt=1.11.16\n08:43:19  Encountered an error:\n"
        'Compilation Error\n  dbt found multiple macros named "test_x" in the project\n'
    )
    assert dbt_error_summary(output) == (
        'Compilation Error dbt found multiple macros named "test_x" in the project'
    )


# --- on a generated database -----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_moodle(make_database: Callable[[str], ConnectionInfo]) -> LogSource:
    info = make_database("bench")
    generate(info, scale=0.03, seed=7)
    return LogSource(info)


def test_floor_streams_every_log_row_in_order(tiny_moodle: LogSource) -> None:
    floor = measure_floor(tiny_moodle, repeats=1)
    assert floor.rows == tiny_moodle.count_log_rows() > 5_000
    # Three integers and two tabs per row at the very least.
    assert floor.bytes_streamed >= floor.rows * 6
    assert floor.client_seconds > 0 and floor.server_seconds > 0
    assert floor.plan_node in ("Sort", "Incremental Sort", "Gather Merge", "Index Only Scan")


def test_project_pandas_and_port_agree_on_every_user(
    tiny_moodle: LogSource, tmp_path: Path
) -> None:
    context = ScaleContext(
        scale=0.03,
        source=tiny_moodle,
        rules=SessionRules.from_vars(),
        work_dir=tmp_path,
        known_user_rows=tiny_moodle.count_known_user_rows(),
        sample_users=10**6,  # every user: the port is then compared on all of them
        # Only what sessionisation needs, so the test stays fast; the benchmark builds it all.
        dbt_select=("+path:models/intermediate/sessions",),
    )
    runs = [
        sessioniser().run(context)
        for sessioniser in (ProjectSessioniser, PandasSessioniser, OriginalPortSessioniser)
    ]
    project, pandas_run, port = runs

    log = read_log_frame(tiny_moodle)
    active_users = set(log.loc[log["userid"].isin(read_user_ids(tiny_moodle)), "userid"])
    for run in runs:
        assert set(run.dedication) == active_users, run.engine
        assert run.covers_all_users
    assert project.rows == pandas_run.rows == port.rows == context.known_user_rows
    agreement = compare_sessionisers(runs)
    assert agreement.agrees, agreement.mismatches[:3]
    assert agreement.users_compared == len(active_users) > 20
    # The cap is reached by someone, so the comparison covers capped sessions too.
    assert max(value.dedication_seconds for value in project.dedication.values()) > 4 * 3600

    # dbt's own timings were read for each sessionisation model, alone and within the build.
    assert set(project.details["sessionisation_models"]) >= {
        "int_log_events_sessionised",
        "int_sessions_aggregated",
        "int_users_activity_aggregated",
    }
    assert project.seconds > 0 and project.details["build"]["wall_seconds"] > project.seconds
    assert pandas_run.memory.runner_peak_mib > 50  # pandas itself is loaded: a real reading

    result = ScaleResult(
        scale=0.03, database=tiny_moodle.info.dbname, runs=runs, agreement=agreement
    )
    result.floor = measure_floor(tiny_moodle, repeats=1)
    lines = {line["step"]: line for line in scale_rows(result)}
    assert lines["floor: ordered pass, to client"]["x_floor"] == 1.0
    assert lines[ProjectSessioniser.label]["x_project"] == 1.0
    targets = {target.name: target for target in evaluate_targets([result])}
    assert targets["project, port and pandas agree for every user they all cover"].met is True


def test_one_appended_day_lands_after_the_log_with_new_ids(
    make_database: Callable[[str], ConnectionInfo],
) -> None:
    source = LogSource(make_database("bench_day"))
    generate(source.info, scale=0.01, seed=3)
    before = read_log_frame(source)
    busiest_day_rows = int((before["timecreated"] // DAY_SECONDS).value_counts().max())

    appended = append_one_day(source)

    after = read_log_frame(source)
    new = after[after["id"] > before["id"].max()]
    assert appended == len(new) == busiest_day_rows == len(after) - len(before)
    assert new["timecreated"].min() >= (before["timecreated"].max() // DAY_SECONDS + 1) * (
        DAY_SECONDS
    )
    assert new["timecreated"].max() - new["timecreated"].min() < DAY_SECONDS
    connection = source.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("select nextval('mdl_logstore_standard_log_id_seq')")
            assert cursor.fetchone()[0] > new["id"].max()
    finally:
        connection.close()

    assert remove_rows_after(source, int(before["id"].max())) == appended
    assert source.count_log_rows() == len(before)


def test_the_other_engines_builds_are_set_beside_postgres(
    tiny_moodle: LogSource, tmp_path: Path
) -> None:
    """The Parquet export is real; the builds' figures are given, the report is checked."""
    export = export_moodle_tables(tiny_moodle, tmp_path / "parquet")
    assert export.rows > tiny_moodle.count_log_rows() > 0
    assert export.bytes_written > 0 and export.seconds > 0

    def scale(factor: float, rows: int, postgres: float, duckdb: float) -> ScaleResult:
        project = SessioniserRun(
            "project", ProjectSessioniser.label, 1.0, rows, True, {}, MemoryPeak(),
            details={"build": {"wall_seconds": postgres, "memory": {"runner_peak_mib": 300.0}}},
        )  # fmt: skip
        return ScaleResult(
            scale=factor,
            database="x",
            log_rows=rows,
            runs=[project],
            parquet_export=export,
            dbt_engines=[
                EngineBuildResult("duckdb", duckdb, True, 600, memory=MemoryPeak(500.0)),
                EngineBuildResult("spark", skipped="no Java on this machine (PySpark needs it)"),
            ],
        )

    small, large = scale(1, 400_000, 50.0, 25.0), scale(10, 4_000_000, 150.0, 100.0)
    lines = {line["step"]: line for line in scale_rows(large)}
    assert lines["duckdb: whole dbt build (wall)"]["x_postgres_build"] == round(100 / 150, 4)
    assert lines["Moodle tables to Parquet (for duckdb, spark)"]["seconds"] == round(
        export.seconds, 4
    )
    document = results_document([small, large], BenchSettings(), {"hostname": "test"})
    assert document["scales"][1]["dbt_engines"]["duckdb"]["seconds"] == 100.0
    table = engines_table(document)
    assert table is not None
    assert [column.header for column in table.columns] == [
        "scale", "log rows", "postgres", "duckdb", "spark",
    ]  # fmt: skip
    large_row = [list(column.cells)[1] for column in table.columns]
    assert large_row[2] == "150 s (x3.0), 300 MiB"
    assert large_row[3] == "100 s (x4.0), 500 MiB"
    assert large_row[4] == "no Java on this machine (PySpark needs it)"
