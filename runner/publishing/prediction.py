"""Dropout prediction: fit a logistic regression on ended courses, measure it split by course,
store it as a table that dbt scores every learner-week with (mart.learner_dropout_risk).

The inputs are mart.learner_dropout_features (the warehouse's weekly indicators, the
rule-based at-risk flag and Moodle core's dropout target once a course has ended). Training
uses the weeks up to 75 % of each course's duration, before the window the target looks at.
The quality is measured out of sample by grouping whole courses into folds (a learner's weeks
never sit on both sides), at 25 %, 50 % and 75 % of each course's duration, against the
rule-based flag on the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from psycopg2 import sql

from runner.moodle.schema import validate_identifier
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError

FEATURES_TABLE = "learner_dropout_features"
COEFFICIENTS_TABLE = "dropout_model_coefficients"
DEFAULT_MODEL_SCHEMA = "prediction"
FEATURE_PREFIX = "feature_"
# Fewer ended courses leave too few to hold out: each fold must be whole courses.
MIN_ENDED_COURSES = 5
MAX_FOLDS = 5
# Training weeks stop where the target's window (the course's last quarter) starts.
TRAIN_UNTIL_SHARE = 0.75
CHECKPOINTS = (0.25, 0.5, 0.75)
TOP_SHARE = 0.10


def load_sklearn() -> None:
    """Fail first, with the fix, when the optional extra is not installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise UserError(
            "dropout prediction needs scikit-learn, which is not installed",
            "install the optional extra: pip install -e '.[predict]'",
        ) from None


@dataclass
class LabelledWeeks:
    """Learner-weeks of ended courses, in (course, user, week) order."""

    feature_names: list[str]
    users: np.ndarray
    courses: np.ndarray
    shares: np.ndarray  # share of the course's duration gone by the week's end
    at_risk: np.ndarray  # the rule-based flag (baseline)
    dropout: np.ndarray  # the target
    values: np.ndarray  # rows x features

    @property
    def course_ids(self) -> list[int]:
        return sorted(set(self.courses.tolist()))


@dataclass(frozen=True)
class CheckpointScore:
    share: float
    learners: int
    dropouts: int
    model_auc: float | None
    baseline_auc: float | None
    model_precision: float
    baseline_precision: float

    @property
    def beats_baseline(self) -> bool:
        return (
            self.model_auc is not None
            and self.baseline_auc is not None
            and self.model_auc > self.baseline_auc
            and self.model_precision >= self.baseline_precision
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "course_share": self.share,
            "learners": self.learners,
            "dropouts": self.dropouts,
            "model_roc_auc": _rounded(self.model_auc),
            "baseline_roc_auc": _rounded(self.baseline_auc),
            "model_precision_top_10pct": _rounded(self.model_precision),
            "baseline_precision_top_10pct": _rounded(self.baseline_precision),
            "beats_baseline": self.beats_baseline,
        }


@dataclass
class TrainReport:
    database: str
    model_table: str
    trained_at: dt.datetime
    course_count: int
    learner_count: int
    dropout_count: int
    training_rows: int
    folds: int
    checkpoints: list[CheckpointScore]
    terms: list[tuple[str, float]]  # (term, coefficient per standard deviation)
    report_path: Path | None = None
    seconds: float = 0.0
    scored_rows: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def beats_baseline(self) -> bool:
        return all(score.beats_baseline for score in self.checkpoints)

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "model_table": self.model_table,
            "trained_at": self.trained_at.isoformat(),
            "courses": self.course_count,
            "learners": self.learner_count,
            "dropouts": self.dropout_count,
            "training_rows": self.training_rows,
            "folds": self.folds,
            "checkpoints": [score.as_dict() for score in self.checkpoints],
            "beats_baseline": self.beats_baseline,
            "coefficients": {term: round(value, 6) for term, value in self.terms},
            "report": str(self.report_path) if self.report_path else None,
            "scored_rows": self.scored_rows,
            "seconds": round(self.seconds, 3),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# --- reading --------------------------------------------------------------------------------


