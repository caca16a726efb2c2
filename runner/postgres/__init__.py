"""The lowest layer: a PostgreSQL server and connections to it.

Connection settings from the libpq variables, the embedded server the runner starts when none is
configured, the PostgreSQL client tools, and administration (creating a database, a login).
Imports nothing from the layers above.
"""
