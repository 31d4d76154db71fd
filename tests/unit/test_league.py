"""The league's story and its teams (common/league.py), on a small league built by hand.

Every expected figure below was worked out on paper from the minutes in ``TEAMS``; none is
computed by the code under test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from common.league import (
    League,
    SeasonNotFoundError,
    TeamNotFoundError,
    leaning_sentence,
    main_roles,
    percent,
    plural,
)

FG, RP, SS = "Floor general", "Rim protector", "Spot-up shooter"
ARCHETYPES = [FG, RP, SS]
# (season, team) -> regular-season minutes per archetype (FG, RP, SS).
TEAMS = {
    ("2000-01", "AAA"): (1000, 3000, 1000),
    ("2000-01", "BBB"): (3000, 1000, 1000),
    ("2001-02", "BBB"): (2000, 2000, 1000),
    ("2001-02", "CCC"): (1000, 2000, 1000),
    ("2002-03", "AAA"): (500, 3000, 1500),
    ("2002-03", "CCC"): (1500, 2000, 1500),
    ("2003-04", "AAA"): (500, 2000, 2500),
    ("2003-04", "BBB"): (0, 2500, 2500),
}
# League shares, by hand:  FG            RP            SS
#   2000-01 (10,000 min)   4000 = 40 %   4000 = 40 %   2000 = 20 %
#   2001-02 ( 9,000 min)   3000 = 33.3 % 4000 = 44.4 % 2000 = 22.2 %
#   2002-03 (10,000 min)   2000 = 20 %   5000 = 50 %   3000 = 30 %
#   2003-04 (10,000 min)    500 =  5 %   4500 = 45 %   5000 = 50 %


def assignments() -> pd.DataFrame:
    """Players of 1000 minutes (50 games x 20.0) and one of 500 (25 x 20.0) for the rest."""
    rows = []
    player_id = 1
    for (season, team), minutes in TEAMS.items():
        for archetype, total in zip(ARCHETYPES, minutes, strict=True):
            blocks = [1000] * (total // 1000) + ([500] if total % 1000 else [])
            for block in blocks:
                rows.append(
                    {
                        "PLAYER_ID": player_id,
                        "PLAYER_NAME": f"Player {player_id:02d}",
                        "SEASON": season,
                        "TEAM_ABBREVIATION": team,
                        "ARCHETYPE_NAME": archetype,
                        "GP": block // 20,
                        "MIN_PER_GAME": 20.0,
                    }
                )
                player_id += 1
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def league() -> League:
    return League.build(assignments(), ARCHETYPES)


def test_shares_of_minutes_season_by_season(league: League) -> None:
    assert league.seasons == ["2000-01", "2001-02", "2002-03", "2003-04"]
    assert list(league.shares.columns) == ARCHETYPES
    assert league.minutes.loc["2001-02"].tolist() == [3000, 4000, 2000]
    assert league.shares.loc["2000-01"].tolist() == pytest.approx([0.4, 0.4, 0.2])
    assert league.shares.loc["2001-02"].tolist() == pytest.approx([3 / 9, 4 / 9, 2 / 9])
    assert league.shares.loc["2003-04"].tolist() == pytest.approx([0.05, 0.45, 0.5])


def test_biggest_shifts_name_the_role_and_the_seasons(league: League) -> None:
    shifts = league.shifts()
    # FG 40 % -> 5 % (0.35), SS 20 % -> 50 % (0.30), RP 40 % -> 50 % (0.10): largest first.
    assert [s.sentence for s in shifts] == [
        "Floor generals all but vanished: from 40 % of minutes in 2000-01 to 5 % in 2003-04.",
        "Spot-up shooters grew from 20 % of minutes in 2000-01 to 50 % in 2003-04.",
        "Rim protectors grew from 40 % of minutes in 2000-01 to 50 % in 2002-03.",
    ]
    assert [round(s.change, 4) for s in shifts] == [-0.35, 0.3, 0.1]
    assert [s.archetype for s in league.shifts(limit=1)] == [FG]


def test_a_role_that_shrank_or_emerged_is_said_so() -> None:
    rows = [  # two seasons of 10,000 minutes: FG 30 % -> 20 %, SS 0 % -> 10 %, RP the rest
        ("2010-11", FG, 3000), ("2010-11", RP, 7000),
        ("2011-12", FG, 2000), ("2011-12", RP, 7000), ("2011-12", SS, 1000),
    ]  # fmt: skip
    table = pd.DataFrame(
        [
            {"PLAYER_ID": i, "PLAYER_NAME": f"P{i}", "SEASON": season, "TEAM_ABBREVIATION": "AAA",
             "ARCHETYPE_NAME": archetype, "GP": 50, "MIN_PER_GAME": minutes / 50}
            for i, (season, archetype, minutes) in enumerate(rows)
        ]
    )  # fmt: skip
    sentences = {s.archetype: s.sentence for s in League.build(table, ARCHETYPES).shifts()}
    assert sentences == {
        FG: "Floor generals shrank from 30 % of minutes in 2010-11 to 20 % in 2011-12.",
        SS: "Spot-up shooters emerged: from 0 % of minutes in 2010-11 to 10 % in 2011-12.",
    }  # RP stayed at 70 %: no shift


def test_what_is_new_about_a_season(league: League) -> None:
    notes = [n.sentence for n in league.season_notes("2003-04")]
    assert notes == [
        "Spot-up shooter: 50 % of minutes, up from 30 % in 2002-03, the most of any season "
        "since 2000-01.",
        "Floor general: 5 % of minutes, down from 20 % in 2002-03, the least of any season "
        "since 2000-01.",
        "Rim protector: 45 % of minutes, down from 50 % in 2002-03.",
    ]
    # Two seasons before it are too few for a record; every role moved 5 points or more.
    assert [n.sentence for n in league.season_notes("2002-03")] == [
        "Floor general: 20 % of minutes, down from 33 % in 2001-02.",
        "Spot-up shooter: 30 % of minutes, up from 22 % in 2001-02.",
        "Rim protector: 50 % of minutes, up from 44 % in 2001-02.",
    ]
    assert league.season_notes("2000-01") == []  # nothing before it
    with pytest.raises(SeasonNotFoundError, match=r"it has 4 seasons, 2000-01 … 2003-04"):
        league.season_notes("1999-00")


def test_a_team_seasons_roster_and_mix(league: League) -> None:
    assert league.teams("2003-04") == ["AAA", "BBB"]
    # AAA 2003-04: FG 500, RP 2000, SS 2500 of 5000 minutes.
    assert league.team_mix("AAA", "2003-04").tolist() == pytest.approx([0.1, 0.4, 0.5])
    roster = league.roster("AAA", "2003-04")
    # Grouped by archetype, the team's biggest first (SS, RP, FG), then by minutes.
    assert roster["ARCHETYPE_NAME"].tolist() == [SS, SS, SS, RP, RP, FG]
    assert roster["MINUTES"].tolist() == [1000, 1000, 500, 1000, 1000, 500]
    assert roster["SHARE"].tolist() == pytest.approx([0.2, 0.2, 0.1, 0.2, 0.2, 0.1])
    # Against the league that season (FG 5 %, RP 45 %, SS 50 %): +5, 0, -5 points.
    leanings = league.leanings("AAA", "2003-04")
    assert leanings.index.tolist() == [FG, SS, RP]
    assert leanings["DIFFERENCE"].tolist() == pytest.approx([0.05, 0.0, -0.05])
    assert leaning_sentence(leanings) == (
        "Leaned on Floor general, 10 % of minutes (league: 5 %); "
        "light on Rim protector, 40 % of minutes (league: 45 %)."
    )
    assert main_roles(league.team_mix("AAA", "2003-04")) == [(SS, 0.5), (RP, 0.4)]
    assert main_roles(league.team_mix("BBB", "2003-04"), n=3) == [(RP, 0.5), (SS, 0.5)]


def test_a_seasons_teams_in_one_table(league: League) -> None:
    summary = league.season_teams("2003-04").set_index("TEAM_ABBREVIATION")
    # AAA 10/40/50 %, BBB 0/50/50 % against the league's 5/45/50 %; a tie of shares goes to
    # the first name alphabetically (Rim protector before Spot-up shooter).
    assert summary.loc["AAA", ["ROLE_1", "ROLE_2", "LEANS_ON", "LIGHT_ON"]].tolist() == [
        SS,
        RP,
        FG,
        RP,
    ]
    assert summary.loc["BBB", ["ROLE_1", "ROLE_2", "LEANS_ON", "LIGHT_ON"]].tolist() == [
        RP,
        SS,
        RP,
        FG,
    ]
    assert summary.loc["AAA", ["SHARE_1", "SHARE_2"]].tolist() == pytest.approx([0.5, 0.4])
    assert summary.loc["AAA", ["LEANS_ON_BY", "LIGHT_ON_BY"]].tolist() == pytest.approx(
        [0.05, -0.05]
    )
    assert summary.loc["BBB", ["LEANS_ON_BY", "LIGHT_ON_BY"]].tolist() == pytest.approx(
        [0.05, -0.05]
    )


def test_leaders_of_each_role(league: League) -> None:
    table = assignments()
    season = table[table["SEASON"] == "2003-04"].assign(M=table["GP"] * table["MIN_PER_GAME"])
    leaders = league.leaders("2003-04", n=2)
    assert list(leaders) == ARCHETYPES
    for archetype, names in leaders.items():
        mine = season[season["ARCHETYPE_NAME"] == archetype].sort_values(
            ["M", "PLAYER_NAME"], ascending=[False, True]
        )
        assert names == mine["PLAYER_NAME"].head(2).tolist()
    assert len(leaders[FG]) == 1  # one Floor general played that season


def test_team_seasons_built_alike(league: League) -> None:
    alike = league.alike("AAA", "2003-04")
    # Overlap with AAA 2003-04 (10/40/50 %), by hand; AAA's own seasons left out:
    # BBB 2003-04 0/50/50 -> 0+40+50; CCC 2002-03 30/40/30 -> 10+40+30;
    # CCC 2001-02 25/50/25 -> 10+40+25; BBB 2001-02 40/40/20 -> 10+40+20;
    # BBB 2000-01 60/20/20 -> 10+20+20.
    assert list(zip(alike["TEAM_ABBREVIATION"], alike["SEASON"], strict=True)) == [
        ("BBB", "2003-04"), ("CCC", "2002-03"), ("CCC", "2001-02"), ("BBB", "2001-02"),
        ("BBB", "2000-01"),
    ]  # fmt: skip
    assert alike["SIMILARITY"].tolist() == pytest.approx([0.9, 0.8, 0.75, 0.7, 0.5])
    assert alike["RANK"].tolist() == [1, 2, 3, 4, 5]
    assert "AAA" not in set(alike["TEAM_ABBREVIATION"])
    assert len(league.alike("AAA", "2003-04", limit=2)) == 2


def test_unknown_teams_and_seasons_say_what_there_is(league: League) -> None:
    assert league.find_team(" aaa ", "2003-04") == "AAA"
    with pytest.raises(TeamNotFoundError) as absent:
        league.find_team("CCC", "2003-04")
    assert str(absent.value) == (
        "CCC has no classified players in 2003-04 (it has 2 seasons, 2001-02 … 2002-03); "
        "teams in 2003-04: AAA, BBB."
    )
    with pytest.raises(TeamNotFoundError, match=r"No team 'AAB' in 2003-04\. Did you mean AAA"):
        league.find_team("aab", "2003-04")
    with pytest.raises(TeamNotFoundError) as named:  # a name, not an abbreviation
        league.find_team("Warriors", "2003-04")
    assert str(named.value) == (
        "No team 'WARRIORS' in 2003-04: a team goes by the abbreviation the site gives it "
        "(GSW for Golden State). Teams then: AAA, BBB."
    )  # no abbreviation offered as close ("WAS" was, for the Warriors)
    with pytest.raises(SeasonNotFoundError, match="Season 2010-11 is not in the champion's data"):
        league.find_team("AAA", "2010-11")


def renamed_franchise() -> pd.DataFrame:
    """AAA played its first season as OLD: one franchise (TEAM_ID 1) under two names, as SEA
    and OKC; BBB and CCC are franchises 2 and 3."""
    table = assignments()
    first = (table["SEASON"] == "2000-01") & (table["TEAM_ABBREVIATION"] == "AAA")
    table.loc[first, "TEAM_ABBREVIATION"] = "OLD"
    ids = {"OLD": 1, "AAA": 1, "BBB": 2, "CCC": 3}
    return table.assign(TEAM_ID=table["TEAM_ABBREVIATION"].map(ids).astype("Int64"))


def test_a_franchise_is_found_under_the_name_it_had_that_season() -> None:
    league = League.build(renamed_franchise(), ARCHETYPES)
    assert league.find_team("AAA", "2000-01") == "OLD"
    assert league.find_team("old", "2003-04") == "AAA"
    assert league.find_team("BBB", "2000-01") == "BBB"
    with pytest.raises(TeamNotFoundError, match="CCC has no classified players in 2003-04"):
        league.find_team("CCC", "2003-04")  # franchise 3 did not play then, under any name
    # Its seasons under its other name are its own, not teams built alike (AAA 2000-01, 70 %
    # alike, would come fourth: the list test_team_seasons_built_alike expects).
    alike = league.alike("AAA", "2003-04")
    assert list(zip(alike["TEAM_ABBREVIATION"], alike["SEASON"], strict=True)) == [
        ("BBB", "2003-04"), ("CCC", "2002-03"), ("CCC", "2001-02"), ("BBB", "2001-02"),
        ("BBB", "2000-01"),
    ]  # fmt: skip


def test_without_franchise_ids_a_team_is_its_abbreviation() -> None:
    league = League.build(renamed_franchise().drop(columns="TEAM_ID"), ARCHETYPES)
    with pytest.raises(TeamNotFoundError, match="AAA has no classified players in 2000-01"):
        league.find_team("AAA", "2000-01")
    alike = league.alike("AAA", "2003-04")
    assert ("OLD", "2000-01") in set(zip(alike["TEAM_ABBREVIATION"], alike["SEASON"], strict=True))


def test_a_player_without_a_team_counts_for_the_league_only() -> None:
    table = assignments()
    extra = table.iloc[[0]].assign(PLAYER_ID=999, SEASON="2003-04", TEAM_ABBREVIATION="nan")
    league = League.build(pd.concat([table, extra], ignore_index=True), ARCHETYPES)
    assert league.minutes.loc["2003-04"].tolist() == [500 + 1000, 4500, 5000]
    assert league.teams("2003-04") == ["AAA", "BBB"]
    assert league.team_minutes.loc[("2003-04", "AAA")].tolist() == [500, 2000, 2500]


@pytest.mark.parametrize(
    ("share", "said"),
    [(0.0, "0 %"), (0.004, "under 1 %"), (0.006, "1 %"), (0.146, "15 %"), (0.5, "50 %")],
)
def test_percent(share: float, said: str) -> None:
    assert percent(share) == said


def test_plural() -> None:
    assert plural("Rim protector") == "Rim protectors"
    assert plural("3-and-D wing") == "3-and-D wings"
    # Generated names are not nouns to pluralize.
    assert plural("Big: blocks, few shots") == "Players of the 'Big: blocks, few shots' kind"
    assert plural("Scoring guard 2") == "Players of the 'Scoring guard 2' kind"
