"""Where a task stands, read from the Celery result backend: what the app and the CLI poll.

A running task whose heartbeat lapsed (``common/executions.py``) is ``INTERRUPTED``: its worker
died, and ``common/recovery.py`` queues it again once a worker is up. A fetch superseded by a
newer request for its season reports that request instead, so a poller follows the work, not
the id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from celery import states

from common.celery_app import app
from common.keys import alive_key
from common.redis_client import redis_client
from common.results import FetchResult, TaskProgress

INTERRUPTED = "INTERRUPTED"
PROGRESS = "PROGRESS"
# Finished for good; an interrupted task is not: it runs again once a worker is up.
REVOKED = states.REVOKED  # cancelled by an operator (Flower, celery control revoke)
ENDED_STATES = frozenset({states.SUCCESS, states.FAILURE, REVOKED})


@dataclass(frozen=True)
class TaskStatus:
    task_id: str
    state: str  # Celery's (PENDING, STARTED, RETRY, SUCCESS, FAILURE...), PROGRESS, INTERRUPTED
    info: dict[str, Any] = field(default_factory=dict)  # progress, result, or {"error": ...}

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def progress(self) -> TaskProgress | None:
        return TaskProgress.from_json(self.info) if self.state == PROGRESS else None

    @property
    def error(self) -> str:
        """A failure's text: its first line for people, details below (``common.failures``)."""
        return str(self.info.get("error") or self.info.get("exc_message") or self.state)

    def result(self, kind: type[Any]) -> Any:
        """The finished task's result as ``kind`` (``FetchResult``, ``TrainingResult``...)."""
        return kind.from_json(self.info)


def task_status(task_id: str) -> TaskStatus:
    """State and progress or result of a task, from one read of the result backend.

    One read: ``AsyncResult.info`` and ``.state`` are a read each until the task is done, so a
    poll landing as the task finished could pair SUCCESS with the progress read a moment
    before."""
    status = read_status(task_id)
    for _ in range(3):  # a chain of supersessions is short; stop following after a few
        if status.state != states.SUCCESS or status.info.get("status") != "superseded":
            break
        status = read_status(FetchResult.from_json(status.info).superseded_by or "")
    return status


def read_status(task_id: str) -> TaskStatus:
    """One task's own status, not following a supersession."""
    # One read, as the backend's own get_task_meta does it but without its retry loop (up to
    # 60 tries, each logged with a traceback): a poller says Redis is away and waits itself.
    backend = app.backend
    raw = backend.get(backend.get_key_for_task(task_id))
    meta = backend.decode_result(raw) if raw else {}  # decoded: a failure's result is the error
    state: str = meta.get("status") or states.PENDING
    info = meta.get("result")
    if isinstance(info, BaseException):
        info = {"error": f"{type(info).__name__}: {info}"}
    elif isinstance(info, dict):
        info = dict(info)  # the backend may cache a finished task's meta: never hand it out
    else:
        info = {}
    if state in (states.STARTED, PROGRESS) and not redis_client().exists(alive_key(task_id)):
        state = INTERRUPTED
    return TaskStatus(task_id, state, info)
