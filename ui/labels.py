"""Readable names and number formats for the data's columns (``PTS_PER36`` → "PTS/36").

The tables keep their raw column names (CSV downloads and code use them); what a reader sees
is relabelled through Streamlit's ``column_config``. Shooting is labelled by segment, as the
site gives it ("3P% (regular season)", "3P% (playoffs)"); a figure folding both is never
shown under a plain label ("3P% (blended, playoffs x2)", ``common/segments.py``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from common.box_score import eligibility_rule
from common.players import NAME_THAT_SEASON
from common.segments import PLAYOFF_PREFIX, REGULAR_PREFIX, SHOOTING, blended_note
from common.settings import get_settings
from common.style import STYLE_FEATURES

NAMES = {
    "PLAYER_ID": "Player ID",
    "PLAYER_NAME": "Player",
    NAME_THAT_SEASON: "Name that season",
    "SEASON": "Season",
    "TEAM_ABBREVIATION": "Team",
    "TEAM_ID": "Franchise ID",
    "TEAM_COUNT": "Teams",
    "ARCHETYPE_NAME": "Archetype",
    "AGE": "Age",
    "GP": "Games",
    "MIN": "Minutes",
    "MIN_PER_GAME": "Min/game",
    "PLAYOFF_GP": "Playoff games",
    "PLAYOFF_MIN": "Playoff min",
    "ELIGIBLE": "Eligible",
    "FG3A_RATE": "3PA share",
    "FTA_RATE": "FTA rate",
}
# Box-score abbreviations as fans write them.
STATS = {"FG3M": "3PM", "FG3A": "3PA", "BLKA": "BLKA", "PFD": "PF drawn"}
PERCENT_SUFFIXES = ("_PCT", "_RATE")


def blended() -> str:
    """ "blended, playoffs x2" (the weight set): what every folded figure says it is."""
    return blended_note(get_settings().playoff_weight)


def classified() -> str:
    """ "20+ games, 500+ minutes" (the rule set): who is classified, wherever a page says it."""
    settings = get_settings()
    return eligibility_rule(settings.eligible_min_games, settings.eligible_min_minutes)


def label(column: str) -> str:
    if column in NAMES:
        return NAMES[column]
    if column in SHOOTING:  # the cleaned table's FG_PCT … TS_PCT fold both segments
        return f"{SHOOTING[column]} ({blended()})"
    for prefix, segment in ((REGULAR_PREFIX, "regular season"), (PLAYOFF_PREFIX, "playoffs")):
        if column.removeprefix(prefix) in SHOOTING and column.startswith(prefix):
            return f"{SHOOTING[column.removeprefix(prefix)]} ({segment})"
    if column.endswith("_RANK"):
        return f"{label(column.removesuffix('_RANK'))} rank"
    if column.endswith("_PER36"):
        stat = column.removesuffix("_PER36")
        return f"{STATS.get(stat, stat)}/36"
    return column.replace("_", " ").capitalize()


def is_percent(column: str) -> bool:
    return column.endswith(PERCENT_SUFFIXES)


def number_format(column: str) -> str:
    if is_percent(column):
        return "%.1f%%"  # of the value x 100, see readable()
    if column.endswith("_RANK") or column in {"AGE", "MIN", "PLAYOFF_MIN"}:
        return "%d"
    return "%.1f"


def style_help(column: str) -> str | None:
    """The tooltip of a column whose figure is not simply the site's: a style feature (what
    the model compares) or another blended figure; else None."""
    weight = f"{get_settings().playoff_weight:g}"
    folded = f"regular season and playoffs blended, a playoff game counting {weight}×"
    if column in STYLE_FEATURES:
        return (
            f"Style feature ({STYLE_FEATURES[column]}): archetypes and similar players are "
            f"computed on it, ranked within the season; {folded} (the training input)"
        )
    if column in SHOOTING:
        return f"{folded.capitalize()}: not the site's figure, which is given per segment"
    if column.endswith(("_PER36", "_RATE")):
        return folded.capitalize()
    segments = (
        (REGULAR_PREFIX, "Regular season", "no attempts"),
        (PLAYOFF_PREFIX, "Playoffs", "no playoff games or no attempts"),
    )
    for prefix, segment, empty in segments:
        stat = column.removeprefix(prefix)
        if column.startswith(prefix) and stat in SHOOTING:
            source = "from its own shots" if stat == "TS_PCT" else "as stats.nba.com gives it"
            return f"{segment} alone, {source} (empty: {empty})"
    return None


def readable(table: pd.DataFrame, **overrides: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``table`` as a reader should see it, and the ``column_config`` that labels it.

    Shares (0..1) become percentages with one decimal ("54.4%"), per-36 stats get one
    decimal, counts none; a style feature's header says so in its tooltip. Columns keep
    their raw names so ``overrides`` can configure them (an override changes the label and
    format, not the values: shares are still shown x 100).
    """
    shown = table.copy()
    config: dict[str, Any] = {}
    for column in table.columns:
        name = str(column)
        is_float = pd.api.types.is_float_dtype(table[column])
        if is_float and is_percent(name):
            shown[column] = table[column] * 100
        if name in overrides:
            config[name] = overrides[name]
        elif is_float:
            config[name] = st.column_config.NumberColumn(
                label(name), format=number_format(name), help=style_help(name)
            )
        else:
            config[name] = st.column_config.Column(label(name), help=style_help(name))
    return shown, config
