"""A realistic, deterministic synthetic Moodle 4.5 database: the 10 Academy 2019 cohort.

``generate(info, scale=..., seed=...)`` writes the 20 tables the project reads; the same
seed and scale give byte-identical rows. See generate.py for the flow.
"""

from .generate import GenerationReport, GenerationSettings, build_world, generate
from .targets import LINEAR_TABLES, SCALE1_TARGETS, expected_rows

__all__ = [
    "LINEAR_TABLES",
    "SCALE1_TARGETS",
    "GenerationReport",
    "GenerationSettings",
    "build_world",
    "expected_rows",
    "generate",
]
