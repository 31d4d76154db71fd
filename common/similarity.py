"""Who played like him: the nearest players in style and shooting, and finding a player by name.

A player is his ``PLAYER_ID`` (``common/players.py``): any name he has had finds him, and his
own other seasons are left out of "who played like him" by id, whatever the site called him.

The champion's assignments carry every player-season's coordinates in the style space
(``Z_*`` columns, see ``common/style.py``), the space the archetypes were found in, and his
era-adjusted shooting skill (``SKILL_*``: 3P% and FT%, shrunk by attempts), on the same scale.
Similarity is plain Euclidean distance over both, over every season by default: style says
how he played, shooting skill how well he shot, so the great shooters find each other
(docs/model.md, "Similar players", has the measurements). The nearest player is listed
first whatever his archetype (a closer player across an archetype boundary is still closer),
each player once, at his nearest season. The player's own other seasons are left out: the
question is who *else* played like him.

Shared by the app and the CLI, so both give the same answer. Needs pandas and NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from common.players import Players
from common.style import SKILL_PREFIX, STYLE_PREFIX, feature_label

N_REASONS = 2  # features named as "closest" and "farthest" per match
MAX_NAMED = 6  # players named when part of a name fits several
# A shooting skill's score below this (in absolute value) is about the league's rate: where
# a player who rarely shot it is put too, so being close there says nothing of either.
ORDINARY_SKILL = 0.5


class PlayerNotFoundError(LookupError):
    """No player-season matches; the message suggests close names or the seasons he has."""


def compared_columns(assignments: pd.DataFrame) -> list[str]:
    """The style coordinates, then the shooting skills (absent from the assignments of a
    champion published before they were added: then style alone)."""
    return [c for c in assignments.columns if c.startswith((STYLE_PREFIX, SKILL_PREFIX))]


def _shown(name: str) -> str:
    return name if len(name) <= 40 else name[:40] + "…"  # never echo a wall of input


def _candidates(players: Players, name: str) -> tuple[list[int], bool]:
    """The ids ``name`` may mean, and whether it named them exactly: any full name he had
    (namesakes all), his PLAYER_ID, or else part of a name (:meth:`Players.ids_by_words`)."""
    ids = players.ids(name)
    if not ids and name.strip().isdigit() and int(name) in players.latest:
        ids = [int(name)]  # his id, as the JSON answers and the app's links give it
    if ids:
        return ids, True
    return players.ids_by_words(name), False


def _not_found(players: Players, name: str) -> PlayerNotFoundError:
    if not name.strip():
        return PlayerNotFoundError("No player name given: type one, or part of one (e.g. Kobe).")
    close = players.suggestions(name)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return PlayerNotFoundError(f"No player named {_shown(name)!r}.{hint}")


def _which_one(players: Players, name: str, ids: list[int]) -> str:
    """Part of a name that fits several players: name them, longest careers first."""
    shown = [players.latest[i] for i in ids[:MAX_NAMED]]
    if len(ids) > MAX_NAMED:
        listed = ", ".join(shown) + f" and {len(ids) - MAX_NAMED} more"
    else:
        listed = ", ".join(shown[:-1]) + f" or {shown[-1]}"
    return f"{_shown(name)!r} could be {listed}"


def find_ids(players: Players, name: str) -> list[int]:
    """The ids of the player(s) called ``name`` in any season (accents and case optional), of
    his PLAYER_ID, or of the one player part of a name fits ("lebron");
    :class:`PlayerNotFoundError` with close names if none, with the candidates if several."""
    ids, exact = _candidates(players, name)
    if not ids:
        raise _not_found(players, name)
    if not exact and len(ids) > 1:
        raise PlayerNotFoundError(f"{_which_one(players, name, ids)}: give more of his name.")
    return ids


def find_player(
    assignments: pd.DataFrame, name: str, season: str, players: Players | None = None
) -> pd.Series:
    """The row of the player called ``name`` (in any season: one player, one career; accents
    and case optional; or his PLAYER_ID; or part of his name, if it fits one player who
    played ``season``) in ``season``.

    ``players``: the directory of ``assignments`` if the caller keeps one (built otherwise).
    Raises :class:`PlayerNotFoundError` saying what is wrong: an unknown name (with close
    names), a known player without that season (with the seasons he has), or two players
    of that name in that season (with their ids)."""
    shown = _shown(name)
    players = players if players is not None else Players.of(assignments)
    ids, exact = _candidates(players, name)
    if not ids:
        raise _not_found(players, name)
    rows = assignments[assignments["PLAYER_ID"].isin(ids)]
    if not exact and len(ids) > 1:  # part of a name: the season may tell which player
        played = set(rows.loc[rows["SEASON"].astype(str) == season, "PLAYER_ID"].astype(int))
        if len(played) > 1:
            which = _which_one(players, name, [i for i in ids if i in played])
            raise PlayerNotFoundError(f"{which} in {season}: give more of his name.")
        if not played:
            which = _which_one(players, name, ids)
            none = f"none of them has a classified season {season[:12]!r}"
            raise PlayerNotFoundError(f"{which}, and {none}.")
        ids = list(played)
        rows = rows[rows["PLAYER_ID"].isin(ids)]
    in_season = rows[rows["SEASON"].astype(str) == season]
    if in_season.empty:
        raise PlayerNotFoundError(_no_such_season(rows, ids, players, shown, season[:12]))
    if in_season["PLAYER_ID"].nunique() > 1:
        namesakes = ", ".join(
            f"{players.latest[int(r['PLAYER_ID'])]} ({r['TEAM_ABBREVIATION']}, id {r['PLAYER_ID']})"
            for _, r in in_season.iterrows()
        )
        raise PlayerNotFoundError(
            f"{len(in_season)} players named {shown!r} played in {season}: {namesakes}; "
            "ask by id instead of name."
        )
    return in_season.iloc[0]


def _no_such_season(
    rows: pd.DataFrame, ids: list[int], players: Players, shown: str, season: str
) -> str:
    """What to say when the player (or each namesake) has no classified ``season``."""

    def seasons(player_id: int) -> str:
        mine = rows.loc[rows["PLAYER_ID"] == player_id, "SEASON"].astype(str).unique()
        return ", ".join(sorted(mine))

    if len(ids) == 1:
        name = players.latest[ids[0]]
        return f"{name} has no classified season {season!r} (he has {seasons(ids[0])})."
    careers = "; ".join(f"{players.latest[i]} (id {i}) has {seasons(i)}" for i in ids)
    return f"No player named {shown!r} has a classified season {season!r} ({careers})."


@dataclass(frozen=True)
class Reason:
    """Why two player-seasons match: the features closest together and farthest apart."""

    closest: list[str]
    farthest: list[str]


def most_similar(
    assignments: pd.DataFrame,
    player: pd.Series,
    *,
    season: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The ``limit`` players nearest to ``player`` (all seasons, or one ``season``) in style
    and shooting skill (:func:`compared_columns`), each once, at his nearest season: a fan
    asks who played like him, and a player close in three seasons is one answer, not three.

    Adds ``DISTANCE`` (Euclidean, over those columns), ``SIMILARITY`` (:func:`similarity`),
    ``RANK`` (1 = nearest), ``CLOSEST`` and ``FARTHEST`` (readable feature names,
    comma-separated; a shooting skill both have at about the league's rate, ``|score| <``
    :data:`ORDINARY_SKILL`, is never named closest), sorted nearest first; ties by name then
    season.
    """
    columns = compared_columns(assignments)
    pool = assignments[assignments["PLAYER_ID"] != player["PLAYER_ID"]]
    if season is not None:
        pool = pool[pool["SEASON"].astype(str) == season]
    target = player[columns].to_numpy(dtype="float64")
    gaps = np.abs(pool[columns].to_numpy(dtype="float64") - target)
    distance = np.sqrt(np.sum(gaps * gaps, axis=1))
    ranked = pool.assign(DISTANCE=distance).sort_values(
        ["DISTANCE", "PLAYER_NAME", "SEASON"], kind="stable"
    )
    ranked = ranked.drop_duplicates("PLAYER_ID")  # his nearest season
    top = ranked.head(limit)
    values = top[columns].to_numpy(dtype="float64")
    skill = np.array([c.startswith(SKILL_PREFIX) for c in columns])
    # Both at about the league's rate: where a player who rarely shot sits too (docs/model.md).
    ordinary = skill & (np.abs(target) < ORDINARY_SKILL) & (np.abs(values) < ORDINARY_SKILL)
    reasons = [
        _reason(columns, gaps, mask)
        for gaps, mask in zip(np.abs(values - target), ordinary, strict=True)
    ]
    return top.assign(
        RANK=np.arange(1, len(top) + 1),
        SIMILARITY=similarity(top["DISTANCE"].to_numpy(), assignments[columns]),
        CLOSEST=[", ".join(r.closest) for r in reasons],
        FARTHEST=[", ".join(r.farthest) for r in reasons],
    )


