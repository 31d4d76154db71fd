"""``refresh``, ``train``, ``seed``: queue work for the workers (``--wait``: :mod:`cli.follow`).

Tasks are queued by name (``common.queueing``), as the app does, so these run in any service's
container. Each returns what it queued, for :mod:`cli.follow` to follow when asked to wait.
"""

from __future__ import annotations

from cli.output import EXIT_FAILED, CommandError, echo
from common.queue_failures import queue_problem
from common.queueing import (
    Ticket,
    request_forced_training,
    request_refresh,
    request_seed,
    request_training,
)
from common.seasons import current_season, parse_seasons
from common.settings import get_settings


def check_queue() -> None:
    """A :class:`CommandError` naming ``REDIS_URL`` unless the task queue answers; checked
    before queueing, which would otherwise retry for a while."""
    problem = queue_problem(get_settings().redis_url)
    if problem:
        raise CommandError(problem, EXIT_FAILED)


def queue_refresh(text: str, force: bool) -> list[Ticket]:
    """A fetch per season (or the one already queued for it), each said in a line."""
    seasons = [current_season()] if text == "current" else parse_seasons(text)
    check_queue()
    tickets = [request_refresh(str(season), force=force) for season in seasons]
    for ticket in tickets:
        how = "joined the refresh already queued" if ticket.joined_existing else "queued"
        echo(f"{ticket.season}: {how} ({ticket.task_id})")
    return tickets


def queue_training(seasons_text: str | None, force: bool) -> str:
    """The training's task id: a new one when forced, else the one queued or joined."""
    seasons = parse_seasons(seasons_text) if seasons_text else None
    check_queue()
    if force:
        task_id = request_forced_training(seasons)
        echo(f"forced training queued: {task_id}")
        return task_id
    ticket = request_training(seasons, debounce_s=0)
    echo(f"training {'joined' if ticket.joined_existing else 'queued'}: {ticket.task_id}")
    return ticket.task_id


def queue_seed() -> str:
    check_queue()
    task_id = request_seed()
    echo(f"seed queued: {task_id}")
    return task_id


def seeded_line(seeded: list[str]) -> str:
    return f"seeded {len(seeded)} seasons" + (f" ({seeded[0]} … {seeded[-1]})" if seeded else "")
