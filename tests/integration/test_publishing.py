"""Publishing refreshes and training: validation first, then dedupe and debounce (real Redis)."""

from __future__ import annotations

import os

import pytest
import redis

from cli.main import main
from common.keys import refresh_claim_key
from common.queueing import pending_refreshes, release_claim, request_refresh, request_training
from common.seasons import InvalidSeasonError, Season


@pytest.fixture
def broker() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def test_one_fetch_per_season_however_often_it_is_asked(broker: redis.Redis) -> None:
    first = request_refresh("2018-19")
    repeats = [request_refresh("2018-19") for _ in range(5)]
    assert not first.joined_existing
    assert all(t.joined_existing and t.task_id == first.task_id for t in repeats)
    other = request_refresh("2017-18")
    assert other.task_id != first.task_id
    assert broker.llen("fetch") == 2
    assert pending_refreshes() == {"2018-19": first.task_id, "2017-18": other.task_id}


def test_a_finished_fetch_lets_the_next_request_through(broker: redis.Redis) -> None:
    first = request_refresh("2018-19")
    assert not release_claim(refresh_claim_key(Season(2018)), "someone-else")  # not theirs
    assert release_claim(refresh_claim_key(Season(2018)), first.task_id)
    second = request_refresh("2018-19")
    assert second.task_id != first.task_id
    assert broker.llen("fetch") == 2


@pytest.mark.parametrize("bad", ["2019", "2019-21", "19-20", "abcd", "", "1995-96", "2031-32"])
def test_bad_seasons_are_rejected_before_anything_is_enqueued(
    broker: redis.Redis, bad: str
) -> None:
    with pytest.raises(InvalidSeasonError):
        request_refresh(bad)
    assert broker.llen("fetch") == 0
    assert pending_refreshes() == {}


def test_training_requests_in_the_debounce_window_share_one_training(broker: redis.Redis) -> None:
    tickets = [request_training(debounce_s=30) for _ in range(4)]
    assert len({t.task_id for t in tickets}) == 1
    assert [t.joined_existing for t in tickets] == [False, True, True, True]
    assert broker.llen("train") == 1
    # A request for other seasons is a different training.
    subset = request_training([Season(2018)], debounce_s=30)
    assert subset.task_id != tickets[0].task_id
    assert broker.llen("train") == 2


def test_cli_rejects_a_bad_season_with_a_message(
    broker: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh", "2019"]) == 2
    assert "malformed" in capsys.readouterr().err
    assert broker.llen("fetch") == 0


def test_cli_publishes_a_backfill(broker: redis.Redis, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["refresh", "2015-16:2018-19"]) == 0
    out = capsys.readouterr().out
    assert out.count("queued") == 4
    assert broker.llen("fetch") == 4
    assert main(["refresh", "2016-17"]) == 0
    assert "joined" in capsys.readouterr().out
    assert broker.llen("fetch") == 4
