"""Refresh requests from the app, and what their progress looks like to a person.

A refresh is followed through its two tasks: the fetch (download → clean) and the training it
enqueues (train → champion). Both are polled by id through the Celery result backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from common.failures import INTERRUPTED, queue_problem, split_error
from common.pipeline import Ticket, request_refresh, task_status
from common.settings import get_settings

STEPS = ("fetch", "clean", "train", "champion")


@st.cache_data(ttl=5, show_spinner=False)
def broker_problem() -> str | None:
    """None when Redis answers; otherwise why refreshes are unavailable right now (one line,
    naming ``REDIS_URL``, as the CLI says it)."""
    problem = queue_problem(get_settings().redis_url, timeout_s=0.5)
    return problem[0].upper() + problem[1:] if problem else None


def publish(season: str, force: bool) -> Ticket:
    return request_refresh(season, force=force)


@dataclass(frozen=True)
class RefreshProgress:
    step: str  # one of STEPS, the one in progress (or the last one reached)
    message: str
    fraction: float  # 0..1 over the whole refresh
    done: bool = False
    failed: bool = False
    new_champion: str | None = None  # version that went live, if one did
    details: str = ""  # a failure's technical details (the message is its one-line cause)
    retry: bool = False  # the message is a failed attempt that will be retried
    interrupted: bool = False  # its worker stopped mid-task: it runs again by itself, or retry

    @property
    def state(self) -> str:
        return "error" if self.failed else "complete" if self.done else "running"


def follow(fetch_task_id: str, season: str) -> RefreshProgress:
    """Where a refresh stands, from the states and progress its tasks report."""
    fetch = task_status(fetch_task_id)
    info: dict[str, Any] = fetch["info"] if isinstance(fetch["info"], dict) else {}
    state = fetch["state"]
    if state == "FAILURE":
        headline, details = split_error(_error(info))
        return RefreshProgress(
            "fetch",
            f"Fetching {season} failed: {headline}",
            0.25,
            done=True,
            failed=True,
            details=details,
        )
    if state == INTERRUPTED:
        return _interrupted("fetch", f"Fetching {season}", "fetch")
    if state in {"PENDING", "RECEIVED"}:
        return RefreshProgress("fetch", f"{season}: waiting for a fetch worker…", 0.02)
    if state in {"STARTED", "RETRY"}:
        return RefreshProgress("fetch", f"{season}: fetch started…", 0.05)
    if state == "PROGRESS":
        step = info.get("stage", "fetch")
        return RefreshProgress(
            step,
            info.get("message", step),
            0.15 if step == "fetch" else 0.35,
            retry=bool(info.get("retry")),
        )
    if state != "SUCCESS":
        return RefreshProgress("fetch", f"{season}: {state.lower()}", 0.05)

    if info.get("status") == "no-games":
        return RefreshProgress(
            "clean",
            f"The NBA site reports no games for {season} yet: nothing new to train on.",
            1.0,
            done=True,
        )
    training_id = info.get("training_task_id")
    if not training_id:
        return RefreshProgress("clean", f"{season} stored.", 1.0, done=True)
    return _follow_training(training_id, season, info)


def _follow_training(task_id: str, season: str, fetched: dict[str, Any]) -> RefreshProgress:
    rows, eligible = fetched.get("rows", 0), fetched.get("eligible", 0)
    stored = f"{season}: {rows} players stored ({eligible} eligible)."
    training = task_status(task_id)
    info: dict[str, Any] = training["info"] if isinstance(training["info"], dict) else {}
    state = training["state"]
    if state == "FAILURE":
        headline, details = split_error(_error(info))
        return RefreshProgress(
            "train",
            f"{stored} Training failed: {headline}",
            0.5,
            done=True,
            failed=True,
            details=details,
        )
    if state == INTERRUPTED:
        return _interrupted("train", f"{stored} Training", "training")
    if state == "PROGRESS" and info.get("total"):
        share = info["done"] / info["total"]
        return RefreshProgress("train", f"Training: {info.get('message', '')}", 0.4 + 0.55 * share)
    if state != "SUCCESS":
        return RefreshProgress(
            "train",
            f"{stored} Training queued (it starts once the other refreshes in flight have ended)…",
            0.4,
        )
    status = info.get("status")
    if status == "promoted":
        details = ", ".join(
            part
            for part in (
                f"{info['n_archetypes']} archetypes" if info.get("n_archetypes") else "",
                f"weakest archetype's stability {info['min_jaccard']:.2f}"
                if info.get("min_jaccard") is not None
                else "",
                f"model {info['winner']}" if info.get("winner") else "",
            )
            if part
        )
        return RefreshProgress(
            "champion",
            f"New champion v{info['model_version']} is live"
            + (f": {details}." if details else "."),
            1.0,
            done=True,
            new_champion=str(info["model_version"]),
        )
    if status == "kept-champion" and info.get("champion_version"):
        # The champion's own model, republished on every season (the new one included).
        return RefreshProgress(
            "champion",
            f"Champion kept and republished as v{info['champion_version']} with every season.",
            1.0,
            done=True,
            new_champion=str(info["champion_version"]),
        )
    return RefreshProgress("champion", info.get("message", "Training finished."), 1.0, done=True)


def _interrupted(step: str, what: str, worker: str) -> RefreshProgress:
    return RefreshProgress(
        step,
        f"{what} was interrupted: the {worker} worker stopped. It runs again by itself within "
        "2 minutes once a worker is up, or retry now.",
        0.25 if step == "fetch" else 0.5,
        done=True,
        failed=True,
        interrupted=True,
    )


def _error(info: dict[str, Any]) -> str:
    return str(info.get("error") or info.get("exc_message") or "unknown error")
