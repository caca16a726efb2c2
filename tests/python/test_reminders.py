"""mart.learner_upcoming_deadlines and `moodle-analytics reminders` against the Moodle rows.

The list the command writes for a day is recomputed here from what Moodle stored (expected
completion dates, completions, `submitted` log rows) and the learners' enrolment starts and
weekly bands, on a copy of the generated site the reliability tests share (built once per
run). The personal-data opt-in is checked on a copy of that; the real Moodle 4.5 site, which
sets no expected completion dates, gives an empty list.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import stat
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.cli_helpers import cli_env, invoke
from support.dbt_helpers import assert_dbt_succeeded, run_dbt
from support.progress_reference import rows

from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

UTC = dt.UTC
Key = tuple[int, int]


def utc_date(epoch: int) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, UTC).date()


def expected_list(info: ConnectionInfo, day: dt.date, within_days: int) -> set[tuple[Any, ...]]:
    """Open deadlines due from ``day`` to ``day + within_days``, from the raw Moodle rows."""
    deadlines = assessment_deadlines(info)
    deadlines += [
        (cm_id, course_id, expected_epoch)
        for cm_id, course_id, expected_epoch in rows(
            info,
            "select id, course, completionexpected from mdl_course_modules"
            " where completionexpected > 0 and completion > 0 and deletioninprogress = 0",
        )
        # An assignment's due date or a quiz's close date takes the place of this one.
        if cm_id not in {deadline[0] for deadline in deadlines}
    ]
    done: dict[Key, dt.date] = {}
    for user_id, cm_id, handed_in in handed_in_epochs(info):
        submitted = utc_date(handed_in)
        done[(user_id, cm_id)] = min(submitted, done.get((user_id, cm_id), submitted))
    for user_id, cm_id, modified in rows(
        info,
        "select userid, coursemoduleid, timemodified from mdl_course_modules_completion"
        " where completionstate in (1, 2, 3)",
    ):
        done[(user_id, cm_id)] = utc_date(modified)
    for user_id, cm_id, created in rows(
        info,
        "select userid, contextinstanceid, min(timecreated) from mdl_logstore_standard_log"
        " where action = 'submitted' and contextlevel = 70 and realuserid is null"
        " group by userid, contextinstanceid",
    ):
        submitted = utc_date(created)
        done[(user_id, cm_id)] = min(submitted, done.get((user_id, cm_id), submitted))
    starts = dict(
        ((user_id, course_id), start)
        for user_id, course_id, start in rows(
            info,
            "select distinct user_id, course_id, enrolment_start_date from mart.fact_learner_week",
        )
    )
    learners_of: dict[int, list[int]] = defaultdict(list)
    for user_id, course_id in starts:
        learners_of[course_id].append(user_id)
    bands = band_as_of(info, day)
    expected = set()
    for cm_id, course_id, expected_epoch in deadlines:
        deadline = utc_date(expected_epoch)
        if not day <= deadline <= day + dt.timedelta(days=within_days):
            continue
        for user_id in learners_of[course_id]:
            finished = done.get((user_id, cm_id))
            if starts[(user_id, course_id)] > day or (finished is not None and finished <= day):
                continue
            band, at_risk = bands.get((user_id, course_id), (None, None))
            expected.add((user_id, cm_id, deadline, (deadline - day).days, band, at_risk))
    return expected


def optional_tables_present(info: ConnectionInfo) -> bool:
    names = {name for (name,) in rows(info, "select tablename from pg_tables")}
    return {"mdl_assign", "mdl_assign_submission", "mdl_quiz", "mdl_quiz_attempts"} <= names


def assessment_deadlines(info: ConnectionInfo) -> list[tuple[int, int, int]]:
    """(course module, course, epoch) of assignment due and quiz close dates."""
    if not optional_tables_present(info):
        return []
    return rows(
        info,
        "select cm.id, cm.course, a.duedate from mdl_course_modules cm"
        " join mdl_modules m on m.id = cm.module and m.name = 'assign'"
        " join mdl_assign a on a.id = cm.instance and a.course = cm.course"
        " where a.duedate > 0 and cm.deletioninprogress = 0"
        " union all"
        " select cm.id, cm.course, q.timeclose from mdl_course_modules cm"
        " join mdl_modules m on m.id = cm.module and m.name = 'quiz'"
        " join mdl_quiz q on q.id = cm.instance and q.course = cm.course"
        " where q.timeclose > 0 and cm.deletioninprogress = 0",
    )


def handed_in_epochs(info: ConnectionInfo) -> list[tuple[int, int, int]]:
    """(user, course module, first hand-in epoch): submitted submissions, finished attempts."""
    if not optional_tables_present(info):
        return []
    return rows(
        info,
        "select s.userid, cm.id, min(s.timemodified) from mdl_assign_submission s"
        " join mdl_course_modules cm on cm.instance = s.assignment"
        " join mdl_modules m on m.id = cm.module and m.name = 'assign'"
        " where s.status = 'submitted' group by s.userid, cm.id"
        " union all"
        " select qa.userid, cm.id, min(qa.timefinish) from mdl_quiz_attempts qa"
        " join mdl_course_modules cm on cm.instance = qa.quiz"
        " join mdl_modules m on m.id = cm.module and m.name = 'quiz'"
        " where qa.state = 'finished' and qa.preview = 0 group by qa.userid, cm.id",
    )


def band_as_of(info: ConnectionInfo, day: dt.date) -> dict[Key, tuple[str, bool]]:
    """Each learner's band and flag of the latest week observed by ``day``."""
    latest: dict[Key, tuple[dt.date, str, bool]] = {}
    for user_id, course_id, observed_until, band, at_risk in rows(
        info,
        "select w.user_id, w.course_id, w.observed_until_date, b.engagement_band, b.is_at_risk"
        " from mart.fact_learner_week w join mart.learner_engagement_bands b"
        " using (user_id, course_id, week_start_date) where w.observed_until_date <= %s",
        (day,),
    ):
        key = (user_id, course_id)
        if key not in latest or observed_until > latest[key][0]:
            latest[key] = (observed_until, band, at_risk)
    return {key: (band, at_risk) for key, (_, band, at_risk) in latest.items()}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def listed(records: list[dict[str, str]]) -> set[tuple[Any, ...]]:
    return {
        (
            int(record["user_id"]),
            int(record["course_module_id"]),
            dt.date.fromisoformat(record["deadline_date"]),
            int(record["days_left"]),
            record["engagement_band"] or None,
            {"true": True, "false": False, "": None}[record["is_at_risk"]],
        )
        for record in records
    }


