"""A login for Tableau and other readers: a member of the read-only reporting role.

The password is generated here and returned once, for the caller to show on the terminal;
it is never written to a file. Only its scram-sha-256 verifier reaches the server, so it
appears in no statement, log or catalogue either.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from psycopg2 import sql

from runner.postgres.connection import ConnectionInfo
from runner.postgres.embedded import scram_verifier
from runner.user_errors import UserError

DEFAULT_REPORTING_ROLE = "bi_reader"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ReportingLogin:
    name: str
    role: str
    password: str
    created: bool  # False: an existing login got a new password (--reset)


def create_reporting_login(
    info: ConnectionInfo, name: str, *, role: str = DEFAULT_REPORTING_ROLE, reset: bool = False
) -> ReportingLogin:
    """Create login ``name`` in ``role`` (created when missing; a build grants it the marts)."""
    for value, what in ((name, "login name"), (role, "reporting role")):
        if not _ROLE_NAME.match(value):
            raise UserError(
                f"{what} {value!r} is not a plain lowercase PostgreSQL name "
                "(letters, digits and _, starting with a letter or _)"
            )
    if name == role:
        raise UserError(f"the login must differ from the reporting role {role!r}")
    password = secrets.token_urlsafe(18)
    verifier = sql.Literal(scram_verifier(password))
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select rolcanlogin from pg_roles where rolname = %s", (role,))
            group = cursor.fetchone()
            if group is None:
                cursor.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            elif group[0]:
                raise UserError(f"{role!r} is a login, not a group role: choose another --role")
            cursor.execute("select 1 from pg_roles where rolname = %s", (name,))
            exists = cursor.fetchone() is not None
            if exists and not reset:
                raise UserError(
                    f"role {name!r} exists already",
                    "add --reset to give it a new password (the old one stops working)",
                )
            statement = (
                "alter role {} login password {}"
                if exists
                else ("create role {} login password {}")
            )
            cursor.execute(sql.SQL(statement).format(sql.Identifier(name), verifier))
            cursor.execute(
                sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(name))
            )
    finally:
        connection.close()
    return ReportingLogin(name=name, role=role, password=password, created=not exists)
