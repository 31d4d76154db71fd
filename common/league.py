"""The league's story and its teams: who got the minutes, by archetype, season by season.

Shared by the app (the League and Teams pages) and the CLI (``league``, ``team``), so both
give the same answer. Needs pandas and NumPy only (the CLI answers in about a second).

**Minutes.** A player-season's regular-season minutes: games x minutes per game as the
champion's assignments carry them (``GP``, ``MIN_PER_GAME``: regular season only; playoffs,
folded into the style features, are not counted here). Only classified player-seasons count
(20+ games, 500+ minutes: about 95 % of the league's minutes).

**Archetype.** Each player-season's minutes go to his primary archetype (``ARCHETYPE_NAME``),
so a roster table and the mix it adds up to always agree.

**Team-season.** The site sends one row per player and season, traded players included, with
the team he ended the season on: a roster is the players *listed* for that team, with all
their minutes of the season (a player traded in February counts fully for his last team, not
at all for his first). An honest approximation of what the team fielded, not a box-score sum.

**Franchises.** A team is its franchise: the site's ``TEAM_ID`` is the same through a move or
a new name (SEA then OKC, NJN then BKN, VAN then MEM, CHH then CHA), so ``team OKC 2007-08``
finds SEA that season, and a franchise's other seasons under any name are its own, not teams
"built alike". Champions trained on seasons cleaned before ``TEAM_ID`` was kept go by the
abbreviation alone.

**Eras.** Archetypes are found in the era-adjusted style space (each feature ranked within
its season), so a mix says which roles a season gave its minutes to, relative to its own
league: a 1997 team and a 2017 team with the same mix were built alike for their time.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

MINUTES = "MINUTES"  # regular-season minutes of a player-season (games x minutes per game)
TEAM = "TEAM_ABBREVIATION"
FRANCHISE = "TEAM_ID"  # the site's id of a franchise, the same under every abbreviation it had
N_SHIFTS = 5  # biggest shifts told on the league's story
MIN_SHIFT = 0.02  # a move of less than 2 points of the league's minutes is no story
N_ALIKE = 5
N_NOTES = 4  # "what is new" notes of a season
MIN_NOTE = 0.02  # a change from the season before worth a note (points of minutes)
RECORD_AFTER = 3  # a season's share is a record only with this many stored seasons before it
FAINT = 0.01  # under 1 % of minutes: a role "all but vanished" or "emerged"
# Names the rules give end in a countable noun ("Rim protector" -> "Rim protectors"); a
# generated one ("Big: blocks, few shots", "Scoring guard 2") is named as it is.
PLURALIZABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*[a-z]")
# What the site may send for a player without a team (the assignments store it as a string).
NO_TEAM = {"", "nan", "None", "<NA>"}


class NotFoundError(LookupError):
    """What was asked for is not in the champion's data; the message says what is."""


class TeamNotFoundError(NotFoundError):
    """No such team-season; the message names the teams that season (close ones first)."""


class SeasonNotFoundError(NotFoundError):
    """A season the champion has no players of; the message names the ones it has."""


def percent(share: float) -> str:
    """A share as the story says it: "14 %", "under 1 %" (never a misleading "0 %")."""
    rounded = round(100 * share)
    return "under 1 %" if rounded == 0 and share > 0 else f"{rounded} %"


def plural(archetype: str) -> str:
    """ "Stretch big" -> "Stretch bigs"; a generated name stays as it is, as a kind."""
    if PLURALIZABLE.fullmatch(archetype) and not archetype.endswith("s"):
        return f"{archetype}s"
    return f"Players of the {archetype!r} kind"


@dataclass(frozen=True)
class Shift:
    """The biggest move of one archetype's share of minutes, earlier season to later one."""

    archetype: str
    start_season: str
    start_share: float
    end_season: str
    end_share: float

    @property
    def change(self) -> float:
        return self.end_share - self.start_share

    @property
    def sentence(self) -> str:
        start, end = percent(self.start_share), percent(self.end_share)
        span = f"from {start} of minutes in {self.start_season} to {end} in {self.end_season}"
        who = plural(self.archetype)
        if self.change > 0:
            return f"{who} emerged: {span}." if self.start_share < FAINT else f"{who} grew {span}."
        if self.end_share < FAINT or self.end_share < self.start_share / 4:
            return f"{who} all but vanished: {span}."
        return f"{who} shrank {span}."


