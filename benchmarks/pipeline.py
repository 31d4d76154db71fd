"""Benchmark of the core pipeline: prints figures against the targets (not a timed test).

    uv run python -m benchmarks.pipeline            # everything (~5 min on 2 cores)

Measures, on the bundled real seasons: cleaning time per season; training time and candidates
per second on one season and on all seasons (MLflow logging included); peak memory of a
one-season training process; enqueue → start latency through local Redis. The archetypes'
quality (stability, held-out seasons, comparisons) is benchmarks/archetypes.py's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import (
    PROJECT_ROOT,
    child_figures,
    emit,
    local_redis,
    machine,
    parser,
    quiet_logs,
    repeat,
    report,
    seed_seasons,
    timed,
    write_json,
)

MEMORY_RUNS = 5
ONE_SEASON = "2018-19"
LATENCY_TASK = "bench.started_at"
LATENCY_QUEUE = "bench"

TARGETS = {
    "clean_ms_per_season": ("≤", 10.0),
    "train_one_season_s": ("≤", 5.0),
    "train_all_seasons_s": ("≤", 60.0),
    "one_season_peak_rss_mib": ("≤", 300.0),
    "enqueue_to_start_p50_ms": ("≤", 5.0),
}


def bench_cleaning() -> dict[str, float]:
    from common.seasons import SeasonType
    from common.settings import Settings
    from workers.fetch.cleaning import clean_season
    from workers.fetch.recordings import bundled_recordings, recorded_per_mode
    from workers.fetch.response import parse_dashboard

    settings = Settings()
    clean_ms, parse_ms = [], []
    for season, files in sorted(bundled_recordings(settings.recordings_dir).items()):
        bodies = {t: (p.read_bytes(), recorded_per_mode(p)) for t, p in files.items()}
        started = time.perf_counter()
        tables = {t: parse_dashboard(b, season, t, m) for t, (b, m) in bodies.items()}
        parse_ms.append((time.perf_counter() - started) * 1000)
        runs = repeat(
            lambda tables=tables: clean_season(
                tables[SeasonType.REGULAR],
                tables.get(SeasonType.PLAYOFFS),
                playoff_weight=settings.playoff_weight,
                min_games=settings.eligible_min_games,
                min_minutes=settings.eligible_min_minutes,
            ),
            5,
        )
        clean_ms.append(min(runs) * 1000)
    return {
        "clean_ms_per_season": statistics.median(clean_ms),
        "clean_ms_max": max(clean_ms),
        "parse_ms_per_season": statistics.median(parse_ms),
    }


def bench_training(data_dir: Path) -> dict[str, float]:
    """Cold (first in a process: store set-up, imports warm) and warm trainings."""
    os.environ["DATA_DIR"] = str(data_dir)
    from common.seasons import Season
    from common.settings import Settings
    from workers.train.training import train_archetypes

    settings = Settings(data_dir=data_dir)
    one = [Season.parse(ONE_SEASON)]
    with timed() as cold:
        first = train_archetypes(settings, one, force=True)
    with timed() as warm:
        train_archetypes(settings, one, force=True)
    with timed() as all_seasons:
        everything = train_archetypes(settings, force=True)
    return {
        "candidates": first.candidates,
        "train_one_season_cold_s": cold.wall_s,
        "train_one_season_s": warm.wall_s,
        "candidates_per_s_one_season": first.candidates / warm.wall_s,
        "train_all_seasons_s": all_seasons.wall_s,
        "candidates_per_s_all_seasons": everything.candidates / all_seasons.wall_s,
        "all_seasons_players": everything.players,
    }


def bench_one_season_memory(data_dir: Path) -> dict[str, float]:
    """Peak RSS of a fresh process running one one-season training (median of MEMORY_RUNS
    processes, and the worst), and how much of it the
    training itself adds on top of the imported libraries (what a warm worker pays per task)."""
    code = f"""
import json
from common.seasons import Season
from common.settings import Settings
from workers.train.training import train_archetypes
from workers.train.tracking import ArchetypeTracker

settings = Settings(data_dir={str(data_dir)!r})
ArchetypeTracker(settings)  # the store, opened as a worker does before its first task
baseline = status_kib("VmRSS")
train_archetypes(settings, [Season.parse({ONE_SEASON!r})], force=True)
print("FIGURES " + json.dumps({{"baseline_kib": baseline, "peak_kib": status_kib("VmHWM")}}))
"""
    runs = [child_figures(code) for _ in range(MEMORY_RUNS)]
    peaks = [r["peak_kib"] / 1024 for r in runs]
    baseline = statistics.median(r["baseline_kib"] for r in runs) / 1024
    return {
        "one_season_peak_rss_mib": statistics.median(peaks),
        "one_season_peak_rss_max_mib": max(peaks),
        "one_season_libraries_rss_mib": baseline,
        "one_season_training_adds_mib": statistics.median(peaks) - baseline,
    }


def bench_latency(samples: int = 200) -> dict[str, float]:
    """Publish a no-op task and time until a real worker (same Celery settings) starts it."""
    with local_redis() as server:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "benchmarks.pipeline", "worker", "-Q",
             LATENCY_QUEUE, "-c", "1", "--without-gossip", "--without-mingle", "--loglevel",
             "WARNING"],
            cwd=PROJECT_ROOT, env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            return _latencies(server.url, samples)
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def _latencies(redis_url: str, samples: int) -> dict[str, float]:
    import redis

    from common.celery_app import create_app
    from common.settings import get_settings
    from devkit.services import wait_until

    get_settings.cache_clear()  # settings read before this Redis was REDIS_URL
    app = create_app()
    client = redis.Redis.from_url(redis_url)
    wait_until(lambda: app.control.ping(timeout=0.5), "latency worker", timeout_s=60)
    latencies = []
    for i in range(samples + 20):
        sent = time.time()
        app.send_task(LATENCY_TASK, args=[f"bench:{i}"], queue=LATENCY_QUEUE)
        started = float(wait_until(lambda k=f"bench:{i}": client.get(k), "task start",
                                   interval_s=0.0005))  # fmt: skip
        if i >= 20:  # the first tasks warm connections up
            latencies.append((started - sent) * 1000)
    latencies.sort()
    return {
        "enqueue_to_start_p50_ms": statistics.median(latencies),
        "enqueue_to_start_p95_ms": latencies[int(0.95 * len(latencies))],
    }


def main() -> None:
    args = parser(__doc__).parse_args()
    quiet_logs()
    figures: dict[str, object] = machine()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        data_dir = Path(tmp)
        emit("seeding the bundled seasons…")
        seed_seasons(data_dir)
        emit("cleaning…")
        figures |= bench_cleaning()
        emit("training (one season cold + warm, then all seasons)…")
        figures |= bench_training(data_dir)
        emit("memory of a one-season training process…")
        figures |= bench_one_season_memory(data_dir)
        emit("enqueue → start latency…")
        figures |= bench_latency()
    report(figures, TARGETS)
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
else:
    # Imported by the latency worker (`celery -A benchmarks.pipeline`): one no-op task
    # that records when it started, on the project's Celery app and settings.
    import redis as _redis

    from common.celery_app import app
    from common.settings import get_settings

    _store = _redis.Redis.from_url(get_settings().redis_url)

    @app.task(name=LATENCY_TASK)
    def started_at(key: str) -> None:
        _store.set(key, repr(time.time()), ex=600)
