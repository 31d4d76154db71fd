"""``rebuild``: the seasons re-cleaned from their kept raw responses, in this process (no broker).

Needs the fetch worker's code (``workers/fetch``): run it where that is installed."""

from __future__ import annotations

from tqdm import tqdm

from cli.output import EXIT_FAILED, CommandError, echo, failure_lines
from common.failures import DamagedFileError
from common.season_store import open_data
from common.seasons import Season, parse_seasons
from common.settings import get_settings
from common.storage import DataDir
from workers.fetch.rebuild import rebuild_season


def rebuild(text: str | None, verbose: bool) -> int:
    """Re-clean seasons from their kept raw responses (workers/fetch/rebuild.py), here."""
    settings = get_settings()
    data = open_data(settings).sync()
    seasons = _kept_seasons(data, parse_seasons(text) if text else None)
    failures = 0
    bar = tqdm(
        total=len(seasons),
        desc="rebuilding",
        unit="season",
        disable=True if len(seasons) < 2 else None,
    )
    with bar:
        for season in seasons:
            try:
                done = rebuild_season(season, data, settings)
                bar.write(f"{season}: rebuilt ({done.rows} players, {done.eligible} eligible)")
            except DamagedFileError as error:  # a raw response: only a download repairs it
                failures += 1
                for line in failure_lines(f"{season}: FAILED: ", error, verbose):
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
