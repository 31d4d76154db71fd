"""One player, one career: a player is his ``PLAYER_ID``; names are only what he is called.

The site renames players between pulls: "Jimmy Butler" became "Jimmy Butler III", "Enes
Kanter" "Enes Freedom", accents come and go ("Nikola Jokic", "Nikola Jokić"); see
replay/recordings/PROVENANCE.md. A season fetched again can so name a player differently from
the seasons stored before it. Every table the app and the CLI show holds two names per row:

- ``PLAYER_NAME``: the name of his latest season, the one shown everywhere;
- ``NAME_THAT_SEASON``: the name the site gave him in that row's season.

A lookup by any name he has had (accents, case and dots optional) finds his id, and with it
every season; so does part of a name, as a fan types it ("lebron", "Jokic", "Shaq"), when it
fits one player. The best-known players of a group (an archetype's examples) are picked here
too. Needs pandas only: the CLI's ``player`` answers through it.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from common.style import membership_column

NAME_THAT_SEASON = "NAME_THAT_SEASON"


def fold(name: str) -> str:
    """Accent-, case- and dot-insensitive form: "Nikola Jokić" and "nikola jokic" fold alike,
    as do "O.G. Anunoby" and "OG Anunoby"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().replace(".", "").split())


def _own_names(table: pd.DataFrame) -> pd.Series:
    """The name each row's season gave its player."""
    column = NAME_THAT_SEASON if NAME_THAT_SEASON in table.columns else "PLAYER_NAME"
    return table[column].astype(str)


def latest_names(table: pd.DataFrame) -> pd.Series:
    """PLAYER_ID -> the name of his latest season in ``table`` (labels sort by season)."""
    ordered = pd.DataFrame(
        {"id": table["PLAYER_ID"].to_numpy(), "name": _own_names(table).to_numpy()},
        index=table["SEASON"].astype(str).to_numpy(),
    ).sort_index(kind="stable")
    return ordered.drop_duplicates("id", keep="last").set_index("id")["name"]


def with_latest_names(table: pd.DataFrame, latest: pd.Series | None = None) -> pd.DataFrame:
    """``table`` with ``PLAYER_NAME`` his latest name and ``NAME_THAT_SEASON`` the row's own.

    ``latest``: PLAYER_ID -> name, from more seasons than ``table`` holds (the training reads
    every cleaned season, classified or not); by default from ``table`` itself. Applied twice,
    the second pass changes nothing (the rows' own names are kept in NAME_THAT_SEASON)."""
    own = _own_names(table)
    names = latest_names(table) if latest is None else latest
    shown = table["PLAYER_ID"].map(names).astype(object).where(lambda n: n.notna(), own)
    return table.assign(PLAYER_NAME=shown.astype(str), **{NAME_THAT_SEASON: own})