def similarity(distance: np.ndarray, space: pd.DataFrame) -> np.ndarray:
    """0-100 %: 100 = the same style and shooting, 0 = as unlike as two player-seasons picked
    at random (or less alike). The share of the typical squared distance between two rows of
    ``space`` that two players do not have: ``1 - distance² / E[d²]``, with
    ``E[d²] = 2 · Σ var`` over the compared columns (an R² of sorts). Read by fans: the
    scale does not shrink as columns are added, as a fixed kernel of the distance would."""
    typical = 2.0 * float(space.to_numpy(dtype="float64").var(axis=0).sum())
    return 100.0 * np.clip(1.0 - np.square(distance) / max(typical, 1e-12), 0.0, 1.0)


def _reason(columns: list[str], gaps: np.ndarray, ordinary: np.ndarray) -> Reason:
    """The features closest and farthest apart; a shooting skill both have at about the
    league's rate (``ordinary``) is no reason they are alike."""
    closest = np.argsort(np.where(ordinary, np.inf, gaps), kind="stable")
    farthest = np.argsort(gaps, kind="stable")[::-1]
    return Reason(
        closest=[feature_label(columns[i]) for i in closest[:N_REASONS]],
        farthest=[feature_label(columns[i]) for i in farthest[:N_REASONS]],
    )
