"""Queueing work for the workers, and the policy that keeps bursts cheap.

Everyone who starts work (the app's buttons, the CLI, beat, the fetch worker) goes through
here and sends tasks *by name*, so nothing that queues work imports worker code.

Policy for bursts (many seasons at once, or one season clicked many times):

* **Refresh dedupe.** At most one fetch per season is queued or running. A request for a
  season that already has one returns that fetch's task id instead of queueing another: the
  claim ``nba:refresh:<season>`` is taken or joined in one atomic step (``common.leases
  .claim_or_join``). While queued, the claim lasts ``REFRESH_CLAIM_TTL_S``; the running fetch
  adopts it as a heartbeat lease (lapses ``LEASE_TTL_S`` after its worker dies) and releases
  it when it ends. A request finding the claim held by a task shown as interrupted takes the
  claim over instead of joining it. A fetch that finds its season claimed by a newer request
  (its own worker died and a user asked again) ends as ``superseded``, and pollers follow the
  newer one.
* **Training after fetches: at once, or once per burst.** A finished fetch that stored data
  owes a training on all seasons. When no other fetch is queued or running, the training is
  queued at once (after ``TRAIN_DEBOUNCE_S``, 0 by default). When others are, it is only
  claimed (``nba:train:pending:all`` holds the id it will run under, which every fetch of the
  burst reports) and the last fetch of the burst to end, whatever its outcome, queues it: a
  backfill of 27 seasons gets one training. The training releases the claim when it starts
  (then holds the lease ``nba:training`` while it runs), so data arriving during a training
  gets a training of its own afterwards (at most one more waits behind a running one).
  Training itself is skipped when the champion was already trained on exactly the same data
  and configuration.

  Every fetch does, in this order: release its refresh claim, claim (or join) the training
  if it stored data, look for fetches still in flight, and queue the claimed training if
  there are none (one queuer wins, through ``SET NX``). Whichever of two fetches ending
  together looks last sees the other's claim gone and the training claimed, so a burst never
  ends without its training. A fetch whose worker died is queued again
  (``common.recovery``) and ends the burst when it runs.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.celery_app import (
    FETCH_SEASON,
    FETCH_TIME_LIMIT_S,
    SEED_RECORDINGS,
    TRAIN_ARCHETYPES,
    TRAIN_TIME_LIMIT_S,
    app,
)
from common.keys import (
    REFRESH_CLAIM_PREFIX,
    refresh_claim_key,
    training_claim_key,
    training_queued_key,
)
from common.leases import Lease, claim_or_join, release, take_over
from common.redis_client import redis_client
from common.seasons import Season
from common.settings import get_settings
from common.task_status import INTERRUPTED, read_status

# How long a claim lasts while its task waits in the queue (a running task holds it as a
# short lease instead). A claim whose message was lost only delays the next request this long.
REFRESH_CLAIM_TTL_S = 5 * FETCH_TIME_LIMIT_S
# An unqueued training claim outlives any fetch of its burst.
TRAINING_CLAIM_TTL_S = REFRESH_CLAIM_TTL_S + 600


@dataclass(frozen=True)
class Ticket:
    """A queued (or joined) piece of work: poll ``task_id`` for its progress."""

    task_id: str
    joined_existing: bool
    season: str | None = None


def request_refresh(season_text: str, *, force: bool = False, today: date | None = None) -> Ticket:
    """Queue a fetch of one season, or join the one already queued. Raises on a bad season
    label before anything is enqueued."""
    season = Season.parse(season_text, today)
    key = refresh_claim_key(season)
    ticket = _claim(key, REFRESH_CLAIM_TTL_S, season=str(season))
    if not ticket.joined_existing:
        # requested_at: a copy run again after its worker died does not write a season that
        # was stored after the request (by another refresh meanwhile, or by itself).
        kwargs = {"force": force, "requested_at": time.time()}
        options = {"args": [str(season)], "kwargs": kwargs}
        _send_claimed(key, ticket.task_id, FETCH_SEASON, **options)
    return ticket


def request_training(
    seasons: list[Season] | None = None,
    *,
    debounce_s: float | None = None,
    sender: str | None = None,
) -> Ticket:
    """Queue training (all cleaned seasons by default) now, or after ``debounce_s``
    (``TRAIN_DEBOUNCE_S`` if not given); or join the training already waiting for the same
    seasons. A training a burst of fetches has claimed but not queued yet is queued now.

    A caller that may ask again after Redis broke off its request (a task waiting out a
    restart) names itself as ``sender``: the training it marked queued but could not send is
    sent on its next call, as ``fetch_ended`` does for a fetch."""
    ticket = _claim_training(seasons)
    sender = sender or str(uuid.uuid4())
    _queue_training(ticket.task_id, seasons, _debounce(debounce_s), sender=sender)
    return ticket


def request_forced_training(seasons: list[Season] | None = None) -> str:
    """Queue a training that runs even on data the champion was trained on: a deliberate
    retrain, past any debounce and not merged with a claimed one. Its task id."""
    labels = [str(s) for s in seasons] if seasons else None
    return app.send_task(TRAIN_ARCHETYPES, kwargs={"seasons": labels, "force": True}).id


def request_seed() -> str:
    """Queue the import of the bundled seasons into the seasons that have none (then a
    training): idempotent, so it is not deduplicated. Its task id."""
    return app.send_task(SEED_RECORDINGS).id


def fetch_ended(season: Season, fetch_id: str, *, stored: bool) -> str | None:
    """What every fetch calls as it ends: give back its season's refresh claim, then ask for
    the training owed. Returns the id of the training that will include its data (``None`` if
    it stored nothing).

    The claim goes first, so the last fetch of a burst sees none left. Stored data claims the
    training on all seasons (or joins the claim of its burst). The training is queued only
    when no other fetch is queued or running: by this fetch if it is the last of a burst, even
    one that stored nothing (a failure or a season without games).

    Safe to call again (the fetch worker does while Redis restarts): the claim is given back
    only if still this fetch's, the training's claim is joined, and a training this fetch
    began to queue is sent again (the workers run a task id once)."""
    release(redis_client(), refresh_claim_key(season), fetch_id)
    if stored:
        task_id: str | None = _claim_training(None).task_id
    else:
        task_id = redis_client().get(training_claim_key(None))
    if task_id and not pending_refreshes():
        _queue_training(task_id, None, _debounce(None), sender=fetch_id)
    return task_id if stored else None


def _debounce(debounce_s: float | None) -> float:
    return get_settings().train_debounce_s if debounce_s is None else debounce_s


def _claim_training(seasons: list[Season] | None) -> Ticket:
    """Claim the next training on ``seasons``, or join the claim already there. A claim lasts
    as long as a burst of fetches may (every join extends it) until its training is queued."""
    key = training_claim_key(seasons)
    ticket = _claim(key, TRAINING_CLAIM_TTL_S)
    if ticket.joined_existing:  # a burst goes on: its training waits for it
        Lease(redis_client(), key, ticket.task_id, TRAINING_CLAIM_TTL_S).renew()
    return ticket


def _claim(key: str, ttl_s: float, season: str | None = None) -> Ticket:
    """Claim ``key`` for a new task id, or join the task that holds it: one atomic step. A
    holder already shown as interrupted is not joined (its lease is about to lapse): the
    claim is taken over from it, again atomically."""
    task_id = str(uuid.uuid4())
    client = redis_client()
    holder = claim_or_join(client, key, task_id, ttl_s)
    dead = holder != task_id and read_status(holder).state == INTERRUPTED
    if dead and take_over(client, key, holder, task_id, ttl_s):
        holder = task_id
    return Ticket(holder, joined_existing=holder != task_id, season=season)


def _send_claimed(key: str, task_id: str, name: str, **options: Any) -> None:
    """Send the task that holds ``key``; a send that fails gives the claim back."""
    try:
        app.send_task(name, task_id=task_id, **options)
    except Exception:
        release(redis_client(), key, task_id)
        raise


def _queue_training(
    task_id: str, seasons: list[Season] | None, delay: float, *, sender: str
) -> None:
    """Send the claimed training ``task_id`` unless another sender has (the first one wins).
    The same ``sender`` sends it again: a caller trying again after Redis broke off its first
    attempt. Once queued, the claim lasts until the training starts, at most the countdown
    plus a running training's time limit."""
    client = redis_client()
    queued = training_queued_key(task_id)
    first = client.set(queued, sender, nx=True, ex=TRAINING_CLAIM_TTL_S)
    if not first and client.get(queued) != sender:
        return
    key = training_claim_key(seasons)
    Lease(client, key, task_id, int(delay) + TRAIN_TIME_LIMIT_S + 60).renew()
    labels = [str(s) for s in seasons] if seasons else None
    try:
        _send_claimed(
            key, task_id, TRAIN_ARCHETYPES, kwargs={"seasons": labels}, countdown=delay or None
        )
    except Exception:
        client.delete(queued)
        raise


def release_claim(key: str, task_id: str) -> bool:
    """Give up a claim if it is still ours; a newer claim is left alone."""
    return release(redis_client(), key, task_id)


def pending_refreshes() -> dict[str, str]:
    """Season -> task id of every fetch queued or running."""
    client = redis_client()
    keys = sorted(client.scan_iter(f"{REFRESH_CLAIM_PREFIX}*"))
    values = client.mget(keys) if keys else []
    return {k.removeprefix(REFRESH_CLAIM_PREFIX): v for k, v in zip(keys, values, strict=True) if v}
