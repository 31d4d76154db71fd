"""Publishing work to the workers, and the policy that keeps bursts cheap.

Everyone who starts work (the UI's buttons, the CLI, beat, the fetch worker) goes through
here and sends tasks *by name*, so no publisher imports worker code.

Policy for bursts (many seasons at once, or one season clicked many times):

* **Refresh dedupe.** At most one fetch per season is queued or running. A request for a
  season that already has one returns that fetch's task id instead of queueing another
  (Redis ``SET NX`` on ``nba:refresh:<season>``; the fetch task clears it when it ends, and
  it expires after ``REFRESH_CLAIM_TTL_S`` in case a worker died). The fetch task also
  holds a per-season lock while it runs, so even a redelivered message never overlaps.
* **Training after fetches: at once, or once per burst.** A finished fetch that stored data
  owes a training on all seasons. When no other fetch is queued or running, the training is
  queued at once (after ``TRAIN_DEBOUNCE_S``, 0 by default). When others are, it is only
  claimed (``nba:train:pending:all`` holds the id it will run under, which every fetch of the
  burst reports) and the last fetch of the burst to end, whatever its outcome, queues it: a
  backfill of 27 seasons gets one training. The training releases the claim when it starts,
  so data arriving during a training gets a training of its own afterwards (at most one more
  waits behind a running one). Training itself is skipped when the champion was already
  trained on exactly the same data and configuration.

  Every fetch does, in this order: release its refresh claim, claim (or join) the training
  if it stored data, look for fetches still in flight, and queue the claimed training if
  there are none (one queuer wins, through ``SET NX``). Whichever of two fetches ending
  together looks last sees the other's claim gone and the training claimed, so a burst never
  ends without its training. A burst whose last fetch is lost (its claim expires after
  ``REFRESH_CLAIM_TTL_S``) trains when the next fetch ends.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import redis
from celery import states

from common.celery_app import (
    FETCH_SEASON,
    FETCH_TIME_LIMIT_S,
    TRAIN_ARCHETYPES,
    TRAIN_TIME_LIMIT_S,
    app,
)
from common.seasons import Season
from common.settings import get_settings

REFRESH_CLAIM_TTL_S = 6 * FETCH_TIME_LIMIT_S
# An unqueued training claim outlives any fetch of its burst.
TRAINING_CLAIM_TTL_S = REFRESH_CLAIM_TTL_S + 600
ALL_SEASONS = "all"

# Delete KEYS[1] only if it still holds ARGV[1] (our claim, not a newer one).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Set KEYS[1] to expire in ARGV[2] seconds only if it still holds ARGV[1].
_SHORTEN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True)
class Ticket:
    """A published (or joined) piece of work: poll ``task_id`` for its progress."""

    task_id: str
    joined_existing: bool
    season: str | None = None


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, decode_responses=True)


def refresh_claim_key(season: Season) -> str:
    return f"nba:refresh:{season}"


def training_claim_key(seasons: list[Season] | None) -> str:
    return f"nba:train:pending:{training_scope(seasons)}"


def training_scope(seasons: list[Season] | None) -> str:
    if not seasons:
        return ALL_SEASONS
    labels = ",".join(str(s) for s in sorted(set(seasons)))
    return hashlib.sha256(labels.encode()).hexdigest()[:12]


def request_refresh(season_text: str, *, force: bool = False, today: date | None = None) -> Ticket:
    """Queue a fetch of one season, or join the one already queued. Raises on a bad season
    label before anything is enqueued."""
    season = Season.parse(season_text, today)
    key = refresh_claim_key(season)
    task_id = str(uuid.uuid4())
    client = redis_client()
    if not client.set(key, task_id, nx=True, ex=REFRESH_CLAIM_TTL_S):
        existing = client.get(key)
        if existing:
            return Ticket(existing, joined_existing=True, season=str(season))
        client.set(key, task_id, ex=REFRESH_CLAIM_TTL_S)  # expired in between: claim it
    try:
        app.send_task(FETCH_SEASON, args=[str(season)], kwargs={"force": force}, task_id=task_id)
    except Exception:
        release_claim(key, task_id)
        raise
    return Ticket(task_id, joined_existing=False, season=str(season))


def request_training(
    seasons: list[Season] | None = None, *, debounce_s: float | None = None
) -> Ticket:
    """Queue training (all cleaned seasons by default) now, or after ``debounce_s``
    (``TRAIN_DEBOUNCE_S`` if not given); or join the training already waiting for the same
    seasons. A training a burst of fetches has claimed but not queued yet is queued now."""
    ticket = _claim_training(seasons)
    _queue_training(ticket.task_id, seasons, _debounce(debounce_s))
    return ticket


def training_after_fetch(stored: bool) -> str | None:
    """What every fetch calls as it ends, after releasing its refresh claim: the id of the
    training that will include its data (``None`` if it stored nothing).

    Stored data claims the training on all seasons (or joins the claim of its burst). The
    training is queued only when no other fetch is queued or running: by this fetch if it is
    the last of a burst, even one that stored nothing (a failure or a season without games)."""
    if stored:
        task_id: str | None = _claim_training(None).task_id
    else:
        task_id = redis_client().get(training_claim_key(None))
    if task_id and not pending_refreshes():
        _queue_training(task_id, None, _debounce(None))
    return task_id if stored else None


def _debounce(debounce_s: float | None) -> float:
    return get_settings().train_debounce_s if debounce_s is None else debounce_s


def _claim_training(seasons: list[Season] | None) -> Ticket:
    """Claim the next training on ``seasons``, or join the claim already there. A claim lasts
    as long as a burst of fetches may (every join extends it) until its training is queued."""
    key = training_claim_key(seasons)
    task_id = str(uuid.uuid4())
    client = redis_client()
    if client.set(key, task_id, nx=True, ex=TRAINING_CLAIM_TTL_S):
        return Ticket(task_id, joined_existing=False)
    existing = client.getex(key, ex=TRAINING_CLAIM_TTL_S)
    if existing:
        return Ticket(existing, joined_existing=True)
    client.set(key, task_id, ex=TRAINING_CLAIM_TTL_S)  # released in between: claim it
    return Ticket(task_id, joined_existing=False)


def _queue_training(task_id: str, seasons: list[Season] | None, delay: float) -> None:
    """Send the claimed training ``task_id`` unless someone already has (the first caller
    wins). Once queued, the claim lasts until the training starts, at most the countdown plus
    a running training's time limit."""
    client = redis_client()
    queued = f"nba:train:queued:{task_id}"
    if not client.set(queued, "1", nx=True, ex=TRAINING_CLAIM_TTL_S):
        return
    key = training_claim_key(seasons)
    client.eval(_SHORTEN, 1, key, task_id, int(delay) + TRAIN_TIME_LIMIT_S + 60)
    labels = [str(s) for s in seasons] if seasons else None
    try:
        app.send_task(
            TRAIN_ARCHETYPES,
            kwargs={"seasons": labels},
            countdown=delay or None,
            task_id=task_id,
        )
    except Exception:
        client.delete(queued)
        release_claim(key, task_id)
        raise


