"""The event classification seed: complete, consistent, regenerable, and loadable by dbt."""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.dbt.command import dbt_executable
from runner.moodle import event_classification as ec
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

REAL_DUMP = PROJECT_ROOT / "tests" / "data" / "moodle45_real_20tables.sql.gz"


def _seed_rows() -> list[dict[str, str]]:
    with ec.SEED_PATH.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def seed() -> dict[str, dict[str, str]]:
    return {row["event_name"]: row for row in _seed_rows()}


def _catalogue_names() -> list[str]:
    with ec.CATALOGUE_PATH.open(newline="", encoding="utf-8") as handle:
        return [row["eventname"] for row in csv.DictReader(handle)]


# --- the seed file -------------------------------------------------------------------------


def test_every_catalogue_event_has_exactly_one_row() -> None:
    names = [row["event_name"] for row in _seed_rows()]
    assert len(names) == 604
    assert Counter(names).most_common(1)[0][1] == 1
    assert names == _catalogue_names()


def test_seed_file_equals_generator_output() -> None:
    """Nobody edits the CSV without the generator, or the generator without regenerating."""
    assert ec.SEED_PATH.read_text(encoding="utf-8") == ec.render_seed_csv()


def test_columns_and_enums_are_valid(seed: dict[str, dict[str, str]]) -> None:
    with ec.SEED_PATH.open(encoding="utf-8") as handle:
        assert handle.readline().rstrip("\n").split(",") == list(ec.SEED_COLUMNS)
    rule_names = {rule.name for rule in ec.RULES}
    for name, row in seed.items():
        assert name.startswith("\\") and "\\event\\" in name, name
        assert row["actor_kind"] in ec.ACTOR_KINDS, name
        assert row["engagement_kind"] in ec.ENGAGEMENT_KINDS, name
        is_learner = row["actor_kind"] == ec.LEARNER_ACTION
        assert row["is_learner_action"] == ("true" if is_learner else "false"), name
        assert (row["engagement_kind"] == ec.NONE) == (not is_learner), name
        rule = row["classification_rule"]
        if rule.startswith("override_"):
            assert name in ec.OVERRIDES, name
        elif rule.startswith("rule_"):
            assert rule in rule_names, name
        else:
            assert rule in {
                "fallback_participating_read",
                "fallback_participating_change",
                "fallback_teaching",
                "fallback_other",
            }, name


@pytest.mark.parametrize(
    ("event_name", "actor_kind", "engagement_kind"),
    [
        (r"\core\event\user_loggedin", "learner_action", "navigation"),
        (r"\core\event\user_loggedout", "learner_action", "navigation"),
        (r"\core\event\webservice_token_sent", "learner_action", "navigation"),
        (r"\core\event\dashboard_viewed", "learner_action", "navigation"),
        (r"\core\event\course_viewed", "learner_action", "navigation"),
        (r"\core\event\notification_sent", "system_consequence", "none"),
        (r"\core\event\webservice_function_called", "wrapper", "none"),
        (r"\core\event\course_module_completion_updated", "system_consequence", "none"),
        (r"\core\event\user_graded", "system_consequence", "none"),
        (r"\core\event\course_completed", "system_consequence", "none"),
        (r"\core\event\user_login_failed", "failed_attempt", "none"),
        (r"\core\event\user_loggedinas", "staff_action", "none"),
        (r"\core\event\message_sent", "learner_action", "social"),
        (r"\mod_quiz\event\attempt_started", "learner_action", "assessment"),
        (r"\mod_quiz\event\attempt_submitted", "learner_action", "assessment"),
        (r"\mod_quiz\event\attempt_reviewed", "learner_action", "assessment"),
        (r"\mod_quiz\event\attempt_regraded", "staff_action", "none"),
        (r"\mod_assign\event\assessable_submitted", "learner_action", "assessment"),
        (r"\mod_assign\event\submission_status_viewed", "learner_action", "assessment"),
        (r"\mod_assign\event\submission_graded", "staff_action", "none"),
        (r"\mod_forum\event\post_created", "learner_action", "social"),
        (r"\mod_forum\event\discussion_created", "learner_action", "social"),
        (r"\mod_forum\event\assessable_uploaded", "system_consequence", "none"),
        (r"\mod_forum\event\discussion_subscription_created", "system_consequence", "none"),
        (r"\mod_forum\event\discussion_viewed", "learner_action", "view"),
        (r"\mod_page\event\course_module_viewed", "learner_action", "view"),
        (r"\mod_resource\event\course_module_viewed", "learner_action", "view"),
        (r"\mod_wiki\event\page_updated", "learner_action", "write"),
        (r"\gradereport_user\event\grade_report_viewed", "learner_action", "navigation"),
        (r"\gradereport_grader\event\grade_report_viewed", "staff_action", "none"),
    ],
)
def test_classifications_the_product_depends_on(
    seed: dict[str, dict[str, str]], event_name: str, actor_kind: str, engagement_kind: str
) -> None:
    row = seed[event_name]
    assert (row["actor_kind"], row["engagement_kind"]) == (actor_kind, engagement_kind)
    assert row["is_learner_action"] == ("true" if actor_kind == "learner_action" else "false")


