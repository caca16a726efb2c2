"""The warehouse's log archive: what it holds beside Moodle's log, and its explicit rebuild.

Every build appends the new Moodle log rows to the archive and never empties it
(`full_refresh: false`), so the history survives Moodle's log cleanup. Rebuilding it from
Moodle's log throws away every archived row Moodle no longer has: the one way to lose history,
so it is a command of its own that says what it would drop and wants `--yes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from runner.dbt.build import BuildOptions, run_build
from runner.dbt.build_lock import build_lock
from runner.dbt.invoke import DbtOutcome, NodeProgress, declared_vars
from runner.moodle.schema import validate_identifier, validate_prefix
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

ARCHIVE_MODEL = "archive_moodle__logstore_standard_log"


@dataclass(frozen=True)
class ArchiveState:
    """The archive beside Moodle's log, counted by log id."""

    archive_table: str  # schema-qualified
    moodle_table: str  # schema-qualified
    exists: bool
    archived_rows: int
    moodle_rows: int
    archived_only_rows: int  # archived rows Moodle's log no longer has
    archived_only_through: int | None  # newest such row's time, epoch seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "archive_table": self.archive_table,
            "moodle_table": self.moodle_table,
            "exists": self.exists,
            "archived_rows": self.archived_rows,
            "moodle_rows": self.moodle_rows,
            "archived_only_rows": self.archived_only_rows,
            "archived_only_through_epoch": self.archived_only_through,
        }


def _locations(dbt_vars: dict[str, Any] | None) -> tuple[str, str, str]:
    """(archive schema, Moodle schema, Moodle log table) under the project's vars."""
    values = {**declared_vars(), **(dbt_vars or {})}
    archive_schema = f"{values.get('schema_prefix') or ''}archive"
    moodle_schema = str(values.get("moodle_schema"))
    prefix = str(values.get("moodle_table_prefix"))
    try:
        validate_identifier(archive_schema, "var schema_prefix")
        validate_identifier(moodle_schema, "var moodle_schema")
        validate_prefix(prefix)
    except ValueError as error:
        raise UserError(str(error)) from None
    return archive_schema, moodle_schema, f"{prefix}logstore_standard_log"


def inspect_archive(info: ConnectionInfo, dbt_vars: dict[str, Any] | None = None) -> ArchiveState:
    """Count the archive's rows, Moodle's, and the archived rows Moodle no longer has."""
    archive_schema, moodle_schema, log_table = _locations(dbt_vars)
    archive = sql.Identifier(archive_schema, ARCHIVE_MODEL)
    moodle = sql.Identifier(moodle_schema, log_table)
    names = (f"{archive_schema}.{ARCHIVE_MODEL}", f"{moodle_schema}.{log_table}")
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select to_regclass(%s) is not null, to_regclass(%s) is not null",
                (
                    sql.SQL("{}").format(archive).as_string(connection),
                    sql.SQL("{}").format(moodle).as_string(connection),
                ),
            )
            archive_exists, moodle_exists = cursor.fetchone()
            if not moodle_exists:
                raise UserError(
                    f"Moodle's log {names[1]} not found in database {info.dbname!r}",
                    "check vars moodle_schema and moodle_table_prefix",
                )
            cursor.execute(sql.SQL("select count(*) from {}").format(moodle))
            (moodle_rows,) = cursor.fetchone()
            if not archive_exists:
                return ArchiveState(*names, False, 0, moodle_rows, 0, None)
            cursor.execute(
                sql.SQL(
                    "select (select count(*) from {archive}), count(*), max(archived.timecreated)"
                    " from {archive} as archived"
                    " where not exists (select 1 from {moodle} as moodle_log"
                    " where moodle_log.id = archived.id)"
                ).format(archive=archive, moodle=moodle)
            )
            archived_rows, archived_only, through = cursor.fetchone()
    finally:
        connection.close()
    return ArchiveState(*names, True, archived_rows, moodle_rows, archived_only, through)


def rebuild_refused(state: ArchiveState) -> UserError:
    """What a rebuild without confirmation says: the history it would drop."""
    return UserError(
        f"not rebuilt: {state.archive_table} holds {state.archived_only_rows:,} log rows that "
        f"Moodle's log no longer has; a rebuild from {state.moodle_table} drops them for good",
        "run again with --yes to rebuild the archive and every log model from Moodle's log",
    )


def rebuild_archive(
    info: ConnectionInfo,
    options: BuildOptions,
    *,
    on_progress: Callable[[NodeProgress], None] | None = None,
) -> DbtOutcome:
    """Drop the archive and rebuild everything from Moodle's log as it is now.

    The incremental log models are rebuilt too (``--full-refresh``): they hold the archived
    rows as well. Only after the user confirmed (rebuild_refused says what is lost).
    """
    archive_schema, _, _ = _locations(options.vars)
    # Not while a build reads it: the same lock as builds (refused at once if one runs).
    with build_lock(info):
        connection = info.connect(autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("drop table if exists {}").format(
                        sql.Identifier(archive_schema, ARCHIVE_MODEL)
                    )
                )
        finally:
            connection.close()
    full = BuildOptions(
        select=options.select,
        exclude=options.exclude,
        full_refresh=True,
        vars=options.vars,
        target=options.target,
    )
    return run_build(info, full, on_progress=on_progress)
