"""What every benchmark does the same way: its command line (``--json PATH``), the figures
table against the targets, timing, the machine it ran on, and the local services and data it
needs (through ``devkit``, which the tests share).

Product modules are imported inside the functions that use them: a benchmark makes a
throwaway Redis its ``REDIS_URL`` (:func:`local_redis`) before ``common.celery_app`` is first
imported, and ``benchmarks.cli`` times the console script without importing the product.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from devkit.figures import emit
from devkit.services import PROJECT_ROOT, RECORDINGS, MlflowServer, RedisServer, wait_until

T = TypeVar("T")

# A target: (comparison, limit), the comparison "≤" or "≥". Figures without one are shown
# for information.
Target = tuple[str, float]

# --- Command line and figures ---------------------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The benchmark's command line: its module docstring as ``--help``, and ``--json PATH``."""
    summary, _, details = (doc or "").strip().partition("\n")
    spec = getattr(sys.modules["__main__"], "__spec__", None)  # run as python -m benchmarks.x
    parser = argparse.ArgumentParser(
        prog=f"python -m {spec.name}" if spec else None,
        description=summary,
        epilog=details.strip("\n") or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the figures to PATH (JSON)"
    )
    return parser


def _met(value: float, target: Target) -> bool:
    op, limit = target
    return value <= limit if op == "≤" else value >= limit


def verdict(value: Any, target: Target | None, unit: str = "") -> str:
    """``≤ 5  ok`` or ``≤ 5 s  MISSED``; empty without a target, or when nothing was measured."""
    if target is None or not isinstance(value, int | float):
        return ""
    return f"{target[0]} {target[1]:g}{unit}  {'ok' if _met(value, target) else 'MISSED'}"


def _shown(value: Any, digits: int) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, list | tuple) and all(isinstance(v, float) for v in value):
        return " ".join(f"{v:.2f}" for v in value)
    return str(value)


def report(
    figures: Mapping[str, Any], targets: Mapping[str, Target] | None = None, *, digits: int = 3
) -> None:
    """The figures table: every figure, its target and ``ok`` / ``MISSED``; then the count."""
    targets = targets or {}
    width = max((len(name) for name in figures), default=6) + 2
    emit()
    emit(f"{'figure':{width}}{'value':>14}  target")
    for name, value in figures.items():
        line = f"{name:{width}}{_shown(value, digits):>14}  {verdict(value, targets.get(name))}"
        emit(line.rstrip())
    judged = [n for n in targets if isinstance(figures.get(n), int | float)]
    missed = [n for n in judged if not _met(figures[n], targets[n])]
    emit(f"targets met: {len(judged) - len(missed)} of {len(judged)}")


def write_json(path: Path | None, data: Mapping[str, Any]) -> None:
    """``--json PATH``: the figures (and whatever else the benchmark keeps) as JSON."""
    if path is not None:
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        emit(f"figures written to {path}")


def machine() -> dict[str, Any]:
    """The machine at the start: on 2 shared cores, wall times stretch with whatever else runs
    (CPU times do not), so every benchmark says what the load was."""
    return {
        "cpus": os.cpu_count() or 0,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],  # 1, 5, 15 min
    }


def quiet_logs() -> None:
    from common.logs import configure_logging

    configure_logging("WARNING")


# --- Timing ---------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall and CPU seconds of a block (CPU: this process, every thread)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall_s = time.perf_counter() - wall
        timing.cpu_s = time.process_time() - cpu


def since(start: float) -> float:
    """Seconds since ``start`` (a ``time.perf_counter()``)."""
    return time.perf_counter() - start


def repeat(call: Callable[[], object], runs: int, *, warmups: int = 0) -> list[float]:
    """Wall seconds of each of ``runs`` calls, after ``warmups`` untimed ones."""
    for _ in range(warmups):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(since(started))
    return times


def median_max(
    name: str, values: Sequence[float], unit: str = "s", ndigits: int | None = None
) -> dict[str, float]:
    """``{name}_median_{unit}`` and ``{name}_max_{unit}``; nothing when nothing was measured."""
    if not values:
        return {}
    median, worst = statistics.median(values), max(values)
    if ndigits is not None:
        median, worst = round(median, ndigits), round(worst, ndigits)
    return {f"{name}_median_{unit}": median, f"{name}_max_{unit}": worst}


