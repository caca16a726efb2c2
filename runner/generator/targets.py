"""Row counts the generator aims at for the 10 Academy 2019 cohort at scale 1."""

from __future__ import annotations

# Physical table names (default prefix) -> rows at scale 1.
SCALE1_TARGETS: dict[str, int] = {
    "mdl_logstore_standard_log": 417_000,
    "mdl_context": 1_360,
    "mdl_user": 1_050,
    "mdl_course": 16,
    "mdl_modules": 24,
    "mdl_course_modules": 290,
    "mdl_course_modules_completion": 4_500,
    "mdl_grade_items": 110,
    "mdl_grade_grades": 3_600,
    "mdl_grade_categories": 15,
    "mdl_grade_items_history": 220,
    "mdl_grade_grades_history": 7_500,
    "mdl_grade_categories_history": 30,
    "mdl_forum": 30,
    "mdl_forum_discussions": 75,
    "mdl_forum_posts": 130,
    "mdl_role": 9,
    "mdl_role_assignments": 1_380,
    "mdl_enrol": 45,
    "mdl_user_enrolments": 1_370,
    # The optional tables.
    "mdl_assign": 42,
    "mdl_assign_submission": 1_350,
    "mdl_quiz": 55,
    "mdl_quiz_attempts": 1_860,
    "mdl_course_completion_criteria": 6,
    "mdl_course_completions": 585,
}

# Tables whose size follows the number of learners; the others describe the site itself.
LINEAR_TABLES: tuple[str, ...] = (
    "mdl_logstore_standard_log",
    "mdl_course_modules_completion",
    "mdl_grade_grades",
    "mdl_grade_grades_history",
    "mdl_role_assignments",
    "mdl_user_enrolments",
    "mdl_assign_submission",
    "mdl_quiz_attempts",
    "mdl_course_completions",
)


def expected_rows(table: str, scale: float) -> int:
    """Approximate rows of a table at ``scale`` (linear tables scale, the rest do not)."""
    target = SCALE1_TARGETS[table]
    return round(target * scale) if table in LINEAR_TABLES else target
