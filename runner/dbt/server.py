"""Which PostgreSQL the runner and dbt use: the one the libpq variables name, else the embedded one.

Here, above the PostgreSQL layer, because choosing the embedded server also writes the project's
dbt profile for it.
"""

from __future__ import annotations

from runner.postgres.connection import ConnectionInfo, from_environment, is_configured


def resolve_connection(
    *, dbname: str | None = None, embedded: bool | None = None
) -> ConnectionInfo:
    """The server to use, with ``dbname`` when given.

    ``embedded=None``: the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) when
    any is set, otherwise the embedded server (started if needed; database ``moodle``).
    ``embedded=True`` forces the embedded server, ``False`` forces the environment (libpq's
    defaults fill what is unset). The database itself is not created: see ``ensure_database``.
    """
    use_embedded = not is_configured() if embedded is None else embedded
    if use_embedded:
        # Imported here because the embedded server uses ensure_database from this module.
        from runner.dbt.profiles import is_project_server, write_project_profile
        from runner.postgres.embedded import EmbeddedPostgres

        server = EmbeddedPostgres()
        info = server.start()
        if is_project_server(server.requested_dir):
            # Analysts' plain `dbt` in the project folder then finds the same server.
            write_project_profile(server.socket_dir, info.port, info.user, info.dbname)
    else:
        info = from_environment()
    return info.with_database(dbname) if dbname else info
