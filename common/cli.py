"""``nba-archetypes``: publish refreshes and training, and see what the pipeline is doing.

Publishes tasks by name like the UI does, so it runs in any service's container.
Examples::

    nba-archetypes refresh 2018-19            # one season
    nba-archetypes refresh 1996-97:2022-23    # a backfill, with a progress bar
    nba-archetypes refresh current --wait     # and follow it to the new champion
    nba-archetypes seed                       # import the bundled real seasons
    nba-archetypes status
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from common.celery_app import FETCH_QUEUE, SEED_RECORDINGS, TRAIN_QUEUE, app
from common.logs import configure_logging
from common.pipeline import (
    pending_refreshes,
    redis_client,
    request_refresh,
    request_training,
    task_status,
)
from common.seasons import InvalidSeasonError, current_season, parse_seasons

DONE_STATES = {"SUCCESS", "FAILURE", "REVOKED"}


def echo(text: str = "") -> None:
    """Command output (results for the user) goes to stdout; diagnostics go to the log."""
    sys.stdout.write(text + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nba-archetypes", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="fetch seasons, then train")
    refresh.add_argument("seasons", help="2018-19, a range 1996-97:2022-23, or 'current'")
    refresh.add_argument("--force", action="store_true", help="download even complete seasons")
    refresh.add_argument("--wait", action="store_true", help="follow until training finishes")
    refresh.add_argument("--timeout", type=float, default=1800, help="--wait limit in seconds")

    train = commands.add_parser("train", help="train now on all (or some) cleaned seasons")
    train.add_argument("--seasons", help="a season or range; default: all cleaned seasons")
    train.add_argument("--wait", action="store_true")
    train.add_argument("--timeout", type=float, default=1800)

    seed = commands.add_parser("seed", help="import the bundled real seasons and train")
    seed.add_argument("--wait", action="store_true")
    seed.add_argument("--timeout", type=float, default=1800)

    commands.add_parser("status", help="workers, queues, refreshes in flight")

    args = parser.parse_args(argv)
    configure_logging("WARNING")
    try:
        if args.command == "refresh":
            return _refresh(args.seasons, args.force, args.wait, args.timeout)
        if args.command == "train":
            seasons = parse_seasons(args.seasons) if args.seasons else None
            ticket = request_training(seasons, debounce_s=0)
            echo(f"training {'joined' if ticket.joined_existing else 'queued'}: {ticket.task_id}")
            return _follow_training(ticket.task_id, args.timeout) if args.wait else 0
        if args.command == "seed":
            task_id = app.send_task(SEED_RECORDINGS).id
            echo(f"seed queued: {task_id}")
            return _follow_seed(task_id, args.timeout) if args.wait else 0
        return _status()
    except InvalidSeasonError as error:
        echo(f"error: {error}")
        return 2


def _refresh(text: str, force: bool, wait: bool, timeout: float) -> int:
    seasons = [current_season()] if text == "current" else parse_seasons(text)
    tickets = []
    for season in tqdm(seasons, desc="publishing", unit="season", disable=len(seasons) < 2):
        tickets.append(request_refresh(str(season), force=force))
    for ticket in tickets:
        how = "joined the refresh already queued" if ticket.joined_existing else "queued"
        echo(f"{ticket.season}: {how} ({ticket.task_id})")
    if not wait:
        return 0

    deadline = time.monotonic() + timeout
    training_ids: set[str] = set()
    failures = 0
    with tqdm(total=len(tickets), desc="fetching", unit="season") as bar:
        remaining = {t.task_id: t.season for t in tickets}
        while remaining and time.monotonic() < deadline:
            for task_id, season in list(remaining.items()):
                status = task_status(task_id)
                if status["state"] not in DONE_STATES:
                    continue
                del remaining[task_id]
                bar.update()
                info = status["info"]
                if status["state"] == "SUCCESS":
                    bar.write(f"{season}: {info.get('status')} ({info.get('rows', 0)} players)")
                    if info.get("training_task_id"):
                        training_ids.add(info["training_task_id"])
                else:
                    failures += 1
                    bar.write(f"{season}: FAILED: {info.get('error', status['state'])}")
            time.sleep(0.5)
    if remaining:
        echo(f"timed out waiting for {len(remaining)} refreshes")
        return 1
    results = [_follow_training(task_id, deadline - time.monotonic()) for task_id in training_ids]
    return 1 if failures or any(results) else 0


def _wait_for(task_id: str, timeout: float, label: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with tqdm(total=100, desc=label, unit="%", bar_format="{l_bar}{bar}| {postfix}") as bar:
        while time.monotonic() < deadline:
            status = task_status(task_id)
            info = status["info"] if isinstance(status["info"], dict) else {}
            if status["state"] == "PROGRESS" and info.get("total"):
                bar.n = round(100 * info["done"] / info["total"])
                bar.set_postfix_str(info.get("message", ""))
            if status["state"] in DONE_STATES:
                bar.n = 100
                bar.refresh()
                return status
            time.sleep(0.5)
    return {"state": "TIMEOUT", "info": {}}


def _follow_training(task_id: str, timeout: float) -> int:
    status = _wait_for(task_id, timeout, "training")
    info = status["info"]
    if status["state"] == "SUCCESS":
        echo(f"training: {info.get('message')}")
        return 0
    echo(f"training {status['state']}: {info.get('error', '')}")
    return 1


def _follow_seed(task_id: str, timeout: float) -> int:
    status = _wait_for(task_id, timeout, "seeding")
    if status["state"] != "SUCCESS":
        echo(f"seed {status['state']}: {status['info'].get('error', '')}")
        return 1
    seeded = status["info"].get("seeded", [])
    echo(f"seeded {len(seeded)} seasons" + (f" ({seeded[0]} … {seeded[-1]})" if seeded else ""))
    return _follow_training(status["info"]["training_task_id"], timeout)


def _status() -> int:
    replies = app.control.ping(timeout=1.0) or []
    workers = sorted(name for reply in replies for name in reply)
    echo("workers: " + (", ".join(workers) if workers else "none answering"))
    client = redis_client()
    depths = ", ".join(f"{q} {client.llen(q)} waiting" for q in (FETCH_QUEUE, TRAIN_QUEUE))
    echo(f"queues: {depths}")
    refreshes = pending_refreshes()
    if not refreshes:
        echo("refreshes in flight: none")
    for season, task_id in refreshes.items():
        status = task_status(task_id)
        detail = status["info"].get("message", "") if isinstance(status["info"], dict) else ""
        echo(f"  {season}: {status['state']} {detail}".rstrip())
    for key in sorted(client.scan_iter("nba:train:pending:*")):
        echo(f"training waiting (debounce): {client.get(key)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
