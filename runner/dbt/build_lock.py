"""One build at a time per database, across processes and machines.

A PostgreSQL session-level advisory lock is held on a dedicated connection for the
duration of the build; the server releases it if the process dies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key derived from the project name."""
    digest = hashlib.sha256(f"{name}:build".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


BUILD_LOCK_KEY = _lock_key("moodle_analytics")


def _lock_oids(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: high and low 32 bits as classid and objid."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def lock_holder(info: ConnectionInfo) -> str | None:
    """Who holds the build lock on ``info``'s database, in words, or None if nobody does."""
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                select a.pid, coalesce(a.application_name, ''),
                       coalesce(host(a.client_addr), 'local'), a.backend_start
                from pg_locks as l
                join pg_stat_activity as a on a.pid = l.pid
                where l.locktype = 'advisory' and l.granted
                  and l.database = (select oid from pg_database where datname = current_database())
                  and l.classid = %s and l.objid = %s and l.objsubid = 1
                """,
                _lock_oids(BUILD_LOCK_KEY),
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    if row is None:
        return None
    pid, application, client, started = row
    since = f"{started:%Y-%m-%d %H:%M:%S %Z}".strip()
    return f"server pid {pid} ({application or 'unknown client'} from {client}, since {since})"


@contextmanager
def build_lock(info: ConnectionInfo) -> Iterator[None]:
    """Hold the build lock for the block; UserError at once if another build holds it."""
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,))
            acquired = cursor.fetchone()[0]
        if not acquired:
            holder = lock_holder(info)
            raise UserError(
                f"another build is already running against database {info.dbname!r} "
                f"at {info.host}:{info.port}; wait for it to finish",
                f"the build lock is held by {holder}" if holder else None,
            )
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("select pg_advisory_unlock(%s)", (BUILD_LOCK_KEY,))
    finally:
        connection.close()
