"""Archetypes: names, sizes, what sets each apart, the 2-D map, and the mix by era.

Every archetype is drawn in its profile's colour (kept across champions), on every chart.
"""

from __future__ import annotations

import html
import math
import re

import pandas as pd
import streamlit as st

from common.champion_results import ChampionResults
from common.players import archetype_examples
from common.style import STYLE_FEATURES, STYLE_PREFIX, style_column
from ui import charts, labels, league_charts, url_state
from ui.views.league import league_of

ALL = "All seasons"
PROFILE_STATS = list(charts.KEY_STATS)
STABLE_JACCARD = 0.75  # Hennig's rule of thumb: a cluster found again this well is stable
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def render(results: ChampionResults) -> None:
    champion = results.champion
    assignments = results.assignments
    st.caption(
        f"Champion model v{champion.version}: {len(results.profiles)} archetypes found in "
        f"{len(assignments):,} player-seasons ({results.seasons[0]} to {results.seasons[-1]})"
        f" from {len(STYLE_FEATURES)} style features. "
        + stability_note(champion.metrics)
        + f"Players with {labels.classified()} are classified."
    )

    season = url_state.pick_season(st.columns([1, 3])[0].selectbox, [ALL, *results.seasons], ALL)
    shown = assignments if season in (None, ALL) else assignments[assignments["SEASON"] == season]

    _profile_cards(results, shown)
    names, colors = results.archetype_names, results.colors
    st.subheader("What sets each archetype apart")
    style = _style_means(shown, names)
    if style is not None:
        st.caption(
            "The style features the archetypes are found in. Each cell: the archetype's "
            "average standing within its players' seasons, in standard deviations (σ) from "
            "the season's typical player; red above, blue below."
        )
        st.altair_chart(charts.profile_heatmap(style, legend="vs his season (σ)"), width="stretch")
    else:  # a champion without style coordinates: the key stats against the league
        st.caption(
            "Each cell: how far the archetype's average is from the league's, in standard "
            "deviations (σ); red above, blue below."
        )
        st.altair_chart(charts.profile_heatmap(_z_scores(shown, names)), width="stretch")
    with st.expander("Per-36 averages by archetype"):
        st.caption(
            f"Every figure here is {labels.blended()}: the regular season and the playoffs "
            "together, as the model sees each season."
        )
        means, config = labels.readable(_means(shown, names))
        st.dataframe(means, width="stretch", column_config=config)

    st.subheader("Every player, by archetype")
    st.caption(
        "The style space seen from its two main directions (principal components); "
        f"hover a point for the player (his figures {labels.blended()}, the training input)."
    )
    st.altair_chart(charts.archetype_scatter(shown, names, colors), width="stretch")

    st.subheader("Archetype mix by era")
    st.caption(
        "Each archetype's share of the league's minutes, season by season; the League page "
        "names the biggest shifts and opens each season."
    )
    mix = league_charts.league_mix(league_of(results), colors, selected=None)
    st.altair_chart(mix, width="stretch")


def stability_note(metrics: dict[str, float]) -> str:
    """What the champion's stability checks say, in a sentence or two ("" if not measured)."""
    parts = []
    jaccard = _finite(metrics.get("min_jaccard"))
    if jaccard is not None:
        if jaccard >= STABLE_JACCARD:
            parts.append(
                "Each archetype is stable: found again in bootstrap resamples with a Jaccard "
                f"of at least {jaccard:.2f} (≥ {STABLE_JACCARD} counts as stable)."
            )
        else:
            parts.append(
                f"The least stable archetype is found again in bootstrap resamples with a "
                f"Jaccard of {jaccard:.2f} only (≥ {STABLE_JACCARD} counts as stable)."
            )
    ari = _finite(metrics.get("seed_ari"))
    if ari is not None:
        parts.append(f"Other random seeds give the same archetypes (agreement ARI {ari:.2f}).")
    return "".join(f"{part} " for part in parts)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _profile_cards(results: ChampionResults, shown: pd.DataFrame) -> None:
    sizes = shown["ARCHETYPE_NAME"].value_counts()
    counted = "player-seasons" if shown["SEASON"].nunique() > 1 else "players"
    columns = st.columns(min(3, len(results.profiles)))
    for i, profile in enumerate(results.profiles):
        with columns[i % len(columns)].container(border=True):
            size = int(sizes.get(profile["name"], 0))
            color = profile.get("color", "")
            swatch = f'<span style="color:{color}">■</span> ' if HEX_COLOR.fullmatch(color) else ""
            st.markdown(f"{swatch}**{html.escape(profile['name'])}**", unsafe_allow_html=True)
            st.caption(f"{size} {counted} ({size / max(len(shown), 1):.0%})")
            traits = ", ".join(
                f"{_trait_label(d['stat'])} {d['z']:+.1f}σ" for d in profile["distinguishing"]
            )
            st.markdown(f"Stands out by: {traits}")
            examples = archetype_examples(shown, profile["id"], 4)  # one season: its own
            # zip, not itertuples: a namedtuple class per call costs ~10 ms on 30 columns.
            pairs = zip(examples["PLAYER_NAME"], examples["SEASON"], strict=True)
            if named := ", ".join(f"{name} ({season})" for name, season in pairs):
                st.markdown(f"e.g. {named}")


def _trait_label(stat: str) -> str:
    """ "Z_AST_PER36" or "AST_PER36" -> "AST/36" (the short label of the tables)."""
    return labels.label(stat.removeprefix(STYLE_PREFIX))


def _style_means(shown: pd.DataFrame, names: list[str]) -> pd.DataFrame | None:
    """Archetype x style feature: the mean of the players' style coordinates (era-adjusted)."""
    columns = {style_column(f): labels.label(f) for f in STYLE_FEATURES}
    present = [c for c in columns if c in shown.columns]
    if not present:
        return None
    means = shown.groupby("ARCHETYPE_NAME")[present].mean()
    means = means.reindex([n for n in names if n in means.index])
    return means.rename(columns=columns)


def _means(shown: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    means = shown.groupby("ARCHETYPE_NAME")[PROFILE_STATS].mean().reindex(names)
    means.loc["League average"] = shown[PROFILE_STATS].mean()
    return means.rename_axis("Archetype")


def _z_scores(shown: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    league = shown[PROFILE_STATS]
    z = (shown.groupby("ARCHETYPE_NAME")[PROFILE_STATS].mean() - league.mean()) / league.std()
    return z.reindex([n for n in names if n in z.index]).rename(columns=charts.KEY_STATS)
