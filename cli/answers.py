"""``player`` and ``similar``: the champion's answers, read as the app reads them.

The champion is found through the registry on every call (``common.champion``, no MLflow
import: a cold call answers in about a second), so an answer after a promotion is the new
champion's.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from cli.output import EXIT_FAILED, NO_CHAMPION, CommandError, echo
from common.champion import find_champion
from common.champion_results import ChampionResults, load_champion_results
from common.mlflow_store import answering
from common.players import NAME_THAT_SEASON
from common.seasons import InvalidSeasonError, Season
from common.segments import (
    SHOOTING,
    blended_note,
    has_shooting,
    missing_shooting_note,
    number_or_none,
    segment_figures,
)
from common.settings import get_settings
from common.similarity import PlayerNotFoundError, find_ids, find_player, most_similar


def player(name: str, season: str, *, as_json: bool) -> int:
    season_label(season)
    results = champion_results()
    row = _find(results, name, season)
    memberships = results.memberships(row)
    weight = get_settings().playoff_weight
    regular = segment_figures(row, playoffs=False)
    playoffs, blended = _playoffs(row), _blended(row)
    unlike = results.unlike_typical(row)
    if as_json:
        answer = {
            "player": str(row["PLAYER_NAME"]),  # his latest name
            "player_id": int(row["PLAYER_ID"]),
            "name_that_season": str(row[NAME_THAT_SEASON]),
            "season": str(row["SEASON"]),
            "team": _team(row),
            "archetype": str(row["ARCHETYPE_NAME"]),
            "memberships": [{"archetype": n, "share": round(s, 4)} for n, s in memberships],
            # Where his style departs from his archetype's centre (league standard deviations).
            # null: an older champion's profiles do not say.
            "unlike_typical": None
            if unlike is None
            else [
                {"feature": d.feature, "label": d.label, "difference": round(d.difference, 2)}
                for d in unlike
            ],
            # Each segment as the site gives it; null playoffs: he played none.
            "regular_season": _rounded(regular),
            "playoffs": _rounded(playoffs) if playoffs else None,
            # Regular season and playoffs folded together, as the model sees the season.
            "blended": {"playoff_weight": weight, **_rounded(blended)},
            "champion_version": results.champion.version,
        }
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    echo(
        f"{row['PLAYER_NAME']}, {row['SEASON']} ({_team(row) or 'team unknown'}): "
        f"{row['ARCHETYPE_NAME']}"
    )
    own = str(row[NAME_THAT_SEASON])
    if own != row["PLAYER_NAME"]:
        echo(f"  listed as {own} that season")
    shown = [f"{round(100 * s)} % {n}" for n, s in memberships if round(100 * s) >= 1]
    if shown:
        echo("  memberships: " + ", ".join(shown))
    if unlike:
        differences = ", ".join(d.text for d in unlike)
        echo(f"  unlike a typical {row['ARCHETYPE_NAME']}: {differences}")
    echo("  regular season: " + _segment_line(regular))
    if playoffs:
        echo("  playoffs: " + _segment_line(playoffs))
    echo(f"  per 36, {blended_note(weight)}: " + _blended_line(blended, regular))
    if not has_shooting(regular):
        echo(f"  {missing_shooting_note(str(row['SEASON']))}")
    return 0


def career(name: str, *, as_json: bool) -> int:
    """Every classified season of the player called ``name`` (any name he had, or his id),
    one line each; two players of that name (namesakes): each career apart."""
    results = champion_results()
    try:
        ids = find_ids(results.players, name)
    except PlayerNotFoundError as error:
        raise CommandError(str(error)) from error
    careers = []
    for player_id in ids:
        rows = results.assignments[results.assignments["PLAYER_ID"] == player_id]
        seasons = [
            {
                "season": str(row["SEASON"]),
                "team": _team(row),
                "archetype": str(row["ARCHETYPE_NAME"]),
                "name_that_season": str(row[NAME_THAT_SEASON]),
            }
            for _, row in rows.sort_values("SEASON").iterrows()
        ]
        careers.append(
            {
                "player": results.players.latest[player_id],
                "player_id": player_id,
                "other_names": results.players.other_names(player_id),
                "seasons": seasons,
                "champion_version": results.champion.version,
            }
        )
    if as_json:
        echo(json.dumps(careers, ensure_ascii=False, indent=2))
        return 0
    for one in careers:
        count = len(one["seasons"])
        also = f"; also listed as {', '.join(one['other_names'])}" if one["other_names"] else ""
        plural = "s" if count != 1 else ""
        echo(f"{one['player']} (id {one['player_id']}): {count} classified season{plural}{also}")
        kind_width = max(len(s["archetype"]) for s in one["seasons"])
        for s in one["seasons"]:
            listed = (
                f"  (listed as {s['name_that_season']})"
                if s["name_that_season"] != one["player"]
                else ""
            )
            echo(f"  {s['season']}  {s['team'] or '?':<3}  {s['archetype']:<{kind_width}}{listed}")
    return 0


def similar(name: str, season: str, versus: str | None, limit: int, *, as_json: bool) -> int:
    season_label(season)
    only = season_label(versus) if versus is not None else None
    results = champion_results()
    row = _find(results, name, season)
    if only is not None:
        _known_season(results, only)
    matches = most_similar(results.assignments, row, season=only, limit=limit)
    answer = [
        {
            "rank": int(m["RANK"]),
            "player": str(m["PLAYER_NAME"]),
            "player_id": int(m["PLAYER_ID"]),
            "season": str(m["SEASON"]),
            "team": _team(m),
            "archetype": str(m["ARCHETYPE_NAME"]),
            "distance": round(float(m["DISTANCE"]), 4),
            "similarity": round(float(m["SIMILARITY"]), 1),
            "closest": _split(m["CLOSEST"]),
            "farthest": _split(m["FARTHEST"]),
        }
        for _, m in matches.iterrows()
    ]
    if as_json:
        echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    where = f"in {only}" if only else "in every season (each player at his closest)"
    echo(
        f"Most similar to {row['PLAYER_NAME']}, {row['SEASON']} ({_team(row) or 'team unknown'}, "
        f"{row['ARCHETYPE_NAME']}), {where}:"
    )
    if not answer:
        echo("  nobody else was classified in that season")
    name_width = max((len(a["player"]) for a in answer), default=0)
    kind_width = max((len(a["archetype"]) for a in answer), default=0)
    for a in answer:
        echo(
            f"  {a['rank']:>2}. {a['player']:<{name_width}}  {a['season']} {a['team'] or '?':<3}  "
            f"{a['archetype']:<{kind_width}}  distance {a['distance']:.2f} "
            f"({a['similarity']:.0f} %)  closest: {', '.join(a['closest'])}; "
            f"farthest: {', '.join(a['farthest'])}"
        )
    return 0


def champion_results() -> ChampionResults:
    """The champion's assignments and archetypes, or a :class:`CommandError` saying why not."""
    settings = get_settings()
    with answering(settings, "read the champion from"):
        champion = find_champion(settings)
        if champion is None:
            raise CommandError(NO_CHAMPION, EXIT_FAILED)
        return load_champion_results(settings, champion)


