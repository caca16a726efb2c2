"""Helpers the test modules share: running the CLI and dbt, reference computations in Python,
the reliability fixtures. Test modules import them as ``support.<module>``."""
