"""Lost work comes back by itself: tasks whose worker died are queued again within minutes.

A task message stays in the broker's *unacked* set from delivery until its task ends
(``acks_late``). Kombu puts it back only after the visibility timeout, which must outlast the
longest task, so a worker killed mid-task would delay its work for that long. Instead, every
worker checks the unacked set every ``RECOVERY_INTERVAL_S`` (and at start) and puts back, with
kombu's own transactional ``restore_by_tag``, each message that was delivered more than one
lease TTL ago and whose task has no live heartbeat (``common.executions``). A message whose
task already finished is put back too: its copy sees the result and is acknowledged unrun.
A task waiting for its countdown (``eta``) is left alone until it is due.

Any live worker recovers any queue's messages: a killed training is queued again even while
its own worker is still restarting.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from common.keys import WORKER_PRESENCE_PREFIX, alive_key
from common.redis_client import redis_client
from common.settings import get_settings

log = logging.getLogger(__name__)


def recover_lost_tasks(app: Celery, *, grace_s: float, now: float | None = None) -> list[str]:
    """Put back the messages of tasks whose execution died; returns their task ids."""
    now = time.time() if now is None else now
    recovered = []
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        client = channel.client
        for tag, raw in client.hgetall(channel.unacked_key).items():
            delivered = client.zscore(channel.unacked_index_key, tag) or 0.0
            headers = json.loads(raw)[0].get("headers", {})
            task_id = headers.get("id")
            if not task_id or not _lost(client, headers, delivered, now, grace_s):
                continue
            channel.qos.restore_by_tag(tag, client)
            log.warning("%s[%s]: its worker stopped; queued again", headers.get("task"), task_id)
            recovered.append(task_id)
    return recovered


def _lost(client: Any, headers: dict[str, Any], delivered: float, now: float, grace: float) -> bool:
    if now - delivered < grace:  # just delivered: its execution may not have started yet
        return False
    eta = headers.get("eta")
    if eta and datetime.fromisoformat(eta).timestamp() > now - grace:
        return False  # waiting for its countdown in a worker's memory
    return not client.exists(alive_key(headers["id"]))


def start_recovery_loop(app: Celery, worker: str) -> threading.Thread:
    """Recover at once, then every ``RECOVERY_INTERVAL_S``, on a daemon thread; each round
    also says that ``worker`` is alive (``nba-archetypes status`` lists it)."""
    settings = get_settings()
    presence_ttl_s = round(2 * settings.recovery_interval_s + 10)

    def loop() -> None:
        while True:
            try:
                redis_client().set(
                    f"{WORKER_PRESENCE_PREFIX}{worker}", time.time(), ex=presence_ttl_s
                )
                recover_lost_tasks(app, grace_s=settings.lease_ttl_s)
            except Exception as error:  # the broker may be restarting: try again next round
                log.warning("recovery check failed (%s); retrying", error)
            time.sleep(settings.recovery_interval_s)

    thread = threading.Thread(target=loop, name="task-recovery", daemon=True)
    thread.start()
    return thread


@worker_ready.connect
def _recover_lost_work(sender: Any = None, **_: Any) -> None:
    # Every worker looks for tasks whose worker died, whatever queue they came from.
    start_recovery_loop(sender.app, sender.hostname)


@worker_shutdown.connect
def _say_goodbye(sender: Any = None, **_: Any) -> None:
    # A worker stopped on purpose leaves the list at once (a killed one within a minute).
    try:
        redis_client().delete(f"{WORKER_PRESENCE_PREFIX}{sender.hostname}")
    except Exception as error:  # Redis away: the key lapses by itself
        log.warning("could not remove this worker's presence (%s)", error)
