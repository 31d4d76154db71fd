"""Teams: a team-season's roster by archetype, beside the league's mix, and who was built alike.

Computed by :class:`common.league.League` (the CLI's ``team`` gives the same answer). Reached
from the sidebar, the League page's teams and the Compare page (a player's team-season); a
roster's player opens the Compare page on his season.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from common.champion_results import ChampionResults
from common.league import MINUTES, NO_TEAM, League, leaning_sentence, main_roles, percent
from ui import labels, league_charts, url_state
from ui.navigation import open_page, page_button
from ui.views.league import league_of

ROSTER_PICK = "roster_pick"
TEAM_KEY = url_state.widget_key("team")
TEAM_BASIS = (
    "A player is listed with the team the site gives for his season, the last one if he was "
    "traded mid-season, with all his minutes of that season."
)
ALIKE_BASIS = (
    "Built alike: the share of minutes both teams gave to the same archetypes (100 % = the "
    "same mix); the team's own other seasons are left out. Archetypes are era-adjusted, so "
    "teams of different eras compare."
)


def render(results: ChampionResults) -> None:
    league = league_of(results)
    seasons = league.seasons
    left, right, _ = st.columns([1, 1, 2])
    with left:
        season = url_state.pick_season(st.selectbox, seasons)
    teams = league.teams(season) if season else []
    _same_franchise(league, teams, season)
    with right:
        team = url_state.pick(
            st.selectbox,
            "Team",
            teams,
            param="team",
            default=None,
            # A link's team as the CLI finds it (any case, the franchise's name that season),
            # or the reason it is not there.
            parse=(lambda text: league.find_team(text, season)) if season else str.upper,
            describe="team",
            index=None,
            placeholder="Pick a team…",
        )
    if season is None or team is None:
        st.info(
            "Pick a team to see its roster by archetype beside the league's mix that season, "
            "and the five team-seasons of any era built most alike, e.g. GSW in 2016-17."
        )
        return
    _team(results, league, str(team), str(season))


def _same_franchise(league: League, teams: list[str], season: str | None) -> None:
    """A team picked (or linked) under another name of its franchise is shown under its name
    that season: OKC in 2007-08 is SEA; switching seasons keeps the franchise."""
    picked = st.session_state.get(TEAM_KEY) or st.query_params.get("team")
    if season and isinstance(picked, str) and picked.upper() not in teams:
        then = league.franchise_name(picked.upper(), season)
        if then is not None:
            st.session_state[TEAM_KEY] = then


def roster_button(team: object, season: str, *, key: str) -> None:
    """ "GSW 2016-17 roster by archetype": opens the Teams page on a player's team-season."""
    if isinstance(team, str) and team not in NO_TEAM:
        page_button(
            f"{team} {season} roster by archetype →",
            "team",
            key=key,
            help="The team's minutes by archetype, beside the league's, and the teams built alike",
            team=team,
            season=season,
        )


def _team(results: ChampionResults, league: League, team: str, season: str) -> None:
    roster = league.roster(team, season)
    leanings = league.leanings(team, season)
    st.subheader(
        f"{team} {season}: {len(roster)} classified players, "
        f"{roster[MINUTES].sum():,.0f} regular-season minutes"
    )
    st.markdown(leaning_sentence(leanings))
    st.altair_chart(
        league_charts.team_vs_league(league, team, season, results.colors), width="stretch"
    )
    st.markdown("**The roster by archetype** (pick a player to compare him across eras)")
    table = roster[["ARCHETYPE_NAME", "PLAYER_NAME", "GP", "MIN_PER_GAME", MINUTES, "SHARE"]]
    ids = [int(player_id) for player_id in roster["PLAYER_ID"]]
    st.dataframe(
        table.assign(SHARE=100 * table["SHARE"], **{MINUTES: table[MINUTES].round()}),
        hide_index=True,
        width="stretch",
        height="content",
        key=ROSTER_PICK,
        on_select=partial(_open_picked_player, ids, season),
        selection_mode="single-row",
        column_config={
            "ARCHETYPE_NAME": st.column_config.Column("Archetype"),
            "PLAYER_NAME": st.column_config.Column("Player"),
            "GP": st.column_config.NumberColumn("Games", format="%d"),
            "MIN_PER_GAME": st.column_config.NumberColumn("Min/game", format="%.1f"),
            MINUTES: st.column_config.NumberColumn("Minutes", format="localized"),
            "SHARE": st.column_config.NumberColumn("Share of team minutes", format="%.1f%%"),
        },
    )
    st.caption(f"Minutes: regular season, classified players ({labels.classified()}). {TEAM_BASIS}")
    _alike(league, team, season)


def _open_picked_player(ids: list[int], season: str) -> None:
    rows = st.session_state[ROSTER_PICK].selection.rows
    if rows:
        open_page("compare", player=ids[rows[0]], season=season)


def _alike(league: League, team: str, season: str) -> None:
    alike = league.alike(team, season)
    st.markdown("**Built most alike, any era**")
    st.caption(ALIKE_BASIS)
    if alike.empty:
        st.info("No other team-season to compare with.")
        return
    columns = st.columns(len(alike))
    for column, (_, match) in zip(columns, alike.iterrows(), strict=True):
        other, when = str(match["TEAM_ABBREVIATION"]), str(match["SEASON"])
        roles = main_roles(pd.Series(match[league.archetypes], dtype="float64"))
        with column.container(border=True):
            page_button(f"{other} {when}", "team", key=f"alike_{other}_{when}",
                        team=other, season=when)  # fmt: skip
            st.markdown(f"**{percent(float(match['SIMILARITY']))} alike**")
            st.caption(", ".join(f"{percent(s)} {a}" for a, s in roles))
