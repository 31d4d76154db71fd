"""Data: the downloaded seasons, filterable, with a column picker and CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from common.failures import DamagedFileError
from common.players import NAME_THAT_SEASON, Players, fold, with_latest_names
from common.seasons import Season
from common.segments import REGULAR_SHOOTING
from common.style import STYLE_FEATURES
from ui import labels, results, url_state
from ui.failure import show_failure

# Who he is and how much he played, his regular-season shooting as the site gives it, the
# style features (what the model compares), then scoring, which describes a player but is
# not a model input.
DEFAULT_COLUMNS = [
    "PLAYER_NAME",
    "TEAM_ABBREVIATION",
    "AGE",
    "GP",
    "MIN_PER_GAME",
    *REGULAR_SHOOTING,
    "PLAYOFF_GP",
    *STYLE_FEATURES,
    "PTS_PER36",
    "ELIGIBLE",
]
# A season cleaned before each segment's shooting was kept has only the blended TS%: shown,
# labelled as such, until `nba-archetypes rebuild` adds the rest.
LEGACY_DEFAULTS = ["TS_PCT"]


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
    season = url_state.pick_season(st.columns([1, 3])[0].selectbox, seasons)
    try:
        table = results.cleaned_season(Season.parse(season))
    except DamagedFileError as error:
        show_failure(error)
        return
    # One player, one career: every row under his latest name, over every stored season.
    players = results.players()
    table = with_latest_names(table, pd.Series(players.latest, dtype=object))
    # Most minutes first: the players a reader knows, not the site's row order.
    table = table.sort_values("MIN", ascending=False)
    defaults = _default_columns(table)

    left, middle, right = st.columns([2, 2, 1])
    name = left.text_input("Player name contains", key="data_name")
    teams = middle.multiselect("Teams", sorted(table["TEAM_ABBREVIATION"].dropna().unique()))
    eligible_only = right.toggle("Eligible only", value=False, help=labels.classified())
    columns = st.multiselect(
        "Columns", list(table.columns), default=defaults, format_func=labels.label
    )

    shown = _filter(table, players, name, teams, eligible_only)[columns or defaults]
    st.caption(
        f"Style features (archetypes and similar players are computed on these, ranked "
        f"within the season): {', '.join(labels.label(f) for f in STYLE_FEATURES)}. They and "
        f"every per-36 rate are {labels.blended()}: the regular season and the playoffs "
        "together, the training input. Shooting is per segment, as stats.nba.com gives it "
        "(regular season; playoffs in their own columns); points and shooting describe a "
        "player but are not model inputs."
        + (
            ""
            if set(REGULAR_SHOOTING) <= set(table.columns)
            else f" This season was cleaned before each segment's shooting was kept: "
            f"`nba-archetypes rebuild {season}` adds it."
        )
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


def _default_columns(table: pd.DataFrame) -> list[str]:
    present = [c for c in DEFAULT_COLUMNS if c in table.columns]
    if set(REGULAR_SHOOTING) <= set(table.columns):
        return present
    return [*present, *(c for c in LEGACY_DEFAULTS if c in table.columns)]


def _filter(
    table: pd.DataFrame, players: Players, name: str, teams: list[str], eligible_only: bool
) -> pd.DataFrame:
    keep = pd.Series(True, index=table.index)
    if name:
        # Any name he has had in any stored season finds him (accents, case, dots optional);
        # his name in this season's own table always does.
        own = table[NAME_THAT_SEASON].astype(str).map(fold)
        keep &= table["PLAYER_ID"].isin(players.ids_containing(name)) | own.str.contains(
            fold(name), regex=False
        )
    if teams:
        keep &= table["TEAM_ABBREVIATION"].isin(teams)
    if eligible_only:
        keep &= table["ELIGIBLE"]
    return table[keep]
