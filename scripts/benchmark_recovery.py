"""Benchmark of recovery from a worker killed mid-task (not a timed test).

    uv run python -m scripts.benchmark_recovery               # 20 repetitions
    uv run python -m scripts.benchmark_recovery --reps 6 --json figures.json

Local mode with every setting at its default (leases of 30 s, recovery checks every 15 s):
a real Redis, the replay server as stats.nba.com, both Celery workers started as the tests
start them (``devkit``). Each repetition SIGKILLs a worker and its pool processes mid-task
(as an OOM kill or a host restart does) and starts a new one a second later (as compose's
``restart: unless-stopped`` does). Three kinds of repetition take turns:

* ``fetch-retry``: a fetch killed mid-download; the user clicks refresh again every second.
  Timed: kill → a new request is not joined to the dead one and its fetch starts.
* ``fetch-wait``: the same kill, nobody clicks. Timed: kill → the lost fetch has run again
  by itself and stored the season.
* ``train-wait``: a forced training killed in its candidate search. Timed: kill → the lost
  training has run again by itself and promoted its champion.

Counted over all repetitions: tasks lost (not done within 5 minutes), duplicate writes of the
season (written more than once after the kill, every copy of the work having run), duplicate
champion versions (a training's runs promoting more than once), partial files (temporary
files left, or a cleaned file that does not read), runs left RUNNING in MLflow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devkit.figures import emit

SEASON = "2018-19"
SEEDED = ["2016-17", "2017-18"]
KINDS = ("fetch-retry", "fetch-wait", "train-wait")
RESTART_AFTER_S = 1.0
GIVE_UP_S = 300.0
TARGETS = {
    "new_request_runs_max_s": 60.0,
    "lost_work_done_again_max_s": 120.0,
    "tasks_lost": 0,
    "duplicate_season_writes": 0,
    "duplicate_champion_versions": 0,
    "partial_files": 0,
    "runs_left_running": 0,
}


class Stack:
    """Both workers on one data directory; either can be killed and started again."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self._workers: dict[str, tuple[Any, Any]] = {}  # queue -> (context, process)

    @contextmanager
    def running(self) -> Iterator[Stack]:
        try:
            for queue in ("fetch", "train"):
                self.start(queue)
            yield self
        finally:
            for context, _ in self._workers.values():
                context.__exit__(None, None, None)

    def start(self, queue: str) -> None:
        from devkit.services import celery_workers

        context = celery_workers({f"workers.{queue}.tasks": queue}, self.env, self.logs)
        (process,) = context.__enter__()
        self._workers[queue] = (context, process)

    def kill_and_restart(self, queue: str) -> float:
        """SIGKILL the worker; start a new one RESTART_AFTER_S later. Returns the kill time."""
        from devkit.services import kill_worker

        context, process = self._workers.pop(queue)
        kill_worker(process)
        killed = time.monotonic()
        context.__exit__(None, None, None)
        time.sleep(RESTART_AFTER_S)
        self.start(queue)
        return killed


class WriteCounter:
    """Counts replacements of one file (its modification time changing), polled every 20 ms:
    a fetch takes far longer than that, so no write is missed."""

    def __init__(self, path: Path) -> None:
        self.path, self.count = path, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> WriteCounter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        last = self._mtime()
        while not self._stop.wait(0.02):
            now = self._mtime()
            if now != last:
                self.count, last = self.count + 1, now

    def _mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0


def wait_for(check: Any, timeout_s: float = GIVE_UP_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    return None


def downloading(task_id: str) -> bool:
    from common.task_status import task_status

    status = task_status(task_id)
    return status.state == "PROGRESS" and status.info.get("stage") == "fetch"


def ended(task_id: str) -> dict[str, Any] | None:
    from common.task_status import task_status

    status = task_status(task_id)
    return status if status.state in {"SUCCESS", "FAILURE"} else None


def settled() -> bool:
    """No task message waits in a queue or in a worker: every copy of the work has run."""
    from common.celery_app import FETCH_QUEUE, TRAIN_QUEUE
    from common.redis_client import redis_client

    client = redis_client()
    return not (client.hlen("unacked") or client.llen(FETCH_QUEUE) or client.llen(TRAIN_QUEUE))


def fetch_repetition(stack: Stack, replay: str, data_dir: Path, *, retry: bool) -> dict[str, Any]:
    from common.queueing import request_refresh
    from replay.server import inject_faults

    inject_faults(replay, ["delay"], season=SEASON)
    ticket = request_refresh(SEASON, force=True)
    if not wait_for(lambda: downloading(ticket.task_id), 120):
        raise RuntimeError("the fetch never started downloading")
    sample: dict[str, Any] = {"kind": "fetch-retry" if retry else "fetch-wait"}
    with WriteCounter(data_dir / "cleaned" / f"{SEASON}.parquet") as writes:
        killed = stack.kill_and_restart("fetch")
        if retry:
            newer = wait_for(lambda: _new_request_started(ticket.task_id))
            sample["new_request_runs_s"] = round(time.monotonic() - killed, 1) if newer else None
        done = wait_for(lambda: ended(ticket.task_id))  # a superseded fetch: the newer one
        sample["lost_work_done_again_s"] = round(time.monotonic() - killed, 1) if done else None
        wait_for(settled)
        time.sleep(1.0)
    sample["lost"] = int(not done or done.state != "SUCCESS" or writes.count == 0)
    sample["duplicate_season_writes"] = max(0, writes.count - 1)
    return sample


def _new_request_started(dead_id: str) -> str | None:
    """The user's click: a new fetch that started, or None (joined the dead one) after 1 s."""
    from common.queueing import request_refresh
    from common.task_status import task_status

    ticket = request_refresh(SEASON, force=True)
    if ticket.task_id == dead_id:
        time.sleep(1.0)
        return None
    started = wait_for(lambda: task_status(ticket.task_id).state != "PENDING", 60)
    return ticket.task_id if started else None


def train_repetition(stack: Stack, data_dir: Path) -> dict[str, Any]:
    from common.celery_app import TRAIN_ARCHETYPES, app
    from common.task_status import task_status

    task_id = app.send_task(TRAIN_ARCHETYPES, kwargs={"seasons": None, "force": True}).id
    in_search = wait_for(
        lambda: (s := task_status(task_id)).state == "PROGRESS" and s.info.get("done", 0) >= 1
    )
    if not in_search:
        raise RuntimeError(f"training {task_id} never reached its search")
    killed = stack.kill_and_restart("train")
    done = wait_for(lambda: ended(task_id))
    elapsed = round(time.monotonic() - killed, 1) if done else None
    wait_for(settled)
    return {
        "kind": "train-wait",
        "lost_work_done_again_s": elapsed,
        "lost": int(not done or done.state != "SUCCESS"),
        "duplicate_champion_versions": max(0, _promotions(data_dir, task_id) - 1),
    }


def _promotions(data_dir: Path, task_id: str) -> int:
    """Runs of this training that moved the champion alias (tag ``promoted``)."""
    from common.champion import TAG_TASK_ID
    from common.mlflow_store import tracking_client
    from common.settings import Settings

    settings = Settings(data_dir=data_dir)
    client = tracking_client(settings)
    experiment = client.get_experiment_by_name(settings.mlflow_experiment)
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.{TAG_TASK_ID} = '{task_id}'"
    )
    return sum(r.data.tags.get("promoted") == "true" for r in runs)