def remind(info: ConnectionInfo, work: Path, *args: str) -> Any:
    return invoke(["reminders", "--out", str(work), *args], cli_env(info, work))


@pytest.fixture(scope="module")
def warehouse(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
) -> ConnectionInfo:
    """A copy of the shared site: the reliability tests copy the original, which needs it idle."""
    return copy_database(built_warehouse, "reminders")


@pytest.fixture(scope="module")
def days(warehouse: ConnectionInfo) -> list[dt.date]:
    """Days to ask for: before a cluster of deadlines, on one, and the data's last day."""
    deadlines = sorted(
        {
            deadline
            for (deadline,) in rows(
                warehouse,
                "select distinct deadline_date from mart.learner_upcoming_deadlines",
            )
        }
    )
    assert len(deadlines) >= 5, "the generated site sets expected completion dates"
    middle = deadlines[len(deadlines) // 2]
    return [deadlines[1] - dt.timedelta(days=3), middle, middle + dt.timedelta(days=1)]


def test_the_list_is_the_open_deadlines_of_the_moodle_rows(
    warehouse: ConnectionInfo, days: list[dt.date], tmp_path: Path
) -> None:
    checked = 0
    for day in days:
        result = remind(warehouse, tmp_path, "--within-days", "7", "--as-of", str(day))
        assert result.exit_code == 0, result.stderr
        path = tmp_path / f"reminders_{day.isoformat()}_7d.csv"
        assert str(path) in result.stdout.replace("\n", "")
        records = read_csv(path)
        assert listed(records) == expected_list(warehouse, day, 7), day
        assert len(records) == len(listed(records))  # one row per learner and deadline
        assert "email" not in records[0] if records else True
        checked += len(records)
    assert checked > 0
    # The generated site sets "expect completed on" only on its assignments and quizzes, to
    # their due and close dates: those dates, from mdl_assign and mdl_quiz, take its place.
    kinds = rows(warehouse, "select distinct deadline_kind from mart.learner_upcoming_deadlines")
    assert {kind for (kind,) in kinds} == {"assignment due", "quiz close"}


def test_a_draft_is_not_handed_in(warehouse: ConnectionInfo) -> None:
    """A learner who only saved a draft still gets the reminder up to the due date."""
    drafts = rows(
        warehouse,
        "select s.userid, cm.id, a.duedate from mdl_assign_submission s"
        " join mdl_assign a on a.id = s.assignment"
        " join mdl_course_modules cm on cm.instance = a.id"
        " join mdl_modules m on m.id = cm.module and m.name = 'assign'"
        " where s.status = 'draft'",
    )
    assert drafts, "the generated site has draft submissions"
    open_until = dict(
        ((user_id, cm_id), last)
        for user_id, cm_id, last in rows(
            warehouse,
            "select user_id, course_module_id, max(as_of_to_date)"
            " from mart.learner_upcoming_deadlines where deadline_kind = 'assignment due'"
            " group by user_id, course_module_id",
        )
    )
    reminded = [
        (user_id, cm_id)
        for user_id, cm_id, due in drafts
        if open_until.get((user_id, cm_id)) == utc_date(due)
    ]
    # Learners still enrolled at the due date (most of them) are reminded up to its day.
    assert len(reminded) > len(drafts) / 2


def test_json_holds_the_same_rows_and_defaults_to_the_data_last_day(
    warehouse: ConnectionInfo, days: list[dt.date], tmp_path: Path
) -> None:
    day = days[1]
    result = remind(
        warehouse, tmp_path, "--within-days", "3", "--as-of", str(day), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads((tmp_path / f"reminders_{day.isoformat()}_3d.json").read_text())
    assert document["as_of"] == day.isoformat() and document["within_days"] == 3
    records = [
        {
            name: ""
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for name, value in record.items()
        }
        for record in document["reminders"]
    ]
    assert listed(records) == expected_list(warehouse, day, 3)

    ((last_day,),) = rows(warehouse, "select max(data_as_of_date) from mart.fact_learner_week")
    result = invoke(["reminders", "--json", "--out", str(tmp_path)], cli_env(warehouse, tmp_path))
    summary = json.loads(result.stdout)
    assert summary["as_of"] == last_day.isoformat() and summary["within_days"] == 7
    assert listed(read_csv(Path(summary["path"]))) == expected_list(warehouse, last_day, 7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--within-days", "-1"], "--within-days must be 0 or more, got -1"),
        (["--as-of", "2019-02-30"], "--as-of must be a date written YYYY-MM-DD, got '2019-02-30'"),
        (["--as-of", "1999-01-01"], "--as-of 1999-01-01 is outside the data, which runs from"),
        (["--format", "xml"], "--format must be csv or json, got 'xml'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    warehouse: ConnectionInfo, tmp_path: Path, args: list[str], message: str
) -> None:
    result = remind(warehouse, tmp_path, *args)
    assert result.exit_code == 1
    assert message in result.stderr.replace("\n", " ")
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.glob("reminders_*"))


def test_names_and_emails_only_with_the_opt_in_and_only_in_the_file(
    warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    days: list[dt.date],
    tmp_path: Path,
) -> None:
    opted_in = copy_database(warehouse, "reminders_personal")
    assert_dbt_succeeded(
        run_dbt(
            ["run", "--select", "stg_moodle__users"],
            opted_in,
            tmp_path / "dbt",
            dbt_vars={"include_personal_data": True},
        )
    )
    day = days[1]
    result = remind(opted_in, tmp_path, "--as-of", str(day), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["contact_data"] is True and summary["rows"] > 0
    path = Path(summary["path"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = read_csv(path)
    emails = dict(rows(opted_in, "select id, email from mdl_user"))
    assert all(record["email"] == emails[int(record["user_id"])] for record in records)
    assert all(record["first_name"] and record["last_name"] for record in records)
    # The marts never carry them, opt-in or not.
    personal = rows(
        opted_in,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'mart' and column_name in ('email', 'first_name', 'last_name')",
    )
    assert personal == []

    plain = remind(warehouse, tmp_path / "plain", "--as-of", str(day), "--json")
    summary = json.loads(plain.stdout)
    assert summary["contact_data"] is False
    assert stat.S_IMODE(Path(summary["path"]).stat().st_mode) == 0o644
    assert "email" not in read_csv(Path(summary["path"]))[0]


def test_real_site_sets_no_expected_dates_so_the_list_is_empty(
    real_site_build: tuple[ConnectionInfo, Path], tmp_path: Path
) -> None:
    info, _ = real_site_build
    assert rows(info, "select count(*) from mdl_course_modules where completionexpected > 0") == [
        (0,)
    ]
    # Nor has its dump the optional tables of assignments and quizzes: their models are empty.
    assert not optional_tables_present(info)
    for model in ("assignments", "assignment_submissions", "quizzes", "quiz_attempts"):
        assert rows(info, f"select count(*) from staging.stg_moodle__{model}") == [(0,)]
    result = remind(info, tmp_path, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 0 and summary["data_last_date"] == "2019-03-31"
    assert Path(summary["path"]).read_text().startswith("user_id,course_id,")
    late = remind(info, tmp_path, "--as-of", "2019-04-01")
    assert late.exit_code == 1
    assert "outside the data, which runs from" in late.stderr