@dataclass(frozen=True)
class SeasonNote:
    """Something new about one archetype in a season: a change from the stored season before
    it, or a record share (the most or the least of any season so far)."""

    archetype: str
    season: str
    share: float
    previous_season: str | None
    previous_share: float | None
    record: str | None  # "most" or "least" of any stored season up to this one
    first_season: str

    @property
    def change(self) -> float:
        return 0.0 if self.previous_share is None else self.share - self.previous_share

    @property
    def sentence(self) -> str:
        parts = [f"{self.archetype}: {percent(self.share)} of minutes"]
        if self.previous_share is not None and abs(self.change) >= MIN_NOTE:
            direction = "up" if self.change > 0 else "down"
            parts.append(
                f"{direction} from {percent(self.previous_share)} in {self.previous_season}"
            )
        if self.record:
            parts.append(f"the {self.record} of any season since {self.first_season}")
        return ", ".join(parts) + "."


@dataclass(frozen=True)
class League:
    """Minutes by archetype per season and per team-season, built once per champion.

    ``archetypes``: the champion's archetype names, in its profiles' order (colours follow
    it); ``players``: the classified player-seasons with ``MINUTES`` (and ``TEAM_ID`` where
    the champion's assignments have it); ``minutes``: SEASON x archetype; ``team_minutes``:
    (SEASON, TEAM_ABBREVIATION) x archetype.
    """

    archetypes: list[str]
    players: pd.DataFrame
    minutes: pd.DataFrame
    team_minutes: pd.DataFrame

    @classmethod
    def build(cls, assignments: pd.DataFrame, archetypes: list[str]) -> League:
        games = pd.to_numeric(assignments["GP"], errors="coerce")
        per_game = pd.to_numeric(assignments["MIN_PER_GAME"], errors="coerce")
        columns = ["PLAYER_ID", "PLAYER_NAME", "SEASON", TEAM, "ARCHETYPE_NAME", "GP"]
        columns += ["MIN_PER_GAME", *([FRANCHISE] if FRANCHISE in assignments else [])]
        players = assignments[columns].assign(
            SEASON=assignments["SEASON"].astype(str),
            **{MINUTES: (games * per_game).fillna(0.0).to_numpy("float64")},
        )
        team = players[TEAM].astype("string").fillna("")
        players = players.assign(**{TEAM: team.str.upper().where(~team.isin(NO_TEAM), None)})
        # Every archetype gets a column, in the profiles' order, even with no minutes.
        names = list(archetypes) + sorted(set(players["ARCHETYPE_NAME"]) - set(archetypes))
        minutes = _by_archetype(players, ["SEASON"], names)
        team_minutes = _by_archetype(players[players[TEAM].notna()], ["SEASON", TEAM], names)
        return cls(names, players, minutes, team_minutes)

    # --- The league ---------------------------------------------------------------------------

    @property
    def seasons(self) -> list[str]:
        return list(self.minutes.index)

    @cached_property
    def shares(self) -> pd.DataFrame:
        """SEASON x archetype: each archetype's share of the season's minutes (rows sum to 1)."""
        return _normalized(self.minutes)

    def season(self, label: str) -> str:
        """``label`` if the champion has players that season, else a SeasonNotFoundError."""
        if label not in self.minutes.index:
            seasons = self.seasons
            have = f"{seasons[0]} … {seasons[-1]}" if seasons else "none"
            raise SeasonNotFoundError(
                f"Season {label} is not in the champion's data (it has {len(seasons)} seasons, "
                f"{have})."
            )
        return label

    def shifts(self, limit: int = N_SHIFTS) -> list[Shift]:
        """The biggest moves of the mix, one per archetype, largest first: for each archetype
        the earlier and later seasons between which its share rose or fell the most (at least
        MIN_SHIFT), exactly as stored (no smoothing, so the sentence matches the chart)."""
        seasons = self.seasons
        found = []
        for archetype in self.archetypes:
            values = self.shares[archetype].to_numpy("float64")
            start, end = _widest_move(values)
            if start is None or abs(values[end] - values[start]) < MIN_SHIFT:
                continue
            found.append(Shift(archetype, seasons[start], values[start], seasons[end], values[end]))
        found.sort(key=lambda s: (-abs(s.change), s.archetype))
        return found[:limit]

    def season_notes(self, label: str, limit: int = N_NOTES) -> list[SeasonNote]:
        """What is new about a season: archetypes whose share moved by MIN_NOTE or more from
        the stored season before, or reached the most (least) of any season so far; the
        largest change first, records before plain changes of the same size."""
        seasons = self.seasons
        at = seasons.index(self.season(label))
        previous = seasons[at - 1] if at > 0 else None
        notes = []
        for archetype in self.archetypes:
            history = self.shares[archetype].to_numpy("float64")[: at + 1]
            share = float(history[-1])
            before = history[:-1]
            record = None
            if len(before) >= RECORD_AFTER:
                if share > before.max():
                    record = "most"
                elif share < before.min():
                    record = "least"
            note = SeasonNote(
                archetype,
                label,
                share,
                previous,
                None if previous is None else float(history[-2]),
                record,
                seasons[0],
            )
            if record or abs(note.change) >= MIN_NOTE:
                notes.append(note)
        notes.sort(key=lambda n: (-abs(n.change), n.record is None, n.archetype))
        return notes[:limit]

    def leaders(self, season: str, n: int = 3) -> dict[str, list[str]]:
        """Per archetype, the ``n`` players who played the most minutes for it that season
        (ties by name); an archetype without players that season gets an empty list."""
        players = self.players[self.players["SEASON"] == season]
        top = (
            players.sort_values([MINUTES, "PLAYER_NAME"], ascending=[False, True], kind="stable")
            .groupby("ARCHETYPE_NAME", sort=False)
            .head(n)
        )
        names = top.groupby("ARCHETYPE_NAME", sort=False)["PLAYER_NAME"].agg(list)
        return {a: [str(name) for name in names.get(a, [])] for a in self.archetypes}

    # --- Teams --------------------------------------------------------------------------------

    @cached_property
    def team_shares(self) -> pd.DataFrame:
        """(SEASON, TEAM_ABBREVIATION) x archetype: each team-season's mix of minutes."""
        return _normalized(self.team_minutes)

    def teams(self, season: str) -> list[str]:
        """The teams with classified players in ``season``, alphabetically."""
        if season not in self.team_minutes.index.get_level_values(0):
            return []
        return sorted(self.team_minutes.loc[season].index)

    @cached_property
    def franchises(self) -> pd.Series:
        """(SEASON, TEAM_ABBREVIATION) -> the franchise's ``TEAM_ID`` (Int64; missing where the
        champion's data has none), as the team-season's players carry it."""
        index = self.team_minutes.index
        if FRANCHISE not in self.players:
            return pd.Series(pd.NA, index=index, dtype="Int64")
        ids = self.players.groupby(["SEASON", TEAM])[FRANCHISE].first()  # first not missing
        return ids.reindex(index).astype("Int64")

    def find_team(self, team: str, season: str) -> str:
        """The team's abbreviation as stored that season (case optional), the franchise's name
        then if it had another (OKC in 2007-08: SEA), or a TeamNotFoundError saying what there
        is: close abbreviations, the seasons that team has, that season's teams."""
        self.season(season)
        wanted = team.strip().upper()[:12]
        teams = self.teams(season)
        if wanted in teams:
            return wanted
        listed = ", ".join(teams)
        known = sorted(set(self.team_minutes.index.get_level_values(1)))
        if wanted in known:
            then = self.franchise_name(wanted, season)
            if then is not None:
                return then
            has = sorted(self.team_minutes.xs(wanted, level=1).index)
            span = f"{has[0]} … {has[-1]}" if len(has) > 1 else has[0]
            raise TeamNotFoundError(
                f"{wanted} has no classified players in {season} (it has {len(has)} seasons, "
                f"{span}); teams in {season}: {listed}."
            )
        if len(wanted) > max(map(len, known)):  # a name ("Warriors"): no abbreviation is close
            raise TeamNotFoundError(
                f"No team {wanted!r} in {season}: a team goes by the abbreviation the site "
                f"gives it (GSW for Golden State). Teams then: {listed}."
            )
        close = difflib.get_close_matches(wanted, teams, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise TeamNotFoundError(f"No team {wanted!r} in {season}.{hint} Teams then: {listed}.")

    def franchise_name(self, team: str, season: str) -> str | None:
        """The abbreviation ``team``'s franchise had in ``season`` (OKC in 2007-08: SEA), if it
        played then and the champion's data says which franchise it is; else None."""
        ids = self.franchises.dropna()
        own = set(ids[ids.index.get_level_values(1) == team])
        then = [t for (when, t), franchise in ids.items() if when == season and franchise in own]
        return then[0] if len(then) == 1 else None

    def team_mix(self, team: str, season: str) -> pd.Series:
        """The team-season's share of minutes per archetype (sums to 1)."""
        return self.team_shares.loc[(season, team)]

    def roster(self, team: str, season: str) -> pd.DataFrame:
        """The team-season's classified players with ``MINUTES`` and ``SHARE`` (of the team's
        minutes), grouped by archetype (the archetype with most minutes first), then by
        minutes, most first."""
        players = self.players[(self.players["SEASON"] == season) & (self.players[TEAM] == team)]
        by_archetype = self.team_minutes.loc[(season, team)]
        order = {name: -by_archetype.get(name, 0.0) for name in self.archetypes}
        total = float(players[MINUTES].sum())
        return (
            players.assign(
                SHARE=players[MINUTES] / total if total > 0 else 0.0,
                _ORDER=players["ARCHETYPE_NAME"].map(order),
            )
            .sort_values(
                ["_ORDER", "ARCHETYPE_NAME", MINUTES, "PLAYER_NAME"],
                ascending=[True, True, False, True],
                kind="stable",
            )
            .drop(columns="_ORDER")
            .reset_index(drop=True)
        )

    def leanings(self, team: str, season: str) -> pd.DataFrame:
        """Per archetype: the team's share, the league's that season and the difference
        (``TEAM_SHARE``, ``LEAGUE_SHARE``, ``DIFFERENCE``), the team's biggest lean first."""
        table = pd.DataFrame(
            {
                "TEAM_SHARE": self.team_mix(team, season),
                "LEAGUE_SHARE": self.shares.loc[season],
            }
        )
        table["DIFFERENCE"] = table["TEAM_SHARE"] - table["LEAGUE_SHARE"]
        return table.rename_axis("ARCHETYPE_NAME").sort_values(
            ["DIFFERENCE", "TEAM_SHARE"], ascending=False, kind="stable"
        )

    def season_teams(self, season: str) -> pd.DataFrame:
        """Every team of a season in one table (one row per team, alphabetically): its two
        main roles (``ROLE_1``/``SHARE_1``, ``ROLE_2``/``SHARE_2``, as :func:`main_roles`) and
        where it leaned most against the league, both ways (``LEANS_ON``/``LEANS_ON_BY``,
        ``LIGHT_ON``/``LIGHT_ON_BY``: the first and last of :meth:`leanings`)."""
        teams = self.team_shares.loc[season]
        shares = teams.to_numpy("float64")
        difference = shares - self.shares.loc[season].to_numpy("float64")
        names = np.array(self.archetypes, dtype=object)
        # Orders as main_roles and leanings give them (share then name; difference then share,
        # then archetype order), row by row: lexsort's last key is its first.
        alphabetical = np.argsort(np.argsort(names)).astype("float64")
        by_share = np.lexsort((np.broadcast_to(alphabetical, shares.shape), -shares), axis=1)
        position = np.broadcast_to(np.arange(len(names), dtype="float64"), shares.shape)
        by_lean = np.lexsort((position, -shares, -difference), axis=1)
        rows = np.arange(len(teams))

        def pick(order: np.ndarray, column: int, values: np.ndarray) -> tuple[list, np.ndarray]:
            at = order[:, column]
            return list(names[at]), values[rows, at]

        role_1, share_1 = pick(by_share, 0, shares)
        role_2, share_2 = pick(by_share, 1, shares)
        leans_on, leans_by = pick(by_lean, 0, difference)
        light_on, light_by = pick(by_lean, -1, difference)
        return pd.DataFrame(
            {
                TEAM: list(teams.index),
                "ROLE_1": role_1,
                "SHARE_1": share_1,
                "ROLE_2": role_2,
                "SHARE_2": share_2,
                "LEANS_ON": leans_on,
                "LEANS_ON_BY": leans_by,
                "LIGHT_ON": light_on,
                "LIGHT_ON_BY": light_by,
            }
        )

    def alike(self, team: str, season: str, limit: int = N_ALIKE) -> pd.DataFrame:
        """The team-seasons of any era built most like this one, most alike first.

        Alike: the share of minutes both gave to the same archetypes, sum over archetypes of
        the smaller of the two shares (1 = the same mix; 1 minus half the L1 distance between
        the mixes). The franchise's own seasons, under any name, are left out: the question is
        who *else* was built like them. Adds ``SIMILARITY`` (0..1) and ``RANK``; ties by
        season, then team."""
        shares = self.team_shares
        target = shares.loc[(season, team)].to_numpy("float64")
        franchise = self.franchises.loc[(season, team)]
        own = shares.index.get_level_values(1) == team
        if not pd.isna(franchise):
            same = self.franchises.reindex(shares.index) == franchise
            own |= same.fillna(False).to_numpy(bool)
        others = shares[~own]
        overlap = np.minimum(others.to_numpy("float64"), target).sum(axis=1)
        ranked = (
            others.assign(SIMILARITY=overlap)
            .reset_index()
            .sort_values(
                ["SIMILARITY", "SEASON", TEAM], ascending=[False, True, True], kind="stable"
            )
            .head(limit)
            .reset_index(drop=True)
        )
        return ranked.assign(RANK=np.arange(1, len(ranked) + 1))


def main_roles(mix: pd.Series, n: int = 2) -> list[tuple[str, float]]:
    """The ``n`` archetypes with the largest shares of a mix, largest first (ties by name)."""
    ordered = sorted(mix.items(), key=lambda pair: (-float(pair[1]), str(pair[0])))
    return [(str(name), float(share)) for name, share in ordered[:n] if share > 0]


def leaning_sentence(leanings: pd.DataFrame) -> str:
    """Where a team's mix differs most from the league's, both ways (``leanings``: as
    :meth:`League.leanings` returns it)."""

    def said(at: int) -> str:
        row = leanings.iloc[at]
        return (
            f"{leanings.index[at]}, {percent(row['TEAM_SHARE'])} of minutes "
            f"(league: {percent(row['LEAGUE_SHARE'])})"
        )

    return f"Leaned on {said(0)}; light on {said(-1)}."


def season_shares(players: pd.DataFrame, archetypes: list[str]) -> pd.DataFrame:
    """SEASON x archetype: each archetype's share of the season's minutes (rows sum to 1), from
    player-seasons with ``SEASON``, ``ARCHETYPE_NAME`` and ``MINUTES`` (the mix the League page
    shows; the new-season report compares a season's with the seasons before)."""
    return _normalized(_by_archetype(players, ["SEASON"], archetypes))


def _by_archetype(players: pd.DataFrame, keys: list[str], names: list[str]) -> pd.DataFrame:
    """``keys`` x archetype: minutes summed; every archetype a column, in ``names`` order."""
    summed = players.groupby([*keys, "ARCHETYPE_NAME"])[MINUTES].sum()
    table = summed.unstack("ARCHETYPE_NAME", fill_value=0.0)
    return table.reindex(columns=names, fill_value=0.0).rename_axis(columns=None).sort_index()


def _normalized(minutes: pd.DataFrame) -> pd.DataFrame:
    totals = minutes.sum(axis=1)
    return minutes.div(totals.where(totals > 0), axis=0).fillna(0.0)


def _widest_move(values: np.ndarray) -> tuple[int | None, int]:
    """(i, j), i < j, maximizing |values[j] - values[i]|; the earliest such pair on ties.
    (None, 0) for fewer than two values."""
    best: tuple[int | None, int] = (None, 0)
    size = 0.0
    for j in range(1, len(values)):
        gaps = np.abs(values[j] - values[:j])
        i = int(np.argmax(gaps))
        if gaps[i] > size:
            best, size = (i, j), float(gaps[i])
    return best
