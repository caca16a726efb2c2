"""The nightly run: append a day of log rows, then a plain `dbt build`.

Its share of the full build (`dbt build --full-refresh --selector full_check`, every test) is
the nightly target (under 5 %). A plain build runs selectors.yml's default selector, `nightly`:
on PostgreSQL the incremental models (docs/incremental.md) read only what the new day changes,
their data tests read the rows the run wrote, and the whole-log tests are left to the full
check. The day is deleted afterwards, which leaves the incremental tables ahead of the log:
the next build of a kept database must be a full refresh (the benchmark's own builds are), and
an incremental one says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg2 import sql

from bench.dbt_build import BuildTiming, run_dbt_build
from bench.log_source import LogSource

DAY_SECONDS = 86_400


@dataclass(frozen=True)
class IncrementalResult:
    rows_appended: int
    build: BuildTiming
    full_build: BuildTiming

    @property
    def share_of_full_build(self) -> float:
        full = self.full_build.wall_seconds
        return self.build.wall_seconds / full if full else 0.0

    def as_dict(self) -> dict[str, Any]:
        models = self.build.incremental_models
        return {
            "rows_appended": self.rows_appended,
            "wall_seconds": round(self.build.wall_seconds, 3),
            "full_build_wall_seconds": round(self.full_build.wall_seconds, 3),
            "share_of_full_build": round(self.share_of_full_build, 4),
            # Models only, and dbt's own timings of the slowest nodes: what the night costs.
            "model_seconds": round(_model_seconds(self.build), 3),
            "test_seconds": round(_test_seconds(self.build), 3),
            "nodes_run": len(self.build.nodes),
            "slowest_nodes": {
                node.name: round(node.seconds, 3)
                for node in sorted(self.build.nodes, key=lambda node: -node.seconds)[:12]
            },
            "model_share_of_full_build": round(
                _model_seconds(self.build) / (_model_seconds(self.full_build) or 1.0), 4
            ),
            "incremental_models": models,
            "note": "" if models else "no incremental models yet: this run rebuilt every table",
        }


def _model_seconds(build: BuildTiming) -> float:
    return sum(node.seconds for node in build.nodes if node.is_model)


def _test_seconds(build: BuildTiming) -> float:
    return sum(node.seconds for node in build.nodes if node.resource_type in ("test", "unit_test"))


def append_one_day(source: LogSource) -> int:
    """Copy the log's busiest UTC day to the day after its last one, with new, higher ids.

    The busiest day makes the figure conservative. Every other column is kept, so the new day
    has the same users, courses and mix of events; the id sequence is moved past the new ids
    as Moodle's own inserts would move it.
    """
    connection = source.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position",
                (source.schema, source.prefix + "logstore_standard_log"),
            )
            columns = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                sql.SQL(
                    "select max(id), max(timecreated) / {day}, "
                    "(select timecreated / {day} from {log} group by 1 order by count(*) desc, 1 "
                    "limit 1) from {log}"
                ).format(log=source.log_table, day=sql.Literal(DAY_SECONDS))
            )
            max_id, last_day, busiest_day = cursor.fetchone()
            if max_id is None:
                return 0
            shift_seconds = (last_day + 1 - busiest_day) * DAY_SECONDS
            shifted = {
                "id": sql.SQL("{} + row_number() over (order by id)").format(sql.Literal(max_id)),
                "timecreated": sql.SQL("timecreated + {}").format(sql.Literal(shift_seconds)),
            }
            cursor.execute(
                sql.SQL(
                    "insert into {log} ({columns}) select {select_list} from {log} "
                    "where timecreated >= %s and timecreated < %s"
                ).format(
                    log=source.log_table,
                    columns=sql.SQL(", ").join(sql.Identifier(column) for column in columns),
                    select_list=sql.SQL(", ").join(
                        shifted.get(column, sql.Identifier(column)) for column in columns
                    ),
                ),
                (busiest_day * DAY_SECONDS, (busiest_day + 1) * DAY_SECONDS),
            )
            appended = cursor.rowcount
            cursor.execute(
                sql.SQL(
                    "select setval(pg_get_serial_sequence(%s, 'id'), (select max(id) from {}))"
                ).format(source.log_table),
                (source.log_table.as_string(connection),),
            )
        connection.commit()
        return appended
    finally:
        connection.close()


def remove_rows_after(source: LogSource, last_kept_id: int) -> int:
    """Delete the appended day again, so a kept database holds exactly the generated data.

    From the log archive too (docs/history.md), which the build appended the day to: a full
    build never empties it, so a later run with --reuse-data would otherwise rebuild the day,
    and the archive would refuse to append to a log ending below its highest id.
    """
    connection = source.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("delete from {} where id > %s").format(source.log_table), (last_kept_id,)
            )
            removed = cursor.rowcount
            cursor.execute("select to_regclass('archive.archive_moodle__logstore_standard_log')")
            if cursor.fetchone()[0] is not None:
                cursor.execute(
                    "delete from archive.archive_moodle__logstore_standard_log where id > %s",
                    (last_kept_id,),
                )
        connection.commit()
        return removed
    finally:
        connection.close()


def run_incremental(
    source: LogSource, work_dir: Path, full_build: BuildTiming
) -> IncrementalResult:
    """Append a day, time the `dbt build` without --full-refresh, then take the day out again."""
    last_id = source.max_log_id()
    appended = append_one_day(source)
    try:
        build = run_dbt_build(source.info, work_dir, full_refresh=False)
    finally:
        remove_rows_after(source, last_id)
    return IncrementalResult(appended, build, full_build)
