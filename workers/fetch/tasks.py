"""Celery tasks of the fetch worker (queue ``fetch``).

Run with: ``celery -A workers.fetch.tasks worker -Q fetch``.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from celery import Task
from celery.signals import worker_ready
from redis.lock import Lock

from common.celery_app import (
    FETCH_SEASON,
    FETCH_TIME_LIMIT_S,
    REFRESH_CURRENT_SEASON,
    SEED_RECORDINGS,
    app,
)
from common.pipeline import (
    redis_client,
    refresh_claim_key,
    release_claim,
    request_refresh,
    request_training,
    training_after_fetch,
)
from common.seasons import Season, current_season
from common.settings import get_settings
from common.storage import DataDir
from workers.fetch.nba_client import LeagueDashboardClient
from workers.fetch.recordings import seed_from_recordings
from workers.fetch.season_data import refresh_season
from workers.fetch.throttle import SharedThrottle

log = logging.getLogger(__name__)

LOCK_BUSY_RETRY_S = 30


@cache
def _client() -> LeagueDashboardClient:
    settings = get_settings()
    return LeagueDashboardClient(
        settings, SharedThrottle(redis_client(), settings.nba_min_request_gap_s)
    )


@app.task(
    name=FETCH_SEASON,
    bind=True,
    soft_time_limit=FETCH_TIME_LIMIT_S - 60,
    time_limit=FETCH_TIME_LIMIT_S,
    max_retries=FETCH_TIME_LIMIT_S // LOCK_BUSY_RETRY_S,
)
def fetch_season(self: Task, season: str, force: bool = False) -> dict[str, Any]:
    """Download, validate, clean and store one season, then ask for training: at once when
    no other fetch is queued or running, else when the last of them ends
    (``common.pipeline.training_after_fetch``).

    Idempotent (acks_late may run it twice): every write replaces a file atomically with the
    same content, and training is deduplicated."""
    parsed = Season.parse(season)
    lock = redis_client().lock(f"nba:fetching:{parsed}", timeout=FETCH_TIME_LIMIT_S, blocking=False)
    if not lock.acquire():
        log.info("%s is being fetched by another task; retrying in %d s", parsed, LOCK_BUSY_RETRY_S)
        raise self.retry(countdown=LOCK_BUSY_RETRY_S)
    try:
        settings = get_settings()

        def report(stage: str, message: str, **extra: Any) -> None:
            self.update_state(
                state="PROGRESS",
                meta={"stage": stage, "season": season, "message": message, **extra},
            )

        outcome = refresh_season(
            parsed,
            data=DataDir(settings.data_dir),
            settings=settings,
            # Each failed attempt that will be retried shows in the progress (app, CLI).
            client=_client().reporting_retries(lambda line: report("fetch", line, retry=True)),
            force=force,
            report=report,
        )
    except BaseException:
        _end_fetch(parsed, lock, self.request.id, stored=False)
        raise
    training_id = _end_fetch(parsed, lock, self.request.id, stored=outcome.status == "updated")
    return {**outcome.as_dict(), "training_task_id": training_id}


def _end_fetch(season: Season, lock: Lock, task_id: str, *, stored: bool) -> str | None:
    """Release the season, then ask for training: the claim goes first, so the last fetch of
    a burst sees none left and queues the burst's training. A failed fetch asks too (it may be
    the last of a burst); its own error stays the one reported."""
    lock.release()
    release_claim(refresh_claim_key(season), task_id)
    if stored:
        return training_after_fetch(stored=True)
    try:
        training_after_fetch(stored=False)
    except Exception:
        log.exception("%s: could not queue the training owed by earlier fetches", season)
    return None


@app.task(name=REFRESH_CURRENT_SEASON)
def refresh_current_season() -> str:
    """Beat's entry point: the current season is resolved now, not when beat started."""
    return request_refresh(str(current_season())).task_id


@app.task(name=SEED_RECORDINGS, time_limit=FETCH_TIME_LIMIT_S)
def seed_recordings() -> dict[str, Any]:
    """Import the bundled real recordings into seasons that have no data yet, then train.

    Gives a fresh install a champion without reaching the stats site; idempotent."""
    settings = get_settings()
    outcomes = seed_from_recordings(settings.recordings_dir, DataDir(settings.data_dir), settings)
    seeded = [o.season for o in outcomes if o.status == "updated"]
    # Always ask: training is skipped when the champion already has exactly this data, and
    # a first boot whose training failed gets another chance.
    return {"seeded": seeded, "training_task_id": request_training(debounce_s=0).task_id}


@worker_ready.connect
def _seed_an_empty_data_dir(**_: Any) -> None:
    """First boot: a data directory without seasons gets the bundled ones, then a champion."""
    settings = get_settings()
    if not settings.seed_on_empty or DataDir(settings.data_dir).cleaned_seasons():
        return
    # Several fetch workers may start together; one seed is enough (and it is idempotent).
    if redis_client().set("nba:seed:claimed", "1", nx=True, ex=FETCH_TIME_LIMIT_S):
        log.info("empty data directory: seeding it with the bundled real seasons")
        app.send_task(SEED_RECORDINGS)
