"""Publishing work to the workers, and the policy that keeps bursts cheap.

Everyone who starts work (the UI's buttons, the CLI, beat, the fetch worker) goes through
here and sends tasks *by name*, so no publisher imports worker code.

Policy for bursts (many seasons at once, or one season clicked many times):

* **Refresh dedupe.** At most one fetch per season is queued or running. A request for a
  season that already has one returns that fetch's task id instead of queueing another
  (Redis ``SET NX`` on ``nba:refresh:<season>``; the fetch task clears it when it ends, and
  it expires after ``REFRESH_CLAIM_TTL_S`` in case a worker died). The fetch task also
  holds a per-season lock while it runs, so even a redelivered message never overlaps.
* **Training debounce.** Every finished fetch asks for training, but a training request made
  while another is still waiting joins it: the first request queues training with a
  countdown of ``TRAIN_DEBOUNCE_S`` and every fetch finishing in that window shares it. The
  training task releases the claim when it starts, so data arriving during a training gets
  a training of its own afterwards. Training itself is skipped when the champion was
  already trained on exactly the same data and configuration.
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

from common.celery_app import FETCH_SEASON, FETCH_TIME_LIMIT_S, TRAIN_ARCHETYPES, app
from common.seasons import Season
from common.settings import get_settings

REFRESH_CLAIM_TTL_S = 6 * FETCH_TIME_LIMIT_S
ALL_SEASONS = "all"

# Delete KEYS[1] only if it still holds ARGV[1] (our claim, not a newer one).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
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
    """Queue training (all cleaned seasons by default) after the debounce window, or join
    the training already waiting for the same seasons."""
    settings = get_settings()
    delay = settings.train_debounce_s if debounce_s is None else debounce_s
    key = training_claim_key(seasons)
    task_id = str(uuid.uuid4())
    client = redis_client()
    # The claim outlives the countdown so late fetches in the window still find it.
    if not client.set(key, task_id, nx=True, ex=int(delay) + 600):
        existing = client.get(key)
        if existing:
            return Ticket(existing, joined_existing=True)
        client.set(key, task_id, ex=int(delay) + 600)
    labels = [str(s) for s in seasons] if seasons else None
    try:
        app.send_task(
            TRAIN_ARCHETYPES, kwargs={"seasons": labels}, countdown=delay, task_id=task_id
        )
    except Exception:
        release_claim(key, task_id)
        raise
    return Ticket(task_id, joined_existing=False)


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
