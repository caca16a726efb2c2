"""The deadline reminder list: learners' open deadlines due within N days of a day, to a file.

dbt builds mart.learner_upcoming_deadlines, which holds every open deadline for every as-of
day of the data; this module only filters it for one day and writes the rows (CSV or JSON)
for a mailer or a chat bot to send. The project sends nothing.

Names and e-mail addresses are personal data: they stop at staging unless the warehouse was
built with the project's opt-in (var include_personal_data: true), and then they go into this
file only, which is made readable by its owner alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from psycopg2 import sql

from runner.moodle.schema import validate_identifier
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

MART_TABLE = "learner_upcoming_deadlines"
CONTACT_COLUMNS = ("first_name", "last_name", "email")
# The largest look-ahead accepted: a year of deadlines is already more than a reminder.
MAX_WITHIN_DAYS = 366
LIST_COLUMNS = (
    "user_id",
    "course_id",
    "course_short_name",
    "course_module_id",
    "module_type",
    "module_display_name",
    "deadline_kind",
    "deadline_date",
    "days_left",
    "engagement_band",
    "struggling_reason",
    "is_at_risk",
    "is_enrolment_active",
)


class ReminderFormat(StrEnum):
    csv = "csv"
    json = "json"


@dataclass(frozen=True)
class DataSpan:
    first_date: dt.date
    last_date: dt.date


@dataclass
class ReminderReport:
    path: Path
    as_of: dt.date
    within_days: int
    rows: int
    learners: int
    at_risk_rows: int
    contact_data: bool
    data_span: DataSpan
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "as_of": self.as_of.isoformat(),
            "within_days": self.within_days,
            "rows": self.rows,
            "learners": self.learners,
            "at_risk_rows": self.at_risk_rows,
            "contact_data": self.contact_data,
            "data_first_date": self.data_span.first_date.isoformat(),
            "data_last_date": self.data_span.last_date.isoformat(),
            "seconds": round(self.seconds, 3),
        }


def parse_as_of(text: str | None) -> dt.date | None:
    """--as-of as a date (YYYY-MM-DD); a UserError naming the value otherwise."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--as-of must be a date written YYYY-MM-DD, got {text!r}") from None


def check_within_days(days: int) -> None:
    if days < 0:
        raise UserError(f"--within-days must be 0 or more, got {days}")
    if days > MAX_WITHIN_DAYS:
        raise UserError(f"--within-days must be at most {MAX_WITHIN_DAYS}, got {days}")


def default_path(out_dir: Path, as_of: dt.date, within_days: int, fmt: ReminderFormat) -> Path:
    return out_dir / f"reminders_{as_of.isoformat()}_{within_days}d.{fmt.value}"


def staging_schema_of(mart_schema: str) -> str:
    """The staging schema built beside a mart schema (var schema_prefix goes in front of both)."""
    if mart_schema.endswith("mart"):
        return mart_schema[: -len("mart")] + "staging"
    return "staging"


def write_reminders(
    info: ConnectionInfo,
    *,
    within_days: int,
    as_of: dt.date | None,
    fmt: ReminderFormat,
    out: Path,
    mart_schema: str = "mart",
) -> ReminderReport:
    """Write the open deadlines due from ``as_of`` to ``as_of + within_days`` to a file.

    ``out`` is a folder (the file gets a name with the day and the window) or a file path.
    """
    check_within_days(within_days)
    validate_identifier(mart_schema, "mart schema")
    started = time.monotonic()
    connection = info.connect()
    try:
        connection.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with connection.cursor() as cursor:
            _require_mart(cursor, mart_schema)
            span = _data_span(cursor, mart_schema)
            day = span.last_date if as_of is None else as_of
            if not span.first_date <= day <= span.last_date:
                raise UserError(
                    f"--as-of {day.isoformat()} is outside the data, which runs from "
                    f"{span.first_date.isoformat()} to {span.last_date.isoformat()}"
                )
            staging = staging_schema_of(mart_schema)
            contact = _has_contact_columns(cursor, staging)
            cursor.execute(
                _list_query(mart_schema, staging, contact), {"day": day, "days": within_days}
            )
            names = [column.name for column in cursor.description]
            rows = cursor.fetchall()
    finally:
        connection.close()

    path = default_path(out, day, within_days, fmt) if out.suffix == "" else out
    records = [dict(zip(names, row, strict=True)) for row in rows]
    _write_file(path, names, records, fmt, day, within_days, private=contact)
    return ReminderReport(
        path=path,
        as_of=day,
        within_days=within_days,
        rows=len(records),
        learners=len({record["user_id"] for record in records}),
        at_risk_rows=sum(1 for record in records if record["is_at_risk"]),
        contact_data=contact,
        data_span=span,
        seconds=time.monotonic() - started,
    )


