"""``league`` and ``team``: the league's mix of roles over the seasons, and one team-season's.

Computed by :mod:`common.league`, as the app's League and Teams pages are, from the champion
read as ``player`` reads it (no MLflow import: a cold call answers in about a second).
"""

from __future__ import annotations

import json
import string
from typing import Any

import pandas as pd

from cli.answers import champion_results, season_label
from cli.output import CommandError, echo
from common.box_score import eligibility_rule
from common.league import (
    MINUTES,
    League,
    NotFoundError,
    SeasonNotFoundError,
    leaning_sentence,
    main_roles,
    percent,
)
from common.settings import get_settings


def basis() -> str:
    settings = get_settings()
    rule = eligibility_rule(settings.eligible_min_games, settings.eligible_min_minutes)
    return (
        f"share of regular-season minutes of classified players ({rule}), each player's "
        "minutes to his primary archetype"
    )


TEAM_BASIS = (
    "Players are listed with the team the site gives for their season (the last one for a "
    "player traded mid-season), with all their regular-season minutes."
)
N_LEADERS = 3


def league(season: str | None, *, as_json: bool) -> int:
    label = season_label(season) if season is not None else None
    results = champion_results()
    story = League.build(results.assignments, results.archetype_names)
    version = results.champion.version
    if label is not None:
        return _season(story, _known(story, label), version, as_json=as_json)
    shifts = story.shifts()
    if as_json:
        answer = {
            "seasons": story.seasons,
            "archetypes": story.archetypes,
            "basis": basis(),
            "mix": [
                {
                    "season": s,
                    "minutes": round(float(story.minutes.loc[s].sum()), 1),
                    "shares": {
                        a: round(float(story.shares.loc[s, a]), 4) for a in story.archetypes
                    },
                }
                for s in story.seasons
            ],
            "shifts": [
                {
                    "archetype": shift.archetype,
                    "from_season": shift.start_season,
                    "from_share": round(shift.start_share, 4),
                    "to_season": shift.end_season,
                    "to_share": round(shift.end_share, 4),
                    "change": round(shift.change, 4),
                    "sentence": shift.sentence,
                }
                for shift in shifts
            ],
            "champion_version": version,
        }
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    seasons = story.seasons
    echo(
        f"The league's mix of roles, {seasons[0]} … {seasons[-1]} ({len(seasons)} seasons, "
        f"champion v{version}): {basis()}."
    )
    echo("Biggest shifts:" if shifts else "No shift of 2 points or more between stored seasons.")
    for shift in shifts:
        echo(f"  - {shift.sentence}")
    letters = _letters(len(story.archetypes))
    echo("Share of minutes (%), season by season:")
    for letter, name in zip(letters, story.archetypes, strict=True):
        echo(f"  {letter}  {name}")
    echo("  season   " + " ".join(f"{letter:>3}" for letter in letters))
    for s in seasons:
        shares = story.shares.loc[s]
        echo(f"  {s}  " + " ".join(f"{round(100 * shares[a]):>3}" for a in story.archetypes))
    echo(f"One season in detail: nba-archetypes league {seasons[-1]}")
    return 0


def _season(story: League, label: str, version: str, *, as_json: bool) -> int:
    """One season: its mix beside the season before, what is new, its teams."""
    seasons = story.seasons
    at = seasons.index(label)
    previous = seasons[at - 1] if at > 0 else None
    shares = story.shares.loc[label]
    notes = story.season_notes(label)
    teams = story.teams(label)
    leaders = story.leaders(label, N_LEADERS)
    rows = [
        {
            "archetype": a,
            "share": round(float(shares[a]), 4),
            "previous_share": None
            if previous is None
            else round(float(story.shares.loc[previous, a]), 4),
            "minutes": round(float(story.minutes.loc[label, a]), 1),
            "leaders": leaders[a],
        }
        for a in sorted(story.archetypes, key=lambda a: (-shares[a], a))
    ]
    if as_json:
        answer = {
            "season": label,
            "previous_season": previous,
            "basis": basis(),
            "minutes": round(float(story.minutes.loc[label].sum()), 1),
            "mix": rows,
            "notes": [n.sentence for n in notes],
            "teams": teams,
            "champion_version": version,
        }
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    echo(f"{label}: {basis()} (champion v{version}).")
    width = max(len(a) for a in story.archetypes)
    before = f"  {previous}" if previous else ""
    echo(f"  {'archetype':<{width}}  {label}{before}  most minutes")
    for row in rows:
        was = row["previous_share"]
        shown = f"  {percent(was):>7}" if was is not None else ""
        echo(
            f"  {row['archetype']:<{width}}  {percent(row['share']):>7}{shown}  "
            f"{', '.join(row['leaders']) or '-'}"
        )
    echo("What is new:" if notes else "Nothing new: no role moved by 2 points or set a record.")
    for note in notes:
        echo(f"  - {note.sentence}")
    echo(f"Teams ({len(teams)}; nba-archetypes team TEAM {label}): {', '.join(teams)}")
    return 0


