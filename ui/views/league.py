"""The league's story: each archetype's share of minutes, season by season, and one season open.

Computed by :class:`common.league.League` (the CLI's ``league`` gives the same answer), once
per champion version. Clicking a season on the chart opens it below, as picking it does.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from common.champion_results import ChampionResults
from common.league import League, percent
from ui import labels, league_charts, url_state
from ui.navigation import open_page

CHART_KEY = "league_chart"
TEAM_PICK = "league_open_team"
N_LEADERS = 3


def basis() -> str:
    return (
        f"Share of the regular-season minutes of classified players ({labels.classified()}), "
        "each player's minutes to his primary archetype."
    )


ERAS = (
    "Archetypes are era-adjusted (each style feature ranked within its season), so the mix "
    "says which roles each season gave its minutes to, relative to its own league: the "
    "league-wide rise of the three shows in who shoots them, not in a bigger shooter share."
)


@st.cache_resource(max_entries=2, show_spinner=False)
def _league(version: str, run_id: str, _results: ChampionResults) -> League:
    del version, run_id  # the cache key only: one build per champion version
    return League.build(_results.assignments, _results.archetype_names)


def league_of(results: ChampionResults) -> League:
    """The champion's league tables, built once per version (shared with the Teams page)."""
    return _league(results.champion.version, results.champion.run_id, results)


def render(results: ChampionResults) -> None:
    league = league_of(results)
    seasons = league.seasons
    st.caption(
        f"Champion model v{results.champion.version}, {len(seasons)} seasons "
        f"({seasons[0]} to {seasons[-1]}). {basis()} {ERAS}"
    )
    shifts = league.shifts()
    st.subheader("The biggest shifts")
    if shifts:
        st.markdown("\n".join(f"- {shift.sentence}" for shift in shifts))
    else:
        st.info("No role moved by 2 points of the minutes or more between the stored seasons.")

    st.subheader("Who got the minutes, season by season")
    st.caption("Click a season to open it below.")
    chart_slot = st.container()  # drawn after the pick below, which it highlights
    season = url_state.pick_season(st.columns([1, 3])[0].selectbox, seasons)
    # A chart per open season: a new one has no click yet, so any season clicked (even the
    # one clicked before the pick moved away from it) is a change that opens it.
    key = f"{CHART_KEY}_{season}"
    with chart_slot:
        st.altair_chart(
            league_charts.league_mix(league, results.colors, season),
            width="stretch",
            key=key,
            on_select=partial(_open_clicked_season, key),
            selection_mode=league_charts.SEASON_PICK,
        )
    if season is not None:
        _season(league, season)


def clicked_season(selection: object) -> str | None:
    """The season of a click on the league chart (its selection state), or None."""
    try:
        points = selection["selection"][league_charts.SEASON_PICK]  # type: ignore[index]
        return str(points[0]["SEASON"]) if points else None
    except (KeyError, IndexError, TypeError):
        return None


def _open_clicked_season(key: str) -> None:
    season = clicked_season(st.session_state.get(key))
    if season is not None:
        st.session_state[url_state.widget_key("season")] = season


def _season(league: League, season: str) -> None:
    seasons = league.seasons
    at = seasons.index(season)
    previous = seasons[at - 1] if at > 0 else None
    st.subheader(f"{season}: what was new")
    notes = league.season_notes(season)
    if previous is None:
        st.markdown("The first stored season: nothing before it to compare with.")
    elif notes:
        st.markdown("\n".join(f"- {note.sentence}" for note in notes))
    else:
        st.markdown(
            f"Nothing stood out: no role moved by 2 points of the minutes from {previous}, "
            "and none reached a record share."
        )
    shares = league.shares.loc[season]
    leaders = league.leaders(season, N_LEADERS)
    table = pd.DataFrame(
        {
            "ARCHETYPE_NAME": league.archetypes,
            "SHARE": [100 * shares[a] for a in league.archetypes],
            **(
                {
                    "PREVIOUS": [100 * league.shares.loc[previous, a] for a in league.archetypes],
                }
                if previous
                else {}
            ),
            "MINUTES": [round(league.minutes.loc[season, a]) for a in league.archetypes],
            "LEADERS": [", ".join(leaders[a]) for a in league.archetypes],
        }
    ).sort_values(["SHARE", "ARCHETYPE_NAME"], ascending=[False, True])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "ARCHETYPE_NAME": st.column_config.Column("Archetype"),
            "SHARE": st.column_config.NumberColumn(f"{season}", format="%.1f%%"),
            "PREVIOUS": st.column_config.NumberColumn(f"{previous}", format="%.1f%%"),
            "MINUTES": st.column_config.NumberColumn("Minutes", format="localized"),
            "LEADERS": st.column_config.Column("Most minutes"),
        },
    )
    _teams(league, season)


def _teams(league: League, season: str) -> None:
    teams = league.teams(season)
    st.subheader(f"The teams of {season}")
    st.caption(
        "Each team's main roles and where it leaned most against the league's mix that "
        "season. Open one to see its roster by archetype and the teams of any era built alike."
    )
    st.selectbox(
        "Open a team",
        teams,
        index=None,
        placeholder="Pick a team…",
        key=TEAM_PICK,
        on_change=_open_picked_team,
        args=(season,),
    )
    summary = league.season_teams(season)
    rows = pd.DataFrame(
        {
            "TEAM": summary["TEAM_ABBREVIATION"],
            "MAIN_ROLES": [
                ", ".join(f"{percent(s)} {a}" for a, s in ((a1, s1), (a2, s2)) if s > 0)
                for a1, s1, a2, s2 in zip(
                    summary["ROLE_1"],
                    summary["SHARE_1"],
                    summary["ROLE_2"],
                    summary["SHARE_2"],
                    strict=True,
                )
            ],
            "LEANS_ON": _leans(summary["LEANS_ON"], summary["LEANS_ON_BY"]),
            "LIGHT_ON": _leans(summary["LIGHT_ON"], summary["LIGHT_ON_BY"]),
        }
    )
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height="content",
        column_config={
            "TEAM": st.column_config.Column("Team", width="small"),
            "MAIN_ROLES": st.column_config.Column("Main roles (share of minutes)"),
            "LEANS_ON": st.column_config.Column(
                "Leaned on", help="The archetype it gave most more minutes than the league did"
            ),
            "LIGHT_ON": st.column_config.Column(
                "Light on", help="The archetype it gave most fewer minutes than the league did"
            ),
        },
    )


def _leans(archetypes: pd.Series, differences: pd.Series) -> list[str]:
    """ "Defensive role player (+18 points)": an archetype and the team's share minus the
    league's, in points of the minutes."""
    return [
        f"{a} ({round(100 * d):+d} points)" for a, d in zip(archetypes, differences, strict=True)
    ]


def _open_picked_team(season: str) -> None:
    team = st.session_state.get(TEAM_PICK)
    if team:
        open_page("team", team=str(team), season=season)
