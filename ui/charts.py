"""Altair charts of the app."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.labels import PERCENT_SUFFIXES, label

KEY_STATS = {
    s: label(s)
    for s in [
        "PTS_PER36",
        "REB_PER36",
        "AST_PER36",
        "STL_PER36",
        "BLK_PER36",
        "FG3A_PER36",
        "TS_PCT",
        "FG3A_RATE",
    ]
}
TOOLTIP_STATS = ["PTS_PER36", "REB_PER36", "AST_PER36", "FG3A_RATE"]
PALETTE = "tableau10"  # distinct hues: neighbouring archetypes must not look alike


def _d3_format(stat: str) -> str:
    return ".0%" if stat.endswith(PERCENT_SUFFIXES) else ".1f"


def archetype_color(names: list[str]) -> alt.Color:
    return alt.Color(
        "ARCHETYPE_NAME:N", title="Archetype", scale=alt.Scale(domain=names, scheme=PALETTE)
    )


def archetype_scatter(assignments: pd.DataFrame, names: list[str]) -> alt.Chart:
    color = archetype_color(names)
    # Only what the chart uses: every other column would be shipped to the browser too.
    columns = ["X", "Y", "PLAYER_NAME", "SEASON", "TEAM_ABBREVIATION", "ARCHETYPE_NAME"]
    return (
        alt.Chart(assignments[columns + TOOLTIP_STATS])
        .mark_circle(size=28, opacity=0.7)
        .encode(
            x=alt.X("X:Q", title="component 1", axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("Y:Q", title="component 2", axis=alt.Axis(labels=False, ticks=False)),
            color=color,
            tooltip=[
                alt.Tooltip("PLAYER_NAME:N", title="Player"),
                alt.Tooltip("SEASON:N", title="Season"),
                alt.Tooltip("TEAM_ABBREVIATION:N", title="Team"),
                alt.Tooltip("ARCHETYPE_NAME:N", title="Archetype"),
                *[
                    alt.Tooltip(f"{s}:Q", title=KEY_STATS[s], format=_d3_format(s))
                    for s in TOOLTIP_STATS
                ],
            ],
        )
        .properties(height=460)
        .interactive()
    )


def era_mix(assignments: pd.DataFrame, names: list[str]) -> alt.Chart:
    counts = (
        assignments.groupby(["SEASON", "ARCHETYPE_NAME"]).size().rename("players").reset_index()
    )
    return (
        alt.Chart(counts)
        .mark_area()
        .encode(
            x=alt.X("SEASON:O", title="Season", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(
                "players:Q",
                stack="normalize",
                title="Share of eligible players",
                axis=alt.Axis(format="%"),
            ),
            color=archetype_color(names),
            tooltip=["SEASON:N", "ARCHETYPE_NAME:N", "players:Q"],
        )
        .properties(height=320)
    )


def profile_heatmap(z_scores: pd.DataFrame) -> alt.Chart:
    """Archetype x stat, coloured by how far the archetype's mean is from the league's."""
    long = z_scores.reset_index(names="Archetype").melt(
        "Archetype", var_name="Stat", value_name="z"
    )
    base = alt.Chart(long).encode(
        x=alt.X(
            "Stat:N",
            sort=list(z_scores.columns),
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=12),
        ),
        y=alt.Y(
            "Archetype:N",
            title=None,
            sort=list(z_scores.index),
            axis=alt.Axis(labelLimit=260, labelFontSize=12),
        ),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "z:Q",
            scale=alt.Scale(scheme="redblue", domain=[-2, 2], reverse=True),
            title="vs league (σ)",
            # The default 200 px gradient overflows a short chart and gets cut off.
            legend=alt.Legend(gradientLength=max(60, 40 * len(z_scores) - 40)),
        ),
        tooltip=["Archetype:N", "Stat:N", alt.Tooltip("z:Q", format="+.2f")],
    )
    labels = base.mark_text(fontSize=12).encode(
        text=alt.Text("z:Q", format="+.1f"),
        # White on the strong colours, black on the pale ones.
        color=alt.condition("abs(datum.z) > 1.2", alt.value("white"), alt.value("black")),
    )
    return (cells + labels).properties(height=40 * len(z_scores) + 30)


def side_by_side(players: pd.DataFrame) -> alt.Chart:
    """One small bar chart per key stat, the chosen player and his closest matches side by side."""
    long = players.melt("LABEL", value_vars=list(KEY_STATS), var_name="stat", value_name="value")
    shares = long["stat"].str.endswith(PERCENT_SUFFIXES)
    long.loc[shares, "value"] *= 100  # "TS%" reads as 55, not 0.55
    long["stat"] = long["stat"].map(KEY_STATS)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "LABEL:N",
                title=None,
                axis=alt.Axis(labels=False, ticks=False),
                sort=list(players["LABEL"]),
            ),
            y=alt.Y("value:Q", title=None),
            color=alt.Color(
                "LABEL:N",
                title=None,
                sort=list(players["LABEL"]),
                scale=alt.Scale(scheme=PALETTE),
                legend=alt.Legend(orient="top", labelLimit=300, columns=2),
            ),
            tooltip=["LABEL:N", "stat:N", alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(width=150, height=150)
        .facet(
            facet=alt.Facet(
                "stat:N",
                title=None,
                sort=list(KEY_STATS.values()),
                header=alt.Header(labelFontSize=13, labelFontWeight="bold"),
            ),
            columns=4,
        )
        .resolve_scale(y="independent")
    )
