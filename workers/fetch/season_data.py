"""One season's journey from the stats site to the shared data directory.

Order of writes makes a crash harmless: both responses are validated before anything is
written, each file is replaced atomically, and the fetch record is written last, so a
half-finished refresh is simply redone next time. Bad input raises before any write, so
the previous data stays as it was.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from common.fetch_record import CleanedRecord, FetchRecord, SegmentRecord
from common.seasons import Season, SeasonType, current_season
from common.settings import Settings
from common.storage import DataDir, atomic_output, atomic_write_bytes
from workers.fetch.cleaning import clean_season
from workers.fetch.nba_client import FALLBACK_PER_MODE, PER_MODE, LeagueDashboardClient
from workers.fetch.response import DashboardTable, parse_dashboard

log = logging.getLogger(__name__)

Stage = Callable[[str, str], None]  # (stage, message) -> report progress
Status = Literal["updated", "no-games"]


@dataclass(frozen=True)
class SeasonOutcome:
    season: str
    status: Status
    fetched: bool  # False when complete raw data on disk was reused
    rows: int = 0
    eligible: int = 0
    playoff_players: int = 0

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class RawSegment:
    body: bytes
    source: str
    table: DashboardTable


def needs_download(record: FetchRecord | None, force: bool) -> bool:
    """A season is downloaded unless its stored copy was taken after the season was over."""
    return force or record is None or not record.complete


def refresh_season(
    season: Season,
    *,
    data: DataDir,
    settings: Settings,
    client: LeagueDashboardClient,
    force: bool = False,
    report: Stage = lambda stage, message: None,
) -> SeasonOutcome:
    record = data.read_fetch_record(season)
    if record is not None and not needs_download(record, force):
        report("clean", f"{season}: complete copy on disk, not downloaded again")
        segments = {
            season_type: _stored_segment(data, season, season_type, segment)
            for season_type, segment in record.segments.items()
        }
        return store_season(season, segments, data=data, settings=settings, fetched=False,
                            complete=True, report=report)  # fmt: skip

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
) -> SeasonOutcome:
    """Clean validated segments and write raw, cleaned and the fetch record, in that order.

    ``segments`` needs the regular season; playoffs may be absent (nothing recorded)."""
    regular, playoffs = segments[SeasonType.REGULAR], segments.get(SeasonType.PLAYOFFS)
    if regular.table.is_empty:
        # The site answers a season without games (yet) with an empty table: nothing to store,
        # and whatever was stored before stays.
        log.info("%s: no regular-season games reported; nothing stored", season)
        return SeasonOutcome(str(season), "no-games", fetched)

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

    outcome = SeasonOutcome(
        str(season),
        "updated",
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
        previous=data.read_fetch_record(season),
    )
    data.write_fetch_record(record)
    log.info("%s: stored %d players (%d eligible)", season, outcome.rows, outcome.eligible)
    return outcome


def _fetch_record(
    season: Season,
    segments: dict[SeasonType, RawSegment],
    outcome: SeasonOutcome,
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


def _stored_segment(
    data: DataDir, season: Season, season_type: SeasonType, segment: SegmentRecord
) -> RawSegment:
    body = data.raw_response(season, season_type).read_bytes()
    table = parse_dashboard(body, season, season_type, segment.per_mode)
    return RawSegment(body, segment.source, table)
