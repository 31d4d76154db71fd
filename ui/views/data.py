"""Data: the downloaded seasons, filterable, with a column picker and CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from common.seasons import Season
from ui import results, url_state

DEFAULT_COLUMNS = [
    "SEASON",
    "PLAYER_NAME",
    "TEAM_ABBREVIATION",
    "AGE",
    "GP",
    "MIN_PER_GAME",
    "PLAYOFF_GP",
    "PTS_PER36",
    "REB_PER36",
    "AST_PER36",
    "STL_PER36",
    "BLK_PER36",
    "FG3A_RATE",
    "TS_PCT",
    "ELIGIBLE",
]


def render() -> None:
    st.title("Downloaded seasons")
    summary = results.fetch_summary()
    if summary.empty:
        st.info("No season downloaded yet: start a refresh on the **Pipeline** page.")
        return
    st.dataframe(
        summary,
        hide_index=True,
        width="stretch",
        column_config={"fetched": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )

    labels = list(summary["season"])
    season = url_state.pick(
        st.selectbox, "Season", labels, param="season", default=labels[-1], describe="season"
    )
    table = results.cleaned_season(Season.parse(season))

    left, middle, right = st.columns([2, 2, 1])
    name = left.text_input("Player name contains", key="data_name")
    teams = middle.multiselect("Teams", sorted(table["TEAM_ABBREVIATION"].dropna().unique()))
    eligible_only = right.toggle("Eligible only", value=False, help="20+ games and 500+ minutes")
    columns = st.multiselect(
        "Columns", list(table.columns), default=[c for c in DEFAULT_COLUMNS if c in table.columns]
    )

    shown = _filter(table, name, teams, eligible_only)[columns or DEFAULT_COLUMNS]
    st.caption(f"{len(shown)} of {len(table)} players")
    decimals = {
        c: st.column_config.NumberColumn(format="%.2f")
        for c in shown.columns
        if shown[c].dtype == "float64" and c != "AGE"
    }
    st.dataframe(shown, hide_index=True, width="stretch", column_config=decimals)
    st.download_button(
        "Download CSV",
        shown.to_csv(index=False).encode(),
        file_name=f"nba-{season}-players.csv",
        mime="text/csv",
    )


def _filter(table: pd.DataFrame, name: str, teams: list[str], eligible_only: bool) -> pd.DataFrame:
    keep = pd.Series(True, index=table.index)
    if name:
        keep &= table["PLAYER_NAME"].str.contains(name, case=False, regex=False, na=False)
    if teams:
        keep &= table["TEAM_ABBREVIATION"].isin(teams)
    if eligible_only:
        keep &= table["ELIGIBLE"]
    return table[keep]
