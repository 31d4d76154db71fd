"""One season's journey from the stats site to the shared data directory.

Order of writes makes a crash harmless: both responses are validated before anything is
written, each file is replaced atomically, and the fetch record is written last, so a
half-finished fetch is simply redone next time. Bad input raises before any write, so
the previous data stays as it was.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from common.failures import DamagedFileError
from common.fetch_record import CleanedRecord, FetchRecord, SegmentRecord
from common.results import FetchResult
from common.seasons import Season, SeasonType, current_season
from common.settings import Settings
from common.storage import DataDir, atomic_output, atomic_write_bytes
from workers.fetch.cleaning import clean_season
from workers.fetch.nba_client import FALLBACK_PER_MODE, PER_MODE, LeagueDashboardClient
from workers.fetch.response import DashboardTable, InvalidResponseError, parse_dashboard

log = logging.getLogger(__name__)

Stage = Callable[[str, str], None]  # (stage, message) -> report progress


@dataclass(frozen=True)
class RawSegment:
    body: bytes
    source: str
    table: DashboardTable


def needs_download(record: FetchRecord | None, force: bool) -> bool:
    """A season is downloaded unless its stored copy was taken after the season was over."""
    return force or record is None or not record.complete


def fetch_and_store(
    season: Season,
    *,
    data: DataDir,
    settings: Settings,
    client: LeagueDashboardClient,
    force: bool = False,
    report: Stage = lambda stage, message: None,
) -> FetchResult:
    record = previous_record(data, season)  # a damaged one: downloaded again
    if record is not None and not needs_download(record, force):
        report("clean", f"{season}: complete copy on disk, not downloaded again")
        try:
            return reclean_season(record, data=data, settings=settings, report=report)
        except DamagedFileError as error:  # a raw response lost, or left by a fetch cut short
            log.warning("%s: %s; downloading the season again", season, error)

    segments = {}
    for season_type in SeasonType:
        report("fetch", f"{season}: downloading {season_type}")
        segments[season_type] = download_segment(client, season, season_type)
    complete = current_season(datetime.now(UTC).date()) > season
    return store_season(season, segments, data=data, settings=settings, fetched=True,
                        complete=complete, report=report)  # fmt: skip


def download_segment(
    client: LeagueDashboardClient, season: Season, season_type: SeasonType
) -> RawSegment:
    """Season totals (exact counts), or PerGame when the Totals answer has no rows.

    The real site only answers Totals with no rows for a segment without games, where the
    PerGame call is one extra request that is empty too; a stand-in holding only PerGame
    recordings (the replay server) is served through the same path. Each answer is
    validated before the next request, and the segment's ``per_mode`` records which it was."""
    download = client.download(season, season_type, PER_MODE)
    table = parse_dashboard(download.body, season, season_type, PER_MODE)
    if table.is_empty:
        log.info("%s %s: no %s rows; asking for %s", season, season_type, PER_MODE,
                 FALLBACK_PER_MODE)  # fmt: skip
        download = client.download(season, season_type, FALLBACK_PER_MODE)
        table = parse_dashboard(download.body, season, season_type, FALLBACK_PER_MODE)
    return RawSegment(download.body, download.url, table)