def test_every_event_of_the_real_moodle_log_is_listed(seed: dict[str, dict[str, str]]) -> None:
    """The real 4.5 site's 69 event names all join to the seed: none falls to the unknown rule."""
    counts = _real_log_event_counts()
    assert len(counts) == 69
    assert set(counts) <= set(seed)
    learner_rows = sum(n for name, n in counts.items() if seed[name]["is_learner_action"] == "true")
    # The rows of notifications, app wrappers, completions, grades and companions are excluded.
    excluded = {
        r"\core\event\notification_sent": 1773,
        r"\core\event\webservice_function_called": 291,
        r"\core\event\course_module_completion_updated": 396,
        r"\core\event\user_graded": 162,
        r"\mod_forum\event\assessable_uploaded": 372,
    }
    for name, expected in excluded.items():
        assert counts[name] == expected
        assert seed[name]["is_learner_action"] == "false"
    assert sum(counts.values()) == 17_428
    assert learner_rows == 13_366


def _real_log_event_counts() -> Counter[str]:
    """Event names of the real dump's log, read from its COPY block (no database needed)."""
    counts: Counter[str] = Counter()
    with gzip.open(REAL_DUMP, "rt", encoding="utf-8") as dump:
        for line in dump:
            if line.startswith("COPY public.mdl_logstore_standard_log "):
                break
        for line in dump:
            if line == "\\.\n":
                break
            # COPY text format doubles backslashes.
            counts[line.split("\t", 2)[1].replace("\\\\", "\\")] += 1
    return counts


# --- the generator -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crud", "edulevel", "expected"),
    [
        ("r", 2, ("learner_action", "view", "fallback_participating_read")),
        ("c", 2, ("learner_action", "write", "fallback_participating_change")),
        ("u", 2, ("learner_action", "write", "fallback_participating_change")),
        ("d", 2, ("learner_action", "write", "fallback_participating_change")),
        ("r", 1, ("staff_action", "none", "fallback_teaching")),
        ("c", 1, ("staff_action", "none", "fallback_teaching")),
        ("r", 0, ("system_consequence", "none", "fallback_other")),
        ("c", 0, ("system_consequence", "none", "fallback_other")),
        (None, None, ("system_consequence", "none", "fallback_other")),
        (None, 2, ("system_consequence", "none", "fallback_other")),
    ],
)
def test_unknown_event_rule(crud: str | None, edulevel: int | None, expected: tuple) -> None:
    result = ec.classify_unknown_event(crud, edulevel)
    assert (result.actor_kind, result.engagement_kind, result.rule) == expected


def test_every_override_changes_what_the_rules_give() -> None:
    """The reviewed list holds only events whose catalogue facts mislead."""
    events = {event.event_name: event for event in ec.read_catalogue()}
    for name, override in ec.OVERRIDES.items():
        by_rules = ec.classify_by_rules(events[name])
        assert (by_rules.actor_kind, by_rules.engagement_kind) != (
            override.actor_kind,
            override.engagement_kind,
        ), name


def test_every_rule_decides_some_event(seed: dict[str, dict[str, str]]) -> None:
    used = {row["classification_rule"] for row in seed.values()}
    assert {rule.name for rule in ec.RULES} <= used


def test_override_for_an_event_missing_from_the_catalogue_is_an_error(tmp_path: Path) -> None:
    lines = ec.CATALOGUE_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    shrunk = tmp_path / "catalogue.csv"
    shrunk.write_text(
        "".join(line for line in lines if "webservice_function_called" not in line),
        encoding="utf-8",
    )
    with pytest.raises(ec.CatalogueError, match="webservice_function_called"):
        ec.render_seed_csv(shrunk)


