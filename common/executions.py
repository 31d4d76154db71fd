"""One live execution per task id, and a heartbeat that says it is alive.

Every pipeline task derives from :class:`LeasedTask` (``task_cls`` of the Celery app). Before
its body runs, an execution:

* skips a copy of a task that already finished (a message redelivered after its worker died
  between storing the result and acknowledging it): exactly once in effect;
* takes the task's *alive* lease (``nba:alive:<task id>``), or skips if another execution of
  the same id holds it;
* marks the task STARTED (not ``task_track_started``: Celery would write STARTED before this
  check, over a finished task's result).

The alive lease, and every lease the body takes through :func:`hold`, are renewed by one
heartbeat until the task's result is stored (``task_postrun``), then released. A task that
says STARTED or PROGRESS without its alive lease was interrupted (``common.task_status``),
and ``common.recovery`` runs it again.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from celery import Task, states
from celery.exceptions import Ignore
from celery.signals import task_postrun

from common.keys import alive_key
from common.leases import Heartbeat, Lease
from common.redis_client import redis_client
from common.results import TaskProgress
from common.settings import get_settings

log = logging.getLogger(__name__)


class LeasedTask(Task):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.request.called_directly:
            _begin(self)
        return super().__call__(*args, **kwargs)


def hold(task: Task, key: str) -> str | None:
    """Hold ``key`` as a lease of the running ``task`` (its id is the holder), renewed with
    its heartbeat and released when it ends; ``None`` on success, else the current holder."""
    heartbeat: Heartbeat = task.request.heartbeat
    return heartbeat.hold(Lease(redis_client(), key, task.request.id, heartbeat.ttl_s))


def stop_holding(task: Task, key: str) -> None:
    """Stop renewing a lease before the task ends; the task gives it back itself (others may
    need it while this one finishes)."""
    task.request.heartbeat.forget(key)


def report_progress(task: Task, progress: TaskProgress) -> None:
    """Report PROGRESS for the app and the CLI; best effort: a Redis restart must not fail the
    work (the task's heartbeat and result survive it, common/celery_app.py)."""
    try:
        task.update_state(state="PROGRESS", meta=progress.to_json())
    except redis.RedisError as error:
        log.warning("%s[%s]: progress not published (%s)", task.name, task.request.id, error)


def _begin(task: Task) -> None:
    task_id = task.request.id
    finished = task.backend.get_task_meta(task_id).get("status")
    if finished in states.READY_STATES:
        log.warning("%s[%s] already ended %s: skipping a redelivered copy", task.name, task_id,
                    finished)  # fmt: skip
        raise Ignore()
    heartbeat = Heartbeat(get_settings().lease_ttl_s)
    execution = f"{task_id}:{uuid.uuid4().hex[:8]}"
    if heartbeat.hold(Lease(redis_client(), alive_key(task_id), execution, heartbeat.ttl_s)):
        heartbeat.stop()
        log.warning("%s[%s] is running elsewhere: skipping this copy", task.name, task_id)
        raise Ignore()
    task.request.heartbeat = heartbeat
    task.update_state(state=states.STARTED, meta={})


@task_postrun.connect
def _end(task: Task | None = None, **_: Any) -> None:
    # Runs after the result is stored: a finished task never looks interrupted.
    heartbeat = getattr(task.request, "heartbeat", None) if task is not None else None
    if heartbeat is not None:
        task.request.heartbeat = None
        heartbeat.stop()
