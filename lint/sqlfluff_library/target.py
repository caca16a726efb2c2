"""`target`: the profile's default output (PostgreSQL), for models that configure per engine."""

from __future__ import annotations

type = "postgres"  # noqa: A001 - dbt's attribute name
name = "postgres"
schema = "analytics"
database = "moodle"
