"""COPY for the small tables: rows of Python values in PostgreSQL's text format."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from psycopg2 import sql

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text_field(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def copy_rows(
    cursor, schema: str, table: str, columns: Sequence[str], rows: Iterable[Sequence]
) -> int:
    """COPY ``rows`` (tuples in ``columns`` order, None for NULL) into ``schema.table``."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(_text_field(v) for v in row))
        buffer.write("\n")
        count += 1
    buffer.seek(0)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    cursor.copy_expert(statement.as_string(cursor), buffer)
    return count
