"""Tasks for tests/integration/test_task_status.py, run by a real worker:
``celery -A tests.status_tasks``.

Each reports PROGRESS (as the fetch and train tasks do), then ends moments later, so a poll
can land right as it finishes.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task

from common.celery_app import app

STATUS_QUEUE = "test-status"
FINISH = "tests.finish_after_progress"
FAIL = "tests.fail_after_progress"


def _progress(task: Task, n: int) -> None:
    task.update_state(
        state="PROGRESS", meta={"stage": "test", "done": n, "total": n + 1, "message": "almost"}
    )


@app.task(name=FINISH, bind=True)
def finish_after_progress(self: Task, n: int, progress_s: float) -> dict[str, Any]:
    _progress(self, n)
    time.sleep(progress_s)
    return {"status": "done", "n": n}


@app.task(name=FAIL, bind=True)
def fail_after_progress(self: Task, n: int, progress_s: float) -> None:
    _progress(self, n)
    time.sleep(progress_s)
    raise ValueError(f"task {n} failed on purpose")
