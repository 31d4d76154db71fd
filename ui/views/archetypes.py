"""Archetypes: names, sizes, profiles against the league, the 2-D map, and the mix by era."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import charts, labels, url_state
from ui.results import ChampionResults

ALL = "All seasons"
PROFILE_STATS = list(charts.KEY_STATS)


def render(results: ChampionResults) -> None:
    champion = results.champion
    assignments = results.assignments
    silhouette = champion.metrics.get("silhouette")
    st.caption(
        f"Champion model v{champion.version}: {len(results.profiles)} archetypes found in "
        f"{len(assignments):,} player-seasons ({results.seasons[0]} to {results.seasons[-1]})"
        + (f", silhouette {silhouette:.2f}" if silhouette is not None else "")
        + ". Players with at least 20 games and 500 minutes are classified."
    )

    season = url_state.pick(
        st.columns([1, 3])[0].selectbox,
        "Season",
        [ALL, *results.seasons],
        param="season",
        default=ALL,
        describe="season",
    )
    shown = assignments if season in (None, ALL) else assignments[assignments["SEASON"] == season]

    _profile_cards(results, shown)
    st.subheader("How the archetypes differ from the league")
    st.caption(
        "Each cell: how far the archetype's average is from the league's, in standard "
        "deviations (σ); red above, blue below."
    )
    z_scores = _z_scores(shown, results.archetype_names)
    st.altair_chart(charts.profile_heatmap(z_scores), width="stretch")
    with st.expander("Per-36 averages by archetype"):
        means, config = labels.readable(_means(shown, results.archetype_names))
        st.dataframe(means, width="stretch", column_config=config)

    st.subheader("Every player, by archetype")
    st.caption("The model's two main components; hover a point for the player.")
    st.altair_chart(charts.archetype_scatter(shown, results.archetype_names), width="stretch")

    st.subheader("Archetype mix by era")
    st.altair_chart(charts.era_mix(assignments, results.archetype_names), width="stretch")


def _profile_cards(results: ChampionResults, shown: pd.DataFrame) -> None:
    sizes = shown["ARCHETYPE_NAME"].value_counts()
    columns = st.columns(min(3, len(results.profiles)))
    for i, profile in enumerate(results.profiles):
        with columns[i % len(columns)].container(border=True):
            size = int(sizes.get(profile["name"], 0))
            st.markdown(f"**{profile['name']}**")
            st.caption(f"{size} players ({size / max(len(shown), 1):.0%})")
            traits = ", ".join(
                f"{labels.label(d['stat'])} {d['z']:+.1f}σ" for d in profile["distinguishing"]
            )
            st.markdown(f"Stands out by: {traits}")
            members = shown[shown["ARCHETYPE_NAME"] == profile["name"]]
            # The best-known members: the ones who played the most, each in his biggest season.
            examples = (
                members.assign(MIN=members["GP"] * members["MIN_PER_GAME"])
                .sort_values("MIN", ascending=False)
                .drop_duplicates("PLAYER_ID")
                .head(4)
            )
            # zip, not itertuples: a namedtuple class per call costs ~10 ms on 30 columns.
            pairs = zip(examples["PLAYER_NAME"], examples["SEASON"], strict=True)
            st.markdown("e.g. " + ", ".join(f"{name} ({season})" for name, season in pairs))


def _means(shown: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    means = shown.groupby("ARCHETYPE_NAME")[PROFILE_STATS].mean().reindex(names)
    means.loc["League average"] = shown[PROFILE_STATS].mean()
    return means.rename_axis("Archetype")


def _z_scores(shown: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    league = shown[PROFILE_STATS]
    z = (shown.groupby("ARCHETYPE_NAME")[PROFILE_STATS].mean() - league.mean()) / league.std()
    return z.reindex([n for n in names if n in z.index]).rename(columns=charts.KEY_STATS)
