"""``nba-archetypes``: the app's answers on the command line, and the pipeline's controls.

Answers (read from the champion through MLflow, exactly as the app reads them)::

    nba-archetypes player "Kobe Bryant" 2005-06            # archetype, memberships, key stats
    nba-archetypes similar "Kobe Bryant" 2005-06 --season 1996-97 --limit 5 --json

Pipeline (publishes tasks by name like the UI does, so it runs in any service's container)::

    nba-archetypes refresh 2018-19            # one season
    nba-archetypes refresh 1996-97:2022-23    # a backfill, with a progress bar
    nba-archetypes refresh current --wait     # and follow it to the new champion
    nba-archetypes seed                       # import the bundled real seasons
    nba-archetypes seed --inline              # the same here, then train here: no broker needed
    nba-archetypes train --inline             # train here, with a progress bar
    nba-archetypes status

Repair and backups (here, no broker needed)::

    nba-archetypes rebuild 2018-19            # re-clean from the raw responses kept (no network)
    nba-archetypes backup /data/backups/now   # a consistent snapshot while the services run
    nba-archetypes restore /backups/now       # into an empty data directory

``player`` and ``similar`` need the MLflow client (the ``ui`` or ``train`` extra); ``--inline``
training needs the ``train`` extra. Exit codes: 0 done, 1 failed or no champion yet, 2 bad input,
3 interrupted (the worker running it stopped; the work runs again by itself within 2 minutes).

Failures are one line on stderr, the cause and what to do (``--verbose``: the technical details
below it, indented); with the task queue (Redis at ``REDIS_URL``) down, every command that needs
it says so in one line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from common.failures import (
    INTERRUPTED,
    StoreUnavailableError,
    is_queue_error,
    queue_problem,
    queue_unreachable,
    split_error,
)
from common.logs import configure_logging
from common.seasons import InvalidSeasonError, Season, current_season, parse_seasons
from common.settings import Settings, get_settings
from common.storage import DamagedFileError, DataDir, WriteFailedError

# The Celery app and the pipeline are imported by the commands that publish or follow tasks:
# ``player`` and ``similar`` start faster without them.
if TYPE_CHECKING:
    import pandas as pd

    from common.champion import ChampionResults

DONE_STATES = {"SUCCESS", "FAILURE", "REVOKED", INTERRUPTED}
EXIT_FAILED = 1  # a task failed, or there is no champion to answer from
EXIT_BAD_INPUT = 2  # unknown player or season, malformed arguments (argparse uses 2 too)
EXIT_INTERRUPTED = 3  # the worker running the task stopped; recovery runs it again
INTERRUPTED_HINT = (
    "its worker stopped; it runs again by itself within 2 minutes once a worker is up, "
    "or run the command again"
)
NO_CHAMPION = (
    "No champion model yet: run `nba-archetypes seed --inline` (imports the bundled seasons "
    "and trains here) or refresh seasons, then ask again."
)


class CommandError(Exception):
    """A one-line message for the user and the exit code it ends the command with."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def echo(text: str = "") -> None:
    """Command output (results for the user) goes to stdout; diagnostics go to the log."""
    sys.stdout.write(text + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("WARNING")
    try:
        if args.command == "player":
            return _player(args.name, args.season, as_json=args.json)
        if args.command == "similar":
            return _similar(args.name, args.season, args.versus, args.limit, as_json=args.json)
    except (CommandError, DamagedFileError, StoreUnavailableError) as error:
        return _error_exit(error, getattr(args, "verbose", None))
    verbose = getattr(args, "verbose", False)
    try:
        if args.command == "refresh":
            _check_queue()
            return _refresh(args.seasons, args.force, args.wait, args.timeout, verbose)
        if args.command == "train":
            return _train(args)
        if args.command == "seed":
            if args.inline:
                return _seed_inline()
            _check_queue()
            from common.celery_app import SEED_RECORDINGS, app

            task_id = app.send_task(SEED_RECORDINGS).id
            echo(f"seed queued: {task_id}")
            return _follow_seed(task_id, args.timeout, verbose) if args.wait else 0
        if args.command in ("rebuild", "backup", "restore"):
            return _data_command(args, verbose)
        _check_queue()
        return _status()
    except InvalidSeasonError as error:
        echo(f"error: {error}")
        return EXIT_BAD_INPUT
    except (CommandError, DamagedFileError, WriteFailedError, StoreUnavailableError) as error:
        return _error_exit(error, getattr(args, "verbose", None))
    except Exception as error:
        if not is_queue_error(error):
            raise
        # Redis went away after the check (or mid-wait): still one line, not a traceback.
        sys.stderr.write(f"error: {queue_unreachable(get_settings().redis_url, error)}\n")
        return EXIT_FAILED


def _check_queue() -> None:
    """A :class:`CommandError` naming ``REDIS_URL`` unless the task queue answers; checked
    before publishing, which would otherwise retry for a while and end in a traceback."""
    problem = queue_problem(get_settings().redis_url)
    if problem:
        raise CommandError(problem, EXIT_FAILED)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nba-archetypes",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    player = commands.add_parser("player", help="a player-season's archetype and key stats")
    player.add_argument("name", help='e.g. "Kobe Bryant" (accents and case optional)')
    player.add_argument("season", help="e.g. 2005-06")
    player.add_argument("--json", action="store_true", help="print one JSON object")

    similar = commands.add_parser("similar", help="the player-seasons closest in style")
    similar.add_argument("name", help='e.g. "Kobe Bryant" (accents and case optional)')
    similar.add_argument("season", help="his season, e.g. 2005-06")
    similar.add_argument("--season", dest="versus", help="only this season (default: all)")
    similar.add_argument("--limit", type=_positive_int, default=10, help="how many (default 10)")
    similar.add_argument("--json", action="store_true", help="print a JSON list, nearest first")

    refresh = commands.add_parser("refresh", help="fetch seasons, then train")
    refresh.add_argument("seasons", help="2018-19, a range 1996-97:2022-23, or 'current'")
    refresh.add_argument("--force", action="store_true", help="download even complete seasons")
    refresh.add_argument("--wait", action="store_true", help="follow until training finishes")
    refresh.add_argument("--timeout", type=float, default=1800, help="--wait limit in seconds")
    refresh.add_argument("--verbose", action="store_true", help="technical details of failures")

    train = commands.add_parser("train", help="train now on all (or some) cleaned seasons")
    train.add_argument("--seasons", help="a season or range; default: all cleaned seasons")
    train.add_argument(
        "--force", action="store_true", help="retrain on unchanged data and promote the winner"
    )
    train.add_argument("--inline", action="store_true", help="train in this process")
    train.add_argument("--wait", action="store_true")
    train.add_argument("--timeout", type=float, default=1800)
    train.add_argument("--verbose", action="store_true", help="technical details of failures")

    seed = commands.add_parser("seed", help="import the bundled real seasons and train")
    seed.add_argument("--inline", action="store_true", help="import and train in this process")
    seed.add_argument("--wait", action="store_true")
    seed.add_argument("--timeout", type=float, default=1800)
    seed.add_argument("--verbose", action="store_true", help="technical details of failures")

    commands.add_parser("status", help="workers, queues, refreshes in flight")

    rebuild = commands.add_parser(
        "rebuild", help="re-clean seasons from the raw responses kept (no network)"
    )
    rebuild.add_argument("seasons", nargs="?", help="a season or range; default: every kept one")
    rebuild.add_argument("--verbose", action="store_true", help="technical details of failures")

    backup = commands.add_parser("backup", help="snapshot the data directory, services running")
    backup.add_argument("path", help="a new directory for the backup")
    restore = commands.add_parser("restore", help="load a backup into an empty data directory")
    restore.add_argument("path", help="a directory written by `nba-archetypes backup`")
    return parser


def _train(args: argparse.Namespace) -> int:
    seasons = parse_seasons(args.seasons) if args.seasons else None
    if args.inline:
        return _train_inline(seasons, force=args.force)
    _check_queue()
    from common.celery_app import TRAIN_ARCHETYPES, app
    from common.pipeline import request_training

    if args.force:
        # Past the debounce: a deliberate retrain is not merged with anything.
        labels = [str(s) for s in seasons] if seasons else None
        task_id = app.send_task(TRAIN_ARCHETYPES, kwargs={"seasons": labels, "force": True}).id
        echo(f"forced training queued: {task_id}")
        return _follow_training(task_id, args.timeout, args.verbose) if args.wait else 0
    ticket = request_training(seasons, debounce_s=0)
    echo(f"training {'joined' if ticket.joined_existing else 'queued'}: {ticket.task_id}")
    return _follow_training(ticket.task_id, args.timeout, args.verbose) if args.wait else 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


# --- Answers: the champion's results, read through MLflow as the app reads them ---------------


def _champion_results(settings: Settings) -> ChampionResults:
    """The champion's assignments and archetypes, or a :class:`CommandError` saying why not."""
    try:
        from common.champion import find_champion, load_champion_results
    except ImportError as error:
        raise CommandError(
            f"this command needs the MLflow client ({error.name} is missing): run it in the "
            "app's or the train worker's container, or after `uv sync`",
            EXIT_FAILED,
        ) from error
    # Like the app, never create the store: before the first training there is none.
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///") and not os.path.exists(uri.removeprefix("sqlite:///")):
        raise CommandError(NO_CHAMPION, EXIT_FAILED)
    from common.mlflow_store import answering

    with answering(settings, "read the champion from"):
        champion = find_champion(settings)
        if champion is None:
            raise CommandError(NO_CHAMPION, EXIT_FAILED)
        return load_champion_results(settings, champion)


def _season_label(text: str) -> str:
    """``text`` as a season label (checked before anything is loaded), or a CommandError."""
    try:
        return str(Season.parse(text[:40]))
    except InvalidSeasonError as error:
        raise CommandError(str(error)) from error


def _known_season(results: ChampionResults, label: str) -> str:
    """``label`` if the champion has that season, or a :class:`CommandError`."""
    seasons = results.seasons
    if label not in seasons:
        raise CommandError(
            f"Season {label} is not in the champion's data (it has {len(seasons)} seasons, "
            f"{seasons[0]} … {seasons[-1]}): refresh it first (`nba-archetypes refresh {label}`)."
        )
    return label


def _find(results: ChampionResults, name: str, season: str) -> pd.Series:
    from common.similarity import PlayerNotFoundError, find_player

    label = _known_season(results, _season_label(season))
    try:
        return find_player(results.assignments, name, label)
    except PlayerNotFoundError as error:
        raise CommandError(str(error)) from error


def _number(value: Any) -> float | None:
    """A JSON-safe float: NaN and missing become null."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _player(name: str, season: str, *, as_json: bool) -> int:
    _season_label(season)
    results = _champion_results(get_settings())
    row = _find(results, name, season)
    memberships = results.memberships(row)
    stats = {
        "games": _number(row.get("GP")),
        "min_per_game": _number(row.get("MIN_PER_GAME")),
        "pts_per36": _number(row.get("PTS_PER36")),
        "reb_per36": _number(row.get("REB_PER36")),
        "ast_per36": _number(row.get("AST_PER36")),
        "ts_pct": _number(row.get("TS_PCT")),
    }
    if as_json:
        answer = {
            "player": str(row["PLAYER_NAME"]),
            "player_id": int(row["PLAYER_ID"]),
            "season": str(row["SEASON"]),
            "team": _team(row),
            "archetype": str(row["ARCHETYPE_NAME"]),
            "memberships": [{"archetype": n, "share": round(s, 4)} for n, s in memberships],
            "stats": {
                key: (None if value is None else int(value) if key == "games" else round(value, 4))
                for key, value in stats.items()
            },
            "champion_version": results.champion.version,
        }
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    echo(
        f"{row['PLAYER_NAME']}, {row['SEASON']} ({_team(row) or 'team unknown'}): "
        f"{row['ARCHETYPE_NAME']}"
    )
    shown = [f"{round(100 * s)} % {n}" for n, s in memberships if round(100 * s) >= 1]
    if shown:
        echo("  memberships: " + ", ".join(shown))
    echo("  " + _stats_line(stats))
    return 0


def _team(row: pd.Series) -> str | None:
    """The player's team; the site may send none (the fetch keeps the row, with a warning)."""
    import pandas as pd

    team = row["TEAM_ABBREVIATION"]
    return None if pd.isna(team) else str(team)


def _stats_line(stats: dict[str, float | None]) -> str:
    def fmt(value: float | None, pattern: str) -> str:
        return "?" if value is None else pattern.format(value)

    ts = stats["ts_pct"]
    return (
        f"{fmt(stats['games'], '{:.0f}')} games · {fmt(stats['min_per_game'], '{:.1f}')} min/game"
        f" · per 36: {fmt(stats['pts_per36'], '{:.1f}')} pts, "
        f"{fmt(stats['reb_per36'], '{:.1f}')} reb, {fmt(stats['ast_per36'], '{:.1f}')} ast"
        f" · TS {fmt(None if ts is None else 100 * ts, '{:.1f}')} %"
    )


def _split(reasons: Any) -> list[str]:
    return [r for r in str(reasons).split(", ") if r]


def _similar(name: str, season: str, versus: str | None, limit: int, *, as_json: bool) -> int:
    from common.similarity import most_similar

    _season_label(season)
    only = _season_label(versus) if versus is not None else None
    results = _champion_results(get_settings())
    row = _find(results, name, season)
    if only is not None:
        _known_season(results, only)
    matches = most_similar(results.assignments, row, season=only, limit=limit)
    answer = [
        {
            "rank": int(m["RANK"]),
            "player": str(m["PLAYER_NAME"]),
            "player_id": int(m["PLAYER_ID"]),
            "season": str(m["SEASON"]),
            "team": _team(m),
            "archetype": str(m["ARCHETYPE_NAME"]),
            "distance": round(float(m["DISTANCE"]), 4),
            "similarity": round(float(m["SIMILARITY"]), 1),
            "closest": _split(m["CLOSEST"]),
            "farthest": _split(m["FARTHEST"]),
        }
        for _, m in matches.iterrows()
    ]
    if as_json:
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    where = f"in {only}" if only else "in every season"
    echo(
        f"Most similar to {row['PLAYER_NAME']}, {row['SEASON']} ({_team(row) or 'team unknown'}, "
        f"{row['ARCHETYPE_NAME']}), {where}:"
    )
    if not answer:
        echo("  nobody else was classified in that season")
    name_width = max((len(a["player"]) for a in answer), default=0)
    kind_width = max((len(a["archetype"]) for a in answer), default=0)
    for a in answer:
        echo(
            f"  {a['rank']:>2}. {a['player']:<{name_width}}  {a['season']} {a['team'] or '?':<3}  "
            f"{a['archetype']:<{kind_width}}  distance {a['distance']:.2f} "
            f"({a['similarity']:.0f} %)  closest: {', '.join(a['closest'])}; "
            f"farthest: {', '.join(a['farthest'])}"
        )
    return 0


# --- Inline runs: the workers' code in this process ---------------------------------------------


def _train_inline(seasons: list[Season] | None, *, force: bool = False) -> int:
    """What the train task does (workers/train/tasks.py), here, with a progress bar."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from workers.train.training import train_archetypes

    layout = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps{postfix}"
    bars: list[tqdm] = []  # opened at the first step: a skipped training shows no bar

    def progress(done: int, total: int, message: str) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="training", bar_format=layout))
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    settings = get_settings()
    owner = f"inline-{uuid.uuid4()}"
    try:
        with _training_lease(settings, owner):
            outcome = train_archetypes(
                settings, seasons, force=force, progress=progress, owner=owner
            )
    finally:
        for bar in bars:
            bar.close()
    echo(f"training: {outcome.as_dict().get('message', outcome)}")
    return 0


@contextmanager
def _training_lease(settings: Settings, owner: str) -> Iterator[None]:
    """Hold the training lease the workers hold, so an inline training never overlaps theirs
    (it waits for a running one). Without Redis there are no workers to overlap: go on."""
    if queue_problem(settings.redis_url, timeout_s=1.0):
        yield
        return
    from common.celery_app import TRAIN_TIME_LIMIT_S
    from common.leases import held
    from common.pipeline import TRAINING_LEASE_KEY, redis_client

    client = redis_client()
    if client.exists(TRAINING_LEASE_KEY):
        echo("a worker is training; waiting for it to end…")
    with held(client, TRAINING_LEASE_KEY, owner, settings.lease_ttl_s, wait_s=TRAIN_TIME_LIMIT_S):
        yield


def _seed_inline() -> int:
    """What the seed task does (workers/fetch/tasks.py), here: import, then train here too."""
    from common.season_store import open_data
    from workers.fetch.recordings import seed_from_recordings

    settings = get_settings()
    outcomes = seed_from_recordings(settings.recordings_dir, open_data(settings).sync(), settings)
    seeded = [str(o.season) for o in outcomes if o.status == "updated"]
    echo(f"seeded {len(seeded)} seasons" + (f" ({seeded[0]} … {seeded[-1]})" if seeded else ""))
    # Like the task, always train: skipped when the champion already has exactly this data.
    return _train_inline(None)


# --- Repair and backups: the data directory itself, in this process ----------------------------


def _error_exit(
    error: CommandError | DamagedFileError | WriteFailedError | StoreUnavailableError,
    verbose: bool | None,
) -> int:
    """One line on stderr (a damaged file or a failed write: naming the file and the fix;
    ``verbose``: the reader's own error below it; None: the command has no --verbose) and the
    exit code."""
    if isinstance(error, CommandError):
        sys.stderr.write(f"error: {error}\n")
        return error.code
    lines = _failure_lines("error: ", error, verbose) if verbose is not None else []
    for line in lines or [f"error: {split_error(str(error))[0]}"]:
        sys.stderr.write(line + "\n")
    return EXIT_FAILED


def _data_command(args: argparse.Namespace, verbose: bool) -> int:
    if args.command == "rebuild":
        return _rebuild(args.seasons, verbose)
    return _backup_or_restore(args.command, Path(args.path).expanduser().absolute())


def _rebuild(text: str | None, verbose: bool) -> int:
    """Re-clean seasons from their kept raw responses (workers/fetch/rebuild.py), here."""
    try:
        from workers.fetch.rebuild import rebuild_season
    except ImportError as error:
        raise CommandError(
            f"rebuild needs the fetch worker's code ({error.name} is missing): run it in the "
            "worker-fetch container, or after `uv sync`",
            EXIT_FAILED,
        ) from error
    from common.season_store import open_data

    settings = get_settings()
    data = open_data(settings).sync()
    seasons = _kept_seasons(data, parse_seasons(text) if text else None)
    failures = 0
    bar = tqdm(total=len(seasons), desc="rebuilding", unit="season", disable=len(seasons) < 2)
    with bar:
        for season in seasons:
            try:
                done = rebuild_season(season, data, settings)
                bar.write(f"{season}: rebuilt ({done.rows} players, {done.eligible} eligible)")
            except DamagedFileError as error:  # a raw response: only a download repairs it
                failures += 1
                for line in _failure_lines(f"{season}: FAILED: ", error, verbose):
                    bar.write(line)
            bar.update()
    if failures < len(seasons):
        echo("to train on the rebuilt data: `nba-archetypes train` (or `train --inline`)")
    return EXIT_FAILED if failures else 0


def _kept_seasons(data: DataDir, wanted: list[Season] | None) -> list[Season]:
    """``wanted`` (default: every season with raw responses), or a CommandError."""
    kept = data.raw_seasons()
    if not kept:
        raise CommandError(
            f"no raw responses in {data.root}: nothing to rebuild (`nba-archetypes seed` or "
            "`refresh` fetches seasons)",
            EXIT_FAILED,
        )
    missing = [str(s) for s in wanted or () if s not in kept]
    if missing:
        raise CommandError(
            f"no raw responses kept for {', '.join(missing)}: fetch "
            f"{'it' if len(missing) == 1 else 'them'} (`nba-archetypes refresh {missing[0]}`)"
        )
    return wanted or kept


def _backup_or_restore(command: str, path: Path) -> int:
    from common.backup import BackupError, BadPathError, backup, restore

    settings = get_settings()
    if settings.data_store != "volume" or settings.tracking_server_url:
        raise CommandError(
            f"{command} covers the single-host profile's data volume; with an MLflow server "
            "(TRACKING_SERVER_URL), back up its PostgreSQL database and artifact volume instead "
            '(README, "Two profiles")',
            EXIT_FAILED,
        )
    data = DataDir(settings.data_dir)
    try:
        if command == "backup":
            manifest = backup(data, path, settings.registered_model_name)
        else:
            manifest = restore(path, data)
    except BackupError as error:
        raise CommandError(
            str(error), EXIT_BAD_INPUT if isinstance(error, BadPathError) else EXIT_FAILED
        ) from error
    except OSError as error:  # a full disk under the backup; the partial copy is removed
        raise CommandError(f"{command} failed: {error}", EXIT_FAILED) from error
    version = manifest.champion_version
    summary = (
        f"{f'champion v{version}' if version else 'no champion'}, "
        f"{len(manifest.seasons)} seasons, {manifest.files.get('mlartifacts', 0)} artifact files"
    )
    if command == "backup":
        echo(f"backup written to {path}: {summary}")
    else:
        echo(f"restored the backup of {manifest.created_at} into {data.root}: {summary}")
    return 0


# --- Pipeline: publish and follow tasks ----------------------------------------------------------


def _failure_lines(prefix: str, error: object, verbose: bool) -> list[str]:
    """The failure's headline after ``prefix``; with ``verbose``, its details indented below."""
    headline, details = split_error(str(error))
    lines = [f"{prefix}{headline}"]
    if details and verbose:
        lines += [f"    {line}" for line in details.splitlines()]
    elif details:
        lines[0] += " (--verbose: details)"
    return lines


def _refresh(text: str, force: bool, wait: bool, timeout: float, verbose: bool = False) -> int:
    from common.pipeline import request_refresh, task_status

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
    codes: list[int] = []  # one exit code per fetch that ended
    shown: dict[str, str] = {}  # task id -> the last retry line printed for it
    with tqdm(total=len(tickets), desc="fetching", unit="season") as bar:
        remaining = {t.task_id: t.season for t in tickets}
        while remaining and time.monotonic() < deadline:
            for task_id, season in list(remaining.items()):
                status = task_status(task_id)
                info = status["info"] if isinstance(status["info"], dict) else {}
                if status["state"] not in DONE_STATES:
                    retry = info.get("message", "") if info.get("retry") else ""
                    if retry and shown.get(task_id) != retry:
                        shown[task_id] = retry
                        bar.write(retry)  # "2018-19 Regular Season: attempt 1 of 5 failed: …"
                    continue
                del remaining[task_id]
                bar.update()
                codes.append(_fetch_ended(bar, str(season), status["state"], info, verbose))
                if info.get("training_task_id"):
                    training_ids.add(info["training_task_id"])
            time.sleep(0.5)
    if remaining:
        echo(f"timed out waiting for {len(remaining)} refreshes")
        return 1
    codes += [
        _follow_training(task_id, deadline - time.monotonic(), verbose) for task_id in training_ids
    ]
    return EXIT_FAILED if EXIT_FAILED in codes else max(codes, default=0)


def _fetch_ended(bar: tqdm, season: str, state: str, info: dict[str, Any], verbose: bool) -> int:
    """Print how one fetch ended; its exit code."""
    if state == "SUCCESS":
        bar.write(f"{season}: {info.get('status')} ({info.get('rows', 0)} players)")
        return 0
    if state == INTERRUPTED:
        bar.write(f"{season}: INTERRUPTED: {INTERRUPTED_HINT}")
        return EXIT_INTERRUPTED
    for line in _failure_lines(f"{season}: FAILED: ", info.get("error", state), verbose):
        bar.write(line)
    return EXIT_FAILED


def _wait_for(task_id: str, timeout: float, label: str) -> dict[str, Any]:
    from common.pipeline import task_status

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


def _follow_training(task_id: str, timeout: float, verbose: bool = False) -> int:
    status = _wait_for(task_id, timeout, "training")
    info = status["info"]
    if status["state"] == "SUCCESS":
        echo(f"training: {info.get('message')}")
        return 0
    if status["state"] == INTERRUPTED:
        echo(f"training INTERRUPTED: {INTERRUPTED_HINT}")
        return EXIT_INTERRUPTED
    for line in _failure_lines(f"training {status['state']}: ", info.get("error", ""), verbose):
        echo(line)
    return 1


def _follow_seed(task_id: str, timeout: float, verbose: bool = False) -> int:
    status = _wait_for(task_id, timeout, "seeding")
    if status["state"] != "SUCCESS":
        error = status["info"].get("error", "")
        for line in _failure_lines(f"seed {status['state']}: ", error, verbose):
            echo(line)
        return 1
    seeded = status["info"].get("seeded", [])
    echo(f"seeded {len(seeded)} seasons" + (f" ({seeded[0]} … {seeded[-1]})" if seeded else ""))
    return _follow_training(status["info"]["training_task_id"], timeout, verbose)


def _status() -> int:
    from common.celery_app import FETCH_QUEUE, TRAIN_QUEUE, app
    from common.pipeline import pending_refreshes, redis_client, task_status

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
