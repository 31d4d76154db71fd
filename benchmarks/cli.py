"""Benchmark of the command line's answers: a cold ``nba-archetypes`` process per command, as a
user runs it (not a timed test).

    uv run python -m benchmarks.cli                    # 5 timed runs of each command
    uv run python -m benchmarks.cli --multihost        # against a real MLflow server
    uv run python -m benchmarks.cli --runs 10 --data-dir /tmp/my-data --json figures.json

Each command is a subprocess of the console script (``.venv/bin/nba-archetypes``), configured
by environment variables only; this benchmark imports nothing of the product, so a figure is
what a user waits for, the interpreter's start and the imports included:

* ``player "Kobe Bryant" 2005-06``, ``similar "Kobe Bryant" 2005-06``, ``league`` (every
  season's mix and the biggest shifts) and ``team GSW 2016-17`` (a roster by archetype and the
  team-seasons built alike): the champion's answers (target ≤ 1.5 s);
* ``refresh 2018-19`` (no ``--wait``): the refresh queued in a real Redis (a throwaway
  redis-server, no worker running; emptied before each run, so every run queues a new refresh
  rather than joining the last one) (target ≤ 0.5 s);
* ``status``: workers, queues, refreshes in flight; no worker answers here (target ≤ 0.5 s).

The targets hold for every answer: the median and the maximum of ``--runs`` are both judged.
The runs take turns (player, similar, league, team, refresh, status, player, …), so a busy
moment of the machine does not land on one command only. CPU time is the process's own
(user + system).

Bytecode as a user has it: the commands run without PYTHONDONTWRITEBYTECODE (this machine sets
it), and each runs once untimed before the timed runs, which writes the bytecode it imports.

Data: ``nba-archetypes seed --inline`` (the bundled real seasons and a champion trained on
them, ~1-2 min the first time) into a data directory under /tmp that is kept: the next round
seeds it again, which imports nothing new and skips the training (seconds).

* Single host (default): DATA_STORE=volume, no tracking server (MLflow's SQLite store in the
  data directory).
* ``--multihost``: a real ``mlflow server --serve-artifacts`` (a subprocess; its store kept in
  the data directory's ``server/``) holds the seasons and the runs; the commands run with
  DATA_STORE=mlflow, TRACKING_SERVER_URL and a scratch DATA_DIR (``scratch/``), as a
  container of the multi-host profile does.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    PROJECT_ROOT,
    emit,
    local_redis,
    machine,
    median_max,
    mlflow_server,
    parser,
    report,
    since,
    write_json,
)

CLI = Path(sys.executable).parent / "nba-archetypes"  # the console script uv installs
COMMANDS = {
    "player": ["player", "Kobe Bryant", "2005-06"],
    "similar": ["similar", "Kobe Bryant", "2005-06"],
    "league": ["league"],
    "team": ["team", "GSW", "2016-17"],
    "refresh": ["refresh", "2018-19"],
    "status": ["status"],
}
LIMITS_S = {
    "player": 1.5, "similar": 1.5, "league": 1.5, "team": 1.5, "refresh": 0.5, "status": 0.5,
}  # fmt: skip
TARGETS = {f"{n}_{stat}_s": ("≤", s) for n, s in LIMITS_S.items() for stat in ("median", "max")}
# How this machine differs from a user's: bytecode is not written (PYTHONDONTWRITEBYTECODE=1).
NOT_A_USERS = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    out: str


def run(args: list[str], env: dict[str, str], timeout_s: float = 600) -> Run:
    """One ``nba-archetypes`` process; its wall time and CPU time. A failed command is an error."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(CLI), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    wall = since(started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(
            f"nba-archetypes {' '.join(args)} exited with {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Run(wall, cpu, done.stdout)


def user_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment as a user's shell has it, with the product's settings."""
    return {k: v for k, v in os.environ.items() if k not in NOT_A_USERS} | settings


def seed(env: dict[str, str]) -> None:
    emit("seeding: nba-archetypes seed --inline (the first time ~1-2 min; then seconds)…")
    seeded = run(["seed", "--inline"], env, timeout_s=1800)
    last = seeded.out.strip().splitlines()[-1:] or ["(no output)"]
    emit(f"  {seeded.wall_s:.1f} s: {last[0]}")


def measure(env: dict[str, str], redis_url: str, runs: int) -> dict[str, list[Run]]:
    """An untimed run of each command (writes its bytecode), then ``runs`` timed rounds."""
    import redis

    broker = redis.Redis.from_url(redis_url)

    def once(name: str) -> Run:
        if name == "refresh":
            broker.flushdb()  # a new refresh each time, not one joining the last
        return run(COMMANDS[name], env)

    emit("warm-up: each command once, untimed, writing its bytecode (PYTHONDONTWRITEBYTECODE")
    emit("  unset for the commands, as a user has it)…")
    for name in COMMANDS:
        warm = once(name)
        emit(f"  {name:8} {warm.wall_s:6.2f} s  {(warm.out.strip().splitlines() or [''])[0]}")
    emit(f"timing: {runs} rounds, the commands taking turns…")
    samples: dict[str, list[Run]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name in COMMANDS:
            samples[name].append(once(name))
    return samples


def summarize(samples: dict[str, list[Run]]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, runs in samples.items():
        figures |= median_max(name, [r.wall_s for r in runs])
        figures[f"{name}_cpu_median_s"] = statistics.median(r.cpu_s for r in runs)
    return figures


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    cli.add_argument("--multihost", action="store_true", help="against a real MLflow server")
    cli.add_argument(
        "--data-dir",
        type=Path,
        help="the data directory, kept and reused (default: under /tmp, one per mode)",
    )
    args = cli.parse_args()
    if not CLI.exists():
        raise SystemExit(f"no console script at {CLI}: run `uv sync` first")
    mode = "multihost" if args.multihost else "volume"
    default = Path(tempfile.gettempdir()) / "nba-archetypes-bench-cli" / mode
    data_dir = (args.data_dir or default).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    emit(f"data directory ({mode}): {data_dir}  (kept; the next round reuses it)")

    figures: dict[str, Any] = machine() | {"mode": mode, "runs": args.runs}
    with local_redis() as broker:
        settings = {"REDIS_URL": broker.url, "DATA_DIR": str(data_dir)}
        settings |= {"DATA_STORE": "volume", "TRACKING_SERVER_URL": ""}
        if not args.multihost:
            seed(user_env(settings))
            samples = measure(user_env(settings), broker.url, args.runs)
        else:
            with mlflow_server(data_dir, store_dir=data_dir / "server") as server:
                emit(f"MLflow server: {server.url} (store in {server.dir})")
                settings |= {"DATA_STORE": "mlflow", "TRACKING_SERVER_URL": server.url}
                settings["DATA_DIR"] = str(data_dir / "scratch")
                seed(user_env(settings))
                samples = measure(user_env(settings), broker.url, args.runs)
    figures |= summarize(samples)
    report(figures, TARGETS, digits=2)
    emit(f"cold processes of {CLI}; bytecode written by an untimed run of each command first.")
    emit(f"data directory, kept for the next round: {data_dir}")
    walls = {name: [round(r.wall_s, 3) for r in runs] for name, runs in samples.items()}
    write_json(args.json, {**figures, "data_dir": str(data_dir), "wall_s": walls})


if __name__ == "__main__":
    main()