# Defined in every child: a field of /proc/self/status in KiB. Peak memory is VmHWM, not
# getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child spawned by a big
# parent (a benchmark after an all-season training) would report the parent's size.
_STATUS_KIB = """
def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
"""
_FIGURES = "FIGURES "


def child_figures(
    code: str, env: Mapping[str, str] | None = None, timeout_s: float = 1800
) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter in the project (``env`` over this process's, and
    ``status_kib(field)`` defined); the JSON object it printed on a line ``FIGURES {...}``."""
    result = subprocess.run(
        [sys.executable, "-c", _STATUS_KIB + code],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith(_FIGURES)), None)
    if line is None or result.returncode != 0:
        raise RuntimeError(f"child failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(line.removeprefix(_FIGURES))


# --- Local services and data ----------------------------------------------------------------


@contextmanager
def local_redis(*, persistent: bool = False) -> Iterator[RedisServer]:
    """A throwaway redis-server, this process's ``REDIS_URL`` while it runs (set before
    ``common.celery_app`` is first imported: the Celery app reads it once)."""
    server = RedisServer(persistent=persistent)
    before = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = server.url
    try:
        yield server
    finally:
        server.stop()
        if before is None:
            os.environ.pop("REDIS_URL", None)
        else:
            os.environ["REDIS_URL"] = before


@contextmanager
def mlflow_server(log_dir: Path, store_dir: Path | None = None) -> Iterator[MlflowServer]:
    """A real ``mlflow server --serve-artifacts`` (the multi-host profile's); ``store_dir``
    keeps its runs and artifacts for another round."""
    server = MlflowServer(log_dir, store_dir)
    try:
        yield server
    finally:
        server.stop()


def bundled_seasons() -> list[str]:
    return sorted({p.name.split("_")[1] for p in RECORDINGS.glob("leaguedashplayerstats_*")})


def seed_seasons(data_dir: Path, seasons: Sequence[str] | None = None) -> None:
    """Import the bundled recordings (of ``seasons`` only, if given) into ``data_dir``, as the
    fetch worker's seeding does."""
    from common.settings import Settings
    from common.storage import DataDir
    from workers.fetch.recordings import seed_from_recordings

    settings = Settings(data_dir=data_dir)
    if seasons is None:
        seed_from_recordings(settings.recordings_dir, DataDir(data_dir), settings)
        return
    with tempfile.TemporaryDirectory(prefix="bench-recordings-") as chosen:
        for season in seasons:
            for path in settings.recordings_dir.glob(f"leaguedashplayerstats_{season}_*"):
                (Path(chosen) / path.name).symlink_to(path)
        seed_from_recordings(Path(chosen), DataDir(data_dir), settings)


def local_mode_env(data_dir: Path, replay_url: str) -> dict[str, str]:
    """What scripts/run_local.sh sets for the workers; everything else at its default."""
    return {
        "DATA_DIR": str(data_dir),
        "NBA_STATS_BASE_URL": f"{replay_url}/stats",
        "NBA_MIN_REQUEST_GAP_S": "0.2",
        "SEED_ON_EMPTY": "false",
    }


def wait_done(task_id: str, timeout_s: float = 900, poll_s: float = 0.1) -> dict[str, Any]:
    """Until the task has ended; its status. A failed task is an error."""
    from common.task_status import task_status

    def done() -> dict[str, Any] | None:
        status = task_status(task_id)
        return status if status.state in {"SUCCESS", "FAILURE"} else None

    status = wait_until(done, f"task {task_id}", timeout_s=timeout_s, interval_s=poll_s)
    if status.state != "SUCCESS":
        raise RuntimeError(f"task {task_id} failed: {status.info}")
    return status


def within(check: Callable[[], T], timeout_s: float) -> T | None:
    """``check``'s first truthy answer within ``timeout_s``, or None: for what a benchmark
    counts (a lost task) rather than fails on."""
    try:
        return wait_until(check, "a benchmark's condition", timeout_s=timeout_s)
    except TimeoutError:
        return None
