"""Per-segment and blended figures: what the site gives, and what the model trains on.

The site publishes each segment of a season apart: the regular season and the playoffs. The
model sees one row per player-season, the playoffs folded into the regular season with a
playoff game weighing ``PLAYOFF_WEIGHT`` regular ones (``workers/fetch/cleaning.py``). So the
cleaned table, and the champion's assignments, hold both kinds of figure:

- per segment, as the site gives them: ``GP``, ``MIN``, ``MIN_PER_GAME`` and
  ``REGULAR_<pct>`` for the regular season; ``PLAYOFF_GP``, ``PLAYOFF_MIN`` and
  ``PLAYOFF_<pct>`` for the playoffs (NaN percentages when he did not play in them);
- blended: every per-36 rate, the shot mix (``FG3A_RATE``, ``FTA_RATE``: style features, the
  training input) and the plain ``FG_PCT``, ``FG3_PCT``, ``FT_PCT``, ``TS_PCT``. Tables cleaned
  before the per-segment columns existed have only these.

A fan compares a 3P% with the site's, so a blended figure is never shown under a plain
label: :func:`blended_note` says what it is, wherever the app or the CLI shows one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# Shooting percentages, cleaned-table column -> what a fan calls it. FG%, 3P% and FT% are the
# site's own columns; TS% is computed from the same segment's made shots and attempts.
SHOOTING: dict[str, str] = {"FG_PCT": "FG%", "FG3_PCT": "3P%", "FT_PCT": "FT%", "TS_PCT": "TS%"}
REGULAR_PREFIX = "REGULAR_"
PLAYOFF_PREFIX = "PLAYOFF_"  # as the cleaned table's PLAYOFF_GP and PLAYOFF_MIN


def regular_column(stat: str) -> str:
    """ "FG3_PCT" -> "REGULAR_FG3_PCT": the regular season's own figure."""
    return f"{REGULAR_PREFIX}{stat}"


def playoff_column(stat: str) -> str:
    """ "FG3_PCT" -> "PLAYOFF_FG3_PCT": the playoffs' own figure."""
    return f"{PLAYOFF_PREFIX}{stat}"


REGULAR_SHOOTING = [regular_column(s) for s in SHOOTING]
PLAYOFF_SHOOTING = [playoff_column(s) for s in SHOOTING]


def blended_note(playoff_weight: float) -> str:
    """How a blended figure is labelled: "blended, playoffs x2" (with the multiplication sign)."""
    return f"blended, playoffs ×{playoff_weight:g}"


def segment_figures(row: Mapping[str, Any], *, playoffs: bool) -> dict[str, float | None]:
    """One segment of one player-season: ``games``, ``min_per_game`` and the SHOOTING
    figures (``fg_pct`` …), None where undefined (0-for-0) or not stored (a table or champion
    from before the per-segment columns)."""
    if playoffs:
        games, minutes = (
            number_or_none(row.get("PLAYOFF_GP")),
            number_or_none(row.get("PLAYOFF_MIN")),
        )
        per_game = minutes / games if games and minutes is not None else None
    else:
        games, per_game = number_or_none(row.get("GP")), number_or_none(row.get("MIN_PER_GAME"))
    column = playoff_column if playoffs else regular_column
    return {
        "games": games,
        "min_per_game": per_game,
        **{stat.lower(): number_or_none(row.get(column(stat))) for stat in SHOOTING},
    }


def has_shooting(figures: Mapping[str, float | None]) -> bool:
    """Whether any per-segment percentage is known (not so for older tables)."""
    return any(figures.get(stat.lower()) is not None for stat in SHOOTING)


def missing_shooting_note(season: str) -> str:
    """What to say where a champion's season has no per-segment shooting (stored before it
    was kept), and how to get it: the app and the CLI say the same."""
    return (
        f"Shooting per segment is not in the champion's data for {season} (stored before it "
        f"was kept): `nba-archetypes rebuild {season}`, then a training (`nba-archetypes "
        "train`), adds it."
    )


def number_or_none(value: Any) -> float | None:
    """A float, or None for missing and NaN (JSON's null)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
