"""``--wait``: follow queued work to its real end, with progress bars on a terminal.

While Redis is away it says so once and keeps waiting; work whose worker died is followed
through its re-run (``common.recovery`` queues it again once a worker is up), until
``--timeout``. What to follow comes from :mod:`cli.work`, which queues it.
"""

from __future__ import annotations

import time

from tqdm import tqdm

from cli.output import EXIT_FAILED, EXIT_INTERRUPTED, echo, failure_lines, warn
from cli.work import seeded_line
from common.progress import INTERRUPTED_HINT, fetch_progress
from common.queue_failures import is_queue_error, queue_unreachable
from common.queueing import Ticket
from common.results import FetchResult, SeedResult, TrainingResult
from common.settings import get_settings
from common.task_status import INTERRUPTED, TaskStatus, task_status

POLL_S = 0.5


def follow_refresh(tickets: list[Ticket], timeout: float, verbose: bool) -> int:
    """Each fetch to its end, then the trainings they queued; the exit code of the worst."""
    follower = Follower(timeout)
    trainings: set[str] = set()
    codes: list[int] = []  # one exit code per fetch that ended
    shown: dict[str, str] = {}  # task id -> the last retry line printed for it
    with tqdm(total=len(tickets), desc="fetching", unit="season", disable=None) as bar:
        remaining = {t.task_id: str(t.season) for t in tickets}
        while remaining and not follower.timed_out:
            for task_id, season in list(remaining.items()):
                status = follower.status(task_id, season)
                progress = fetch_progress(status, season) if status is not None else None
                if progress and progress.retry and shown.get(task_id) != progress.message:
                    shown[task_id] = progress.message  # each failed attempt, once
                    warn(progress.message)  # "2018-19 Regular Season: attempt 1 of 5 failed…"
                if status is None or not status.ended:
                    continue
                del remaining[task_id]
                bar.update()
                codes.append(_fetch_ended(season, status, verbose))
                if status.state == "SUCCESS":
                    fetched = status.result(FetchResult)
                    trainings.update([fetched.training_task_id] if fetched.training_task_id else [])
            follower.pause()
    for task_id, season in remaining.items():
        codes.append(follower.gave_up(task_id, season))
    codes += [_training(task_id, follower, verbose) for task_id in sorted(trainings)]
    return EXIT_FAILED if EXIT_FAILED in codes else max(codes, default=0)


def _fetch_ended(season: str, status: TaskStatus, verbose: bool) -> int:
    """Print how one fetch ended; its exit code."""
    if status.state == "SUCCESS":
        fetched = status.result(FetchResult)
        echo(fetched.summary)
        return 0
    warn("\n".join(failure_lines(f"{season}: FAILED: ", status.error, verbose)))
    return EXIT_FAILED


def follow_training(task_id: str, timeout: float, verbose: bool) -> int:
    return _training(task_id, Follower(timeout), verbose)


def follow_seed(task_id: str, timeout: float, verbose: bool) -> int:
    """The seeding, then the training it queued."""
    follower = Follower(timeout)
    status = _wait_for(task_id, follower, "seeding")
    if status is None or not status.ended:
        return follower.gave_up(task_id, "seed")
    if status.state != "SUCCESS":
        warn("\n".join(failure_lines(f"seed {status.state}: ", status.error, verbose)))
        return EXIT_FAILED
    seeded = status.result(SeedResult)
    echo(seeded_line(seeded.seeded))
    if not seeded.training_task_id:
        return 0
    return _training(seeded.training_task_id, follower, verbose)


class Follower:
    """Polls task statuses until a deadline, telling a person what the wait is about: Redis
    away (once, and once when it is back), a task interrupted (its worker died) and running
    again. Interrupted work is waited for, since it runs again by itself."""

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.queue_away = False
        self.interrupted: set[str] = set()

    @property
    def timed_out(self) -> bool:
        return time.monotonic() >= self.deadline

    def pause(self) -> None:
        time.sleep(POLL_S)

    def status(self, task_id: str, what: str) -> TaskStatus | None:
        """The task's status; ``None`` while Redis is away. Interrupted counts as running."""
        try:
            status = task_status(task_id)
        except Exception as error:
            if not is_queue_error(error):
                raise
            if not self.queue_away:
                self.queue_away = True
                url = get_settings().redis_url
                warn(f"{queue_unreachable(url, error)}; waiting for it to come back…")
            return None
        if self.queue_away:
            self.queue_away = False
            warn("the task queue is back; following the work again")
        if status.state == INTERRUPTED and task_id not in self.interrupted:
            self.interrupted.add(task_id)
            warn(
                f"{what}: interrupted, its worker stopped; waiting for it to run again "
                "(it is queued again within a minute, and runs once a worker is up)"
            )
        elif status.state != INTERRUPTED and task_id in self.interrupted:
            self.interrupted.discard(task_id)
            warn(f"{what}: running again")
        return status

    def gave_up(self, task_id: str, what: str) -> int:
        """The exit code of work still not ended at the deadline (one line said why)."""
        if self.queue_away:
            warn(f"{what}: timed out while the task queue was unreachable")
            return EXIT_FAILED
        if task_id in self.interrupted:
            warn(f"{what}: INTERRUPTED: its worker stopped and no worker ran it again in time. "
                 f"{INTERRUPTED_HINT}")  # fmt: skip
            return EXIT_INTERRUPTED
        warn(f"{what}: timed out waiting (--timeout); it goes on in the background")
        return EXIT_FAILED


def _training(task_id: str, follower: Follower, verbose: bool) -> int:
    status = _wait_for(task_id, follower, "training")
    if status is None or not status.ended:
        return follower.gave_up(task_id, "training")
    if status.state == "SUCCESS":
        echo(f"training: {status.result(TrainingResult).message}")
        return 0
    warn("\n".join(failure_lines(f"training {status.state}: ", status.error, verbose)))
    return EXIT_FAILED


def _wait_for(task_id: str, follower: Follower, label: str) -> TaskStatus | None:
    """Follow one task with a progress bar until it ends or the deadline passes."""
    status = None
    layout = "{l_bar}{bar}| {postfix}"
    with tqdm(total=100, desc=label, unit="%", bar_format=layout, disable=None) as bar:
        while not follower.timed_out:
            status = follower.status(task_id, label) or status
            if status is not None and (progress := status.progress) and progress.fraction:
                bar.n = round(100 * progress.fraction)
                bar.set_postfix_str(progress.message)
            if status is not None and status.ended:
                bar.n = 100
                bar.refresh()
                return status
            follower.pause()
    return status