def season_label(text: str) -> str:
    """``text`` as a season label (checked before anything is loaded), or a CommandError."""
    try:
        return str(Season.parse(text[:40]))
    except InvalidSeasonError as error:
        raise CommandError(str(error)) from error


def _known_season(results: ChampionResults, label: str) -> str:
    """``label`` if the champion has that season, or a :class:`CommandError`."""
    seasons = results.seasons
    if label not in seasons:
        raise CommandError(
            f"Season {label} is not in the champion's data (it has {len(seasons)} seasons, "
            f"{seasons[0]} … {seasons[-1]}): refresh it first (`nba-archetypes refresh {label}`)."
        )
    return label


def _find(results: ChampionResults, name: str, season: str) -> pd.Series:
    label = _known_season(results, season_label(season))
    try:
        return find_player(results.assignments, name, label, results.players)
    except PlayerNotFoundError as error:
        raise CommandError(str(error)) from error


def _team(row: pd.Series) -> str | None:
    """The player's team; the site may send none (the fetch keeps the row, with a warning)."""
    team = row["TEAM_ABBREVIATION"]
    return None if pd.isna(team) else str(team)


def _playoffs(row: pd.Series) -> dict[str, float | None] | None:
    """The playoffs' figures, or None when he played none (or the champion does not say)."""
    playoffs = segment_figures(row, playoffs=True)
    return playoffs if playoffs["games"] else None


def _blended(row: pd.Series) -> dict[str, float | None]:
    """Regular season and playoffs folded together (cleaning's playoff weight)."""
    return {
        "pts_per36": number_or_none(row.get("PTS_PER36")),
        "reb_per36": number_or_none(row.get("REB_PER36")),
        "ast_per36": number_or_none(row.get("AST_PER36")),
        "ts_pct": number_or_none(row.get("TS_PCT")),
    }


def _rounded(figures: dict[str, float | None]) -> dict[str, float | int | None]:
    return {
        key: None if value is None else int(value) if key == "games" else round(value, 4)
        for key, value in figures.items()
    }


def _fmt(value: float | None, pattern: str) -> str:
    return "?" if value is None else pattern.format(value)


def _pct(value: float | None) -> str:
    """0.256 -> "25.6 %"; undefined (0-for-0) -> "-"."""
    return "-" if value is None else f"{100 * value:.1f} %"


def _segment_line(figures: dict[str, float | None]) -> str:
    parts = [
        f"{_fmt(figures['games'], '{:.0f}')} games",
        f"{_fmt(figures['min_per_game'], '{:.1f}')} min/game",
    ]
    if has_shooting(figures):
        parts += [f"{label.removesuffix('%')} {_pct(figures[stat.lower()])}"
                  for stat, label in SHOOTING.items()]  # fmt: skip
    return " · ".join(parts)


def _blended_line(blended: dict[str, float | None], regular: dict[str, float | None]) -> str:
    line = (
        f"{_fmt(blended['pts_per36'], '{:.1f}')} pts, {_fmt(blended['reb_per36'], '{:.1f}')} reb,"
        f" {_fmt(blended['ast_per36'], '{:.1f}')} ast"
    )
    if regular["ts_pct"] is None:  # an older champion: the blended TS% is all there is
        line += f" · TS {_pct(blended['ts_pct'])}"
    return line


def _split(reasons: Any) -> list[str]:
    return [r for r in str(reasons).split(", ") if r]
