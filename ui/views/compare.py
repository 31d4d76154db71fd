"""Compare players: a player-season's archetype mix, his career, and who played like him.

"Who played like him" is :func:`common.similarity.most_similar`, the same answer as the CLI's
``similar``: the nearest players in style and shooting skill over every season (or one, if
picked), whatever their archetype, each at his closest season.

A player is his id (``?player=<PLAYER_ID>``), shown under his latest name; the names the site
gave him in other seasons are said with his career, and any of them finds him in the player
box or a link (``?player=Stephen Curry``: found as the CLI finds him, then kept as his id).
His shooting is shown per segment, as the site gives it; blended figures say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from common.champion_results import FAR_FROM_TYPICAL, UNLIKE_TYPICAL, ChampionResults
from common.players import NAME_THAT_SEASON
from common.segments import SHOOTING, has_shooting, missing_shooting_note, segment_figures
from common.similarity import find_player, most_similar
from common.style import (
    FEATURES,
    MEMBERSHIP_PREFIX,
    SHOOTING_SKILLS,
    SKILL_PREFIX,
    STYLE_FEATURES,
    membership_column,
    skill_column,
)
from ui import charts, labels, url_state
from ui.views import team

ALL = "All seasons"
N_SIMILAR = 10
N_CHARTED = 4  # the player and his 3 closest matches
UNLIKE_TYPICAL_HELP = (
    "Where his style is farthest from his archetype's centre, in standard deviations of his "
    f"season's league (the style space's unit): named from {UNLIKE_TYPICAL:g}, "
    f'"far" from {FAR_FROM_TYPICAL:g}.'
)
MIN_SHOWN_SHARE = 0.05  # memberships below this are left out of "68% X, 24% Y"
SHORT = {feature: labels.label(feature) for feature in FEATURES}  # "AST/36", "3PA share"
# common.similarity names features in words ("assists/36"); the table's headers are short.
SHORT_BY_WORDS = {
    **{words: SHORT[feature] for feature, words in STYLE_FEATURES.items()},
    **{
        words: f"{SHOOTING[pct].removesuffix('%')} shooting"
        for pct, words in SHOOTING_SKILLS.items()
    },
}

# The site may send a player-season without a team (kept, with a warning, by the fetch).
NO_TEAM = "team unknown"


def _team(row: pd.Series) -> str:
    team = row["TEAM_ABBREVIATION"]
    return NO_TEAM if pd.isna(team) else str(team)


def render(results: ChampionResults) -> None:
    assignments = results.assignments
    seasons = results.seasons
    left, middle, right = st.columns([1, 2, 1])
    with left:
        season = url_state.pick_season(st.selectbox, seasons)
    players = assignments[assignments["SEASON"] == season].sort_values("PLAYER_NAME")
    names = {
        int(player_id): _option(results, int(player_id), name, team)
        for player_id, name, team in zip(
            players["PLAYER_ID"],
            players["PLAYER_NAME"],
            players["TEAM_ABBREVIATION"].fillna(NO_TEAM),
            strict=True,
        )
    }
    with middle:
        player_id = url_state.pick(
            st.selectbox,
            "Player (type to search)",
            list(names),
            param="player",
            default=None,
            parse=lambda text: _player_in_link(results, text, str(season)),
            describe="player",
            format_func=names.get,
            index=None,
            placeholder="Type a name…",
        )
    with right:
        versus = url_state.pick(
            st.selectbox,
            "Similar players from",
            [ALL, *seasons],
            param="vs",
            default=ALL,
            describe="season",
            help="Every season by default: who played like him in any era.",
        )

    if player_id is None:
        st.info(
            "Pick a player to see his archetype, his career season by season and the most "
            "similar players of every era, e.g. Kobe Bryant in 2004-05."
        )
        return

    player = players[players["PLAYER_ID"] == player_id].iloc[0]
    _player_header(results, player)
    team.roster_button(player["TEAM_ABBREVIATION"], str(player["SEASON"]), key="open_team")
    _career(results, player)
    _similar_players(results, player, None if versus in (None, ALL) else str(versus))


def _player_in_link(results: ChampionResults, text: str, season: str) -> int:
    """The id of the player a link names (his id, or any name he had, or part of one)."""
    return int(find_player(results.assignments, text, season, results.players)["PLAYER_ID"])


def _option(results: ChampionResults, player_id: int, name: str, team: str) -> str:
    """ "Jimmy Butler III (PHI), also Jimmy Butler": the box's search matches any of them."""
    others = results.players.other_names(player_id)
    return f"{name} ({team})" + (f", also {', '.join(others)}" if others else "")


def membership_text(results: ChampionResults, player: pd.Series) -> str:
    """ "68% Floor general, 24% Scoring guard": every share of at least 5%, largest first."""
    shown = [
        (name, share) for name, share in results.memberships(player) if share >= MIN_SHOWN_SHARE
    ]
    return ", ".join(f"{share:.0%} {name}" for name, share in shown)