def load_labelled_weeks(info: ConnectionInfo, mart_schema: str = "mart") -> LabelledWeeks:
    validate_identifier(mart_schema, "mart schema")
    connection = info.connect()
    try:
        connection.set_session(readonly=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s order by ordinal_position",
                (mart_schema, FEATURES_TABLE),
            )
            columns = [row[0] for row in cursor.fetchall()]
            if not columns:
                raise UserError(
                    f"table {mart_schema}.{FEATURES_TABLE} does not exist",
                    "build the warehouse first: moodle-analytics build",
                )
            features = [name for name in columns if name.startswith(FEATURE_PREFIX)]
            cursor.execute(
                sql.SQL(
                    "select user_id, course_id, course_progress_share, is_at_risk, is_dropout, {}"
                    " from {}.{} where is_dropout is not null and course_progress_share is not null"
                    " order by course_id, user_id, week_start_date"
                ).format(
                    sql.SQL(", ").join(sql.Identifier(name) for name in features),
                    sql.Identifier(mart_schema),
                    sql.Identifier(FEATURES_TABLE),
                )
            )
            rows = cursor.fetchall()
    finally:
        connection.close()
    width = len(features)
    return LabelledWeeks(
        feature_names=features,
        users=np.array([row[0] for row in rows], dtype=np.int64),
        courses=np.array([row[1] for row in rows], dtype=np.int64),
        shares=np.array([float(row[2]) for row in rows], dtype=float),
        at_risk=np.array([bool(row[3]) for row in rows], dtype=bool),
        dropout=np.array([bool(row[4]) for row in rows], dtype=bool),
        values=np.array([row[5:] for row in rows], dtype=float).reshape(len(rows), width),
    )


def check_trainable(weeks: LabelledWeeks) -> None:
    """Refuse, with the reason, when the ended courses cannot train and test a model."""
    courses = weeks.course_ids
    if len(courses) < MIN_ENDED_COURSES:
        raise UserError(
            f"too few ended courses to train: {len(courses)} ended course(s) with labelled "
            f"learners, at least {MIN_ENDED_COURSES} needed",
            "the model is trained and measured on whole courses that have ended (a start and"
            " an end date, the log reaching the end); a site needs more finished courses",
        )
    learners = _learner_outcomes(weeks)
    dropouts = sum(learners.values())
    if dropouts == 0 or dropouts == len(learners):
        outcome = "dropped out" if dropouts else "stayed"
        raise UserError(
            f"cannot train: every one of the {len(learners)} labelled learners {outcome}",
            "a model needs learners of both outcomes in the ended courses",
        )


def _learner_outcomes(weeks: LabelledWeeks) -> dict[tuple[int, int], bool]:
    return {
        (int(user), int(course)): bool(dropout)
        for user, course, dropout in zip(weeks.users, weeks.courses, weeks.dropout, strict=True)
    }


# --- fitting and measuring ------------------------------------------------------------------


