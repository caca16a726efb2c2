"""The benchmark: the project's sessionisation against the floor and the alternatives.

Run it with ``python -m bench`` (see docs/benchmark.md). Each engine that sessionises the log
(the dbt project, the vectorised pandas version, the port of the original analysis, and later
DuckDB or Spark) is one class in bench/sessionisers.py; every figure is also written as JSON.
"""
