"""Faults with real parts: worker processes killed by PID mid-task (SIGKILL, as an OOM kill or
a host restart does), a Redis restart, publishers racing on one claim.

Workers run with short leases (``LEASE_TTL_S`` 3 s, recovery every second) so the suite is
quick; the shipped defaults (30 s, 15 s) are what ``benchmarks/recovery.py`` measures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis

from cli.main import main
from common.celery_app import FETCH_QUEUE, app
from common.champion import KIND_TRAINING, TAG_KIND, TAG_SEASONS, TAG_TASK_ID, find_champion
from common.keys import alive_key, refresh_claim_key
from common.mlflow_store import tracking_client
from common.queueing import Ticket, pending_refreshes, request_refresh
from common.redis_client import REDIS_SOCKET_TIMEOUT_S, redis_client
from common.seasons import Season
from common.settings import Settings
from common.storage import DataDir
from common.task_status import INTERRUPTED, task_status
from devkit.services import (
    PROJECT_ROOT,
    RECORDINGS,
    RedisServer,
    celery_workers,
    kill_worker,
    wait_until,
)
from devkit.services import worker_env as base_worker_env
from replay.server import inject_faults, received_requests, run_replay_server
from workers.train.promotion import KIND_REPUBLISH

FAST_LEASES = {"LEASE_TTL_S": "3", "RECOVERY_INTERVAL_S": "1"}
FETCH = {"workers.fetch.tasks": "fetch"}
TRAIN = {"workers.train.tasks": "train"}


@pytest.fixture(scope="module")
def slow_replay() -> Iterator[str]:
    """A replay server whose ``delay`` fault holds a request 20 s: a fetch to kill mid-way."""
    with run_replay_server(RECORDINGS, fault_delay_s=20.0) as url:
        yield url


@pytest.fixture
def env(tmp_path: Path, slow_replay: str) -> dict[str, str]:
    return base_worker_env(tmp_path / "data", slow_replay) | FAST_LEASES


def _logs(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "logs" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait_state(task_id: str, states: set[str], timeout_s: float = 120) -> dict[str, Any]:
    return wait_until(
        lambda: (status := task_status(task_id)).state in states and status,
        f"task {task_id} in {sorted(states)}",
        timeout_s=timeout_s,
        interval_s=0.05,
    )


def _downloading(task_id: str) -> dict[str, Any]:
    return wait_until(
        lambda: (
            (s := task_status(task_id)).state == "PROGRESS" and s.info.get("stage") == "fetch" and s
        ),
        f"task {task_id} downloading",
        timeout_s=60,
        interval_s=0.02,
    )


def _kill_mid_download(
    tmp_path: Path, env: dict[str, str], replay: str, season: str
) -> tuple[Ticket, float]:
    """Refresh ``season`` with its first request held by the replay server, and SIGKILL the
    fetch worker while it waits; returns the refresh and when the kill happened."""
    inject_faults(replay, ["delay"], season=season)
    ticket = request_refresh(season)
    with celery_workers(FETCH, env, _logs(tmp_path, "fetch-1")) as (worker,):
        _downloading(ticket.task_id)
        kill_worker(worker)
    return ticket, time.monotonic()


def _regular_season_requests(replay: str, season: str) -> int:
    return sum(
        r["params"].get("Season") == season and r["params"].get("SeasonType") == "Regular Season"
        for r in received_requests(replay)
    )


def test_a_killed_fetch_shows_interrupted_frees_its_season_and_writes_it_once(
    tmp_path: Path, env: dict[str, str], slow_replay: str
) -> None:
    first, killed_at = _kill_mid_download(tmp_path, env, slow_replay, "2018-19")
    # The app and the CLI see it interrupted once its heartbeat lapses, not "downloading".
    _wait_state(first.task_id, {INTERRUPTED}, timeout_s=15)
    assert time.monotonic() - killed_at < 15
    # A new request is not stuck joining a task no worker runs: it takes the claim over.
    second = request_refresh("2018-19")
    assert not second.joined_existing
    assert second.task_id != first.task_id

    with celery_workers(FETCH, env, _logs(tmp_path, "fetch-2")):
        done = _wait_state(second.task_id, {"SUCCESS", "FAILURE"})
        assert (done.state, done.info.get("status")) == ("SUCCESS", "updated"), done
        written = DataDir(Path(env["DATA_DIR"])).cleaned(Season(2018)).stat().st_mtime_ns
        requests = _regular_season_requests(slow_replay, "2018-19")
        # The lost message comes back by itself and ends without a second download or write:
        # superseded by the newer request, or finding the season stored since it was asked.
        wait_until(lambda: _recovered(first.task_id), "the killed fetch to end", timeout_s=60)
    assert DataDir(Path(env["DATA_DIR"])).cleaned(Season(2018)).stat().st_mtime_ns == written
    assert _regular_season_requests(slow_replay, "2018-19") == requests
    assert task_status(first.task_id).state == "SUCCESS"  # followed to the newer fetch


def _recovered(task_id: str) -> bool:
    # The task's own state (task_status would follow a superseded fetch to the newer one).
    return app.backend.get_task_meta(task_id).get("status") == "SUCCESS"


def test_a_killed_fetch_runs_again_by_itself(
    tmp_path: Path, env: dict[str, str], slow_replay: str
) -> None:
    ticket, killed_at = _kill_mid_download(tmp_path, env, slow_replay, "2017-18")
    # A restarted worker (as compose restarts it) picks the lost work up again.
    with celery_workers(FETCH, env, _logs(tmp_path, "fetch-2")):
        done = _wait_state(ticket.task_id, {"SUCCESS", "FAILURE"}, timeout_s=120)
    assert (done.state, done.info.get("status")) == ("SUCCESS", "updated"), done
    assert done.info["fetched"] is True
    assert time.monotonic() - killed_at < 120
    assert not redis_client().exists(refresh_claim_key(Season(2017)))  # released at the end
    assert not redis_client().exists(alive_key(ticket.task_id))


def test_a_restart_of_redis_loses_no_task(
    tmp_path: Path, env: dict[str, str], slow_replay: str, redis_server: RedisServer
) -> None:
    """One fetch running and two queued when Redis restarts: all three end, and training."""
    inject_faults(slow_replay, ["delay"], season="2016-17")
    with ExitStack() as stack:
        stack.enter_context(celery_workers(FETCH | TRAIN, env, _logs(tmp_path, "workers")))
        tickets = [request_refresh(s) for s in ("2016-17", "2017-18", "2018-19")]
        _downloading(tickets[0].task_id)
        assert redis_client().llen(FETCH_QUEUE) == 2  # the other two wait in the queue
        redis_server.restart(down_s=2)
        fetched = [_wait_state(t.task_id, {"SUCCESS", "FAILURE"}, 180) for t in tickets]
        assert [f.state for f in fetched] == ["SUCCESS"] * 3, fetched
        training = {f.info["training_task_id"] for f in fetched} - {None}
        (training_id,) = training  # one burst, one training
        trained = _wait_state(training_id, {"SUCCESS", "FAILURE"}, 300)
        assert trained.state == "SUCCESS", trained
        assert trained.info["seasons"] == 3


def test_racing_publishers_on_an_expiring_claim_queue_one_fetch() -> None:
    """Many publishers at once, on a claim that expires under them: at most one new fetch is
    queued, and every publisher gets the old claim's id or that one fetch's (claiming and
    queuing in one atomic step; no publisher falls back to overwriting a claim)."""
    broker = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    key = refresh_claim_key(Season(2018))
    for round_ in range(20):
        broker.flushdb()
        broker.set(key, "old-claim", px=1 + round_ % 5)  # expires while they publish
        start = threading.Barrier(8)
        tickets: list[str] = []
        threads = [
            threading.Thread(target=_publish_at, args=(start, tickets, "2018-19")) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(tickets) == 8, (round_, tickets)  # every publisher got an answer
        new = set(tickets) - {"old-claim"}
        queued = [json.loads(m)["headers"]["id"] for m in broker.lrange(FETCH_QUEUE, 0, -1)]
        assert len(new) <= 1, (round_, tickets)
        assert queued == list(new), (round_, tickets, queued)
        if new:
            assert broker.get(key) == next(iter(new))


def _publish_at(start: threading.Barrier, tickets: list[str], season: str) -> None:
    start.wait()
    tickets.append(request_refresh(season).task_id)


def test_a_killed_training_ends_its_run_and_runs_again_into_one_champion_version(
    tmp_path: Path, env: dict[str, str]
) -> None:
    settings = Settings(data_dir=Path(env["DATA_DIR"]))
    with celery_workers(FETCH, env, _logs(tmp_path, "fetch")):
        with celery_workers(TRAIN, env, _logs(tmp_path, "train-1")) as (trainer,):
            first = _wait_state(request_refresh("2017-18").task_id, {"SUCCESS", "FAILURE"})
            trained = _wait_state(first.info["training_task_id"], {"SUCCESS", "FAILURE"}, 300)
            assert trained.info["status"] == "promoted", trained
            fetched = _wait_state(request_refresh("2018-19").task_id, {"SUCCESS", "FAILURE"})
            training_id = fetched.info["training_task_id"]
            # Killed in the candidate search, after the champion was republished on both seasons.
            wait_until(
                lambda: (
                    (s := task_status(training_id)).state == "PROGRESS"
                    and s.info.get("done", 0) >= 1
                ),
                "the candidate search",
                timeout_s=300,
                interval_s=0.05,
            )
            kill_worker(trainer)
        _wait_state(training_id, {INTERRUPTED}, timeout_s=15)
        with celery_workers(TRAIN, env, _logs(tmp_path, "train-2")):
            done = _wait_state(training_id, {"SUCCESS", "FAILURE"}, timeout_s=400)
    assert done.state == "SUCCESS", done

    client = tracking_client(settings)
    runs = client.search_runs(
        [client.get_experiment_by_name(settings.mlflow_experiment).experiment_id],
        filter_string=f"tags.{TAG_TASK_ID} = '{training_id}'",
    )
    by_status = sorted((r.data.tags.get(TAG_KIND), r.info.status) for r in runs)
    # One republish (the killed execution's; the rerun reuses it), the killed search ended
    # as FAILED, the rerun's search FINISHED.
    assert by_status == [
        (KIND_REPUBLISH, "FINISHED"),
        (KIND_TRAINING, "FAILED"),
        (KIND_TRAINING, "FINISHED"),
    ], by_status
    champion = find_champion(settings)
    assert champion is not None
    assert champion.tags.get(TAG_TASK_ID) == training_id
    assert champion.tags.get(TAG_SEASONS) == "2017-18,2018-19"


def _refresh_in_background(season: str, timeout_s: float, codes: list[int]) -> threading.Thread:
    argv = ["refresh", season, "--wait", "--timeout", str(timeout_s)]
    command = threading.Thread(target=lambda: codes.append(main(argv)))
    command.start()
    return command


def test_the_cli_follows_a_killed_fetch_through_its_rerun_to_the_champion(
    tmp_path: Path, env: dict[str, str], slow_replay: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refresh --wait` while the fetch worker is killed: it says so, waits, and ends with the
    work's real outcome once a new worker has run it again (queued again by recovery)."""
    inject_faults(slow_replay, ["delay"], season="2015-16")
    codes: list[int] = []
    with celery_workers(FETCH, env, _logs(tmp_path, "fetch")) as (worker,):
        command = _refresh_in_background("2015-16", 180, codes)
        task_id = wait_until(lambda: pending_refreshes().get("2015-16"), "the refresh queued")
        _downloading(task_id)
        kill_worker(worker)
        _wait_state(task_id, {INTERRUPTED}, timeout_s=15)
    with celery_workers(FETCH | TRAIN, env, _logs(tmp_path, "both")):
        command.join(timeout=180)
    assert codes == [0]
    err = capsys.readouterr().err
    assert "2015-16: interrupted, its worker stopped; waiting for it to run again" in err
    assert "2015-16: running again" in err
    assert task_status(task_id).state == "SUCCESS"