def store_season(
    season: Season,
    segments: dict[SeasonType, RawSegment],
    *,
    data: DataDir,
    settings: Settings,
    fetched: bool,
    complete: bool,
    report: Stage = lambda stage, message: None,
) -> FetchResult:
    """Clean validated segments and write raw, cleaned and the fetch record, in that order.

    ``segments`` needs the regular season; playoffs may be absent (nothing recorded)."""
    regular, playoffs = segments[SeasonType.REGULAR], segments.get(SeasonType.PLAYOFFS)
    if regular.table.is_empty:
        # The site answers a season without games (yet) with an empty table: nothing to store,
        # and whatever was stored before stays.
        log.info("%s: no regular-season games reported; nothing stored", season)
        return FetchResult("no-games", str(season), fetched)

    report("clean", f"{season}: cleaning {len(regular.table.players)} players")
    cleaned = clean_season(
        regular.table,
        playoffs.table if playoffs else None,
        playoff_weight=settings.playoff_weight,
        min_games=settings.eligible_min_games,
        min_minutes=settings.eligible_min_minutes,
    )
    if fetched:
        for season_type, segment in segments.items():
            atomic_write_bytes(data.raw_response(season, season_type), segment.body)
    with atomic_output(data.cleaned(season)) as tmp:
        cleaned.to_parquet(tmp, index=False)

    outcome = FetchResult(
        "updated",
        str(season),
        fetched,
        rows=len(cleaned),
        eligible=int(cleaned["ELIGIBLE"].sum()),
        playoff_players=int((cleaned["PLAYOFF_GP"] > 0).sum()),
    )
    record = _fetch_record(
        season,
        segments,
        outcome,
        settings,
        complete=complete,
        fetched_at=datetime.now(UTC) if fetched else None,
        previous=previous_record(data, season),
    )
    data.write_fetch_record(record)
    log.info("%s: stored %d players (%d eligible)", season, outcome.rows, outcome.eligible)
    return outcome


def _fetch_record(
    season: Season,
    segments: dict[SeasonType, RawSegment],
    outcome: FetchResult,
    settings: Settings,
    *,
    complete: bool,
    fetched_at: datetime | None,
    previous: FetchRecord | None,
) -> FetchRecord:
    """The record of what was just stored; a re-clean keeps the previous download time."""
    return FetchRecord(
        season=season,
        fetched_at=fetched_at or (previous.fetched_at if previous else None),
        complete=complete,
        segments={t: _segment_record(s) for t, s in segments.items()},
        cleaned=CleanedRecord(
            rows=outcome.rows,
            eligible=outcome.eligible,
            playoff_players=outcome.playoff_players,
            cleaned_at=datetime.now(UTC),
            playoff_weight=settings.playoff_weight,
            eligible_min_games=settings.eligible_min_games,
            eligible_min_minutes=settings.eligible_min_minutes,
        ),
    )


def _segment_record(segment: RawSegment) -> SegmentRecord:
    return SegmentRecord(
        source=segment.source,
        per_mode=segment.table.per_mode,
        rows=len(segment.table.players),
        sha256=hashlib.sha256(segment.body).hexdigest(),
    )


def reclean_season(
    record: FetchRecord,
    *,
    data: DataDir,
    settings: Settings,
    report: Stage = lambda stage, message: None,
) -> FetchResult:
    """Clean a season again from the raw responses its fetch record lists (no network):
    rewrites the cleaned table and the record, keeps the raw files and the download time."""
    segments = {
        season_type: stored_segment(data, record.season, season_type, segment)
        for season_type, segment in record.segments.items()
    }
    return store_season(record.season, segments, data=data, settings=settings, fetched=False,
                        complete=record.complete, report=report)  # fmt: skip


def stored_segment(
    data: DataDir, season: Season, season_type: SeasonType, segment: SegmentRecord | None
) -> RawSegment:
    """A kept raw response, checked against the record's hash (``segment``; None when the
    record is lost: then the body's own echoed PerMode says how to read it)."""
    path = data.raw_response(season, season_type)
    fix = f"run `nba-archetypes refresh {season} --force` (downloads it again)"
    try:
        body = path.read_bytes()
    except FileNotFoundError as error:
        raise DamagedFileError.at(path, "missing", fix) from error
    if segment is not None and hashlib.sha256(body).hexdigest() != segment.sha256:
        raise DamagedFileError.at(path, "damaged (not what was downloaded: SHA-256 mismatch)", fix)
    try:
        table = parse_dashboard(body, season, season_type, segment.per_mode if segment else "")
    except InvalidResponseError as error:
        raise DamagedFileError.at(path, "damaged (not a readable response)", fix, error) from error
    source = segment.source if segment else f"rebuilt from {path.name}"
    return RawSegment(body, source, table)


def previous_record(data: DataDir, season: Season) -> FetchRecord | None:
    """The stored record; a damaged one counts as none, and the next write replaces it."""
    try:
        return data.read_fetch_record(season)
    except DamagedFileError as error:
        log.warning("%s is damaged: treated as absent, and written anew", error.path)
        return None