def _require_mart(cursor: Any, mart_schema: str) -> None:
    cursor.execute(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        (mart_schema, MART_TABLE),
    )
    if cursor.fetchone() is None:
        raise UserError(
            f"table {mart_schema}.{MART_TABLE} does not exist",
            "build the warehouse first: moodle-analytics build",
        )


def _data_span(cursor: Any, mart_schema: str) -> DataSpan:
    """From the first enrolment day to the data's last day (the log's last event)."""
    cursor.execute(
        sql.SQL(
            "select min(enrolment_start_date), max(data_as_of_date) from {}.fact_learner_week"
        ).format(sql.Identifier(mart_schema))
    )
    first, last = cursor.fetchone()
    if first is None or last is None:
        raise UserError(
            f"{mart_schema}.fact_learner_week holds no learner: there is nothing to remind"
        )
    return DataSpan(min(first, last), last)


def _has_contact_columns(cursor: Any, staging_schema: str) -> bool:
    """Whether staging exposes names and e-mail: only when built with include_personal_data."""
    cursor.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = 'stg_moodle__users'",
        (staging_schema,),
    )
    present = {row[0] for row in cursor.fetchall()}
    return set(CONTACT_COLUMNS) <= present


def _list_query(mart_schema: str, staging_schema: str, contact: bool) -> sql.Composed:
    mart = sql.Identifier(mart_schema)
    contact_columns = sql.SQL(
        "".join(f"users.{name}, " for name in CONTACT_COLUMNS) if contact else ""
    )
    contact_join = (
        sql.SQL(
            " left join {}.stg_moodle__users as users on users.user_id = deadlines.user_id"
        ).format(sql.Identifier(staging_schema))
        if contact
        else sql.SQL("")
    )
    return sql.SQL(
        "select deadlines.user_id, {contact_columns}deadlines.course_id,"
        " courses.course_short_name, deadlines.course_module_id, deadlines.module_type,"
        " deadlines.module_display_name, deadlines.deadline_kind, deadlines.deadline_date,"
        " deadlines.deadline_date - %(day)s as days_left, deadlines.engagement_band,"
        " deadlines.struggling_reason, deadlines.is_at_risk, deadlines.is_enrolment_active"
        " from {mart}.{table} as deadlines"
        " left join {mart}.dim_course as courses on courses.course_id = deadlines.course_id"
        "{contact_join}"
        " where %(day)s between deadlines.as_of_from_date and deadlines.as_of_to_date"
        " and deadlines.deadline_date <= %(day)s + %(days)s"
        " order by deadlines.deadline_date, deadlines.user_id, deadlines.course_module_id"
    ).format(
        contact_columns=contact_columns,
        mart=mart,
        table=sql.Identifier(MART_TABLE),
        contact_join=contact_join,
    )


def _text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


def _write_file(
    path: Path,
    names: list[str],
    records: list[dict[str, Any]],
    fmt: ReminderFormat,
    day: dt.date,
    within_days: int,
    *,
    private: bool,
) -> None:
    """Write under a temporary name, then rename: a reader never sees half a list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    # A list with names and e-mail addresses is for its owner only.
    descriptor = os.open(
        partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            if fmt is ReminderFormat.csv:
                writer = csv.writer(handle)
                writer.writerow(names)
                for record in records:
                    writer.writerow([_csv_cell(record[name]) for name in names])
            else:
                document = {
                    "as_of": day.isoformat(),
                    "within_days": within_days,
                    "columns": names,
                    "reminders": [
                        {name: _text(record[name]) for name in names} for record in records
                    ],
                }
                json.dump(document, handle, indent=2, ensure_ascii=False)
                handle.write("\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if private:
        path.chmod(0o600)