def fit_model(values: np.ndarray, target: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(values, target)
    return model


def training_mask(weeks: LabelledWeeks) -> np.ndarray:
    return weeks.shares <= TRAIN_UNTIL_SHARE


def checkpoint_rows(weeks: LabelledWeeks, share: float) -> np.ndarray:
    """Per learner-course, the row of the last week that ended by ``share`` of the course."""
    chosen: dict[tuple[int, int], int] = {}
    for index in np.flatnonzero(weeks.shares <= share):
        chosen[(int(weeks.users[index]), int(weeks.courses[index]))] = int(
            index
        )  # rows in week order
    return np.array(sorted(chosen.values()), dtype=np.int64)


def precision_at_top(scores: np.ndarray, target: np.ndarray, share: float = TOP_SHARE) -> float:
    """Share of dropouts among the ``share`` highest scores (at least one learner)."""
    top = max(1, math.ceil(share * len(scores)))
    order = np.argsort(-scores, kind="stable")[:top]
    return float(target[order].mean())


def flag_precision_at_top(flag: np.ndarray, target: np.ndarray, share: float = TOP_SHARE) -> float:
    """The same for a yes/no flag: flagged first, ties broken at random (expected value)."""
    top = max(1, math.ceil(share * len(flag)))
    flagged, unflagged = target[flag], target[~flag]
    if len(flagged) >= top:
        return float(flagged.mean())
    rest = top - len(flagged)
    rest_rate = float(unflagged.mean()) if len(unflagged) else 0.0
    return float((flagged.sum() + rest * rest_rate) / top)


def _auc(target: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if target.all() or not target.any():
        return None
    return float(roc_auc_score(target, scores))


def evaluate(weeks: LabelledWeeks) -> tuple[list[CheckpointScore], int]:
    """Out-of-sample scores at each checkpoint, folds of whole courses; and the fold count."""
    from sklearn.model_selection import GroupKFold

    courses = np.array(weeks.course_ids)
    folds = min(MAX_FOLDS, len(courses))
    out_of_sample = np.full(len(weeks.users), np.nan)
    train = training_mask(weeks)
    for train_courses, test_courses in GroupKFold(n_splits=folds).split(courses, groups=courses):
        in_train = np.isin(weeks.courses, courses[train_courses]) & train
        in_test = np.isin(weeks.courses, courses[test_courses])
        target = weeks.dropout[in_train]
        if target.all() or not target.any():
            raise UserError(
                "cannot measure the model: a training fold holds learners of one outcome only",
                "the ended courses need learners who dropped out and learners who stayed",
            )
        model = fit_model(weeks.values[in_train], target)
        out_of_sample[in_test] = model.predict_proba(weeks.values[in_test])[:, 1]
    scores = []
    for share in CHECKPOINTS:
        rows = checkpoint_rows(weeks, share)
        target = weeks.dropout[rows]
        probability = out_of_sample[rows]
        flag = weeks.at_risk[rows]
        scores.append(
            CheckpointScore(
                share=share,
                learners=len(rows),
                dropouts=int(target.sum()),
                model_auc=_auc(target, probability),
                baseline_auc=_auc(target, flag.astype(float)),
                model_precision=precision_at_top(probability, target),
                baseline_precision=flag_precision_at_top(flag, target),
            )
        )
    return scores, folds


# --- storing --------------------------------------------------------------------------------


def model_terms(
    model: Any, feature_names: list[str]
) -> list[tuple[str, float, float | None, float | None]]:
    """(term, coefficient, training mean, training scale): the intercept first."""
    scaler, regression = model[0], model[-1]
    terms: list[tuple[str, float, float | None, float | None]] = [
        ("intercept", float(regression.intercept_[0]), None, None)
    ]
    for name, weight, mean, scale in zip(
        feature_names, regression.coef_[0], scaler.mean_, scaler.scale_, strict=True
    ):
        terms.append((name, float(weight), float(mean), float(scale)))
    return terms


def store_model(
    info: ConnectionInfo,
    schema: str,
    terms: list[tuple[str, float, float | None, float | None]],
    trained_at: dt.datetime,
    course_count: int,
    row_count: int,
) -> None:
    """Replace the coefficients table in one transaction: readers see the old or the new model."""
    validate_identifier(schema, "model schema")
    table = sql.Identifier(schema, COEFFICIENTS_TABLE)
    connection = info.connect()
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            cursor.execute(sql.SQL("drop table if exists {}").format(table))
            cursor.execute(
                sql.SQL(
                    "create table {} (term text primary key, coefficient double precision not null,"
                    " feature_mean double precision, feature_scale double precision,"
                    " trained_at timestamp not null, training_course_count integer not null,"
                    " training_row_count integer not null)"
                ).format(table)
            )
            cursor.executemany(
                sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s, %s)").format(table),
                [
                    (term, weight, mean, scale, trained_at, course_count, row_count)
                    for term, weight, mean, scale in terms
                ],
            )
            cursor.execute(
                sql.SQL("comment on table {} is %s").format(table),
                (
                    "Dropout model of moodle-analytics predict train: a logistic regression on "
                    "standardised features; dbt scores mart.learner_dropout_risk with it.",
                ),
            )
    finally:
        connection.close()


def count_scored_rows(info: ConnectionInfo, mart_schema: str) -> int:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("select count(*) from {}.learner_dropout_risk").format(
                    sql.Identifier(mart_schema)
                )
            )
            return int(cursor.fetchone()[0])
    finally:
        connection.close()


