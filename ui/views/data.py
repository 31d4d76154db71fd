"""Data: the downloaded seasons, filterable, with a column picker and CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from common.failures import DamagedFileError
from common.seasons import Season
from common.style import STYLE_FEATURES
from ui import labels, results, url_state
from ui.failure import show_failure

# Who he is and how much he played, the style features (what the model compares), then
# scoring and efficiency, which describe a player but are not model inputs.
DEFAULT_COLUMNS = [
    "PLAYER_NAME",
    "TEAM_ABBREVIATION",
    "AGE",
    "GP",
    "MIN_PER_GAME",
    "PLAYOFF_GP",
    *STYLE_FEATURES,
    "PTS_PER36",
    "TS_PCT",
    "ELIGIBLE",
]


def render() -> None:
    summary = results.fetch_summary()
    if summary.empty:
        st.info("No season downloaded yet: start a refresh on the **Pipeline** page.")
        return
    st.caption(
        f"{len(summary)} seasons stored: when each was fetched, from where, and how many "
        "players it has (eligible = enough games and minutes to be classified)."
    )
    st.dataframe(
        summary,
        hide_index=True,
        width="stretch",
        column_config={
            "season": "Season",
            "fetched": st.column_config.DatetimeColumn("Fetched (UTC)", format="YYYY-MM-DD HH:mm"),
            "complete": st.column_config.CheckboxColumn(
                "Complete", help="The whole season (no games left to play) was stored"
            ),
            "players": "Players",
            "eligible": "Eligible",
            "with playoffs": "With playoffs",
            "source": "Source",
        },
    )

    st.subheader("Players of one season")
    seasons = list(summary["season"])
    season = url_state.pick(
        st.columns([1, 3])[0].selectbox,
        "Season",
        seasons,
        param="season",
        default=seasons[-1],
        describe="season",
    )
    try:
        table = results.cleaned_season(Season.parse(season))
    except DamagedFileError as error:
        show_failure(error)
        return
    # Most minutes first: the players a reader knows, not the site's row order.
    table = table.sort_values("MIN", ascending=False)

    left, middle, right = st.columns([2, 2, 1])
    name = left.text_input("Player name contains", key="data_name")
    teams = middle.multiselect("Teams", sorted(table["TEAM_ABBREVIATION"].dropna().unique()))
    eligible_only = right.toggle("Eligible only", value=False, help="20+ games and 500+ minutes")
    columns = st.multiselect(
        "Columns",
        list(table.columns),
        default=[c for c in DEFAULT_COLUMNS if c in table.columns],
        format_func=labels.label,
    )

    shown = _filter(table, name, teams, eligible_only)[
        columns or [c for c in DEFAULT_COLUMNS if c in table.columns]
    ]
    st.caption(
        f"Style features (archetypes and similar players are computed on these, ranked "
        f"within the season): {', '.join(labels.label(f) for f in STYLE_FEATURES)}. Points "
        "and shooting efficiency describe a player but are not model inputs."
    )
    st.caption(f"{len(shown)} of {len(table)} players")
    table_shown, config = labels.readable(shown)
    st.dataframe(table_shown, hide_index=True, width="stretch", column_config=config)
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
