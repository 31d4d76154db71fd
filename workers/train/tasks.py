"""Celery tasks of the train worker (queue ``train``).

Run with: ``celery -A workers.train.tasks worker -Q train``.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from common.celery_app import TRAIN_ARCHETYPES, TRAIN_TIME_LIMIT_S, app
from common.executions import hold, report_progress
from common.keys import TRAINING_LEASE_KEY, training_claim_key
from common.queueing import release_claim
from common.results import TaskProgress
from common.seasons import Season
from common.settings import get_settings
from workers.train.training import train_archetypes

log = logging.getLogger(__name__)

LOCK_BUSY_RETRY_S = 20


@app.task(
    name=TRAIN_ARCHETYPES,
    bind=True,
    soft_time_limit=TRAIN_TIME_LIMIT_S - 60,
    time_limit=TRAIN_TIME_LIMIT_S,
    max_retries=TRAIN_TIME_LIMIT_S // LOCK_BUSY_RETRY_S,
)
def train(self: Task, seasons: list[str] | None = None, force: bool = False) -> dict[str, Any]:
    # returns a TrainingResult, as JSON
    """Train every candidate on the cleaned seasons (all by default) and maybe promote.

    One training at a time: it holds the lease ``nba:training`` (lapses within a TTL if its
    worker dies). Idempotent: the same data leaves the same champion (a repeat is skipped
    outright), and a copy run again after its worker died reuses what the first published
    (``workers.train.training``)."""
    chosen = [Season.parse(s) for s in seasons] if seasons else None
    # From now on, newly arriving data needs a training of its own: release the claim.
    release_claim(training_claim_key(chosen), self.request.id)
    if (running := hold(self, TRAINING_LEASE_KEY)) is not None:
        log.info("training %s is running; retrying in %d s", running, LOCK_BUSY_RETRY_S)
        raise self.retry(countdown=LOCK_BUSY_RETRY_S)

    def progress(done: int, total: int, message: str) -> None:
        report_progress(self, TaskProgress("train", message, done, total))

    return train_archetypes(
        get_settings(), chosen, force=force, progress=progress, owner=self.request.id
    ).to_json()
