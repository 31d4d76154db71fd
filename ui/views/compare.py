"""Compare players: a player of one season against the players of another."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts, labels, url_state
from ui.results import ChampionResults
from ui.similarity import most_similar

N_SIMILAR = 10
N_CHARTED = 4


def render(results: ChampionResults) -> None:
    assignments = results.assignments
    seasons = results.seasons
    left, middle, right = st.columns([1, 2, 1])
    with left:
        season = url_state.pick(
            st.selectbox, "Season", seasons, param="season", default=seasons[-1], describe="season"
        )
    players = assignments[assignments["SEASON"] == season].sort_values("PLAYER_NAME")
    names = dict(
        zip(
            players["PLAYER_ID"],
            players["PLAYER_NAME"] + " (" + players["TEAM_ABBREVIATION"] + ")",
            strict=True,
        )
    )
    with middle:
        player_id = url_state.pick(
            st.selectbox,
            "Player (type to search)",
            list(names),
            param="player",
            default=None,
            parse=int,
            describe="player id",
            format_func=names.get,
            index=None,
            placeholder="Type a name…",
        )
    with right:
        default_vs = seasons[0] if seasons[0] != season else seasons[-1]
        versus = url_state.pick(
            st.selectbox,
            "Compare with season",
            seasons,
            param="vs",
            default=default_vs,
            describe="season",
        )

    if player_id is None:
        st.info(
            "Pick a player to see his archetype and the most similar players of another "
            "season, e.g. Kobe Bryant in 2004-05 against 1996-97."
        )
        return

    player = players[players["PLAYER_ID"] == player_id].iloc[0]
    st.subheader(f"{player['PLAYER_NAME']}, {season}: {player['ARCHETYPE_NAME']}")
    st.caption(
        f"{player['TEAM_ABBREVIATION']} · {int(player['GP'])} games · "
        f"{player['MIN_PER_GAME']:.1f} min/game · {player['PTS_PER36']:.1f} pts, "
        f"{player['REB_PER36']:.1f} reb, {player['AST_PER36']:.1f} ast per 36"
    )

    similar = most_similar(assignments, player, versus, limit=N_SIMILAR)
    st.markdown(
        f"**Most similar players in {versus}** (same archetype first, then by distance "
        "in the model's feature space)"
    )
    table, config = labels.readable(
        _similar_table(similar),
        SIMILARITY=st.column_config.ProgressColumn(
            "Similarity", format="%.0f%%", min_value=0, max_value=100, width="small"
        ),
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)

    charted = pd.concat([player.to_frame().T, similar.head(N_CHARTED - 1)])
    charted = charted.assign(LABEL=charted["PLAYER_NAME"] + " " + charted["SEASON"])
    for stat in charts.KEY_STATS:
        charted[stat] = charted[stat].astype("float64")
    st.altair_chart(charts.side_by_side(charted), width="content")


def _similar_table(similar: pd.DataFrame) -> pd.DataFrame:
    """Raw columns (labels and formats come from ``labels.column_config``)."""
    columns = ["PLAYER_NAME", "TEAM_ABBREVIATION", "ARCHETYPE_NAME", "SIMILARITY"]
    return similar[columns + list(charts.KEY_STATS)]