def _has_memberships(assignments: pd.DataFrame) -> bool:
    return any(str(c).startswith(MEMBERSHIP_PREFIX) for c in assignments.columns)


def _player_header(results: ChampionResults, player: pd.Series) -> None:
    st.subheader(f"{player['PLAYER_NAME']}, {player['SEASON']}: {player['ARCHETYPE_NAME']}")
    if _has_memberships(results.assignments):
        st.markdown(f"**Style mix:** {membership_text(results, player)}")
    unlike = results.unlike_typical(player)
    typical = f"a typical {player['ARCHETYPE_NAME']}"
    if unlike is not None:
        st.markdown(
            f"**Unlike {typical}:** " + ", ".join(d.text for d in unlike)
            if unlike
            else f"**Close to {typical}** in every part of his style.",
            help=UNLIKE_TYPICAL_HELP,
        )
    for line in season_lines(player):
        st.caption(line)


def season_lines(player: pd.Series) -> list[str]:
    """His season in figures: each segment as the site gives it, then the blended per-36
    rates (labelled: the playoffs weigh more there)."""
    regular = segment_figures(player, playoffs=False)
    playoffs = segment_figures(player, playoffs=True)
    lines = [f"{_team(player)} · Regular season: {_segment_text(regular)}"]
    if playoffs["games"]:
        lines.append(f"Playoffs: {_segment_text(playoffs)}")
    per36 = (
        f"Per 36, {labels.blended()}: {player['PTS_PER36']:.1f} pts, "
        f"{player['REB_PER36']:.1f} reb, {player['AST_PER36']:.1f} ast"
    )
    if not has_shooting(regular):  # an older champion: the blended TS% is all there is
        per36 += f" · TS {player['TS_PCT']:.1%}"
        return [*lines, per36, missing_shooting_note(str(player["SEASON"]))]
    return [*lines, per36]


def _segment_text(figures: dict[str, float | None]) -> str:
    """ "65 games, 33.6 min/game · FG 46.2% · 3P 34.7% · FT 85.5% · TS 57.0%"."""
    games, minutes = figures["games"], figures["min_per_game"]
    parts = [f"{games:.0f} games" if games is not None else "? games"]
    if minutes is not None:
        parts[0] += f", {minutes:.1f} min/game"
    if has_shooting(figures):
        for stat, name in SHOOTING.items():
            value = figures[stat.lower()]
            parts.append(f"{name.removesuffix('%')} " + ("-" if value is None else f"{value:.1%}"))
    return " · ".join(parts)


def _similar_players(results: ChampionResults, player: pd.Series, versus: str | None) -> None:
    assignments = results.assignments
    similar = most_similar(assignments, player, season=versus, limit=N_SIMILAR)
    where = f"in {versus}" if versus else "across all seasons"
    st.markdown(f"**Most similar players {where}**")
    features = [f for f in FEATURES if f in assignments.columns]
    skilled = any(c.startswith(SKILL_PREFIX) for c in assignments.columns)
    st.caption(
        f"Nearest in the {len(STYLE_FEATURES)} style features of the archetypes"
        + (" and in shooting skill" if skilled else "")
        + ", whatever their archetype, each player once at his closest season; his own other "
        "seasons are left out. Each is ranked within its season, so a 1997 shooter compares "
        "with a 2019 one: "
        + ", ".join(STYLE_FEATURES.values())
        + (
            "; 3P% and FT%, each pulled toward the league's by how few shots he took"
            if skilled
            else ""
        )
        + f" ({labels.blended()}). Closest / farthest: where the two are most and least alike."
    )
    if similar.empty:
        st.info(f"No other classified player in {versus}.")
        return
    columns = ["PLAYER_NAME", "SEASON", "TEAM_ABBREVIATION", "ARCHETYPE_NAME", "SIMILARITY"]
    shown = similar[[*columns, "CLOSEST", "FARTHEST", *features]].assign(
        CLOSEST=similar["CLOSEST"].map(_short_features),
        FARTHEST=similar["FARTHEST"].map(_short_features),
    )
    table, config = labels.readable(
        shown,
        SIMILARITY=st.column_config.ProgressColumn(
            "Similarity",
            format="%.0f%%",
            min_value=0,
            max_value=100,
            width="small",
            help="100% = the same style and shooting; 0% = as unlike as two players picked "
            "at random (1 − distance² / its league-wide average)",
        ),
        CLOSEST=st.column_config.Column("Closest in", help="The features most alike"),
        FARTHEST=st.column_config.Column("Farthest in", help="The features least alike"),
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)

    charted = pd.concat([player.to_frame().T, similar.head(N_CHARTED - 1)])
    charted = charted.assign(LABEL=charted["PLAYER_NAME"] + " " + charted["SEASON"].astype(str))
    bars = {f: SHORT[f] for f in features}
    for feature in features:
        charted[feature] = charted[feature].astype("float64")
        charted[f"PCT_{feature}"] = _percentiles(assignments, charted, feature)
    for percentage in SHOOTING_SKILLS if skilled else ():
        # Ranked by his shooting skill; the value shown is his percentage itself.
        charted[percentage] = charted[percentage].astype("float64")
        charted[f"PCT_{percentage}"] = _percentiles(assignments, charted, skill_column(percentage))
        bars[percentage] = SHORT_BY_WORDS[SHOOTING_SKILLS[percentage]]
    st.markdown("**Style, feature by feature" + (", and shooting**" if skilled else "**"))
    st.caption(
        "Each bar: where the player stands among his own season's players on that feature "
        "(100 = the most in the league that season"
        + ("; shooting: the best shooter, his attempts counted" if skilled else "")
        + f"). Hover a bar for the value ({labels.blended()})."
    )
    chart = charts.style_side_by_side(charted, bars)
    st.altair_chart(chart, width="stretch")


