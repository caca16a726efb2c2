"""moodle-analytics: the runner around the dbt project (database, generator, dbt, exports)."""

__version__ = "0.1.0"
