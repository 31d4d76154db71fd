"""Season rules: what a season label looks like and which seasons exist.

An NBA season is labelled by its start year and the last two digits of the next year
(``2018-19``). stats.nba.com's league dashboard has per-player stats from 1996-97 on; a
season starts in October, so before October the latest season is the previous one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

FIRST_START_YEAR = 1996
SEASON_START_MONTH = 10
# ASCII digits only: \d and int() also take full-width or Arabic-Indic digits, which would
# then reach file names and the stats site's query string.
_LABEL = re.compile(r"([0-9]{4})-([0-9]{2}|[0-9]{4})")  # 2018-19, or 2018-2019 as some write it
_YEAR = re.compile(r"[0-9]{4}")


class SeasonType(StrEnum):
    """The two segments of a season, spelled as the stats site's ``SeasonType`` parameter."""

    REGULAR = "Regular Season"
    PLAYOFFS = "Playoffs"

    @property
    def slug(self) -> str:
        return self.value.lower().replace(" ", "-")


class InvalidSeasonError(ValueError):
    """A season label that is malformed or names a season without league dashboard stats."""


@dataclass(frozen=True, order=True)
class Season:
    start_year: int

    def __str__(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return str(self)

    @classmethod
    def parse(cls, text: str, today: date | None = None) -> Season:
        """Parse ``YYYY-YY`` (or ``YYYY-YYYY``) and check the season exists; the error says
        what is wrong."""
        text = (text or "").strip()
        if not text:
            raise InvalidSeasonError("Season is empty: expected a label like 2018-19.")
        match = _LABEL.fullmatch(text)
        if not match:
            raise InvalidSeasonError(_malformed(text))
        start, end = int(match[1]), int(match[2])
        if end != (start + 1 if len(match[2]) == 4 else (start + 1) % 100):
            raise InvalidSeasonError(
                f"Season {text!r} does not span two consecutive years: did you mean {cls(start)}?"
            )
        season = cls(start)
        first, latest = cls(FIRST_START_YEAR), current_season(today)
        if season < first:
            raise InvalidSeasonError(
                f"Season {text} is before {first}, the first season with player dashboard stats."
            )
        if season > latest:
            raise InvalidSeasonError(f"Season {text} is in the future: the latest is {latest}.")
        return season


def _malformed(text: str) -> str:
    """What to say of a label that is no season; a bare year could be either season it
    touches, so both are offered."""
    if _YEAR.fullmatch(text):
        year = int(text)
        return (
            f"Season {text!r} is malformed: expected YYYY-YY: {Season(year - 1)} (the season "
            f"that ended in {year}) or {Season(year)} (the one that began in it)?"
        )
    shown = text if len(text) <= 30 else text[:29] + "…"  # never echo a wall of input
    return f"Season {shown!r} is malformed: expected YYYY-YY, e.g. 2018-19."


def current_season(today: date | None = None) -> Season:
    today = today or date.today()
    start = today.year if today.month >= SEASON_START_MONTH else today.year - 1
    return Season(start)


def season_range(first: Season, last: Season) -> list[Season]:
    if first > last:
        raise InvalidSeasonError(f"Empty range: {first} comes after {last}.")
    return [Season(year) for year in range(first.start_year, last.start_year + 1)]


def parse_seasons(text: str, today: date | None = None) -> list[Season]:
    """``2018-19`` for one season, ``2015-16:2018-19`` for an inclusive range."""
    first, sep, last = (text or "").partition(":")
    if not sep:
        return [Season.parse(first, today)]
    return season_range(Season.parse(first, today), Season.parse(last, today))
