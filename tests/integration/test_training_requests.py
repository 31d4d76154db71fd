"""When finished fetches queue training (real Redis, no workers: the train queue is read as
the worker would receive it).

A lone refresh trains at once; a burst of fetches (a backfill) shares one training, queued by
whichever fetch ends last, even one that failed; fetches ending together queue exactly one.
Each fetch ends through the fetch task's own ``end_fetch`` (give back the season, then ask),
also while Redis restarts; the seed asks through its own ``ask_for_training``, restarts too.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
import redis

from common.celery_app import TRAIN_QUEUE
from common.keys import refresh_claim_key, training_claim_key, training_queued_key
from common.queueing import Ticket, release_claim, request_refresh, request_training
from common.seasons import Season
from devkit.services import RedisServer
from workers.fetch.tasks import ask_for_training, end_fetch


@pytest.fixture
def broker() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def _queued_trainings(broker: redis.Redis) -> list[dict[str, Any]]:
    """Headers of the messages waiting on the train queue (id, eta)."""
    return [json.loads(raw)["headers"] for raw in broker.lrange(TRAIN_QUEUE, 0, -1)]


def _end(ticket: Ticket, *, stored: bool = True) -> str | None:
    """What the fetch task does when it ends: give back its claim, then ask."""
    return end_fetch(Season.parse(str(ticket.season)), ticket.task_id, stored=stored)


def test_a_lone_refresh_queues_its_training_at_once(broker: redis.Redis) -> None:
    training_id = _end(request_refresh("2018-19"))
    assert training_id
    (message,) = _queued_trainings(broker)
    assert message["id"] == training_id
    assert message["eta"] is None  # no countdown (TRAIN_DEBOUNCE_S is 0 by default)


def test_a_backfill_shares_one_training_queued_by_its_last_fetch(broker: redis.Redis) -> None:
    tickets = [request_refresh(s) for s in ("2015-16", "2016-17", "2017-18", "2018-19")]
    first = _end(tickets[0])
    assert first
    assert _queued_trainings(broker) == []  # three fetches still queued or running
    assert [_end(t) for t in tickets[1:3]] == [first, first]  # every fetch reports the same
    assert _queued_trainings(broker) == []
    # The last one fails (or finds no games): it stored nothing, but the burst's training goes.
    assert _end(tickets[3], stored=False) is None
    assert [m["id"] for m in _queued_trainings(broker)] == [first]


@pytest.mark.parametrize("round_", range(5))
def test_fetches_ending_together_queue_exactly_one_training(
    broker: redis.Redis, round_: int
) -> None:
    seasons = [str(Season(2010 + n)) for n in range(8)]
    tickets = [request_refresh(s) for s in seasons]
    start = threading.Barrier(len(tickets))
    reported: list[str | None] = []

    def end(ticket: Ticket) -> None:
        start.wait()
        reported.append(_end(ticket, stored=ticket.season != seasons[round_]))

    threads = [threading.Thread(target=end, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not [t for t in threads if t.is_alive()]
    assert len(reported) == len(tickets), reported  # every fetch's end reported, none raised
    queued = [m["id"] for m in _queued_trainings(broker)]
    assert len(queued) == 1, queued
    assert reported.count(None) == 1, reported  # the one that stored nothing reports none
    assert set(reported) == {queued[0], None}


def test_data_arriving_once_the_training_started_gets_a_training_of_its_own(
    broker: redis.Redis,
) -> None:
    first = _end(request_refresh("2017-18"))
    assert first
    # The train task releases the claim as it starts (workers/train/tasks.py).
    assert release_claim(training_claim_key(None), first)
    second = _end(request_refresh("2018-19"))
    assert second
    assert second != first
    assert sorted(m["id"] for m in _queued_trainings(broker)) == sorted([first, second])
    # While that second one waits for the worker, more data joins it.
    assert _end(request_refresh("2016-17")) == second
    assert len(_queued_trainings(broker)) == 2


def test_a_refresh_storing_nothing_asks_for_no_training(broker: redis.Redis) -> None:
    assert _end(request_refresh("2018-19"), stored=False) is None
    assert _queued_trainings(broker) == []
    assert broker.get(training_claim_key(None)) is None


def test_an_explicit_request_queues_the_training_a_burst_has_claimed(
    broker: redis.Redis,
) -> None:
    tickets = [request_refresh(s) for s in ("2017-18", "2018-19")]
    claimed = _end(tickets[0])
    assert _queued_trainings(broker) == []
    ticket = request_training(debounce_s=0)  # e.g. `nba-archetypes train`
    assert (ticket.task_id, ticket.joined_existing) == (claimed, True)
    assert [m["id"] for m in _queued_trainings(broker)] == [claimed]
    assert _end(tickets[1]) == claimed  # the burst's last fetch does not queue it twice
    assert len(_queued_trainings(broker)) == 1


def test_an_explicit_countdown_is_kept(broker: redis.Redis) -> None:
    request_training(debounce_s=30)
    (message,) = _queued_trainings(broker)
    assert message["eta"] is not None


@pytest.mark.parametrize("stored", [True, False])
def test_a_fetch_ending_while_redis_restarts_still_queues_the_training(
    broker: redis.Redis, redis_server: RedisServer, stored: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """The training a fetch owes is asked for once Redis is back, not lost with the restart
    (a fetch that ended in the restart used to fail, or leave its training unqueued)."""
    earlier, last = request_refresh("2017-18"), request_refresh("2018-19")
    owed = _end(earlier)  # the burst's training waits for its last fetch
    assert owed
    assert _queued_trainings(broker) == []
    with redis_server.down_for(2):
        reported = _end(last, stored=stored)
    assert reported == (owed if stored else None)
    assert [m["id"] for m in _queued_trainings(broker)] == [owed]
    assert broker.get(refresh_claim_key(Season(2018))) is None  # the season is free again
    assert "2018-19: asking for" in caplog.text
    assert "Redis unreachable" in caplog.text


def test_a_training_whose_sending_broke_off_is_sent_by_the_same_fetch_again(
    broker: redis.Redis,
) -> None:
    """A fetch trying again after Redis broke off its first attempt between marking the
    training queued and sending it sends it; another caller does not send it twice."""
    ticket = request_refresh("2018-19")
    claimed = request_training(debounce_s=30).task_id  # stands for the burst's claim
    broker.delete(TRAIN_QUEUE)
    broker.set(training_queued_key(claimed), ticket.task_id)  # marked, never sent
    assert request_training(debounce_s=0).task_id == claimed  # another caller: not sent again
    assert _queued_trainings(broker) == []
    assert _end(ticket) == claimed
    assert [m["id"] for m in _queued_trainings(broker)] == [claimed]


def test_a_seed_ending_while_redis_restarts_still_queues_its_training(
    broker: redis.Redis, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Seasons just seeded get their training once Redis is back (the seed used to fail
    there, leaving a fresh install without a champion until the next refresh)."""
    with redis_server.down_for(2):
        training_id = ask_for_training("the-seed")
    assert [m["id"] for m in _queued_trainings(broker)] == [training_id]
    assert "asking for the training on the stored seasons" in caplog.text
    assert "Redis unreachable" in caplog.text


def test_a_seed_whose_sending_broke_off_sends_its_training_again(broker: redis.Redis) -> None:
    claimed = request_training(debounce_s=30).task_id
    broker.delete(TRAIN_QUEUE)
    broker.set(training_queued_key(claimed), "the-seed")  # marked by the seed, never sent
    assert ask_for_training("another-seed") == claimed
    assert _queued_trainings(broker) == []  # not the seed that marked it: not sent twice
    assert ask_for_training("the-seed") == claimed
    assert [m["id"] for m in _queued_trainings(broker)] == [claimed]
