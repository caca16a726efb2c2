"""Publishing what dbt built: CSV/Parquet exports, Tableau data sources and workbook, the Hyper
extract, the build summary, deadline reminders and dropout prediction.

Reads the marts; builds on ``runner.postgres`` and ``runner.moodle`` (identifiers) only.
"""
