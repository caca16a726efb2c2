"""Where the benchmark reads the Moodle log, and the two reads the Python engines share."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
from psycopg2 import sql

from runner.moodle.schema import validate_identifier, validate_prefix
from runner.postgres.connection import ConnectionInfo

# The columns the sessionisation definitions need, and nothing else (what a careful analyst reads).
LOG_COLUMNS = ("userid", "timecreated", "id", "action")


@dataclass(frozen=True)
class LogSource:
    info: ConnectionInfo
    schema: str = "public"
    prefix: str = "mdl_"

    def __post_init__(self) -> None:
        validate_identifier(self.schema, "schema")
        validate_prefix(self.prefix)

    def table(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.schema, self.prefix + name)

    @property
    def log_table(self) -> sql.Identifier:
        return self.table("logstore_standard_log")

    def count_log_rows(self) -> int:
        return int(self._scalar(sql.SQL("select count(*) from {}").format(self.log_table)))

    def max_log_id(self) -> int:
        value = self._scalar(sql.SQL("select coalesce(max(id), 0) from {}").format(self.log_table))
        return int(value)

    def count_known_user_rows(self) -> int:
        """Log rows whose userid is a row of `user`: the rows sessionisation works on."""
        query = sql.SQL(
            "select count(*) from {log} as log where exists "
            "(select 1 from {user} as u where u.id = log.userid)"
        ).format(log=self.log_table, user=self.table("user"))
        return int(self._scalar(query))

    def _scalar(self, query: sql.Composable) -> object:
        connection = self.info.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                return cursor.fetchone()[0]
        finally:
            connection.close()


def read_log_frame(source: LogSource) -> pd.DataFrame:
    """Every log row's userid, timecreated, id and action, as a DataFrame (COPY, then CSV parse).

    COPY into memory and pyarrow's CSV parser is the fast way a data scientist would load
    millions of rows; pd.read_sql builds a Python tuple per row and is several times slower.
    """
    query = sql.SQL("copy (select {columns} from {log}) to stdout with (format csv)").format(
        columns=sql.SQL(", ").join(sql.Identifier(column) for column in LOG_COLUMNS),
        log=source.log_table,
    )
    buffer = io.BytesIO()
    connection = source.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.copy_expert(query.as_string(connection), buffer)
    finally:
        connection.close()
    buffer.seek(0)
    frame = pd.read_csv(
        buffer,
        names=list(LOG_COLUMNS),
        header=None,
        engine="pyarrow",
        dtype={"userid": "int64", "timecreated": "int64", "id": "int64", "action": "category"},
    )
    del buffer
    return frame


def read_user_ids(source: LogSource) -> pd.Index:
    """The ids of the `user` table: only their log rows belong to a user's sessions."""
    connection = source.info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("select id from {}").format(source.table("user")))
            return pd.Index([row[0] for row in cursor.fetchall()], dtype="int64")
    finally:
        connection.close()
