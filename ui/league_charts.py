"""Altair charts of the League and Teams pages (each archetype in its profile's colour)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from common.league import MINUTES, League
from ui.charts import FIT_WIDTH, archetype_color, fitted_legend

SEASON_PICK = "season_pick"  # the league chart's click selection (a season)
DIMMED = 0.5  # opacity of the seasons not open, and of the league beside a team
WHO_LEGEND_COLUMN = 160  # px: a symbol and "League 2018-19"


def league_mix(league: League, colors: list[str], selected: str | None) -> alt.Chart:
    """Each archetype's share of minutes, season by season, stacked to 100 %; a click on a
    season selects it (``SEASON_PICK``); ``selected`` (the season open below) stands out."""
    long = (
        pd.DataFrame({"SHARE": league.shares.stack(), MINUTES: league.minutes.stack()})
        .rename_axis(["SEASON", "ARCHETYPE_NAME"])
        .reset_index()
    )
    long["OPEN"] = long["SEASON"] == selected
    pick = alt.selection_point(name=SEASON_PICK, fields=["SEASON"], on="click")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("SEASON:O", title="Season", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(
                "SHARE:Q",
                title="Share of minutes",
                stack="zero",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=archetype_color(league.archetypes, colors),
            order=alt.Order("ARCHETYPE_NAME:N", sort="ascending"),
            opacity=alt.condition("datum.OPEN", alt.value(1.0), alt.value(DIMMED))
            if selected
            else alt.value(1.0),
            tooltip=[
                alt.Tooltip("SEASON:N", title="Season"),
                alt.Tooltip("ARCHETYPE_NAME:N", title="Archetype"),
                alt.Tooltip("SHARE:Q", title="Share of minutes", format=".1%"),
                alt.Tooltip(f"{MINUTES}:Q", title="Minutes", format=",.0f"),
            ],
        )
        .add_params(pick)
        .properties(height=360, autosize=FIT_WIDTH)
    )


def team_vs_league(league: League, team: str, season: str, colors: list[str]) -> alt.Chart:
    """Per archetype, the team-season's share of minutes beside the league's that season."""
    leanings = league.leanings(team, season)
    order = list(leanings.sort_values("TEAM_SHARE", ascending=False, kind="stable").index)
    who_team, who_league = f"{team} {season}", f"League {season}"
    rows = pd.concat(
        [
            pd.DataFrame({"ARCHETYPE_NAME": leanings.index, "WHO": who, "SHARE": leanings[column]})
            for who, column in ((who_team, "TEAM_SHARE"), (who_league, "LEAGUE_SHARE"))
        ],
        ignore_index=True,
    )
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            y=alt.Y(
                "ARCHETYPE_NAME:N",
                title=None,
                sort=order,
                axis=alt.Axis(labelLimit=260, labelFontSize=12),
            ),
            yOffset=alt.YOffset("WHO:N", sort=[who_team, who_league]),
            x=alt.X("SHARE:Q", title="Share of minutes", axis=alt.Axis(format="%")),
            color=archetype_color(league.archetypes, colors, legend=None),
            opacity=alt.Opacity(
                "WHO:N",
                title=None,
                sort=[who_team, who_league],
                scale=alt.Scale(domain=[who_team, who_league], range=[1.0, DIMMED]),
                legend=fitted_legend("top", WHO_LEGEND_COLUMN, labelFontSize=12),
            ),
            tooltip=[
                alt.Tooltip("WHO:N", title="Who"),
                alt.Tooltip("ARCHETYPE_NAME:N", title="Archetype"),
                alt.Tooltip("SHARE:Q", title="Share of minutes", format=".1%"),
            ],
        )
        .properties(height=alt.Step(14), autosize=FIT_WIDTH)
    )
