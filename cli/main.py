"""The ``nba-archetypes`` command: arguments, dispatch to a command group, and errors.

Examples::

    nba-archetypes player "Kobe Bryant" 2005-06            # archetype, memberships, key stats
    nba-archetypes player "Jimmy Butler"                   # his career, whatever he was called
    nba-archetypes player giannis 2020-21                  # part of a name, if it fits one
    nba-archetypes similar "Kobe Bryant" 2005-06 --season 1996-97 --limit 5 --json
    nba-archetypes league [2016-17]           # the mix of roles by season, its biggest shifts
    nba-archetypes team GSW [2016-17]         # a roster by archetype, the teams built alike
    nba-archetypes refresh 2018-19 --wait     # fetch, then follow it to the new champion
    nba-archetypes refresh 1996-97:2022-23    # a backfill
    nba-archetypes seed --inline              # import the bundled seasons and train, here
    nba-archetypes train --inline             # train here, with a progress bar
    nba-archetypes status                     # champion, seasons, workers, work in flight
    nba-archetypes new-season                 # how the champion sees the seasons new to it
    nba-archetypes rebuild 2018-19            # re-clean from the raw responses kept
    nba-archetypes backup /data/backups/now   # a consistent snapshot while the services run
    nba-archetypes restore /backups/now       # into an empty data directory
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import ModuleType

from cli.output import EXIT_BAD_INPUT, EXIT_FAILED, CommandError, failure_lines, warn
from common.failures import PLAIN_FAILURES, clip
from common.logs import configure_logging
from common.seasons import InvalidSeasonError, parse_seasons
from common.settings import get_settings


def entry() -> None:
    """The console script: a closed pipe (`| head -1`) ends it quietly, as any Unix tool."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    code = main(set_aside_imports=True)
    # Exiting, Python's last collection would walk every object left, for nothing: the OS
    # takes the memory back (atexit handlers and module teardown still run).
    gc.freeze()
    sys.exit(code)


def main(argv: Sequence[str] | None = None, *, set_aside_imports: bool = False) -> int:
    """Run one command; its exit code. ``set_aside_imports``: see :func:`_imports_set_aside`."""
    args = _parser().parse_args(argv)
    configure_logging("WARNING")
    verbose = args.verbose
    try:
        with _imports_set_aside(set_aside_imports):
            run = _command(args)
        return run()
    except CommandError as error:
        warn(f"error: {error}")
        return error.code
    except InvalidSeasonError as error:
        warn(f"error: {error}")
        return EXIT_BAD_INPUT
    except ModuleNotFoundError as error:  # an image without this command's worker code
        warn(
            f"error: this command needs {error.name}, which is not installed here: run it in "
            "the container that has it (rebuild: worker-fetch; train --inline: worker-train), or "
            "after `uv sync` (seed --inline needs both workers' code: a checkout)"
        )
        return EXIT_FAILED
    except PLAIN_FAILURES as error:
        for line in failure_lines("error: ", error, verbose):
            warn(line)
        return EXIT_FAILED
    except Exception as error:
        # Only here: an answer (`player`, …) never imports redis-py, 0.2 s of its start.
        from common.queue_failures import is_queue_error, queue_unreachable  # noqa: PLC0415

        if is_queue_error(error):  # Redis went away after the check: still one line
            warn(f"error: {queue_unreachable(get_settings().redis_url, error)}")
            return EXIT_FAILED
        # Unforeseen: still one line; the traceback is for whoever debugs it.
        warn(f"error: {type(error).__name__}: {clip(error, 200)} (unexpected: --verbose shows "
             "where; please report it)")  # fmt: skip
        if verbose:
            warn(traceback.format_exc().rstrip())
        return EXIT_FAILED


@contextmanager
def _imports_set_aside(active: bool) -> Iterator[None]:
    """No cyclic garbage collection while a command's modules load, then what they made set
    aside (``gc.freeze``): no later collection walks it again. Imports and the exit are most
    of a short command's time (docs/measured.md, "Command line": a quarter of it went to these
    collections). Only for the console script: frozen objects are never collected, which a
    long-lived process that calls :func:`main` (a test) must not have."""
    if not active:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _command(args: argparse.Namespace) -> Callable[[], int]:
    """What runs ``args.command``, its command group imported. Each group is imported when
    used: `player` must not pay for Celery, nor `refresh` for scikit-learn and MLflow (a cold
    answer's time is measured)."""
    if args.command in ("player", "similar", "league", "team", "new-season"):
        return _answer(args)
    if args.command == "rebuild":
        from cli import data  # noqa: PLC0415

        return partial(data.rebuild, args.seasons, args.verbose)
    if args.command in ("backup", "restore"):
        from cli import backups  # noqa: PLC0415

        path = Path(args.path).expanduser().absolute()
        return partial(backups.backup_or_restore, args.command, path)
    if getattr(args, "inline", False):
        if args.command == "seed":  # both workers' code (cli/seeding.py)
            from cli import seeding  # noqa: PLC0415

            return seeding.seed_inline
        from cli import inline  # noqa: PLC0415

        seasons = parse_seasons(args.seasons) if args.seasons else None
        return partial(inline.train_inline, seasons, force=args.force)
    if args.command == "status":
        from cli import status  # noqa: PLC0415

        return partial(status.show_status, args.verbose)
    from cli import work  # noqa: PLC0415

    follow = _follow() if args.wait else None
    if args.command == "refresh":

        def refresh() -> int:
            tickets = work.queue_refresh(args.seasons, args.force)
            return follow.follow_refresh(tickets, args.timeout, args.verbose) if follow else 0

        return refresh
    if args.command == "train":

        def train() -> int:
            task_id = work.queue_training(args.seasons, args.force)
            return follow.follow_training(task_id, args.timeout, args.verbose) if follow else 0

        return train

    def seed() -> int:
        task_id = work.queue_seed()
        return follow.follow_seed(task_id, args.timeout, args.verbose) if follow else 0

    return seed


