"""``status``: the champion, the seasons stored, the workers, the queues, the work in flight.

Read from Redis and the model registry directly, without asking the workers over the broker
(a round of ``celery inspect`` waits its whole timeout): every worker says it is alive in
Redis each recovery round (``common/recovery.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from cli.output import EXIT_FAILED, echo, failure_lines, warn
from cli.work import check_queue
from common.celery_app import FETCH_QUEUE, TRAIN_QUEUE
from common.champion import PROFILES_ARTIFACT, find_champion, read_champion_artifact, read_profiles
from common.failures import PLAIN_FAILURES
from common.keys import TRAINING_CLAIM_PREFIX, WORKER_PRESENCE_PREFIX
from common.mlflow_store import answering
from common.progress import fetch_progress, training_progress
from common.queueing import pending_refreshes
from common.redis_client import redis_client
from common.season_store import stored_seasons
from common.settings import Settings, get_settings
from common.task_status import task_status


def show_status(verbose: bool = False) -> int:
    """The champion, the seasons stored, the workers, the queues, the work in flight.

    A part that cannot be read (a damaged store, a server that does not answer) is marked
    unreadable and the rest still shown; its error follows on stderr, and the exit code is 1."""
    settings = get_settings()
    failures: list[Exception] = []
    echo(f"champion: {_or_unreadable(lambda: _champion_line(settings), failures)}")
    stored = _or_unreadable(lambda: _seasons_line(_stored(settings)), failures)
    echo(f"seasons stored: {stored}")
    for error in failures:
        warn("\n".join(failure_lines("error: ", error, verbose)))
    check_queue()
    client = redis_client()
    now = time.time()
    workers = []
    for key in sorted(client.scan_iter(f"{WORKER_PRESENCE_PREFIX}*")):
        seen = client.get(key)
        if seen:
            name = key.removeprefix(WORKER_PRESENCE_PREFIX)
            workers.append(f"{name} (seen {now - float(seen):.0f} s ago)")
    none = (
        "none seen in the last minute: queued work waits (scripts/up.sh, or scripts/run_local.sh)"
    )
    echo("workers: " + (", ".join(workers) if workers else none))
    depths = ", ".join(f"{q} {client.llen(q)} waiting" for q in (FETCH_QUEUE, TRAIN_QUEUE))
    echo(f"queues: {depths}")
    refreshes = pending_refreshes()
    echo("refreshes in flight: " + ("" if refreshes else "none"))
    for season, task_id in refreshes.items():
        message = fetch_progress(task_status(task_id), season).message
        echo(f"  {message}" if season in message else f"  {season}: {message}")
    for key in sorted(client.scan_iter(f"{TRAINING_CLAIM_PREFIX}*")):
        training = client.get(key)
        if training:
            echo(f"training waiting: {training_progress(task_status(training)).message}")
    return EXIT_FAILED if failures else 0


def _or_unreadable(read: Callable[[], str], failures: list[Exception]) -> str:
    """``read()``'s line, or "unreadable" with the failure kept to be said below."""
    try:
        return read()
    except PLAIN_FAILURES as error:
        failures.append(error)
        return "unreadable (error below)"


def _stored(settings: Settings) -> list[str]:
    return [str(s) for s in stored_seasons(settings)]


def _champion_line(settings: Settings) -> str:
    with answering(settings, "read the champion from"):
        champion = find_champion(settings)
        if champion is None:
            return "none yet (`nba-archetypes seed --inline`, or refresh seasons)"
        profiles = read_champion_artifact(settings, champion, PROFILES_ARTIFACT, read_profiles)
    since = datetime.fromtimestamp(champion.created_at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    return (
        f"v{champion.version}, {len(profiles)} archetypes, "
        f"{_seasons_line(champion.seasons)}, live since {since} UTC"
    )


def _seasons_line(seasons: list[str]) -> str:
    if not seasons:
        return "none"
    if len(seasons) == 1:
        return f"1 season ({seasons[0]})"
    return f"{len(seasons)} seasons ({seasons[0]} … {seasons[-1]})"
