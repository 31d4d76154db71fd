"""Benchmark of recovery from a worker killed mid-task (not a timed test).

    uv run python -m benchmarks.recovery               # 20 repetitions
    uv run python -m benchmarks.recovery --reps 6 --json figures.json

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

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    RECORDINGS,
    emit,
    local_mode_env,
    local_redis,
    machine,
    median_max,
    parser,
    quiet_logs,
    report,
    seed_seasons,
    wait_done,
    within,
    write_json,
)

SEASON = "2018-19"
SEEDED = ["2016-17", "2017-18"]
KINDS = ("fetch-retry", "fetch-wait", "train-wait")
RESTART_AFTER_S = 1.0
GIVE_UP_S = 300.0
TARGETS = {
    "new_request_runs_max_s": ("≤", 60.0),
    "lost_work_done_again_max_s": ("≤", 120.0),
    "tasks_lost": ("≤", 0),
    "duplicate_season_writes": ("≤", 0),
    "duplicate_champion_versions": ("≤", 0),
    "partial_files": ("≤", 0),
    "runs_left_running": ("≤", 0),
}


class Workers:
    """Both workers on one data directory; either can be killed and started again."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self._workers: dict[str, tuple[Any, Any]] = {}  # queue -> (context, process)

    @contextmanager
    def running(self) -> Iterator[Workers]:
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


def fetch_repetition(
    workers: Workers, replay: str, data_dir: Path, *, retry: bool
) -> dict[str, Any]:
    from common.queueing import request_refresh
    from replay.server import inject_faults

    inject_faults(replay, ["delay"], season=SEASON)
    ticket = request_refresh(SEASON, force=True)
    if not within(lambda: downloading(ticket.task_id), 120):
        raise RuntimeError("the fetch never started downloading")
    sample: dict[str, Any] = {"kind": "fetch-retry" if retry else "fetch-wait"}
    with WriteCounter(data_dir / "cleaned" / f"{SEASON}.parquet") as writes:
        killed = workers.kill_and_restart("fetch")
        if retry:
            newer = within(lambda: _new_request_started(ticket.task_id), GIVE_UP_S)
            sample["new_request_runs_s"] = round(time.monotonic() - killed, 1) if newer else None
        done = within(lambda: ended(ticket.task_id), GIVE_UP_S)  # a superseded fetch: the newer one
        sample["lost_work_done_again_s"] = round(time.monotonic() - killed, 1) if done else None
        within(settled, GIVE_UP_S)
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
    started = within(lambda: task_status(ticket.task_id).state != "PENDING", 60)
    return ticket.task_id if started else None


def train_repetition(workers: Workers, data_dir: Path) -> dict[str, Any]:
    from common.celery_app import TRAIN_ARCHETYPES, app
    from common.task_status import task_status

    task_id = app.send_task(TRAIN_ARCHETYPES, kwargs={"seasons": None, "force": True}).id

    def searching() -> bool:
        status = task_status(task_id)
        return status.state == "PROGRESS" and status.info.get("done", 0) >= 1

    if not within(searching, GIVE_UP_S):
        raise RuntimeError(f"training {task_id} never reached its search")
    killed = workers.kill_and_restart("train")
    done = within(lambda: ended(task_id), GIVE_UP_S)
    elapsed = round(time.monotonic() - killed, 1) if done else None
    within(settled, GIVE_UP_S)
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
    from replay.server import run_replay_server

    emit(f"seeding {', '.join(SEEDED)} and training a first champion (not timed)…")
    seed_seasons(data_dir, SEEDED)
    samples = []
    with run_replay_server(RECORDINGS, fault_delay_s=30.0) as replay:
        workers = Workers(local_mode_env(data_dir, replay), logs)
        with workers.running():
            wait_done(request_training(debounce_s=0).task_id)
            for n in range(reps):
                kind = KINDS[n % len(KINDS)]
                if kind == "train-wait":
                    sample = train_repetition(workers, data_dir)
                else:
                    retry = kind == "fetch-retry"
                    sample = fetch_repetition(workers, replay, data_dir, retry=retry)
                emit(f"{n + 1:2}. {json.dumps(sample)}")
                samples.append(sample)
    return samples


def summarize(samples: list[dict[str, Any]], data_dir: Path) -> dict[str, Any]:
    def times(name: str) -> list[float]:
        return [s[name] for s in samples if s.get(name) is not None]

    figures: dict[str, Any] = {"repetitions": len(samples)}
    for label in ("new_request_runs", "lost_work_done_again"):
        figures |= median_max(label, times(f"{label}_s"), ndigits=1)
    for kind in ("fetch-wait", "train-wait"):
        values = [s["lost_work_done_again_s"] for s in samples if s["kind"] == kind and
                  s.get("lost_work_done_again_s") is not None]  # fmt: skip
        figures |= {n: v for n, v in median_max(kind, values, ndigits=1).items() if "median" in n}
    figures["tasks_lost"] = sum(s["lost"] for s in samples)
    figures["duplicate_season_writes"] = sum(s.get("duplicate_season_writes", 0) for s in samples)
    figures["duplicate_champion_versions"] = sum(
        s.get("duplicate_champion_versions", 0) for s in samples
    )
    return figures | damage_checks(data_dir)


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--reps", type=int, default=20, help="repetitions (default 20)")
    args = cli.parse_args()

    figures: dict[str, Any] = machine()
    with local_redis(persistent=True):  # before common.celery_app is imported
        quiet_logs()
        with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
            data_dir, logs = Path(tmp) / "data", Path(tmp) / "logs"
            logs.mkdir()
            samples = run(args.reps, data_dir, logs)
            figures |= summarize(samples, data_dir)
    report(figures, TARGETS, digits=1)
    write_json(args.json, {**figures, "samples": samples})


if __name__ == "__main__":
    main()
