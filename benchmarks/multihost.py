"""Benchmark of the multi-host profile's costs (not a test): prints figures.

    uv run python -m benchmarks.multihost                 # 27-season backfills, trainings
    uv run python -m benchmarks.multihost --seasons 8     # a shorter backfill
    uv run python -m benchmarks.multihost --no-backfill   # the trainings only
    uv run python -m benchmarks.multihost --gap 0.2 --no-training   # backfills, local gap

The profile's code paths, as processes on this machine (what the code and MLflow cost, without
Docker's): a real Redis, a real MLflow tracking server serving artifacts
(``mlflow server --serve-artifacts``; SQLite behind it here, PostgreSQL in compose), the replay
server as stats.nba.com, and ``DATA_STORE=mlflow``: every worker has a scratch directory of
its own and shares nothing but Redis and the server.

Figures:

* **Backfill**: from publishing refreshes of every season (``force``, as
  ``nba-archetypes refresh 1996-97:2022-23 --force`` does) until the last fetch ends, with 1
  and with 2 fetch workers at the same politeness gap (``--gap``: the default 1 s between two
  requests, shared through Redis): requests made, seasons per worker, the smallest gap seen.
  The replay server holds PerGame recordings only, so each segment takes two requests (Totals
  answered empty, then PerGame); the real site answers Totals at once (half the requests).
* **Training** on every season, inline in a child process (``nba-archetypes train --inline``,
  the task's code): wall and CPU time and peak memory (the child's VmHWM), with the SQLite
  store in the data directory (single host) and over HTTP to the server (multi-host, its
  scratch already holding the seasons); and the first copy of every season into an empty
  scratch (what a new worker or app container does once).

On 2 shared cores the wall times stretch with whatever else runs: say so when quoting them.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    RECORDINGS,
    bundled_seasons,
    child_figures,
    emit,
    local_redis,
    machine,
    mlflow_server,
    parser,
    write_json,
)
from devkit.services import own_mlflow_names

DEFAULT_GAP_S = 1.0  # NBA_MIN_REQUEST_GAP_S's default
CHILD = """
import json, resource, time
from cli.main import main
wall = time.perf_counter()
code = main(["train", "--inline"])
usage = resource.getrusage(resource.RUSAGE_SELF)
print("FIGURES " + json.dumps({"code": code, "wall_s": time.perf_counter() - wall,
      "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": status_kib("VmHWM") / 1024}))
