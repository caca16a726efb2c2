"""`python -m bench`: the benchmark's command line."""

from bench.cli import app

app()