def team(name: str, season: str | None, *, as_json: bool) -> int:
    """``season`` None: the latest season the champion has."""
    asked_season = season_label(season) if season is not None else None
    results = champion_results()
    story = League.build(results.assignments, results.archetype_names)
    label = asked_season or story.seasons[-1]
    try:
        abbreviation = story.find_team(name, label)
    except NotFoundError as error:
        raise CommandError(_with_fix(error, label)) from error
    roster = story.roster(abbreviation, label)
    leanings = story.leanings(abbreviation, label)
    alike = story.alike(abbreviation, label)
    mix = [
        {
            "archetype": str(archetype),
            "minutes": round(float(story.team_minutes.loc[(label, abbreviation), archetype]), 1),
            "share": round(float(row["TEAM_SHARE"]), 4),
            "league_share": round(float(row["LEAGUE_SHARE"]), 4),
            "players": [
                _player(p) for _, p in roster[roster["ARCHETYPE_NAME"] == archetype].iterrows()
            ],
        }
        for archetype, row in leanings.sort_values(
            ["TEAM_SHARE", "LEAGUE_SHARE"], ascending=False, kind="stable"
        ).iterrows()
    ]
    matches = [
        {
            "rank": int(m["RANK"]),
            "team": str(m["TEAM_ABBREVIATION"]),
            "season": str(m["SEASON"]),
            "similarity": round(float(m["SIMILARITY"]), 4),
            "main_roles": [
                {"archetype": a, "share": round(s, 4)}
                for a, s in main_roles(m[story.archetypes].astype("float64"))
            ],
        }
        for _, m in alike.iterrows()
    ]
    version = results.champion.version
    asked = name.strip().upper()
    if as_json:
        answer = {
            "team": abbreviation,
            "asked": asked,  # another name of the franchise, when it differs from "team"
            "season": label,
            "players": len(roster),
            "minutes": round(float(roster[MINUTES].sum()), 1),
            "basis": f"{basis()}. {TEAM_BASIS}",
            "mix": mix,
            "alike": matches,
            "champion_version": version,
        }
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    if asked != abbreviation:
        echo(f"{asked}'s franchise played as {abbreviation} in {label}.")
    echo(
        f"{abbreviation} {label}: {len(roster)} classified players, "
        f"{roster[MINUTES].sum():,.0f} regular-season minutes (champion v{version})"
    )
    width = max(len(a) for a in story.archetypes)
    echo(f"  {'archetype':<{width}}  {'team':>7}  {'league':>7}  players (minutes)")
    for row in mix:
        players = ", ".join(f"{p['player']} {p['minutes']:,.0f}" for p in row["players"])
        echo(
            f"  {row['archetype']:<{width}}  {percent(row['share']):>7}  "
            f"{percent(row['league_share']):>7}  {players or '-'}"
        )
    echo(leaning_sentence(leanings))
    echo("Built most alike (other teams, any season; share of minutes in the same archetypes):")
    for m in matches:
        roles = ", ".join(f"{percent(r['share'])} {r['archetype']}" for r in m["main_roles"])
        echo(f"  {m['rank']}. {m['team']} {m['season']}  {percent(m['similarity'])}  ({roles})")
    echo(TEAM_BASIS)
    if asked_season is None:
        echo(f"{label} is the latest season stored; another: nba-archetypes team {asked} SEASON.")
    return 0


def _known(story: League, label: str) -> str:
    try:
        return story.season(label)
    except NotFoundError as error:
        raise CommandError(_with_fix(error, label)) from error


def _with_fix(error: NotFoundError, label: str) -> str:
    message = str(error)
    if isinstance(error, SeasonNotFoundError):  # what to do, as `player` says it
        return f"{message.rstrip('.')}: refresh it first (`nba-archetypes refresh {label}`)."
    return message


def _player(row: pd.Series) -> dict[str, Any]:
    return {
        "player": str(row["PLAYER_NAME"]),
        "player_id": int(row["PLAYER_ID"]),
        "games": int(row["GP"]),
        "min_per_game": round(float(row["MIN_PER_GAME"]), 1),
        "minutes": round(float(row[MINUTES]), 1),
    }


def _letters(count: int) -> list[str]:
    return list(string.ascii_uppercase[:count])
