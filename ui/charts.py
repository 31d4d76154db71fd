"""Altair charts of the app."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from ui.labels import is_percent, label

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
PLAYER_COLORS = ["#262730", "#1f5f99", "#4f94d4", "#9cc3e8"]  # a player, then his matches
# A career timeline fits its column (a 20-season career and a phone alike); no bar is wider
# than this, so a two-season career gets two slim bars, not two giant ones.
TIMELINE_MAX_BAR = 36  # px
ARCHETYPE_LEGEND_COLUMN = 180  # px: a symbol and the longest archetype name
PLAYER_LEGEND_COLUMN = 230  # px: a symbol and "Giannis Antetokounmpo 2020-21"
# The chart's height is its plot's; its legends and axes come on top of it, so a legend that
# takes more rows on a phone does not squeeze the bars.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
NARROW_CELL = "bandwidth('x') < 40"  # a heatmap column too narrow for "+1.3" or "FGA/36"


def _d3_format(stat: str) -> str:
    return ".0%" if is_percent(stat) else ".1f"


def archetype_scale(names: list[str], colors: list[str]) -> alt.Scale:
    """Each archetype in its profile's colour (stable across champions), in name order."""
    return alt.Scale(domain=names, range=colors)


def archetype_color(
    names: list[str], colors: list[str], field: str = "ARCHETYPE_NAME", **kwargs: Any
) -> alt.Color:
    kwargs.setdefault("legend", fitted_legend("bottom", ARCHETYPE_LEGEND_COLUMN))
    return alt.Color(
        f"{field}:N", title="Archetype", scale=archetype_scale(names, colors), **kwargs
    )


def fitted_legend(orient: str, column_px: int, **kwargs: Any) -> alt.Legend:
    """A legend above or below its chart, in as many columns as the chart's width holds. On the
    right it took two thirds of a phone's width from the plot, and in one row it ran off the
    page."""
    return alt.Legend(
        orient=orient,
        columns=alt.ExprRef(f"max(1, floor(width / {column_px}))"),
        labelLimit=column_px - 25,
        **kwargs,
    )


def archetype_scatter(assignments: pd.DataFrame, names: list[str], colors: list[str]) -> alt.Chart:
    color = archetype_color(names, colors)
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
        .properties(height=460, autosize=FIT_WIDTH)
        .interactive()
    )


def profile_heatmap(z_scores: pd.DataFrame, legend: str = "vs league (σ)") -> alt.Chart:
    """Archetype x stat, coloured by how far the archetype's mean is from the league's."""
    long = z_scores.reset_index(names="Archetype").melt(
        "Archetype", var_name="Stat", value_name="z"
    )
    # Rounded here: "z" keeps -0.04 from reading "-0.0" (d3's "+.1f" would print it so).
    long["shown"] = long["z"].map(lambda z: "" if pd.isna(z) else f"{z:+z.1f}")
    base = alt.Chart(long).encode(
        x=alt.X(
            "Stat:N",
            sort=list(z_scores.columns),
            title=None,
            # Upright where a column is narrower than its label (a phone), level otherwise.
            axis=alt.Axis(
                orient="top",
                labelAngle=alt.ExprRef(f"{NARROW_CELL} ? -90 : 0"),
                labelAlign=alt.ExprRef(f"{NARROW_CELL} ? 'left' : 'center'"),
                labelBaseline=alt.ExprRef(f"{NARROW_CELL} ? 'middle' : 'bottom'"),
                labelOverlap=False,
                labelFontSize=12,
            ),
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
            title=legend,
            # Below the cells (on the right it took a third of a phone's width from them),
            # short enough to end inside a phone's chart after the archetypes' names.
            legend=alt.Legend(orient="bottom", direction="horizontal", gradientLength=120),
        ),
        tooltip=["Archetype:N", "Stat:N", alt.Tooltip("z:Q", format="+.2f")],
    )
    # The figures only where they fit in their cells; the colours and the tooltip say it all.
    labels = base.mark_text(fontSize=12, opacity=alt.ExprRef(f"{NARROW_CELL} ? 0 : 1")).encode(
        text=alt.Text("shown:N"),
        # White on the strong colours, black on the pale ones.
        color=alt.condition("abs(datum.z) > 1.2", alt.value("white"), alt.value("black")),
    )
    return (cells + labels).properties(height=40 * len(z_scores), autosize=FIT_WIDTH)


