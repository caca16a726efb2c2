"""Hostile data: the warehouse keeps working on what real dumps contain.

The same seed is generated twice at a small scale: once clean (Python API), once with
anomalies (the CLI's --anomaly-rate). Both are built with `dbt build`. The build must succeed,
warn about every kind of hostile row with its count, flag exactly the added log rows as
unusable, and give the same marts for every clean row: the hostile rows move no metric of any
learner (dim_user, learner_tiers, fact_session and every other mart). On the real Moodle
site, no row is flagged unusable (docs/hostile_data.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.cli_helpers import cli_env, invoke
from support.dbt_helpers import (
    MARTS_EMPTY_UNTIL_TRAINED,
    assert_dbt_succeeded,
    load_real_moodle,
    run_dbt,
)

from runner.generator import generate
from runner.generator.anomalies import LOG_ANOMALIES
from runner.generator.anomaly_tables import OTHER_KINDS
from runner.moodle.schema import REQUIRED_TABLES
from runner.postgres.connection import ConnectionInfo

SCALE = 0.05
SEED = 7
RATE = 0.02
# Unit tests do not read the data; the Moodle data is what differs between the two builds.
BUILD = ["build", "--exclude", "test_type:unit"]
# Each warning and the generated kinds whose rows it must count, at the least.
WARNED_KINDS = {
    "hostile_log_rows_with_implausible_time": ("time_zero", "time_negative", "time_future"),
    "hostile_log_rows_duplicated": ("duplicate",),
    "hostile_log_rows_with_malformed_event_name": ("malformed_event_name",),
    "hostile_log_rows_without_course_id": ("null_course",),
    "hostile_log_rows_without_context_instance": ("missing_context_instance",),
    "hostile_log_rows_of_unknown_users": ("unknown_user",),
    "hostile_log_rows_with_unreadable_other": ("unreadable_other",),
    "hostile_users_with_blank_name": ("blank_name",),
    "hostile_users_with_non_ascii_name": ("non_ascii_name",),
    "hostile_users_deleted_with_rewritten_username": ("deleted_rewritten_username",),
    "hostile_grade_items_with_empty_range": ("zero_grade_max",),
    "hostile_grades_above_grade_max": ("grade_above_max",),
    "hostile_grades_with_raw_but_no_final_grade": ("null_grade",),
    "hostile_forum_posts_of_unknown_discussions": ("orphan_post",),
}
# Marts keyed by things the hostile data adds (accounts, gradebook columns):
# compared on the clean keys only. Every other mart is compared whole.
CLEAN_KEYS = {
    "dim_user": "user_id <= {max_user}",
    "user_data_quality": "user_id <= {max_user}",
    "dim_course": "course_id in (select id from public.mdl_course)",
    "fact_grade": "grade_item_id <= {max_grade_item}",
}


@dataclass
class Build:
    info: ConnectionInfo
    work_dir: Path
    stdout: str
    anomalies: dict[str, int]

    def warnings(self) -> dict[str, int]:
        """Warned data tests of the build: name -> rows counted."""
        document = json.loads((self.work_dir / "target" / "run_results.json").read_text())
        return {
            result["unique_id"].split(".")[2]: result["failures"]
            for result in document["results"]
            if result["status"] == "warn"
        }


def query(info: ConnectionInfo, sql: str) -> list[tuple[Any, ...]]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def scalar(info: ConnectionInfo, sql: str) -> Any:
    return query(info, sql)[0][0]


def _built(info: ConnectionInfo, work_dir: Path, anomalies: dict[str, int]) -> Build:
    result = run_dbt(BUILD, info, work_dir, timeout=1200)
    assert_dbt_succeeded(result)
    return Build(info, work_dir, result.stdout, anomalies)


@pytest.fixture(scope="module")
def clean(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> Build:
    info = make_database("hostile_clean")
    report = generate(info, scale=SCALE, seed=SEED)
    return _built(info, tmp_path_factory.mktemp("hostile_clean"), report.anomalies)


@pytest.fixture(scope="module")
def hostile(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> Build:
    info = make_database("hostile")
    work_dir = tmp_path_factory.mktemp("hostile")
    arguments = ["generate", "--scale", str(SCALE), "--seed", str(SEED)]
    result = invoke([*arguments, "--anomaly-rate", str(RATE), "--json"], cli_env(info, work_dir))
    assert result.exit_code == 0, result.stderr
    return _built(info, work_dir, json.loads(result.stdout)["anomalies"])


# --- the generator ---------------------------------------------------------------------------


def test_every_kind_of_anomaly_is_generated(clean: Build, hostile: Build) -> None:
    assert clean.anomalies == {}
    assert set(hostile.anomalies) == {*LOG_ANOMALIES, *OTHER_KINDS}
    assert all(rows > 0 for rows in hostile.anomalies.values()), hostile.anomalies


def test_anomalies_are_added_to_the_same_clean_rows(clean: Build, hostile: Build) -> None:
    # Every table of the clean database is, row for row and id for id, the start of the
    # hostile one: the metrics of the clean rows can be compared.
    grown = set()
    for name in REQUIRED_TABLES:
        table = f"mdl_{name}"
        clean_rows = query(clean.info, f"select t::text from {table} as t order by id")
        hostile_rows = query(hostile.info, f"select t::text from {table} as t order by id")
        assert hostile_rows[: len(clean_rows)] == clean_rows, table
        if len(hostile_rows) > len(clean_rows):
            grown.add(name)
    assert grown == {
        "logstore_standard_log",
        "user",
        "context",
        "grade_items",
        "grade_grades",
        "forum_posts",
    }


# --- the build --------------------------------------------------------------------------------


def test_the_build_warns_about_each_kind_with_its_count(clean: Build, hostile: Build) -> None:
    clean_warnings, hostile_warnings = clean.warnings(), hostile.warnings()
    for warning, kinds in WARNED_KINDS.items():
        added = sum(hostile.anomalies[kind] for kind in kinds)
        counted = hostile_warnings.get(warning, 0) - clean_warnings.get(warning, 0)
        assert counted >= added > 0, (warning, counted, added)
        assert f"Warning in test {warning} " in hostile.stdout
    # The clean log has no hostile row at all.
    assert not [name for name in clean_warnings if name.startswith("hostile_log_rows")]


def test_exactly_the_added_log_rows_are_unusable(clean: Build, hostile: Build) -> None:
    last_clean_id = scalar(clean.info, "select max(id) from mdl_logstore_standard_log")
    usable_by_origin = query(
        hostile.info,
        f"select event_id <= {last_clean_id} as is_clean, is_usable_for_metrics, count(*)"
        " from staging.stg_moodle__log_events group by 1, 2 order by 1, 2",
    )
    added = sum(hostile.anomalies[kind] for kind in LOG_ANOMALIES)
    assert usable_by_origin == [(False, False, added), (True, True, last_clean_id)]


def test_marts_are_the_same_for_every_clean_row(clean: Build, hostile: Build) -> None:
    keys = {
        "max_user": scalar(clean.info, "select max(id) from mdl_user"),
        "max_grade_item": scalar(clean.info, "select max(id) from mdl_grade_items"),
    }
    marts = [
        row[0]
        for row in query(
            clean.info,
            "select table_name from information_schema.tables"
            " where table_schema = 'mart' order by 1",
        )
    ]
    assert {"dim_user", "learner_tiers", "fact_session", "fact_activity"} <= set(marts)
    changed = []
    for mart in marts:
        condition = CLEAN_KEYS.get(mart, "true").format(**keys)
        sql = f"select m::text from mart.{mart} as m where {condition} order by 1"
        clean_rows, hostile_rows = query(clean.info, sql), query(hostile.info, sql)
        assert clean_rows or mart in MARTS_EMPTY_UNTIL_TRAINED, mart
        if hostile_rows != clean_rows:
            changed.append(mart)
    assert changed == [], changed
    # The learners are there, ranked, in sessions: the comparison compared something.
    assert scalar(clean.info, "select count(*) from mart.dim_user where is_learner") >= 20
    assert scalar(clean.info, "select count(*) from mart.learner_tiers where in_top_25_pct") > 0


# --- the real site ----------------------------------------------------------------------------


def test_no_row_of_the_real_site_is_flagged_unusable(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> None:
    info = make_database("hostile_real")
    load_real_moodle(info)
    result = run_dbt(["run", "--select", "staging"], info, tmp_path_factory.mktemp("real"))
    assert_dbt_succeeded(result)
    assert scalar(info, "select count(*) from staging.stg_moodle__log_events") == 17428
    assert (
        scalar(info, "select count(*) from staging.stg_moodle__log_events"
               " where not is_usable_for_metrics") == 0
    )  # fmt: skip
    # Moodle wrote 39 rows identical to an earlier one within the same second (two page loads
    # of an assignment, set-up updates): real events, which the duplicate rule keeps.
    identical_rows = scalar(
        info,
        "select count(*) from (select row_number() over (partition by eventname, component,"
        " action, target, objecttable, objectid, crud, edulevel, contextid, contextlevel,"
        " contextinstanceid, userid, courseid, relateduserid, anonymous, other, timecreated,"
        " origin, ip, realuserid order by id) as copy from mdl_logstore_standard_log) as rows"
        " where copy > 1",
    )
    assert identical_rows == 39