def _follow() -> ModuleType:
    """:mod:`cli.follow`, imported only to wait: its progress bars load tqdm."""
    from cli import follow  # noqa: PLC0415

    return follow


def _answer(args: argparse.Namespace) -> Callable[[], int]:
    """The champion's answers: read through the light registry reader, no Celery."""
    if args.command in ("league", "team"):
        from cli import league  # noqa: PLC0415

        if args.command == "league":
            return partial(league.league, args.season, as_json=args.json)
        return partial(league.team, args.team, args.season, as_json=args.json)
    if args.command == "new-season":
        from cli import reports  # noqa: PLC0415

        return partial(reports.new_season, as_json=args.json)
    from cli import answers  # noqa: PLC0415

    if args.command == "similar":
        return partial(
            answers.similar, args.name, args.season, args.versus, args.limit, as_json=args.json
        )
    if args.season is None:
        return partial(answers.career, args.name, as_json=args.json)
    return partial(answers.player, args.name, args.season, as_json=args.json)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nba-archetypes",
        description="NBA player archetypes: the app's answers, and the pipeline's controls.",
        epilog="exit codes: 0 done, 1 failed or no champion yet, 2 bad input, 3 interrupted "
        "(its worker stopped and no worker ran it again before --timeout)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    player = commands.add_parser(
        "player", help="a player-season's archetype and key stats, or his career"
    )
    player.add_argument(
        "name",
        help='e.g. "Kobe Bryant", or "kobe" if it fits one player (any name he had; accents '
        "and case optional), or his id",
    )
    player.add_argument(
        "season", nargs="?", help="e.g. 2005-06; without it, his career season by season"
    )
    player.add_argument(
        "--json", action="store_true", help="print one JSON object (a career: a list)"
    )

    similar = commands.add_parser(
        "similar", help="the players closest in style, each at his closest season"
    )
    similar.add_argument(
        "name", help='e.g. "Kobe Bryant", or "kobe" if it fits one player that season, or his id'
    )
    similar.add_argument("season", help="his season, e.g. 2005-06")
    similar.add_argument("--season", dest="versus", help="only this season (default: all)")
    similar.add_argument("--limit", type=_positive_int, default=10, help="how many (default 10)")
    similar.add_argument("--json", action="store_true", help="print a JSON list, nearest first")

    league = commands.add_parser("league", help="the mix of roles by season, biggest shifts")
    league.add_argument(
        "season",
        nargs="?",
        help="e.g. 2016-17: that season in detail (its mix, what is new, "
        "its teams); without it, every season",
    )
    league.add_argument("--json", action="store_true", help="print one JSON object")

    team = commands.add_parser("team", help="a team-season's roster by archetype, teams alike")
    team.add_argument("team", help="the site's abbreviation, e.g. GSW (case optional)")
    team.add_argument("season", nargs="?", help="e.g. 2016-17; without it, the latest stored")
    team.add_argument("--json", action="store_true", help="print one JSON object")

    refresh = commands.add_parser("refresh", help="fetch seasons, then train")
    refresh.add_argument("seasons", help="2018-19, a range 1996-97:2022-23, or 'current'")
    refresh.add_argument("--force", action="store_true", help="download even complete seasons")
    _waiting(refresh, "follow until the training that includes them ends")

    train = commands.add_parser("train", help="train now on all (or some) cleaned seasons")
    train.add_argument("--seasons", help="a season or range; default: all cleaned seasons")
    train.add_argument(
        "--force", action="store_true", help="retrain on unchanged data and promote the winner"
    )
    train.add_argument("--inline", action="store_true", help="train in this process, no broker")
    _waiting(train, "follow until the training ends")

    seed = commands.add_parser("seed", help="import the bundled real seasons and train")
    seed.add_argument("--inline", action="store_true", help="import and train here, no broker")
    _waiting(seed, "follow until the training after it ends")

    status = commands.add_parser("status", help="champion, seasons stored, workers, work in flight")

    new_season = commands.add_parser(
        "new-season", help="who fits no archetype in the seasons new to the champion"
    )
    new_season.add_argument("--json", action="store_true", help="print one JSON object")

    rebuild = commands.add_parser(
        "rebuild", help="re-clean seasons from the raw responses kept (no network)"
    )
    rebuild.add_argument("seasons", nargs="?", help="a season or range; default: every kept one")
    rebuild.add_argument("--verbose", action="store_true", help="technical details of failures")

    backup = commands.add_parser("backup", help="snapshot the data directory, services running")
    backup.add_argument("path", help="a new directory for the backup")
    restore = commands.add_parser("restore", help="load a backup into an empty data directory")
    restore.add_argument("path", help="a directory written by `nba-archetypes backup`")
    for command in (player, similar, league, team, status, new_season, backup, restore):
        command.add_argument("--verbose", action="store_true", help="technical details of failures")
    return parser


def _waiting(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("--wait", action="store_true", help=what)
    command.add_argument("--timeout", type=float, default=1800, help="--wait limit in seconds")
    command.add_argument("--verbose", action="store_true", help="technical details of failures")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
