"""The fetch path with the real nba_api client against the replay server, faults included."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from nba_api.stats.library.http import NBAStatsHTTP

from common.keys import THROTTLE_KEY
from common.leases import Heartbeat, Lease
from common.seasons import Season, SeasonType
from common.settings import Settings
from common.storage import DataDir
from devkit.services import RedisServer
from replay.server import inject_faults, received_requests, run_replay_server
from tests.conftest import RECORDINGS
from tests.services import assert_one_throttle
from workers.fetch.nba_client import LeagueDashboardClient, UpstreamError
from workers.fetch.response import InvalidResponseError, parse_dashboard
from workers.fetch.season_data import fetch_and_store
from workers.fetch.throttle import SharedThrottle

PAST = Season(2018)


def _settings(data_dir: Path, base_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "redis_url": os.environ["REDIS_URL"],
        "nba_stats_base_url": f"{base_url}/stats",
        "nba_request_timeout_s": 1.0,
        "nba_min_request_gap_s": 0.0,
        "nba_backoff_initial_s": 0.01,
        "nba_backoff_max_s": 0.05,
        "nba_backoff_jitter_s": 0.01,
        "nba_max_attempts": 5,
    }
    return Settings(**(values | overrides))


def _refresh(settings: Settings, season: Season = PAST, force: bool = False):  # type: ignore[no-untyped-def]
    throttle = SharedThrottle(
        redis.Redis.from_url(settings.redis_url), settings.nba_min_request_gap_s
    )
    client = LeagueDashboardClient(settings, throttle)
    return fetch_and_store(
        season, data=DataDir(settings.data_dir), settings=settings, client=client, force=force
    )


def _snapshot(data: DataDir, season: Season) -> dict[str, bytes]:
    paths = [
        data.cleaned(season),
        data.fetch_record(season),
        data.raw_response(season, SeasonType.REGULAR),
    ]
    return {p.name: p.read_bytes() for p in paths}


def test_fetches_stores_and_cleans_a_past_season(data_dir: Path, replay: str) -> None:
    settings = _settings(data_dir, replay)
    outcome = _refresh(settings)

    assert (outcome.status, outcome.fetched, outcome.rows, outcome.eligible) == (
        "updated",
        True,
        530,
        360,
    )
    data = DataDir(data_dir)
    recorded = (RECORDINGS / "leaguedashplayerstats_2018-19_regular_pergame.json").read_bytes()
    assert data.raw_response(PAST, SeasonType.REGULAR).read_bytes() == recorded  # kept as sent
    record = data.read_fetch_record(PAST)
    assert record.complete is True
    assert record.segments[SeasonType.PLAYOFFS].rows == 0  # no PerGame playoffs recorded: normal
    assert data.cleaned_seasons() == [PAST]
    # Totals first; the replay server has no Totals recordings and answers with an empty
    # result set, as the site does for a segment without games, so PerGame is asked next.
    asked = [(r["params"]["SeasonType"], r["params"]["PerMode"]) for r in received_requests(replay)]
    assert asked == [
        ("Regular Season", "Totals"),
        ("Regular Season", "PerGame"),
        ("Playoffs", "Totals"),
        ("Playoffs", "PerGame"),
    ]
    # The record says which PerMode each stored segment came in.
    assert {t: s.per_mode for t, s in record.segments.items()} == {
        SeasonType.REGULAR: "PerGame",
        SeasonType.PLAYOFFS: "PerGame",
    }
    assert "PerMode=PerGame" in record.regular.source


def test_the_client_leaves_nba_api_globals_alone(data_dir: Path, replay: str) -> None:
    # Retargeting must not leak: another nba_api user in the process still gets the real site
    # and a session without our hooks.
    before = (NBAStatsHTTP.base_url, NBAStatsHTTP.get_session())
    assert _refresh(_settings(data_dir, replay)).status == "updated"
    assert (NBAStatsHTTP.base_url, NBAStatsHTTP.get_session()) == before
    assert NBAStatsHTTP.base_url == "https://stats.nba.com/stats/{endpoint}"
    assert not NBAStatsHTTP.get_session().hooks["response"]


def test_complete_past_season_is_not_downloaded_again(data_dir: Path, replay: str) -> None:
    settings = _settings(data_dir, replay)
    _refresh(settings)
    again = _refresh(settings)
    assert (again.status, again.fetched, again.rows) == ("updated", False, 530)
    # Only the first refresh reached the site (Totals, then PerGame, for both segments).
    assert len(received_requests(replay)) == 4

    forced = _refresh(settings, force=True)
    assert forced.fetched
    assert len(received_requests(replay)) == 8


def test_a_season_fetched_while_in_progress_is_downloaded_again(
    data_dir: Path, replay: str
) -> None:
    settings = _settings(data_dir, replay)
    _refresh(settings)
    data = DataDir(data_dir)
    record = data.read_fetch_record(PAST)
    data.write_fetch_record(replace(record, complete=False))  # as if taken mid-season
    assert _refresh(settings).fetched


def test_season_without_games_stores_nothing(data_dir: Path, replay: str) -> None:
    # No recording for the current season: the replay answers like the site does for a
    # segment without games (an empty result set).
    outcome = _refresh(_settings(data_dir, replay), Season(2026))
    assert (outcome.status, outcome.rows) == ("no-games", 0)
    assert not (data_dir / "cleaned").exists()
    # The empty Totals answer costs one extra PerGame call per segment.
    asked = [r["params"]["PerMode"] for r in received_requests(replay)]
    assert asked == ["Totals", "PerGame", "Totals", "PerGame"]


def test_transient_faults_are_retried(data_dir: Path, replay: str) -> None:
    inject_faults(replay, ["429", "500", "malformed-json", "html"], season="2018-19")
    outcome = _refresh(_settings(data_dir, replay))
    assert outcome.rows == 530
    logged = [(r["params"]["PerMode"], r["fault"]) for r in received_requests(replay)]
    assert logged == [
        ("Totals", "429"), ("Totals", "500"), ("Totals", "malformed-json"), ("Totals", "html"),
        ("Totals", None), ("PerGame", None), ("Totals", None), ("PerGame", None),
    ]  # fmt: skip


def test_a_hanging_request_times_out_and_is_retried(data_dir: Path, replay: str) -> None:
    inject_faults(replay, ["delay"], season="2018-19")  # 2 s, past the 1 s timeout
    outcome = _refresh(_settings(data_dir, replay))
    assert outcome.rows == 530
    first, retry = received_requests(replay)[:2]
    assert [first["fault"], retry["fault"]] == ["delay", None]
    # The retry reached the server before the delayed answer would have been sent: the client
    # gave up at its timeout instead of waiting it out. (Timed between the server's own
    # receipts, not around the whole refresh, which a busy machine stretches.)
    assert retry["time"] - first["time"] < 2.0


def test_persistent_failure_fails_clearly_and_keeps_previous_data(
    data_dir: Path, replay: str
) -> None:
    settings = _settings(data_dir, replay)
    _refresh(settings)
    data = DataDir(data_dir)
    before = _snapshot(data, PAST)

    inject_faults(replay, ["500"] * 5, season="2018-19")
    with pytest.raises(UpstreamError, match=r"failed 5 times for 2018-19 Regular Season: HTTP 500"):
        _refresh(settings, force=True)
    assert _snapshot(data, PAST) == before


def test_empty_answer_for_a_stored_season_keeps_previous_data(data_dir: Path, replay: str) -> None:
    settings = _settings(data_dir, replay)
    _refresh(settings)
    data = DataDir(data_dir)
    before = _snapshot(data, PAST)
    # Both answers empty (Totals, then PerGame), as for a season without games.
    inject_faults(replay, ["empty", "empty"], season="2018-19")
    assert _refresh(settings, force=True).status == "no-games"
    assert _snapshot(data, PAST) == before


def test_invalid_response_is_not_retried_and_keeps_previous_data(
    data_dir: Path, tmp_path: Path
) -> None:
    # A broken variant of the real 2018-19 response (PTS removed), built here in code.
    broken_dir = tmp_path / "broken-recordings"
    broken_dir.mkdir()
    name = "leaguedashplayerstats_2018-19_regular_pergame.json"
    payload = json.loads((RECORDINGS / name).read_bytes())
    result = payload["resultSets"][0]
    column = result["headers"].index("PTS")
    result["headers"].pop(column)
    for row in result["rowSet"]:
        row.pop(column)
    (broken_dir / name).write_text(json.dumps(payload))
    (broken_dir / "leaguedashplayerstats_2022-23_regular_pergame.json").write_bytes(
        (RECORDINGS / "leaguedashplayerstats_2022-23_regular_pergame.json").read_bytes()
    )

    data = DataDir(data_dir)
    regular = (RECORDINGS / name).read_bytes()
    with run_replay_server(RECORDINGS) as good:
        _refresh(_settings(data_dir, good))
    before = _snapshot(data, PAST)
    assert data.raw_response(PAST, SeasonType.REGULAR).read_bytes() == regular

    with run_replay_server(broken_dir) as bad:
        with pytest.raises(InvalidResponseError, match="missing columns PTS"):
            _refresh(_settings(data_dir, bad), force=True)
        # The empty Totals answer, then the broken PerGame one: not retried.
        assert [r["params"]["PerMode"] for r in received_requests(bad)] == ["Totals", "PerGame"]
    assert _snapshot(data, PAST) == before


def test_a_body_for_the_other_segment_is_rejected(data_dir: Path, replay: str) -> None:
    # The bug this guards against: a Regular Season body answered to a Playoffs request was
    # stored as the playoffs. Here a mixed-up stand-in answers exactly that, through nba_api.
    settings = _settings(data_dir, replay)
    client = LeagueDashboardClient(
        settings, SharedThrottle(redis.Redis.from_url(settings.redis_url), 0.0)
    )
    inject_faults(replay, ["wrong-season-type"], season="2018-19")
    download = client.download(PAST, SeasonType.PLAYOFFS, "PerGame")
    regular = (RECORDINGS / "leaguedashplayerstats_2018-19_regular_pergame.json").read_bytes()
    assert download.body == regular
    with pytest.raises(InvalidResponseError) as error:
        parse_dashboard(download.body, PAST, SeasonType.PLAYOFFS, "PerGame")
    assert str(error.value) == (
        "2018-19 Playoffs response is for SeasonType 'Regular Season', not the requested "
        "'Playoffs'."
    )


def test_a_refresh_answered_for_the_other_segment_keeps_previous_data(
    data_dir: Path, replay: str
) -> None:
    settings = _settings(data_dir, replay)
    _refresh(settings)
    data = DataDir(data_dir)
    before = _snapshot(data, PAST)
    # The first request (Regular Season, Totals) gets the playoffs' answer: an empty one, which
    # would have read as "no games"; the echoed SeasonType gives it away.
    inject_faults(replay, ["wrong-season-type"], season="2018-19")
    with pytest.raises(InvalidResponseError, match="SeasonType 'Playoffs', not the requested"):
        _refresh(settings, force=True)
    assert [r["fault"] for r in received_requests(replay)][4:] == ["wrong-season-type"]
    assert _snapshot(data, PAST) == before


def test_proxy_and_extra_headers_are_used(data_dir: Path, replay: str) -> None:
    # The replay server also answers absolute-URI requests, i.e. it can act as the HTTP proxy:
    # stats.nba.com is unreachable here, so the fetch only succeeds through the proxy.
    settings = _settings(
        data_dir,
        "http://stats.nba.com",
        nba_proxy=replay,
        nba_headers={"X-Team": "archetypes"},
        nba_max_attempts=1,
    )
    assert _refresh(settings).rows == 530
    first = received_requests(replay)[0]
    assert first["headers"]["Host"] == "stats.nba.com"
    assert first["headers"]["X-Team"] == "archetypes"
    assert first["headers"]["Referer"] == "https://www.nba.com/"  # nba_api's browser headers


def test_throttle_gap_is_shared_between_workers() -> None:
    # Two throttles = two worker processes sharing one Redis; each reserves its own slots.
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    gap = 0.15
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        throttle = SharedThrottle(client, gap)
        for _ in range(3):
            throttle.wait_turn()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 6
    assert_one_throttle(stamps, gap)  # each stamp: its thread's wake-up after its slot


def test_a_fetch_in_flight_rides_out_a_redis_restart(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """What a fetch does with Redis mid-work survives a restart (a run on record failed its
    fetch on one): its next turn at the stats site waits for Redis instead of failing the
    download, and its leases left at its end while Redis is away lapse by themselves instead
    of raising. (Its end waits for Redis too: test_training_requests.)"""
    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    heartbeat = Heartbeat(ttl_s=3)
    assert heartbeat.hold(Lease(client, "test:alive", "fetch-1", 3)) is None
    with redis_server.down_for(2):
        heartbeat.stop()
        SharedThrottle(client, 0.05).wait_turn()
    assert client.get(THROTTLE_KEY) is not None  # its slot, reserved once Redis was back
    assert "could not release lease test:alive; it lapses by itself" in caplog.text
    assert "throttle: Redis unreachable" in caplog.text