# --- the whole command ----------------------------------------------------------------------


def train(
    info: ConnectionInfo, *, mart_schema: str = "mart", model_schema: str = DEFAULT_MODEL_SCHEMA
) -> TrainReport:
    """Measure (folds of courses), then fit on every ended course and store the model."""
    load_sklearn()
    validate_identifier(model_schema, "model schema")
    started = time.monotonic()
    weeks = load_labelled_weeks(info, mart_schema)
    check_trainable(weeks)
    checkpoints, folds = evaluate(weeks)
    train_rows = training_mask(weeks)
    model = fit_model(weeks.values[train_rows], weeks.dropout[train_rows])
    terms = model_terms(model, weeks.feature_names)
    trained_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    store_model(info, model_schema, terms, trained_at, len(weeks.course_ids), int(train_rows.sum()))
    outcomes = _learner_outcomes(weeks)
    return TrainReport(
        database=info.dbname,
        model_table=f"{model_schema}.{COEFFICIENTS_TABLE}",
        trained_at=trained_at,
        course_count=len(weeks.course_ids),
        learner_count=len(outcomes),
        dropout_count=sum(outcomes.values()),
        training_rows=int(train_rows.sum()),
        folds=folds,
        checkpoints=checkpoints,
        terms=[(term, weight) for term, weight, _, _ in terms],
        seconds=time.monotonic() - started,
    )


def render_markdown(report: TrainReport) -> str:
    """The evaluation as Markdown: what was measured, how, and the figures."""
    lines = [
        "# Dropout model evaluation",
        "",
        f"Database `{report.database}`, trained {report.trained_at.isoformat()} UTC; model "
        f"stored in `{report.model_table}`.",
        "",
        f"- Ended courses: {report.course_count}; labelled learner-courses: "
        f"{report.learner_count}, of whom {report.dropout_count} dropped out "
        f"({report.dropout_count / report.learner_count:.1%}).",
        f"- Training rows: {report.training_rows} learner-weeks up to "
        f"{TRAIN_UNTIL_SHARE:.0%} of each course's duration.",
        f"- Split: {report.folds} folds of whole courses (GroupKFold); each learner is scored "
        "by a model that never saw their course.",
        "- Baseline: the rule-based `is_at_risk` flag of the same week, on the same learners.",
        "",
        "| course time | learners | dropouts | ROC AUC model | ROC AUC baseline |"
        " precision top 10 % model | precision top 10 % baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for score in report.checkpoints:
        lines.append(
            f"| {score.share:.0%} | {score.learners} | {score.dropouts} | "
            f"{_cell(score.model_auc)} | {_cell(score.baseline_auc)} | "
            f"{score.model_precision:.3f} | {score.baseline_precision:.3f} |"
        )
    verdict = "beats" if report.beats_baseline else "does NOT beat"
    lines += [
        "",
        f"The model {verdict} the baseline at every checkpoint (higher ROC AUC, and precision "
        "in the top 10 % at least as high).",
        "",
        "Weights (log-odds per standard deviation of the indicator; positive raises the risk):",
        "",
        "| term | weight |",
        "|---|---|",
    ]
    lines += [f"| {term} | {weight:+.4f} |" for term, weight in report.terms]
    return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def write_report(report: TrainReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(report), encoding="utf-8")
    report.report_path = path
    return path
