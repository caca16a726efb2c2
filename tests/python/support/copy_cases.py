"""Log rows that repeat an earlier one, placed so that every path of the copy rule is taken.

stg_moodle__log_events flags a row as a copy (is_duplicate_event) when every column but the
id equals an earlier row's and a plausible row at least an hour later lies between the
earliest such row and it. The model finds the rows in between through blocks of ids (in the
original's block, in the copy's block, or in whole blocks between them); the cases below put
the later row in each of those places, and on each side of every boundary the rule draws. The
expected flags come from ``copies_by_definition``, which applies the rule row by row in Python.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg2 import sql

from runner.generator.logwriter import LOG_COLUMNS as GENERATED_LOG_COLUMNS
from runner.postgres.connection import ConnectionInfo

# The model's block size; the cases are laid out on its boundaries.
ID_BLOCK = 1024
HOUR = 3600
EARLIEST_PLAUSIBLE_EPOCH = 946_684_800  # 2000-01-01, as macros/moodle_source/hostile_data_rules.sql
IMPLAUSIBLE_EPOCH = 2_524_608_000  # 2050-01-01: in the future, so not a time the log had


@dataclass(frozen=True)
class CopyCase:
    """An original at ``original`` and its copy at ``copy`` (offsets from the first free block),
    with one more row at ``later`` written ``later_by`` seconds after the original's time."""

    name: str
    original: int
    copy: int
    later: int
    later_by: int
    is_copy: bool
    later_time_plausible: bool = True
    # The objecttable of the original and of the copy, where a case sets them (a nullable
    # column: null must equal null, and differ from an empty string).
    object_tables: tuple[str | None, str | None] | None = None


CASES = (
    CopyCase("later row 10 s on: Moodle's own double write", 1, 3, 2, 10, False),
    CopyCase("later row exactly an hour on, same block", 10, 12, 11, HOUR, True),
    CopyCase("later row a second short of an hour", 20, 22, 21, HOUR - 1, False),
    CopyCase("later row in the copy's block", 1020, 1030, 1025, 2 * HOUR, True),
    CopyCase("later row in the original's block", 2040, 2050, 2045, 2 * HOUR, True),
    CopyCase("later row in a whole block between", 3000, 7000, 5000, HOUR, True),
    CopyCase("later row between, at an implausible time", 7100, 11000, 9000, 0, False, False),
    CopyCase("later row after the copy, not between", 11100, 11102, 11103, HOUR, False),
    CopyCase("nullable column null in both", 12000, 12002, 12001, HOUR, True, True, (None, None)),
    CopyCase("null against an empty string", 12100, 12102, 12101, HOUR, False, True, (None, "")),
)

# Every column of the log but the id: what a copy repeats.
LOG_COLUMNS = tuple(column for column in GENERATED_LOG_COLUMNS if column != "id")


def _column_list(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, columns))


def add_copy_cases(info: ConnectionInfo) -> dict[int, CopyCase]:
    """Append the cases to the Moodle log of ``info``, after every row in it, by nobody
    (userid 0: no learner's metric moves). Returns each case by the id of its copy."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "select {}, (select max(id) from mdl_logstore_standard_log), "
                    "(select max(timecreated) from mdl_logstore_standard_log) "
                    "from mdl_logstore_standard_log where courseid > 1 order by id limit 1"
                ).format(_column_list(LOG_COLUMNS))
            )
            *template_values, last_id, last_time = cursor.fetchone()
            template = dict(zip(LOG_COLUMNS, template_values, strict=True))
            template["userid"] = 0
            # The first whole block after the log, so that the cases sit on its boundaries.
            first = (last_id // ID_BLOCK + 2) * ID_BLOCK
            rows = []
            for number, case in enumerate(CASES):
                # Each case at a time of its own, a day after the log: no row matches another
                # case's, nor any generated row.
                epoch = last_time + 86_400 + 60 * number
                original = {**template, "id": first + case.original, "timecreated": epoch}
                copy = {**template, "id": first + case.copy, "timecreated": epoch}
                if case.object_tables is not None:
                    original["objecttable"], copy["objecttable"] = case.object_tables
                rows.extend((original, copy))
                later = epoch + case.later_by if case.later_time_plausible else IMPLAUSIBLE_EPOCH
                # Another object: the later row is not a copy of anything itself.
                rows.append(
                    {
                        **template,
                        "id": first + case.later,
                        "objectid": 900_000_000 + number,
                        "timecreated": later,
                    }
                )
            columns = ["id", *LOG_COLUMNS]
            cursor.executemany(
                sql.SQL("insert into mdl_logstore_standard_log ({}) values ({})").format(
                    _column_list(columns),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                ),
                [[row[column] for column in columns] for row in rows],
            )
        connection.commit()
    finally:
        connection.close()
    return {first + case.copy: case for case in CASES}


def copies_by_definition(info: ConnectionInfo) -> set[int]:
    """The ids of every row of the log that the copy rule flags, found row by row."""
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("select id, {} from mdl_logstore_standard_log order by id").format(
                    _column_list(LOG_COLUMNS)
                )
            )
            rows = cursor.fetchall()
    finally:
        connection.close()
    return _copies(rows, latest_plausible=int(time.time()) + 86_400)


def _copies(rows: Sequence[tuple], latest_plausible: int) -> set[int]:
    time_at = 1 + LOG_COLUMNS.index("timecreated")
    position = {row[0]: index for index, row in enumerate(rows)}
    first_seen: dict[tuple, int] = {}
    copies = set()
    for row in rows:
        original = first_seen.setdefault(row[1:], row[0])
        if original == row[0]:
            continue
        between = rows[position[original] + 1 : position[row[0]]]
        if any(_moved_on(other[time_at], row[time_at], latest_plausible) for other in between):
            copies.add(row[0])
    return copies


def _moved_on(candidate: int, copied: int, latest_plausible: int) -> bool:
    plausible = EARLIEST_PLAUSIBLE_EPOCH <= candidate <= latest_plausible
    return plausible and candidate >= copied + HOUR