def release_claim(key: str, task_id: str) -> bool:
    """Give up a claim if it is still ours; a newer claim is left alone."""
    return bool(redis_client().eval(_RELEASE, 1, key, task_id))


def task_status(task_id: str) -> dict[str, Any]:
    """State and progress of a task, JSON-friendly: what the UI and CLI poll.

    State and result come from one read of the result backend. ``AsyncResult.info`` and
    ``.state`` are a read each until the task is done, so a poll landing as the task finished
    could pair SUCCESS with the progress read a moment before (a result without its keys)."""
    meta = app.backend.get_task_meta(task_id)  # decoded: a failure's result is the exception
    state: str = meta.get("status") or states.PENDING
    info = meta.get("result")
    if isinstance(info, BaseException):
        info = {"error": f"{type(info).__name__}: {info}"}
    elif isinstance(info, dict):
        info = dict(info)  # the backend may cache a finished task's meta: never hand it out
    return {"task_id": task_id, "state": state, "info": info or {}}


def pending_refreshes() -> dict[str, str]:
    """Season -> task id of every fetch queued or running."""
    client = redis_client()
    keys = sorted(client.scan_iter("nba:refresh:*"))
    values = client.mget(keys) if keys else []
    return {k.removeprefix("nba:refresh:"): v for k, v in zip(keys, values, strict=True) if v}
