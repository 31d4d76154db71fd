"""The report on a season the champion had not seen, logged with the model that first assigns
it (``workers/train/new_seasons.py`` builds it; the Pipeline page and ``nba-archetypes
new-season`` read it).

A player "fits no archetype" when he is farther from every archetype's centre than
:data:`MISFIT_PERCENTILE` % of the players of the seasons already seen are from their nearest
one. By construction about 5 % of a seen season fit none; a new season far above the seen
seasons' highest share holds styles the archetypes do not describe (a new role, a rule change),
and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

SEASON_REPORT_ARTIFACT = "new_season_report.json"
TAG_NEW_SEASONS = "new_seasons"  # on a run that carries the report: its seasons, comma-separated
MISFIT_PERCENTILE = 95.0
SEASONS_BEFORE = 3  # a new season's archetype shares are compared with this many before it


@dataclass(frozen=True)
class Misfit:
    """A player of the new season who fits no archetype: the nearest one, and how far."""

    player_id: int
    player: str
    team: str
    nearest: str
    distance: float  # in the style space; the threshold is the report's ``threshold``


@dataclass(frozen=True)
class ShareShift:
    """An archetype's share of the new season's minutes against the seasons before it."""

    archetype: str
    share: float
    before: float | None  # mean share over ``compared_with`` (None: no season before)

    @property
    def change(self) -> float | None:
        return None if self.before is None else self.share - self.before


@dataclass(frozen=True)
class SeasonReport:
    season: str
    players: int
    misfit_share: float  # of the season's players, the share that fits no archetype
    threshold: float  # the seen seasons' MISFIT_PERCENTILE of distances to the nearest centre
    seen_misfit_shares: dict[str, float]  # the same share for each season already seen
    compared_with: list[str]  # the seasons before it whose shares ``shares`` compares with
    shares: list[ShareShift] = field(default_factory=list)  # largest change first
    misfits: list[Misfit] = field(default_factory=list)  # farthest first

    @property
    def highest_seen_share(self) -> float:
        return max(self.seen_misfit_shares.values(), default=0.0)

    @property
    def unusual(self) -> bool:
        """More of its players fit no archetype than in any season already seen."""
        return bool(self.seen_misfit_shares) and self.misfit_share > self.highest_seen_share

    def summary(self) -> str:
        """One line for people."""
        seen = self.seen_misfit_shares.values()
        line = (
            f"{self.season}: {self.misfit_share:.1%} of {self.players} players fit no archetype "
            f"(seasons seen: {min(seen):.1%}–{max(seen):.1%})"
        )
        return line + (": more than in any season seen" if self.unusual else "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            **{
                **data,
                "shares": [ShareShift(**s) for s in data.get("shares", [])],
                "misfits": [Misfit(**m) for m in data.get("misfits", [])],
            }
        )


def read_season_reports(path: Path) -> list[SeasonReport]:
    """The reports logged in ``path`` (a ``ValueError`` if it is not what a training wrote)."""
    try:
        return [SeasonReport.from_json(report) for report in json.loads(path.read_text())]
    except (TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"not a new-season report: {error}") from error
