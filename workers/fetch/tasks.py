"""Celery tasks of the fetch worker (queue ``fetch``).

Run with: ``celery -A workers.fetch.tasks worker -Q fetch``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import cache, partial
from typing import Any

from celery import Task
from celery.signals import worker_ready

from common.celery_app import (
    FETCH_SEASON,
    FETCH_TIME_LIMIT_S,
    REFRESH_CURRENT_SEASON,
    SEED_RECORDINGS,
    app,
)
from common.executions import hold, report_progress, stop_holding
from common.keys import SEED_CLAIM_KEY, refresh_claim_key
from common.queueing import fetch_ended, request_refresh, request_seed, request_training
from common.redis_client import redis_client, waiting_for_redis
from common.results import FetchResult, SeedResult, TaskProgress
from common.season_store import open_data
from common.seasons import Season, current_season
from common.settings import get_settings
from common.storage import DataDir
from workers.fetch.nba_client import LeagueDashboardClient
from workers.fetch.recordings import seed_from_recordings
from workers.fetch.season_data import fetch_and_store
from workers.fetch.throttle import SharedThrottle

log = logging.getLogger(__name__)


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
)
def fetch_season(
    self: Task, season: str, force: bool = False, requested_at: float | None = None
) -> dict[str, Any]:  # a FetchResult, as JSON
    """Download, validate, clean and store one season, then ask for training: at once when
    no other fetch is queued or running, else when the last of them ends
    (``common.queueing.fetch_ended``).

    Holds the season's refresh claim as its lease while it runs: one fetch per season at a
    time. A copy run again after its worker died finds the claim lapsed and takes it, or finds
    a newer request holding it and ends as ``superseded`` (the newer one writes the season);
    a season stored since the request (``requested_at``, epoch seconds) is not written again.
    Every write replaces a file atomically."""
    parsed = Season.parse(season)
    claim = refresh_claim_key(parsed)
    newer = hold(self, claim)
    if newer is not None:
        log.info("%s: superseded by the newer refresh %s", parsed, newer)
        return FetchResult("superseded", season, superseded_by=newer).to_json()
    settings = get_settings()

    def report(stage: str, message: str, **extra: Any) -> None:
        report_progress(self, TaskProgress(stage, message, season=season, **extra))

    def end(stored: bool) -> str | None:
        stop_holding(self, claim)  # given back by end_fetch
        return end_fetch(parsed, self.request.id, stored=stored)

    try:
        data = open_data(settings).sync([parsed])  # the store's newest copy of the season
        if requested_at is not None and _stored_since(data, parsed, requested_at):
            outcome = None
        else:
            outcome = fetch_and_store(
                parsed,
                data=data,
                settings=settings,
                # Each failed attempt that will be retried shows in the progress (app, CLI).
                client=_client().reporting_retries(lambda line: report("fetch", line, retry=True)),
                force=force,
                report=report,
            )
    except BaseException:
        end(stored=False)
        raise
    if outcome is None:
        log.info("%s was stored after this request was made: not writing it again", parsed)
        training_id = end(stored=True)  # deduplicated if already trained on
        return FetchResult("up-to-date", season, training_task_id=training_id).to_json()
    training_id = end(stored=outcome.stored)
    return replace(outcome, training_task_id=training_id).to_json()


def _stored_since(data: DataDir, season: Season, moment: float) -> bool:
    cleaned = data.cleaned(season)
    return cleaned.is_file() and cleaned.stat().st_mtime >= moment


def end_fetch(season: Season, fetch_id: str, *, stored: bool) -> str | None:
    """Give back the season's claim and ask for training (``common.queueing.fetch_ended``),
    waiting out a Redis restart: a fetch that stored its season owes its training. A failed
    fetch asks too (it may be the last of a burst); its own error stays the one reported."""
    end = partial(fetch_ended, season, fetch_id, stored=stored)
    if stored:
        return waiting_for_redis(end, f"{season}: asking for its training")
    try:
        waiting_for_redis(end, f"{season}: asking for the training owed by earlier fetches")
    except Exception:
        log.exception("%s: could not queue the training owed by earlier fetches", season)
    return None


@app.task(name=REFRESH_CURRENT_SEASON)
def refresh_current_season() -> str:
    """Beat's entry point: the current season is resolved now, not when beat started."""
    return request_refresh(str(current_season())).task_id


@app.task(name=SEED_RECORDINGS, bind=True, time_limit=FETCH_TIME_LIMIT_S)
def seed_recordings(self: Task) -> dict[str, Any]:  # a SeedResult, as JSON
    """Import the bundled real recordings into seasons that have no data yet, then train.

    Gives a fresh install a champion without reaching the stats site; idempotent."""
    settings = get_settings()
    outcomes = seed_from_recordings(settings.recordings_dir, open_data(settings).sync(), settings)
    seeded = [o.season for o in outcomes if o.stored]
    # Always ask: training is skipped when the champion already has exactly this data, and
    # a first boot whose training failed gets another chance.
    return SeedResult(seeded, ask_for_training(self.request.id)).to_json()


def ask_for_training(seed_id: str) -> str:
    """Queue the training on every stored season (or join it), waiting out a Redis restart:
    seasons just seeded owe their champion. Safe to repeat: the seed is its sender."""
    ask = partial(request_training, debounce_s=0, sender=seed_id)
    return waiting_for_redis(ask, "asking for the training on the stored seasons").task_id


@worker_ready.connect
def _seed_an_empty_data_dir(**_: Any) -> None:
    """First boot: a data directory without seasons gets the bundled ones, then a champion."""
    settings = get_settings()
    if not settings.seed_on_empty:
        return
    try:
        if open_data(settings).has_seasons():
            return
    except Exception:  # the store is down: the worker still starts; beat or a person seeds later
        log.exception("could not tell whether the data directory is empty: not seeding now")
        return
    # Several fetch workers may start together; one seed is enough (and it is idempotent).
    if redis_client().set(SEED_CLAIM_KEY, "1", nx=True, ex=FETCH_TIME_LIMIT_S):
        log.info("empty data directory: seeding it with the bundled real seasons")
        request_seed()
