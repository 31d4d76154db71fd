"""Where a refresh stands, for people: one follower for the app and the CLI.

A refresh is followed through its two tasks, the fetch (download → clean) and the training it
asks for (train → champion), both polled by id (``common.task_status``). The app draws the
result as steps and a bar; the CLI prints its lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.failures import split_error
from common.results import FetchResult, TrainingResult
from common.task_status import INTERRUPTED, REVOKED, TaskStatus, task_status

STEPS = ("fetch", "clean", "train", "champion")
INTERRUPTED_HINT = "It runs again by itself within 2 minutes once a worker is up, or retry now."
CANCELLED = "revoked by an operator (Flower, or celery control revoke): ask again to run it"


@dataclass(frozen=True)
class RefreshProgress:
    step: str  # one of STEPS, the one in progress (or the last one reached)
    message: str
    fraction: float  # 0..1 over the whole refresh
    done: bool = False
    failed: bool = False
    details: str = ""  # a failure's technical details (the message is its one-line cause)
    retry: bool = False  # the message is a failed attempt that will be retried

    @property
    def state(self) -> str:
        return "error" if self.failed else "complete" if self.done else "running"


def follow_refresh(fetch_task_id: str, season: str) -> RefreshProgress:
    """Where a refresh stands, from the states and progress its tasks report."""
    fetch = task_status(fetch_task_id)
    if fetch.state != "SUCCESS":
        return fetch_progress(fetch, season)
    fetched = fetch.result(FetchResult)
    if not fetched.training_task_id:
        return RefreshProgress("clean", fetched.summary, 1.0, done=True)
    return training_progress(task_status(fetched.training_task_id), fetched.summary)


def fetch_progress(fetch: TaskStatus, season: str) -> RefreshProgress:
    """A fetch that has not succeeded (yet): waiting, running, failed or interrupted."""
    if fetch.state == "FAILURE":
        return _failed("fetch", f"Fetching {season} failed", fetch.error)
    if fetch.state == REVOKED:
        return _failed("fetch", f"Fetching {season} was cancelled", CANCELLED)
    if fetch.state == INTERRUPTED:
        return _interrupted("fetch", f"Fetching {season}", "fetch")
    if fetch.state in {"PENDING", "RECEIVED"}:
        return RefreshProgress("fetch", f"{season}: waiting for a fetch worker…", 0.02)
    if fetch.state in {"STARTED", "RETRY"}:
        return RefreshProgress("fetch", f"{season}: fetch started…", 0.05)
    if (progress := fetch.progress) is not None:
        step = progress.stage or "fetch"
        fraction = 0.15 if step == "fetch" else 0.35
        return RefreshProgress(step, progress.message or step, fraction, retry=progress.retry)
    return RefreshProgress("fetch", f"{season}: {fetch.state.lower()}", 0.05)


def training_progress(training: TaskStatus, stored: str = "") -> RefreshProgress:
    """A training asked for by a fetch (``stored``: what the fetch stored, one sentence)."""
    lead = f"{stored} " if stored else ""
    if training.state == "FAILURE":
        return _failed("train", f"{lead}Training failed", training.error)
    if training.state == REVOKED:
        return _failed("train", f"{lead}Training was cancelled", CANCELLED)
    if training.state == INTERRUPTED:
        return _interrupted("train", f"{lead}Training", "training")
    progress = training.progress
    if progress is not None and progress.fraction is not None:
        message = f"Training: {progress.message}"
        return RefreshProgress("train", message, 0.4 + 0.55 * progress.fraction)
    if training.state != "SUCCESS":
        message = (
            f"{lead}Training queued (it starts once the other refreshes in flight have ended)…"
        )
        return RefreshProgress("train", message.lstrip(), 0.4)
    result = training.result(TrainingResult)
    live = result.live_version
    if result.status == "promoted" and live:
        details = ", ".join(
            part
            for part in (
                f"{result.n_archetypes} archetypes" if result.n_archetypes else "",
                f"weakest archetype's stability {result.min_jaccard:.2f}"
                if result.min_jaccard is not None
                else "",
                f"model {result.winner}" if result.winner else "",
            )
            if part
        )
        message = f"New champion v{live} is live" + (f": {details}." if details else ".")
    elif result.status == "kept-champion" and live:
        # The champion's own model, republished on every season (the new one included).
        message = f"Champion kept and republished as v{live} with every season."
    else:
        message = result.message or "Training finished."
    return RefreshProgress("champion", message, 1.0, done=True)


def _failed(step: str, what: str, error: str) -> RefreshProgress:
    """``what: cause``, the failure's technical details kept apart."""
    headline, details = split_error(error)
    message = f"{what}: {headline}"
    return RefreshProgress(
        step, message, _STOPPED_AT[step], done=True, failed=True, details=details
    )


def _interrupted(step: str, what: str, worker: str) -> RefreshProgress:
    return RefreshProgress(
        step,
        f"{what} was interrupted: the {worker} worker stopped. {INTERRUPTED_HINT}",
        _STOPPED_AT[step],
        done=True,
        failed=True,
    )


# Where the bar stops when a task ends badly: a quarter in, or half-way once fetched.
_STOPPED_AT = {"fetch": 0.25, "train": 0.5}
