"""Readable names and number formats for the data's columns (``PTS_PER36`` → "PTS/36").

The tables keep their raw column names (CSV downloads and code use them); what a reader sees
is relabelled through Streamlit's ``column_config``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from common.style import STYLE_FEATURES

NAMES = {
    "PLAYER_ID": "Player ID",
    "PLAYER_NAME": "Player",
    "SEASON": "Season",
    "TEAM_ABBREVIATION": "Team",
    "TEAM_COUNT": "Teams",
    "ARCHETYPE_NAME": "Archetype",
    "AGE": "Age",
    "GP": "Games",
    "MIN": "Minutes",
    "MIN_PER_GAME": "Min/game",
    "PLAYOFF_GP": "Playoff games",
    "PLAYOFF_MIN": "Playoff min",
    "ELIGIBLE": "Eligible",
    "FG_PCT": "FG%",
    "FG3_PCT": "3P%",
    "FT_PCT": "FT%",
    "TS_PCT": "TS%",
    "FG3A_RATE": "3PA share",
    "FTA_RATE": "FTA rate",
}
# Box-score abbreviations as fans write them.
STATS = {"FG3M": "3PM", "FG3A": "3PA", "BLKA": "BLKA", "PFD": "PF drawn"}
PERCENT_SUFFIXES = ("_PCT", "_RATE")


def label(column: str) -> str:
    if column in NAMES:
        return NAMES[column]
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
    """The tooltip of a style feature's column (what the model compares), else None."""
    if column not in STYLE_FEATURES:
        return None
    return (
        f"Style feature ({STYLE_FEATURES[column]}): archetypes and similar players are "
        "computed on it, ranked within the season"
    )


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