def style_side_by_side(players: pd.DataFrame, features: dict[str, str]) -> alt.Chart:
    """The chosen player and his closest matches, feature by feature: grouped bars of each one's
    percentile within his own season (what similarity compares), raw values in the tooltip.

    ``players``: one row per player-season with ``LABEL``, ``PCT_<feature>`` (0-100) and the
    raw ``<feature>`` value; ``features``: feature column -> short axis label, in order.
    """
    rows = []
    for record in players.to_dict("records"):
        for feature, short in features.items():
            raw = float(record[feature])
            rows.append(
                {
                    "LABEL": record["LABEL"],
                    "feature": short,
                    "percentile": float(record[f"PCT_{feature}"]),
                    "value": f"{raw:.0%}" if is_percent(feature) else f"{raw:.1f}",
                }
            )
    order = list(players["LABEL"])
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            x=alt.X(
                "feature:N",
                title=None,
                sort=list(features.values()),
                axis=alt.Axis(labelAngle=0, labelFontSize=12, labelLimit=120),
            ),
            xOffset=alt.XOffset("LABEL:N", sort=order),
            y=alt.Y(
                "percentile:Q",
                title="Percentile in his season",
                scale=alt.Scale(domain=[0, 100]),
            ),
            color=alt.Color(
                "LABEL:N",
                title=None,
                sort=order,
                # Not archetype colours (those are on the same page): the player dark, his
                # matches in blues, lighter as they get farther.
                scale=alt.Scale(range=PLAYER_COLORS),
                legend=fitted_legend("top", PLAYER_LEGEND_COLUMN, labelFontSize=12),
            ),
            tooltip=[
                alt.Tooltip("LABEL:N", title="Player"),
                alt.Tooltip("feature:N", title="Feature"),
                alt.Tooltip("value:N", title="Value"),
                alt.Tooltip("percentile:Q", title="Percentile in his season", format=".0f"),
            ],
        )
        .properties(height=260, autosize=FIT_WIDTH)
    )


def career_timeline(
    shares: pd.DataFrame, names: list[str], colors: list[str], selected: str | None = None
) -> alt.Chart:
    """A player's archetype memberships season by season: one stacked bar per season.

    ``shares``: long table with ``SEASON``, ``TEAM_ABBREVIATION``, ``ARCHETYPE_NAME``, ``SHARE``
    (0..1, a season's shares add up to 1); ``selected`` (the season on screen) is set in bold.
    """
    seasons = sorted(shares["SEASON"].unique())
    weight = alt.expr(f"datum.value == {selected!r} ? 'bold' : 'normal'") if selected else None
    return (
        alt.Chart(shares)
        .mark_bar(width=alt.expr(f"min(bandwidth('x'), {TIMELINE_MAX_BAR})"))
        .encode(
            x=alt.X(
                "SEASON:O",
                title="Season",
                sort=seasons,
                axis=alt.Axis(labelAngle=-45, labelFontWeight=weight)
                if weight
                else alt.Axis(labelAngle=-45),
            ),
            y=alt.Y(
                "SHARE:Q",
                title="Share of his style",
                stack="zero",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=archetype_color(names, colors),
            order=alt.Order("ARCHETYPE_NAME:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("SEASON:N", title="Season"),
                alt.Tooltip("TEAM_ABBREVIATION:N", title="Team"),
                alt.Tooltip("ARCHETYPE_NAME:N", title="Archetype"),
                alt.Tooltip("SHARE:Q", title="Share", format=".0%"),
            ],
        )
        .properties(height=240, autosize=FIT_WIDTH)
    )
