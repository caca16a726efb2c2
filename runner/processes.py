"""Whether a process still runs: files named after a dead writer's pid are left-overs to remove."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, only owned by someone else
    return True
