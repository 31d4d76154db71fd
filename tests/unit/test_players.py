"""One player, one career: names resolved to PLAYER_ID, on real renames in the recordings.

The site renamed players between its pulls, and the recordings keep both names: the 2018-19
Per36 responses (pulled in 2019) call PLAYER_ID 202710 "Jimmy Butler", the 2020-21 PerGame one
(pulled in 2025) "Jimmy Butler III"; 203493 went from "Reggie Bullock" to "Reggie Bullock
Jr.", 1629029 from "Luka Doncic" to "Luka Dončić". The tables below are read from the raw
recordings with json alone; every expected name is written out here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from common.players import (
    NAME_THAT_SEASON,
    Players,
    archetype_examples,
    best_known,
    fold,
    with_latest_names,
)
from common.similarity import (
    PlayerNotFoundError,
    find_ids,
    find_player,
    most_similar,
    similarity,
)
from tests.conftest import RECORDINGS

BUTLER, BULLOCK, DONCIC, KOBE = 202710, 203493, 1629029, 977


def recorded(name: str, season: str) -> pd.DataFrame:
    """Identity columns of one recording, as the site sent them."""
    payload = json.loads((RECORDINGS / f"leaguedashplayerstats_{name}.json").read_bytes())
    result = payload["resultSets"][0]
    table = pd.DataFrame(result["rowSet"], columns=result["headers"])
    return table[["PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION"]].assign(SEASON=season)


@pytest.fixture(scope="module")
def seasons() -> pd.DataFrame:
    """2015-16 (Kobe's last), 2018-19 as pulled in 2019 and 2020-21 as pulled in 2025."""
    return pd.concat(
        [
            recorded("2015-16_regular_pergame", "2015-16"),
            recorded("2018-19_regular_per36", "2018-19"),
            recorded("2020-21_regular_pergame", "2020-21"),
        ],
        ignore_index=True,
    )


def test_the_recordings_name_one_player_two_ways(seasons: pd.DataFrame) -> None:
    butler = seasons[seasons["PLAYER_ID"] == BUTLER].set_index("SEASON")["PLAYER_NAME"]
    assert butler.to_dict() == {
        "2015-16": "Jimmy Butler III",  # pulled in 2025, like 2020-21
        "2018-19": "Jimmy Butler",
        "2020-21": "Jimmy Butler III",
    }


def test_every_row_shows_his_latest_name_and_keeps_the_seasons_own(
    seasons: pd.DataFrame,
) -> None:
    named = with_latest_names(seasons)
    butler = named[named["PLAYER_ID"] == BUTLER].set_index("SEASON")
    assert set(butler["PLAYER_NAME"]) == {"Jimmy Butler III"}
    assert butler[NAME_THAT_SEASON].to_dict() == {
        "2015-16": "Jimmy Butler III",
        "2018-19": "Jimmy Butler",
        "2020-21": "Jimmy Butler III",
    }
    bullock = named[named["PLAYER_ID"] == BULLOCK]
    assert set(bullock["PLAYER_NAME"]) == {"Reggie Bullock Jr."}
    # Kobe retired in 2016: his last season's name stays his.
    assert set(named.loc[named["PLAYER_ID"] == KOBE, "PLAYER_NAME"]) == {"Kobe Bryant"}
    # Applied again (a table read back), nothing changes.
    assert with_latest_names(named).equals(named)
    # The latest name may come from seasons the table does not hold (the training passes
    # them in): the newest pull's name wins for every row.
    only_2018 = with_latest_names(
        seasons[seasons["SEASON"] == "2018-19"], pd.Series({BUTLER: "Jimmy Butler III"})
    )
    row = only_2018[only_2018["PLAYER_ID"] == BUTLER].iloc[0]
    assert (row["PLAYER_NAME"], row[NAME_THAT_SEASON]) == ("Jimmy Butler III", "Jimmy Butler")
    assert set(only_2018.loc[only_2018["PLAYER_ID"] == BULLOCK, "PLAYER_NAME"]) == {
        "Reggie Bullock"  # not in the names passed: his own name that season
    }


def test_any_name_he_had_finds_him(seasons: pd.DataFrame) -> None:
    players = Players.of(with_latest_names(seasons))
    for name in ("Jimmy Butler", "Jimmy Butler III", "jimmy butler iii", "JIMMY BUTLER"):
        assert players.ids(name) == [BUTLER], name
    assert players.ids("Luka Doncic") == players.ids("luka dončić") == [DONCIC]
    assert players.ids("Reggie Bullock") == players.ids("Reggie Bullock Jr") == [BULLOCK]
    assert players.latest[BUTLER] == "Jimmy Butler III"
    assert players.other_names(BUTLER) == ["Jimmy Butler"]
    assert players.other_names(KOBE) == []
    assert BUTLER in players.ids_containing("butler")
    assert players.ids("Jimmy Buttler") == []
    assert players.suggestions("Jimmy Buttler")[0] == "Jimmy Butler III"
    assert fold("Nikola Jokić") == fold("NIKOLA JOKIC") == "nikola jokic"


def test_a_lookup_by_either_name_finds_every_season(seasons: pd.DataFrame) -> None:
    """The issue: "Jimmy Butler" found only 2018-19 and "Jimmy Butler III" only 2020-21."""
    table = with_latest_names(seasons)
    for name in ("Jimmy Butler", "Jimmy Butler III"):
        for season in ("2015-16", "2018-19", "2020-21"):
            row = find_player(table, name, season)
            assert (row["PLAYER_ID"], row["SEASON"]) == (BUTLER, season)
            assert row["PLAYER_NAME"] == "Jimmy Butler III"
    assert find_player(table, str(BUTLER), "2018-19")["PLAYER_ID"] == BUTLER  # by id too

    with pytest.raises(PlayerNotFoundError) as missing:
        find_player(table, "Jimmy Butler", "2010-11")  # drafted in 2011
    assert str(missing.value) == (
        "Jimmy Butler III has no classified season '2010-11' (he has 2015-16, 2018-19, 2020-21)."
    )
    with pytest.raises(PlayerNotFoundError, match=r"Did you mean Jimmy Butler III\?"):
        find_player(table, "Jimmy Buttler", "2018-19")
    for blank in ("", "   "):
        with pytest.raises(PlayerNotFoundError, match=r"^No player name given: type one"):
            find_player(table, blank, "2018-19")


def test_part_of_a_name_finds_the_player_it_fits(seasons: pd.DataFrame) -> None:
    """A fan types "giannis" or "Shaq": whole words first, then the start of a word."""
    players = Players.of(with_latest_names(seasons))
    assert players.ids_by_words("giannis") == [203507]
    assert players.ids_by_words("LEBRON") == [2544]
    assert players.ids_by_words("jokic") == [203999]  # "Nikola Jokic" and "Nikola Jokić"
    assert players.ids_by_words("Shaq") == [1627885]  # Shaquille Harrison: no whole word
    assert players.ids_by_words("butler iii") == [BUTLER]
    # Several: the longest careers in the table first (Giannis: 3 seasons), then by name.
    assert players.ids_by_words("Antetokounmpo") == [203507, 1628961, 203648]
    assert players.ids_by_words("Zzyzx") == players.ids_by_words("  ") == []
    assert players.ids_by_words("j") == []  # one letter is no part of a name


def test_part_of_a_name_is_narrowed_by_the_season_or_names_the_candidates(
    seasons: pd.DataFrame,
) -> None:
    table = with_latest_names(seasons)
    assert find_player(table, "giannis", "2015-16")["PLAYER_ID"] == 203507
    # Mason (203486) and Miles Plumlee (203101): only Mason played 2020-21.
    assert find_player(table, "Plumlee", "2020-21")["PLAYER_ID"] == 203486
    with pytest.raises(PlayerNotFoundError) as two:
        find_player(table, "Curry", "2015-16")
    assert str(two.value) == (
        "'Curry' could be Seth Curry or Stephen Curry in 2015-16: give more of his name."
    )
    with pytest.raises(PlayerNotFoundError) as neither:
        find_player(table, "Plumlee", "2010-11")
    assert str(neither.value) == (
        "'Plumlee' could be Mason Plumlee or Miles Plumlee, and none of them has a classified "
        "season '2010-11'."
    )
    # An exact name still means exactly him, never a longer one: "Jrue Holiday", not Justin.
    assert find_player(table, "jrue holiday", "2018-19")["PLAYER_ID"] == 201950
    # Without a season (a career): one player, or the candidates.
    players = Players.of(table)
    assert find_ids(players, "lebron") == [2544]
    with pytest.raises(PlayerNotFoundError) as morrises:
        find_ids(players, "Morris")
    assert str(morrises.value) == (
        "'Morris' could be Marcus Morris Sr., Markieff Morris, Monte Morris or Jaylen Morris: "
        "give more of his name."
    )


def test_two_players_of_one_name_stay_two() -> None:
    """Mike James (2004-05 … 2008-09, id 2229) and Mike James (2017-18 on, id 1628455) are two
    players the site names alike: each season finds its own, and a season neither played
    names both careers."""
    table = with_latest_names(
        pd.concat(
            [
                recorded("2005-06_regular_pergame", "2005-06"),
                recorded("2017-18_regular_pergame", "2017-18"),
            ],
            ignore_index=True,
        )
    )
    assert find_player(table, "Mike James", "2005-06")["PLAYER_ID"] == 2229
    assert find_player(table, "Mike James", "2017-18")["PLAYER_ID"] == 1628455
    with pytest.raises(PlayerNotFoundError) as neither:
        find_player(table, "Mike James", "2010-11")
    assert str(neither.value) == (
        "No player named 'Mike James' has a classified season '2010-11' "
        "(Mike James (id 2229) has 2005-06; Mike James (id 1628455) has 2017-18)."
    )


def test_similar_players_are_each_listed_once_at_their_nearest_season() -> None:
    """A player close in several seasons is one answer: his nearest season, ranked by it."""
    rows = [  # PLAYER_ID, name, season, the two style coordinates
        (1, "Steve Nash", "2006-07", 0.0, 0.0),
        (2, "J.J. Barea", "2016-17", 0.3, 0.0),
        (2, "J.J. Barea", "2017-18", 0.1, 0.0),
        (2, "J.J. Barea", "2011-12", 0.2, 0.0),
        (3, "Mark Price", "1997-98", 0.4, 0.0),
        (4, "Shaquille O'Neal", "1999-00", 3.0, 3.0),
    ]
    assignments = pd.DataFrame(
        rows, columns=["PLAYER_ID", "PLAYER_NAME", "SEASON", "Z_FGA_PER36", "Z_AST_PER36"]
    ).assign(TEAM_ABBREVIATION="PHX", ARCHETYPE_NAME="Ball-dominant creator")
    nash = assignments.iloc[0]
    ranked = most_similar(assignments, nash, limit=3)
    assert list(zip(ranked["PLAYER_NAME"], ranked["SEASON"], ranked["RANK"], strict=True)) == [
        ("J.J. Barea", "2017-18", 1),
        ("Mark Price", "1997-98", 2),
        ("Shaquille O'Neal", "1999-00", 3),
    ]
    assert ranked["DISTANCE"].tolist() == pytest.approx([0.1, 0.4, 18**0.5])


def test_similar_players_are_compared_in_shooting_skill_too() -> None:
    """Two guards of one style: the one who also shot like him is the nearer (SKILL_ columns
    are compared beside the style coordinates, and named among the reasons)."""
    rows = [  # PLAYER_ID, name, style coordinate, 3-point and free-throw skill
        (1, "Stephen Curry", 1.0, 2.0, 2.0),
        (2, "Baron Davis", 1.0, -0.5, 0.0),
        (3, "Ray Allen", 1.3, 1.8, 2.0),
    ]
    assignments = pd.DataFrame(
        rows, columns=["PLAYER_ID", "PLAYER_NAME", "Z_FGA_PER36", "SKILL_FG3_PCT", "SKILL_FT_PCT"]
    ).assign(SEASON="2015-16", TEAM_ABBREVIATION="GSW", ARCHETYPE_NAME="Ball-dominant creator")
    ranked = most_similar(assignments, assignments.iloc[0])
    assert list(ranked["PLAYER_NAME"]) == ["Ray Allen", "Baron Davis"]
    assert ranked["DISTANCE"].tolist() == pytest.approx([(0.09 + 0.04) ** 0.5, (6.25 + 4) ** 0.5])
    assert ranked["FARTHEST"].iloc[1] == "3-point shooting, free-throw shooting"


def test_a_shooting_skill_both_have_at_the_leagues_rate_is_no_reason_they_are_alike() -> None:
    """Two centres who never shot threes both sit at about the league's rate in 3-point
    skill: their smallest gap, but not what makes them alike. Two poor free-throw shooters
    are alike in that, and it is named."""
    rows = [  # PLAYER_ID, name, three style coordinates, 3-point and free-throw skill
        (1, "Shaquille O'Neal", 2.0, 2.5, 0.3, 0.2, -2.4),
        (2, "Tim Duncan", 1.6, 2.0, 0.9, 0.2, -1.0),
        (3, "Ben Wallace", 0.0, 2.3, 1.0, -0.1, -2.9),
    ]
    columns = ["Z_FGA_PER36", "Z_OREB_PER36", "Z_BLK_PER36", "SKILL_FG3_PCT", "SKILL_FT_PCT"]
    assignments = pd.DataFrame(rows, columns=["PLAYER_ID", "PLAYER_NAME", *columns]).assign(
        SEASON="1999-00", TEAM_ABBREVIATION="LAL", ARCHETYPE_NAME="Scoring big"
    )
    ranked = most_similar(assignments, assignments.iloc[0]).set_index("PLAYER_NAME")
    # Duncan's gaps: 0.4, 0.5, 0.6, 0.0 (3P: both ordinary), 1.4.
    assert ranked.loc["Tim Duncan", "CLOSEST"] == "shot volume (FGA/36), offensive rebounds/36"
    assert ranked.loc["Tim Duncan", "FARTHEST"] == "free-throw shooting, blocks/36"
    # Wallace's gaps: 2.0, 0.2, 0.7, 0.3 (3P: both ordinary), 0.5 (FT: both far below).
    assert ranked.loc["Ben Wallace", "CLOSEST"] == "offensive rebounds/36, free-throw shooting"


def test_similarity_is_the_share_of_a_random_pairs_squared_distance_they_do_not_have() -> None:
    # Columns of variance 1 ([0, 2]: mean 1) and 0: two random rows are 2 · (1 + 0) = 2
    # apart in squared distance on average.
    space = pd.DataFrame({"Z_A": [0.0, 2.0], "Z_B": [5.0, 5.0]})
    shown = similarity(np.array([0.0, 1.0, 2**0.5, 3.0]), space)
    assert shown.tolist() == pytest.approx([100.0, 50.0, 0.0, 0.0])  # farther: still 0


def test_the_best_known_take_turns_by_era_newest_first_each_player_once() -> None:
    rows = [  # PLAYER_ID, name, season, minutes; eras of 7 seasons: 1995-2001, 2002-08, 2016-22
        (1, "A", "2001-02", 3000),
        (2, "B", "2002-03", 2900),
        (1, "A", "2003-04", 3100),  # his biggest season
        (3, "C", "2016-17", 2500),
        (4, "D", "2018-19", 2000),
        (5, "E", "2020-21", 2600),
    ]
    table = pd.DataFrame(rows, columns=["PLAYER_ID", "PLAYER_NAME", "SEASON", "MIN"])
    picked = best_known(table, 4)
    # Each era's most-minutes player (E, then A), then each era's second (C, then B).
    assert list(zip(picked["PLAYER_NAME"], picked["SEASON"], strict=True)) == [
        ("E", "2020-21"),
        ("A", "2003-04"),
        ("C", "2016-17"),
        ("B", "2002-03"),
    ]


def test_an_archetypes_examples_are_its_core_members_others_only_to_fill_in() -> None:
    rows = [  # id, name, season, archetype, membership in archetype 0, games, minutes/game
        (1, "Core old", "1999-00", 0, 0.95, 82, 40.0),
        (2, "Borderline new", "2017-18", 0, 0.52, 82, 36.0),  # most minutes of his era
        (3, "Core new", "2018-19", 0, 0.97, 70, 30.0),
        (4, "Other archetype", "2018-19", 1, 0.01, 82, 38.0),
    ]
    columns = ["PLAYER_ID", "PLAYER_NAME", "SEASON", "ARCHETYPE", "MEMBERSHIP_0", "GP"]
    table = pd.DataFrame(rows, columns=[*columns, "MIN_PER_GAME"])
    assert archetype_examples(table, 0, 2)["PLAYER_NAME"].tolist() == ["Core new", "Core old"]
    # Three wanted, two core: the borderline member fills in, after them.
    assert archetype_examples(table, 0, 3)["PLAYER_NAME"].tolist() == [
        "Core new",
        "Core old",
        "Borderline new",
    ]