def test_command_line_writes_the_seed(tmp_path: Path) -> None:
    out = tmp_path / "seed.csv"
    to_file = _generator("--out", str(out))
    assert to_file.returncode == 0, to_file.stderr
    to_stdout = _generator()
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert out.read_text(encoding="utf-8") == to_stdout.stdout == ec.render_seed_csv()


def test_command_line_names_a_missing_catalogue_in_one_line(tmp_path: Path) -> None:
    result = _generator("--catalogue", str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: event catalogue not found: {tmp_path / 'nope.csv'}"
    ]


def _generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner.moodle.event_classification", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


# --- dbt -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbtSandbox:
    database: ConnectionInfo
    run: Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def seeded(
    make_database: Callable[[str], ConnectionInfo], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DbtSandbox]:
    """A fresh database with the seed loaded by `dbt seed`, own profile, target and log paths."""
    database = make_database("h6_seed")
    work = tmp_path_factory.mktemp("dbt_event_classification")
    profiles = work / "profiles"
    profiles.mkdir()
    shutil.copy(PROJECT_ROOT / "profiles.example.yml", profiles / "profiles.yml")
    env = {**os.environ, **database.libpq_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("DBT_TARGET", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(dbt_executable()),
                *args,
                "--project-dir",
                str(PROJECT_ROOT),
                "--profiles-dir",
                str(profiles),
                "--target-path",
                str(work / "target"),
                "--log-path",
                str(work / "logs"),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    result = run("seed", "--select", "moodle_event_classification")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    yield DbtSandbox(database, run)


def _query(database: ConnectionInfo, sql: str) -> list[tuple]:
    connection = database.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def test_dbt_seed_loads_every_row_with_portable_types(seeded: DbtSandbox) -> None:
    types = dict(
        _query(
            seeded.database,
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'staging' and table_name = 'moodle_event_classification'",
        )
    )
    assert types == {
        **{column: "text" for column in ec.SEED_COLUMNS},
        "edulevel": "integer",
        "is_learner_action": "boolean",
    }
    loaded = _query(
        seeded.database,
        "select event_name, edulevel, is_learner_action, actor_kind"
        " from staging.moodle_event_classification",
    )
    expected = {
        (
            row["event_name"],
            int(row["edulevel"]) if row["edulevel"] else None,
            row["is_learner_action"] == "true",
            row["actor_kind"],
        )
        for row in _seed_rows()
    }
    assert len(loaded) == 604
    assert set(loaded) == expected


def test_dbt_data_tests_of_the_seed_pass(seeded: DbtSandbox) -> None:
    result = seeded.run("test", "--select", "moodle_event_classification")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "PASS=" in result.stdout and "ERROR=0" in result.stdout


def test_unknown_event_macros_equal_the_generator_fallback(seeded: DbtSandbox) -> None:
    """The models' SQL rule and the generator's Python rule agree on every crud x edulevel."""
    cruds = ["c", "r", "u", "d", "x", None]
    edulevels = [0, 1, 2, 3, None]
    grid = [(crud, edulevel) for crud in cruds for edulevel in edulevels]

    def literal(value: str | int | None, sql_type: str) -> str:
        return f"cast({'null' if value is None else repr(value)} as {sql_type})"

    values = ", ".join(f"({literal(c, 'text')}, {literal(e, 'integer')})" for c, e in grid)
    inline = (
        "select crud, edulevel,"
        " {{ classify_unknown_event_actor_kind('crud', 'edulevel') }} as actor_kind,"
        " {{ classify_unknown_event_engagement_kind('crud', 'edulevel') }} as engagement_kind,"
        " {{ classify_unknown_event_rule('crud', 'edulevel') }} as classification_rule"
        f" from (values {values}) as grid (crud, edulevel)"
    )
    compiled = seeded.run("compile", "--quiet", "--inline", inline)
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-2000:]
    rows = _query(seeded.database, compiled.stdout)
    assert len(rows) == len(grid)
    for crud, edulevel, actor_kind, engagement_kind, rule in rows:
        expected = ec.classify_unknown_event(crud, edulevel)
        assert (actor_kind, engagement_kind, rule) == (
            expected.actor_kind,
            expected.engagement_kind,
            expected.rule,
        ), (crud, edulevel)