def test_the_cli_reports_interrupted_work_no_worker_ran_again_with_exit_code_3(
    tmp_path: Path, env: dict[str, str], slow_replay: str, capsys: pytest.CaptureFixture[str]
) -> None:
    inject_faults(slow_replay, ["delay"], season="2015-16")
    codes: list[int] = []
    with celery_workers(FETCH, env, _logs(tmp_path, "fetch")) as (worker,):
        command = _refresh_in_background("2015-16", 15, codes)
        task_id = wait_until(lambda: pending_refreshes().get("2015-16"), "the refresh queued")
        _downloading(task_id)
        kill_worker(worker)
        command.join(timeout=60)
    assert codes == [3]
    assert "2015-16: INTERRUPTED: its worker stopped and no worker ran it again in time" in (
        capsys.readouterr().err
    )


def _read_lines(pipe: Any, lines: list[str]) -> threading.Thread:
    """A thread appending each line of ``pipe`` to ``lines`` as it comes, until it closes."""

    def read() -> None:
        for line in iter(pipe.readline, ""):
            lines.append(line)

    reader = threading.Thread(target=read)
    reader.start()
    return reader


def test_the_cli_waits_through_redis_freezing_then_restarting_and_reports_the_real_end(
    tmp_path: Path, env: dict[str, str], slow_replay: str, redis_server: RedisServer
) -> None:
    """`refresh --wait` (a real CLI process) while Redis first stops answering (frozen, as
    `docker pause` leaves it: longer than a client waits for an answer), then restarts: each
    time one line that it is away and waited for, one that it is back, no traceback, and the
    work's real outcome. Without a socket timeout the CLI said nothing while Redis was frozen,
    for as long as it was."""
    inject_faults(slow_replay, ["delay"], season="2016-17")
    cli = [str(PROJECT_ROOT / ".venv" / "bin" / "nba-archetypes")]
    env = env | {"LEASE_TTL_S": "30"}  # as deployed: the freeze must not lapse the fetch's lease
    with celery_workers(FETCH | TRAIN, env, _logs(tmp_path, "workers")):
        command = subprocess.Popen(
            [*cli, "refresh", "2016-17", "--wait", "--timeout", "240"],
            env=os.environ | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        said: dict[str, list[str]] = {"out": [], "err": []}
        readers = [
            _read_lines(command.stdout, said["out"]),
            _read_lines(command.stderr, said["err"]),
        ]
        task_id = wait_until(lambda: pending_refreshes().get("2016-17"), "the refresh queued")
        _downloading(task_id)
        redis_server.freeze(REDIS_SOCKET_TIMEOUT_S + 4)
        # Restarted once the CLI has seen it answer again: two outages, not one long one.
        wait_until(lambda: any("is back" in line for line in said["err"]), "the CLI to see it back")
        redis_server.restart(down_s=4)
        command.wait(timeout=260)
        for reader in readers:
            reader.join(timeout=10)
    out, err = "".join(said["out"]), "".join(said["err"])
    assert command.returncode == 0, err[-3000:]
    assert "Traceback" not in out + err, err[-6000:]
    lines = [line for line in err.splitlines() if "task queue" in line]
    assert len(lines) == 4, err[-3000:]
    frozen, back, stopped, back_again = lines
    assert "the task queue (Redis) is unreachable at " in frozen
    assert "(no answer in time)" in frozen
    assert "(connection refused)" in stopped
    for away in (frozen, stopped):
        assert away.endswith("waiting for it to come back…")
    assert back == back_again == "the task queue is back; following the work again"
    # The fetch's real end, then the training's.
    assert re.search(r"^2016-17: \d+ players stored \(\d+ eligible\)\.$", out, re.M), out
    assert "training: " in out
