"""Publishing refreshes and training: validation first, then dedupe and debounce (real Redis)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from celery import Celery

from cli.main import main
from common.celery_app import create_app
from common.keys import refresh_claim_key
from common.queueing import pending_refreshes, release_claim, request_refresh, request_training
from common.seasons import InvalidSeasonError, Season
from common.settings import get_settings
from devkit.services import TcpRelay


@pytest.fixture
def broker() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


@pytest.fixture
def relayed_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Celery, TcpRelay]]:
    """The project's Celery app, its broker reached through a relay that can cut it."""
    url = urlsplit(os.environ["REDIS_URL"])
    relay = TcpRelay((url.hostname or "127.0.0.1", url.port or 6379))
    monkeypatch.setenv("REDIS_URL", url._replace(netloc=f"127.0.0.1:{relay.port}").geturl())
    get_settings.cache_clear()
    app = create_app()
    try:
        yield app, relay
    finally:
        app.close()
        relay.close()
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_publish_on_a_half_open_broker_connection_goes_out_on_a_new_one(
    broker: redis.Redis, relayed_app: tuple[Celery, TcpRelay]
) -> None:
    """A broker connection that went dead without closing (the broker's host died, a NAT or
    firewall forgot it) gets no answer ever: without a socket timeout a publish waited on it
    forever (beat never sent again, the app's button never returned). It gives up after
    REDIS_SOCKET_TIMEOUT_S and the publish's retry goes out on a new connection."""
    app, relay = relayed_app
    app.send_task("fetch.season", args=["2018-19"])  # connected, through the relay
    assert broker.llen("fetch") == 1
    relay.cut()
    sent = threading.Thread(target=app.send_task, args=["fetch.season", ["2017-18"]], daemon=True)
    sent.start()
    sent.join(timeout=120)
    assert not sent.is_alive(), "the publish still waits on the dead connection"
    assert broker.llen("fetch") == 2


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