"""


def multihost_env(server_url: str, scratch: Path, own: dict[str, str]) -> dict[str, str]:
    return own | {
        "TRACKING_SERVER_URL": server_url,
        "DATA_STORE": "mlflow",
        "DATA_DIR": str(scratch),
        "SEED_ON_EMPTY": "false",
    }


def backfill(
    workers: int, seasons: list[str], server_url: str, replay_url: str, root: Path, *, gap_s: float
) -> dict[str, Any]:
    """Refresh ``seasons`` with ``workers`` fetch workers; wall time until the last fetch ends."""
    from common.queueing import request_refresh
    from common.redis_client import redis_client
    from common.task_status import task_status
    from devkit.services import celery_workers, wait_until, worker_env
    from replay.server import clear_requests, received_requests

    redis_client().flushdb()
    clear_requests(replay_url)
    env = worker_env(root / "unused", replay_url) | {"NBA_MIN_REQUEST_GAP_S": str(gap_s)}
    env |= multihost_env(server_url, root / "unused", own_mlflow_names())
    specs = [
        ("workers.fetch.tasks", "fetch", {"DATA_DIR": str(root / f"fetch-{workers}-{i}")})
        for i in range(workers)
    ]
    logs = root / f"logs-{workers}"
    logs.mkdir()
    with celery_workers(specs, env, logs):
        started = time.perf_counter()
        tickets = [request_refresh(season, force=True) for season in seasons]
        for ticket in tickets:
            wait_until(
                lambda t=ticket: task_status(t.task_id).state in {"SUCCESS", "FAILURE"},
                f"fetch {ticket.task_id}",
                timeout_s=1800,
                interval_s=0.2,
            )
        wall = time.perf_counter() - started
        failed = [t.task_id for t in tickets if task_status(t.task_id).state != "SUCCESS"]
    stamps = sorted(r["time"] for r in received_requests(replay_url))
    per_worker = [
        (logs / f"fetch-{i}.log").read_text().count("stored in the MLflow store")
        for i in range(workers)
    ]
    return {
        "workers": workers,
        "gap_s": gap_s,
        "seasons": len(seasons),
        "wall_s": wall,
        "requests": len(stamps),
        "seasons_per_worker": per_worker,
        "smallest_gap_s": min((b - a for a, b in itertools.pairwise(stamps)), default=None),
        "failed": failed,
    }


def seed_both(root: Path, server_url: str, own: dict[str, str]) -> tuple[Path, Path]:
    """Every bundled season into a single-host data directory and into the MLflow store."""
    from common.season_store import open_data
    from common.settings import Settings
    from workers.fetch.recordings import seed_from_recordings

    volume = root / "volume"
    plain = Settings(data_dir=volume, data_store="volume", tracking_server_url="")
    seed_from_recordings(RECORDINGS, open_data(plain), plain)
    writer = Settings(
        data_dir=root / "writer",
        tracking_server_url=server_url,
        data_store="mlflow",
        **{k.lower(): v for k, v in own.items()},
    )
    seed_from_recordings(RECORDINGS, open_data(writer).sync(), writer)
    return volume, writer.data_dir


def first_copy(server_url: str, scratch: Path, own: dict[str, str]) -> float:
    """Seconds to copy every season from the store into an empty scratch directory."""
    from common.season_store import open_data
    from common.settings import Settings

    settings = Settings(
        data_dir=scratch,
        tracking_server_url=server_url,
        data_store="mlflow",
        **{k.lower(): v for k, v in own.items()},
    )
    started = time.perf_counter()
    open_data(settings).sync()
    return time.perf_counter() - started


def training(env: dict[str, str]) -> dict[str, Any]:
    """Train on every season in a child process (the task's code, inline); its figures."""
    return child_figures(CHILD, env)


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--seasons", type=int, default=27, help="seasons in the backfill")
    cli.add_argument("--no-backfill", action="store_true", help="only the trainings")
    cli.add_argument("--no-training", action="store_true", help="only the backfills")
    cli.add_argument(
        "--gap", type=float, default=DEFAULT_GAP_S, help="politeness gap, seconds (default 1)"
    )
    args = cli.parse_args()

    seasons = bundled_seasons()[-args.seasons :]
    figures: dict[str, Any] = machine()
    with (
        local_redis(),  # before common.celery_app is imported
        tempfile.TemporaryDirectory(prefix="bench-multihost-") as tmp,
        mlflow_server(Path(tmp)) as server,
    ):
        from replay.server import run_replay_server

        root = Path(tmp)
        if not args.no_backfill:
            with run_replay_server(RECORDINGS, fault_delay_s=1.0) as replay_url:
                for workers in (1, 2):
                    emit(f"backfill of {len(seasons)} seasons, {workers} fetch worker(s)…")
                    figures[f"backfill_{workers}"] = backfill(
                        workers, seasons, server.url, replay_url, root, gap_s=args.gap
                    )
                    emit(f"  {json.dumps(figures[f'backfill_{workers}'], default=str)}")
        if not args.no_training:
            figures |= trainings(root, server.url)
    summary(figures)
    write_json(args.json, figures)


def trainings(root: Path, server_url: str) -> dict[str, Any]:
    """The first copy of every season into an empty scratch, then a training on every season
    with each store."""
    figures: dict[str, Any] = {}
    own = own_mlflow_names()
    emit("seeding every bundled season into a data directory and into the store…")
    volume, _ = seed_both(root, server_url, own)
    figures["first_copy_s"] = first_copy(server_url, root / "train-http", own)
    emit(f"  first copy of every season: {figures['first_copy_s']:.1f} s")
    emit("training on every season, SQLite store in the data directory…")
    single_host = {"DATA_DIR": str(volume), "DATA_STORE": "volume", "TRACKING_SERVER_URL": ""}
    figures["train_sqlite"] = training(single_host | own_mlflow_names())
    emit(f"  {figures['train_sqlite']}")
    emit("training on every season, over HTTP to the MLflow server…")
    figures["train_http"] = training(multihost_env(server_url, root / "train-http", own))
    emit(f"  {figures['train_http']}")
    return figures


def summary(figures: dict[str, Any]) -> None:
    emit()
    loads = ", ".join(f"{x:.1f}" for x in figures["load_average_before"])
    emit(f"{figures['cpus']} CPUs, load average at the start: {loads}")
    for workers in (1, 2):
        run = figures.get(f"backfill_{workers}")
        if run:
            emit(
                f"backfill, {workers} fetch worker(s): {run['wall_s']:.1f} s for "
                f"{run['seasons']} seasons, {run['requests']} requests, smallest gap "
                f"{run['smallest_gap_s']:.2f} s (gap {run['gap_s']} s), seasons per worker "
                f"{run['seasons_per_worker']}, failed {len(run['failed'])}"
            )
    if "first_copy_s" in figures:
        emit(f"first copy of every season into an empty scratch: {figures['first_copy_s']:.1f} s")
    for name, label in (("train_sqlite", "SQLite, data directory"), ("train_http", "HTTP")):
        run = figures.get(name)
        if run is None:
            continue
        emit(
            f"training, {label}: {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU, "
            f"peak {run['peak_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
