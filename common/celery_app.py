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

# Imported for its worker_ready handler: every worker recovers lost tasks (common/recovery.py).
import common.recovery  # noqa: F401
from common.logs import configure_logging
from common.redis_client import REDIS_SOCKET_TIMEOUT_S
from common.settings import get_settings

# Task names are the contract between publishers and workers.
FETCH_SEASON = "fetch.season"
REFRESH_CURRENT_SEASON = "fetch.refresh_current_season"
SEED_RECORDINGS = "fetch.seed_recordings"
TRAIN_ARCHETYPES = "train.archetypes"

FETCH_QUEUE = "fetch"
TRAIN_QUEUE = "train"

# Hard time limits, from measured durations with a wide margin: a fetch is two requests (a few
# seconds; at most 2 x 5 attempts of 30 s with backoff on a failing site), a training on every
# season 1-2.5 min on 2 busy cores. A task past its soft limit gets SoftTimeLimitExceeded to
# clean up first. Lost tasks do not wait for these: common/recovery.py queues them again.
FETCH_TIME_LIMIT_S = 6 * 60
TRAIN_TIME_LIMIT_S = 10 * 60


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
    app = Celery(
        "nba_archetypes",
        broker=settings.redis_url,
        backend=settings.redis_url,
        # Every task runs under a heartbeat lease, one execution per task id at a time.
        task_cls="common.executions:LeasedTask",
    )
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
        # Kombu redelivers unacked messages after this; it must outlast the longest task plus
        # the training countdown, or a slow task would run twice. A backstop only: a task
        # whose worker died is queued again by common/recovery.py once its heartbeat lapses.
        #
        # A broker connection that went dead without closing (its host died; a NAT or firewall
        # forgot it) never answers: a publish on it would wait forever (beat would never send
        # again). It gives up after the pipeline's timeout and the publish's retry goes out on
        # a new connection. Consumers are not cut: BRPOP is answered within a second.
        broker_transport_options={
            "visibility_timeout": TRAIN_TIME_LIMIT_S + int(settings.train_debounce_s) + 300,
            "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
        },
        # Reconnect forever (a Redis restart), at start and while running.
        broker_connection_retry_on_startup=True,
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        # A lost broker connection (a Redis restart) does not cancel running tasks: Celery
        # would mark them REVOKED and drop them. A task that finishes while Redis is away
        # stores its result once it is back (retried below); its message, which could not be
        # acknowledged, is put back by common/recovery.py and its copy sees the result and
        # ends unrun. What a task itself does with Redis rides out a restart too (its
        # progress, its leases, the fetch's throttle and end, the promotion lease), so the
        # result stored is the work's own.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        result_backend_always_retry=True,
        result_backend_max_retries=60,
        # The result backend's reads and writes (every poller's) give up on a Redis that does
        # not answer as the pipeline's own client does (Celery's default: 120 s, no connect
        # limit), so a frozen Redis is told and waited for like a stopped one.
        redis_socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        redis_socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S,
        # Time limits are set per task (see the task modules); this is the backstop.
        task_time_limit=TRAIN_TIME_LIMIT_S,
        # Events for Flower. STARTED (then our PROGRESS) is written by common.executions once
        # it knows the delivery is not a copy of a finished task, not by task_track_started.
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_track_started=False,
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