def _short_features(words: str) -> str:
    """ "blocks/36, fouls/36" -> "BLK/36, PF/36", as the table's column headers say them."""
    return ", ".join(SHORT_BY_WORDS.get(w, w) for w in words.split(", ") if w)


def _percentiles(assignments: pd.DataFrame, charted: pd.DataFrame, column: str) -> list[float]:
    """Each charted player's percentile on ``column`` within his own season."""
    return [
        _percentile(assignments, str(s), column, float(v))
        for s, v in zip(charted["SEASON"], charted[column], strict=True)
    ]


def _percentile(assignments: pd.DataFrame, season: str, feature: str, value: float) -> float:
    """Percentile (0-100, mid-rank) of ``value`` among the classified players of ``season``."""
    values = assignments.loc[assignments["SEASON"] == season, feature].to_numpy("float64")
    if len(values) == 0:
        return float("nan")
    below = np.count_nonzero(values < value) + 0.5 * np.count_nonzero(values == value)
    return float(100 * below / len(values))


def career_shares(results: ChampionResults, player_id: int) -> pd.DataFrame:
    """His archetype shares season by season (long: SEASON, TEAM_ABBREVIATION,
    ARCHETYPE_NAME, SHARE); without membership columns, his archetype counts 100%."""
    assignments = results.assignments
    seasons = assignments[assignments["PLAYER_ID"] == player_id].sort_values("SEASON")
    keys = ["SEASON", "TEAM_ABBREVIATION"]
    if not _has_memberships(assignments):
        return seasons[[*keys, "ARCHETYPE_NAME"]].assign(SHARE=1.0)
    columns = {membership_column(p["id"]): p["name"] for p in results.profiles}
    present = [c for c in columns if c in seasons.columns]
    long = seasons[[*keys, *present]].melt(keys, var_name="COLUMN", value_name="SHARE")
    long["ARCHETYPE_NAME"] = long["COLUMN"].map(columns)
    long = long[long["SHARE"] > 0.005]  # slivers draw nothing but clutter the tooltip
    return long[[*keys, "ARCHETYPE_NAME", "SHARE"]].astype({"SHARE": "float64"})


def _former_names(career: pd.DataFrame) -> str:
    """ " Listed as Jimmy Butler in 2018-19." for each other name his seasons carry."""
    other = career[career[NAME_THAT_SEASON] != career["PLAYER_NAME"]]
    by_name = other.groupby(NAME_THAT_SEASON, sort=False)["SEASON"].agg(", ".join)
    return "".join(f" Listed as {name} in {seasons}." for name, seasons in by_name.items())


def primary_runs(career: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(first season, last season, archetype) for each run of seasons with the same primary
    archetype, in order; ``career``: one row per season with SEASON and ARCHETYPE_NAME."""
    runs: list[tuple[str, str, str]] = []
    for season, archetype in zip(career["SEASON"], career["ARCHETYPE_NAME"], strict=True):
        if runs and runs[-1][2] == archetype:
            runs[-1] = (runs[-1][0], str(season), archetype)
        else:
            runs.append((str(season), str(season), str(archetype)))
    return runs


def _career(results: ChampionResults, player: pd.Series) -> None:
    assignments = results.assignments
    career = assignments[assignments["PLAYER_ID"] == player["PLAYER_ID"]].sort_values("SEASON")
    st.markdown(f"**{player['PLAYER_NAME']}'s career, season by season**")
    st.caption(
        f"His style mix in each of his {len(career)} classified seasons "
        f"({labels.classified()}); the season shown above is in bold." + _former_names(career)
    )
    shares = career_shares(results, int(player["PLAYER_ID"]))
    chart = charts.career_timeline(
        shares, results.archetype_names, results.colors, selected=str(player["SEASON"])
    )
    st.altair_chart(chart, width="stretch")
    runs = primary_runs(career)
    st.markdown(
        "**Primary archetype:** "
        + " · ".join(
            f"{first}: {archetype}" if first == last else f"{first} to {last}: {archetype}"
            for first, last, archetype in runs
        )
    )
