"""Seed the data directory from bundled recordings of real stats.nba.com responses.

A fresh install (or an air-gapped one) has no data and cannot always reach the site; the
bundled recordings (replay/recordings, see its PROVENANCE.md) are real full-season
responses, imported exactly as a download would have been. Seasons that already have data
are never touched.
"""

from __future__ import annotations

import gzip
import logging
import re
from pathlib import Path

from common.failures import DamagedFileError, NoRecordingsError
from common.results import FetchResult
from common.seasons import Season, SeasonType
from common.settings import Settings
from common.storage import DataDir
from workers.fetch.response import parse_dashboard
from workers.fetch.season_data import RawSegment, store_season

log = logging.getLogger(__name__)

# Plain JSON as committed, or gzipped as the fetch image carries them (smaller image).
_NAME = re.compile(
    r"leaguedashplayerstats_(\d{4}-\d{2})_(regular|playoffs)_(pergame|per36)\.json(\.gz)?"
)
_TYPES = {"regular": SeasonType.REGULAR, "playoffs": SeasonType.PLAYOFFS}
_PER_MODES = {"pergame": "PerGame", "per36": "Per36"}
# PerGame where both exist: the mode of every other bundled season, so seasons are cleaned
# alike. (A live fetch asks for Totals; each recording is read as the PerMode its name says.)
_PREFERENCE = {"pergame": 0, "per36": 1}


def bundled_recordings(folder: Path) -> dict[Season, dict[SeasonType, Path]]:
    """Season -> segment -> recording file, preferring PerGame where both exist."""
    best: dict[Season, dict[SeasonType, tuple[int, Path]]] = {}
    for path in sorted(folder.glob("leaguedashplayerstats_*.json*")):
        match = _NAME.fullmatch(path.name)
        if not match:
            continue
        season, season_type = Season.parse(match[1]), _TYPES[match[2]]
        rank = _PREFERENCE[match[3]]
        current = best.setdefault(season, {}).get(season_type)
        if current is None or rank < current[0]:
            best[season][season_type] = (rank, path)
    return {
        season: {t: path for t, (_, path) in segments.items()}
        for season, segments in best.items()
        if SeasonType.REGULAR in segments
    }


def recorded_per_mode(path: Path) -> str:
    """The PerMode a recording was requested with, from its name: what its echo must say."""
    match = _NAME.fullmatch(path.name)
    if not match:
        raise ValueError(f"not a league dashboard recording: {path.name[:60]}")
    return _PER_MODES[match[3]]


def read_recording(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def seed_from_recordings(folder: Path, data: DataDir, settings: Settings) -> list[FetchResult]:
    """Import every season of ``folder`` that has no data yet. A folder without a recording
    (a mistyped RECORDINGS_DIR) is refused: seeding nothing would pass for success."""
    recordings = bundled_recordings(folder)
    if not recordings:
        what = "holds no recording" if folder.is_dir() else "does not exist"
        raise NoRecordingsError(
            f"nothing to seed: {folder} (RECORDINGS_DIR) {what}: point RECORDINGS_DIR at a "
            "folder of leaguedashplayerstats_<season>_regular_pergame.json recordings, or "
            "unset it for the bundled ones"
        )
    outcomes = []
    for season, files in sorted(recordings.items()):
        try:
            if data.read_fetch_record(season) is not None:
                log.info("%s: already has data; recording not imported", season)
                continue
        except DamagedFileError as error:  # it has data: not replaced by a seed, repaired
            log.warning("%s: recording not imported: %s", season, error)
            continue
        segments = {}
        for season_type, path in files.items():
            body = read_recording(path)
            table = parse_dashboard(body, season, season_type, recorded_per_mode(path))
            name = path.name.removesuffix(".gz")
            segments[season_type] = RawSegment(body, f"recording:{name}", table)
        # Recordings are full-season pulls (PROVENANCE.md), so they count as complete.
        outcomes.append(
            store_season(
                season, segments, data=data, settings=settings, fetched=True, complete=True
            )
        )
    return outcomes
