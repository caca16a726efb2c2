"""`target`: the profile's default output (PostgreSQL), for models that configure per engine."""

from __future__ import annotations

type = "postgres"
name = "postgres"
schema = "analytics"
database = "moodle"
