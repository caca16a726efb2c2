"""The check that every engine computed the same sessions: fail loudly when two disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.sessionisers import SessioniserRun


class SessionisersDisagree(RuntimeError):
    """Two sessionisers gave different sessions or dedication for at least one user."""


@dataclass
class Agreement:
    sessionisers: list[str]
    users_compared: int
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.mismatches

    def as_dict(self) -> dict[str, Any]:
        return {
            "engines": self.sessionisers,  # the key stored results use
            "users_compared": self.users_compared,
            "agrees": self.agrees,
            "mismatch_count": len(self.mismatches),
            "first_mismatches": self.mismatches[:10],
        }


def compare_sessionisers(runs: list[SessioniserRun]) -> Agreement:
    """Compare each user across the sessionisers that cover them; complete ones must cover the same
    users (a sampled one covers some of them)."""
    names = [run.engine for run in runs]
    mismatches: list[dict[str, Any]] = []
    complete = [run for run in runs if run.covers_all_users]
    for run in complete[1:]:
        missing = set(complete[0].dedication) ^ set(run.dedication)
        for user_id in sorted(missing)[:10]:
            mismatches.append(
                {
                    "user_id": user_id,
                    "problem": f"present in only one of {complete[0].engine} and {run.engine}",
                }
            )
    # Every user any sessioniser reports, compared across those that report that user.
    users = set().union(*(run.dedication for run in runs))
    for user_id in sorted(users):
        values = {run.engine: run.dedication[user_id] for run in runs if user_id in run.dedication}
        if len(set(values.values())) > 1:
            mismatches.append(
                {
                    "user_id": user_id,
                    "problem": "different sessions or dedication",
                    **{
                        engine: [value.session_count, value.dedication_seconds]
                        for engine, value in values.items()
                    },
                }
            )
    return Agreement(names, len(users), mismatches)


def require_agreement(agreement: Agreement) -> None:
    if not agreement.agrees:
        first = agreement.mismatches[0]
        raise SessionisersDisagree(
            f"{len(agreement.mismatches)} users differ between "
            f"{', '.join(agreement.sessionisers)}; "
            f"first: {first}"
        )