def damage_checks(data_dir: Path) -> dict[str, int]:
    import pandas as pd

    from common.mlflow_store import tracking_client
    from common.settings import Settings

    partial = len(list(data_dir.rglob("*.tmp")))
    for parquet in (data_dir / "cleaned").glob("*.parquet"):
        try:
            pd.read_parquet(parquet)
        except Exception:
            partial += 1
    settings = Settings(data_dir=data_dir)
    client = tracking_client(settings)
    experiment = client.get_experiment_by_name(settings.mlflow_experiment)
    running = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    return {"partial_files": partial, "runs_left_running": len(running)}


def run(reps: int, data_dir: Path, logs: Path) -> list[dict[str, Any]]:
    from common.queueing import request_training
    from devkit.services import RECORDINGS
    from replay.server import run_replay_server
    from scripts.benchmark_refresh import local_mode_env, seed, wait_done

    emit(f"seeding {', '.join(SEEDED)} and training a first champion (not timed)…")
    seed(data_dir, SEEDED, RECORDINGS)
    samples = []
    with run_replay_server(RECORDINGS, fault_delay_s=30.0) as replay:
        stack = Stack(local_mode_env(data_dir, replay), logs)
        with stack.running():
            wait_done(request_training(debounce_s=0).task_id)
            for n in range(reps):
                kind = KINDS[n % len(KINDS)]
                if kind == "train-wait":
                    sample = train_repetition(stack, data_dir)
                else:
                    sample = fetch_repetition(stack, replay, data_dir, retry=kind == "fetch-retry")
                emit(f"{n + 1:2}. {json.dumps(sample)}")
                samples.append(sample)
    return samples


def summarize(samples: list[dict[str, Any]], data_dir: Path) -> dict[str, Any]:
    def times(name: str) -> list[float]:
        return [s[name] for s in samples if s.get(name) is not None]

    figures: dict[str, Any] = {"repetitions": len(samples)}
    for name, label in (
        ("new_request_runs_s", "new_request_runs"),
        ("lost_work_done_again_s", "lost_work_done_again"),
    ):
        values = times(name)
        if values:
            figures[f"{label}_median_s"] = round(statistics.median(values), 1)
            figures[f"{label}_max_s"] = round(max(values), 1)
    for kind in ("fetch-wait", "train-wait"):
        values = [s["lost_work_done_again_s"] for s in samples if s["kind"] == kind and
                  s.get("lost_work_done_again_s") is not None]  # fmt: skip
        if values:
            figures[f"{kind}_median_s"] = round(statistics.median(values), 1)
    figures["tasks_lost"] = sum(s["lost"] for s in samples)
    figures["duplicate_season_writes"] = sum(s.get("duplicate_season_writes", 0) for s in samples)
    figures["duplicate_champion_versions"] = sum(
        s.get("duplicate_champion_versions", 0) for s in samples
    )
    return figures | damage_checks(data_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=20, help="repetitions (default 20)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    from devkit.services import RedisServer

    server = RedisServer(persistent=True)
    os.environ["REDIS_URL"] = server.url  # before common.celery_app is imported
    from common.logs import configure_logging

    configure_logging("WARNING")
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
            data_dir, logs = Path(tmp) / "data", Path(tmp) / "logs"
            logs.mkdir()
            samples = run(args.reps, data_dir, logs)
            figures = {"cpus": os.cpu_count(), "load_average_before": round(load_before, 2)}
            figures |= summarize(samples, data_dir)
    finally:
        server.stop()

    emit()
    emit(f"{'figure':34} {'value':>10}  target")
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"≤ {target}  {'ok' if value <= target else 'MISSED'}"
        emit(f"{name:34} {value!s:>10}  {verdict}")
    if args.json:
        args.json.write_text(json.dumps({**figures, "samples": samples}, indent=2))


if __name__ == "__main__":
    main()
