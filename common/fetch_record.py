"""The fetch record (``raw/<season>/fetch.json``): what was stored for a season, when and from
where. Written by the fetch worker after every stored season, read by the fetch worker (is the
stored copy complete? where are its segments?) and by the app (the Data page's table).

The JSON layout is defined here only; both sides go through :class:`FetchRecord`::

    {"season": "2018-19", "fetched_at": "2024-05-01T10:00:00+00:00", "complete": true,
     "segments": {"Regular Season": {"source": URL, "per_mode": "PerGame", "rows": 530,
                                     "sha256": HEX},
                  "Playoffs": {...}},
     "cleaned": {"rows": 530, "eligible": 360, "playoff_players": 224,
                 "cleaned_at": "...", "playoff_weight": 2.0,
                 "eligible_min_games": 20, "eligible_min_minutes": 500.0}}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from common.seasons import Season, SeasonType


def _timestamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _parse_timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class SegmentRecord:
    """One stored response (regular season or playoffs)."""

    source: str  # the URL it came from, or ``recording:<file>`` for a bundled recording
    per_mode: str  # the PerMode the response is in (Totals, PerGame or Per36)
    rows: int
    sha256: str  # of the raw body as stored

    @property
    def source_without_query(self) -> str:
        return self.source.split("?")[0]


@dataclass(frozen=True)
class CleanedRecord:
    """The cleaned table and the settings it was cleaned with."""

    rows: int
    eligible: int
    playoff_players: int
    cleaned_at: datetime
    playoff_weight: float
    eligible_min_games: int
    eligible_min_minutes: float


@dataclass(frozen=True)
class FetchRecord:
    season: Season
    fetched_at: datetime | None  # when the raw responses were downloaded (kept on a re-clean)
    complete: bool  # taken after the season was over: never downloaded again unless forced
    segments: dict[SeasonType, SegmentRecord] = field(default_factory=dict)
    cleaned: CleanedRecord | None = None

    @property
    def regular(self) -> SegmentRecord | None:
        return self.segments.get(SeasonType.REGULAR)

    def to_dict(self) -> dict[str, Any]:
        cleaned = asdict(self.cleaned) if self.cleaned else None
        if cleaned:
            cleaned["cleaned_at"] = _timestamp(self.cleaned.cleaned_at)  # type: ignore[union-attr]
        return {
            "season": str(self.season),
            "fetched_at": _timestamp(self.fetched_at),
            "complete": self.complete,
            "segments": {str(t): asdict(s) for t, s in self.segments.items()},
            "cleaned": cleaned,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FetchRecord:
        cleaned = data.get("cleaned")
        return cls(
            season=Season.parse(data["season"]),
            fetched_at=_parse_timestamp(data.get("fetched_at")),
            complete=bool(data.get("complete", False)),
            segments={
                SeasonType(name): SegmentRecord(**segment)
                for name, segment in (data.get("segments") or {}).items()
            },
            cleaned=CleanedRecord(
                **{**cleaned, "cleaned_at": _parse_timestamp(cleaned["cleaned_at"])}
            )
            if cleaned
            else None,
        )