@dataclass(frozen=True)
class Players:
    """Who is who in a table with ``PLAYER_ID``, ``PLAYER_NAME``, ``SEASON`` (and
    ``NAME_THAT_SEASON``): each player's latest name, and every name that finds him."""

    latest: dict[int, str]  # PLAYER_ID -> name shown
    names: dict[int, list[str]]  # PLAYER_ID -> every name he had, oldest first
    by_folded: dict[str, list[int]]  # folded name -> the ids that had it
    seasons: dict[int, int] = field(default_factory=dict)  # PLAYER_ID -> seasons in the table

    @classmethod
    def of(cls, table: pd.DataFrame) -> Players:
        # The CLI builds this on every answer (~9,000 rows): pandas down to the distinct
        # (id, name) pairs, then plain Python (a groupby per player costs ten times more).
        ordered = table.sort_values("SEASON", kind="stable")
        latest = latest_names(ordered)
        pairs = pd.concat(
            [
                pd.DataFrame(
                    {"id": ordered["PLAYER_ID"].to_numpy(), "name": _own_names(ordered).to_numpy()}
                ),
                pd.DataFrame({"id": latest.index, "name": latest.to_numpy()}),  # finds him too
            ],
            ignore_index=True,
        ).drop_duplicates()  # each (id, name) once, oldest first
        ids, names_had = pairs["id"].astype("int64").tolist(), pairs["name"].astype(str).tolist()
        folded = {name: fold(name) for name in set(names_had)}
        names: dict[int, list[str]] = {}
        by_folded: dict[str, list[int]] = {}
        for player_id, name in zip(ids, names_had, strict=True):  # plain Python: ~2,600 pairs
            names.setdefault(player_id, []).append(name)
            holders = by_folded.setdefault(folded[name], [])
            if player_id not in holders:
                holders.append(player_id)
        counts = ordered.groupby("PLAYER_ID")["SEASON"].nunique()
        seasons = {int(k): int(v) for k, v in counts.items()}
        return cls({int(k): str(v) for k, v in latest.items()}, names, by_folded, seasons)

    def ids(self, name: str) -> list[int]:
        """Every player who was called ``name`` in any season (usually one)."""
        return sorted(self.by_folded.get(fold(name), []))

    def ids_containing(self, text: str) -> set[int]:
        """Every player one of whose names contains ``text`` (folded, as ``fold``)."""
        wanted = fold(text)
        return {i for key, ids in self.by_folded.items() if wanted in key for i in ids}

    def ids_by_words(self, text: str) -> list[int]:
        """The players one of whose names has every word of ``text`` as a word ("lebron",
        "Antetokounmpo"), or else as the start of a word ("Shaq"): the longest careers first.
        An exact name is :meth:`ids`; this is for the part of a name a fan types."""
        wanted = [w for w in _words(text) if len(w) > 1]  # "a" would fit Mbah a Moute only
        if not wanted:
            return []
        named = [(_words(key), ids) for key, ids in self.by_folded.items()]
        for fits in (_whole_words, _word_starts):
            found = {i for words, ids in named if fits(wanted, words) for i in ids}
            if found:
                return sorted(found, key=lambda i: (-self.seasons.get(i, 0), self.latest[i]))
        return []

    def other_names(self, player_id: int) -> list[str]:
        """The names he had besides the one shown, oldest first."""
        shown = self.latest.get(player_id)
        return [n for n in self.names.get(player_id, []) if n != shown]

    def suggestions(self, name: str, limit: int = 3) -> list[str]:
        """Names shown of the players whose names come closest to ``name`` (a typo)."""
        close = difflib.get_close_matches(fold(name), list(self.by_folded), n=limit, cutoff=0.6)
        shown = _unique(self.latest[i] for key in close for i in sorted(self.by_folded[key]))
        return shown[:limit]


ERA_SEASONS = 7  # examples are drawn from eras this long, so that every era has a face
CORE_MEMBERSHIP = 0.9  # an archetype's examples: core members, with 90 % of their style in it


def best_known(player_seasons: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` best-known of some player-seasons (``PLAYER_ID``, ``PLAYER_NAME``, ``SEASON``,
    ``MIN``: minutes played), each player once, at his biggest season: the most-minutes
    player of each era in turn, newest era first. By minutes alone the examples would all
    come from around 2000, when starters played 40 minutes a night."""
    group = player_seasons.sort_values(
        ["MIN", "PLAYER_NAME"], ascending=[False, True], kind="stable"
    ).drop_duplicates("PLAYER_ID")
    era = group["SEASON"].astype(str).str[:4].astype(int) // ERA_SEASONS
    turn = group.groupby(era, sort=False).cumcount()  # 0 = that era's best-known player
    picked = group.assign(_turn=turn.to_numpy(), _era=-era.to_numpy())
    picked = picked.sort_values(["_turn", "_era"], kind="stable").head(n)
    return picked.drop(columns=["_turn", "_era"])


def archetype_examples(assignments: pd.DataFrame, archetype: int, n: int) -> pd.DataFrame:
    """The ``n`` best-known core members of one archetype in ``assignments`` (the champion's
    rows: ``ARCHETYPE``, ``MEMBERSHIP_<id>``, ``GP``, ``MIN_PER_GAME``): those with at least
    :data:`CORE_MEMBERSHIP` of their style in it, taking turns by era (:func:`best_known`).
    A borderline member would misname it (Khris Middleton 2017-18, 52 % "Floor general");
    when it has fewer than ``n`` core members, its other members fill in."""
    members = assignments[assignments["ARCHETYPE"] == archetype]
    members = members.assign(MIN=members["GP"] * members["MIN_PER_GAME"])
    own = membership_column(archetype)
    core = members[members[own] >= CORE_MEMBERSHIP] if own in members else members
    picked = best_known(core, n)
    if len(picked) < n:
        rest = members[~members["PLAYER_ID"].isin(picked["PLAYER_ID"])]
        picked = pd.concat([picked, best_known(rest, n - len(picked))])
    return picked


def _words(name: str) -> list[str]:
    """The words of a name as typed: folded, apostrophes dropped ("O'Neal", "ONeal"), hyphens
    split ("Karl-Anthony")."""
    return fold(name).replace("'", "").replace("’", "").replace("-", " ").split()


def _whole_words(wanted: list[str], words: list[str]) -> bool:
    return all(w in words for w in wanted)


def _word_starts(wanted: list[str], words: list[str]) -> bool:
    return all(any(word.startswith(w) for word in words) for w in wanted)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
