"""The Celery app every service shares: publishers (UI, CLI, beat) and both workers.

Task code lives next to what it drives (``workers/fetch/tasks.py``, ``workers/train/tasks.py``)
and imports this app, never the other way round; publishers send tasks *by name* so they
import no worker code. Settings reference: https://docs.celeryq.dev/en/stable/userguide/configuration.html
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging
from kombu import Queue

from common.logs import configure_logging
from common.settings import get_settings

# Task names are the contract between publishers and workers.
FETCH_SEASON = "fetch.season"
REFRESH_CURRENT_SEASON = "fetch.refresh_current_season"
SEED_RECORDINGS = "fetch.seed_recordings"
TRAIN_ARCHETYPES = "train.archetypes"

FETCH_QUEUE = "fetch"
TRAIN_QUEUE = "train"

# Hard time limits; a task past its soft limit gets SoftTimeLimitExceeded to clean up first.
FETCH_TIME_LIMIT_S = 10 * 60
TRAIN_TIME_LIMIT_S = 20 * 60


def cron_schedule(expression: str) -> crontab:
    """``minute hour day-of-month month day-of-week``, as in crontab(5)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"Schedule {expression!r} needs 5 cron fields, got {len(fields)}.")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


def create_app() -> Celery:
    settings = get_settings()
    app = Celery("nba_archetypes", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        # JSON only: a broker message can never make a worker unpickle arbitrary objects.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # Ack after the task finishes, and requeue it if the worker process dies mid-task, so
        # no refresh is lost; the price is at-least-once delivery, hence idempotent tasks.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message at a time per process: a long training never holds fetches hostage.
        worker_prefetch_multiplier=1,
        # Redis redelivers unacked messages after this; it must outlast the longest task
        # plus the training debounce countdown, or a slow task would run twice.
        broker_transport_options={"visibility_timeout": 2 * TRAIN_TIME_LIMIT_S + 600},
        broker_connection_retry_on_startup=True,
        # A lost broker connection cancels running tasks instead of letting them finish
        # unacked and then run again elsewhere.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Time limits are set per task (see the task modules); this is the backstop.
        task_time_limit=TRAIN_TIME_LIMIT_S,
        # Events for Flower, and a STARTED state (plus our PROGRESS) for the UI to poll.
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_track_started=True,
        # Results (including progress) expire after a day so Redis never fills up; extended
        # results keep the task name and args, which the UI and CLI show.
        result_expires=24 * 3600,
        result_extended=True,
        # One queue per kind of work, one worker per queue.
        task_queues=(Queue(FETCH_QUEUE), Queue(TRAIN_QUEUE)),
        task_default_queue=FETCH_QUEUE,
        task_routes={"fetch.*": {"queue": FETCH_QUEUE}, "train.*": {"queue": TRAIN_QUEUE}},
        # Beat asks for the current season, resolved when the task runs (not when beat starts).
        beat_schedule={
            "refresh-current-season": {
                "task": REFRESH_CURRENT_SEASON,
                "schedule": cron_schedule(settings.refresh_schedule),
            }
        },
        timezone="UTC",
        enable_utc=True,
        # Our logging setup (common.logs) stays in charge of the root logger.
        worker_hijack_root_logger=False,
    )
    return app


@setup_logging.connect
def _use_our_logging(**_: Any) -> None:
    # Connecting this signal stops Celery from configuring logging itself.
    configure_logging()


app = create_app()
