"""The dbt layer: running the dbt project.

Invoking dbt (in process or as a subprocess), the profiles it reads, a build with its lock, the
docs site, the other engines (DuckDB, Spark) as dbt targets, and rebuilding the log archive.
Builds on ``runner.postgres`` and ``runner.moodle``.
"""
