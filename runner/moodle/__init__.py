"""The Moodle source: what a Moodle database holds and how to read it.

Moodle's schema (from the facts in ``runner/moodle_facts``), loading a Moodle dump, exporting the
Moodle tables to Parquet for the other engines, and classifying Moodle's log events. Builds on
``runner.postgres`` only.
"""
