"""The command line gives the app's answers: a real champion, trained by the CLI itself.

``nba-archetypes seed --inline`` imports the bundled real recordings into a fresh data directory
and trains in its own process (no broker, no worker); every other command then reads that
champion through MLflow, as the app does. The CLI always runs as a subprocess through its
console script, as a user or a script would run it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import redis

from cli.main import main
from common.champion import ASSIGNMENTS_ARTIFACT, find_champion
from common.seasons import current_season
from common.settings import Settings
from common.style import SKILL_PREFIX, STYLE_FEATURES, STYLE_PREFIX
from tests.conftest import RECORDINGS
from tests.services import BUTLER, PROJECT_ROOT, RENAMED_SEASONS, free_port, seed_recordings

CLI = Path(sys.executable).parent / "nba-archetypes"  # the installed console script
# Five of the bundled seasons, across eras (one with playoffs): the commands behave alike on
# all 27, and a training on five takes seconds where all 27 take half a minute (each forced
# training here pays it again). The CLI's answer times on all 27: benchmarks/cli.py.
SEEDED_SEASONS = ["1996-97", "2005-06", "2015-16", "2018-19", "2022-23"]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass(frozen=True)
class Cli:
    data_dir: Path

    def __call__(self, *args: str, timeout: float = 120, **extra_env: str) -> Run:
        # Each call is a new process: it reads the venv's bytecode, compiled once beforehand
        # (`uv sync --compile-bytecode`; tests/conftest.py insists where none may be written).
        env = {**os.environ, **extra_env, "DATA_DIR": str(self.data_dir)}
        start = time.perf_counter()
        done = subprocess.run(
            [str(CLI), *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr, time.perf_counter() - start)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A data directory with a champion, produced by ``nba-archetypes seed --inline`` with no
    Redis at all (nothing listens at REDIS_URL): the embedded default needs nothing."""
    data = tmp_path_factory.mktemp("cli-data")
    recordings = tmp_path_factory.mktemp("cli-recordings")
    for season in SEEDED_SEASONS:
        for path in RECORDINGS.glob(f"leaguedashplayerstats_{season}_*.json*"):
            (recordings / path.name).symlink_to(path)
    no_redis = f"redis://127.0.0.1:{free_port()}/0"
    run = Cli(data)(
        "seed", "--inline", timeout=900, REDIS_URL=no_redis, RECORDINGS_DIR=str(recordings)
    )
    assert run.code == 0, run.err[-3000:]
    first, last = SEEDED_SEASONS[0], SEEDED_SEASONS[-1]
    assert f"seeded {len(SEEDED_SEASONS)} seasons ({first} … {last})" in run.out
    assert "is the new champion: first champion" in run.out
    assert "error" not in run.out + run.err
    assert_own_logging_only(run.err)
    return Cli(data)


def assert_own_logging_only(err: str) -> None:
    """A training's stderr holds the project's own log lines, if any: none of the lines
    MLflow prints or warns while logging and registering a model."""
    for line in err.splitlines():
        assert re.search(r" \[\w+\] (common|workers|cli)\.", line), line


@pytest.fixture(scope="module")
def assignments(cli: Cli) -> pd.DataFrame:
    """The champion's assignments, read straight from the MLflow artifacts directory."""
    champion = find_champion(Settings(data_dir=cli.data_dir))
    assert champion is not None
    root = cli.data_dir / "mlartifacts"
    [path] = root.glob(f"**/{champion.run_id}/artifacts/{ASSIGNMENTS_ARTIFACT}")
    return pd.read_parquet(path)


def nearest(
    assignments: pd.DataFrame, name: str, season: str, only: str | None = None
) -> pd.DataFrame:
    """The expected answer, by plain NumPy: every other player by Euclidean distance in style
    and shooting skill, each at his nearest season."""
    columns = [c for c in assignments.columns if c.startswith((STYLE_PREFIX, SKILL_PREFIX))]
    me = assignments[(assignments["PLAYER_NAME"] == name) & (assignments["SEASON"] == season)]
    assert len(me) == 1
    others = assignments[assignments["PLAYER_ID"] != me["PLAYER_ID"].iloc[0]]
    if only is not None:
        others = others[others["SEASON"] == only]
    gaps = others[columns].to_numpy(float) - me[columns].to_numpy(float)
    ranked = others.assign(DISTANCE=np.linalg.norm(gaps, axis=1)).sort_values("DISTANCE")
    return ranked.drop_duplicates("PLAYER_ID")


def test_player_shows_archetype_memberships_and_key_stats(cli: Cli) -> None:
    answer = cli("player", "Kobe Bryant", "2005-06", "--json")
    assert answer.code == 0, answer.err
    kobe = answer.json()
    assert (kobe["player"], kobe["season"], kobe["team"]) == ("Kobe Bryant", "2005-06", "LAL")
    shares = [m["share"] for m in kobe["memberships"]]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == pytest.approx(1.0, abs=0.01)
    assert kobe["memberships"][0]["archetype"] == kobe["archetype"]
    assert kobe["name_that_season"] == "Kobe Bryant"
    regular = kobe["regular_season"]
    assert regular["games"] == 80
    assert 0.5 < regular["ts_pct"] < 0.6
    site = site_row("2005-06_regular_pergame", KOBE)  # FG_PCT 0.45, FG3_PCT 0.347, FT_PCT 0.85
    assert (regular["fg_pct"], regular["fg3_pct"], regular["ft_pct"]) == (
        site["FG_PCT"], site["FG3_PCT"], site["FT_PCT"]
    )  # fmt: skip
    assert kobe["playoffs"] is None  # no playoffs recorded for 2005-06
    blended = kobe["blended"]
    assert blended["playoff_weight"] == 2.0
    assert blended["pts_per36"] > 30  # the 35.4 points a game season

    text = cli("player", "Kobe Bryant", "2005-06")
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == f"Kobe Bryant, 2005-06 (LAL): {kobe['archetype']}"
    assert lines[1].startswith("  memberships: ")
    assert f" % {kobe['archetype']}" in lines[1].split(",")[0]
    if kobe["unlike_typical"]:  # what sets him apart, when anything does
        assert lines.pop(2).startswith(f"  unlike a typical {kobe['archetype']}: ")
    assert lines[2].startswith("  regular season: 80 games · ")
    assert "FG 45.0 % · 3P 34.7 % · FT 85.0 % · TS " in lines[2]
    assert lines[3].startswith("  per 36, blended, playoffs ×2: ")
    assert len(lines) == 4  # no playoffs line


def test_player_says_what_sets_him_apart_from_his_archetype(
    cli: Cli, assignments: pd.DataFrame
) -> None:
    """Dennis Rodman 1996-97 led the league in rebounds and blocked little: whatever archetype
    holds him, its typical member rebounds far less than he did."""
    answer = cli("player", "Dennis Rodman", "1996-97", "--json")
    assert answer.code == 0, answer.err
    rodman = answer.json()
    unlike = rodman["unlike_typical"]
    assert 1 <= len(unlike) <= 3
    rebounds = [d for d in unlike if d["feature"] in ("OREB_PER36", "DREB_PER36")]
    assert rebounds, unlike
    assert all(d["difference"] >= 1.0 for d in rebounds), unlike
    # As the champion stored them: his style coordinates minus his archetype's centre, the
    # three largest at least 1 league standard deviation away.
    champion = find_champion(Settings(data_dir=cli.data_dir))
    [path] = (cli.data_dir / "mlartifacts").glob(f"**/{champion.run_id}/artifacts/profiles.json")
    [profile] = [p for p in json.loads(path.read_text()) if p["name"] == rodman["archetype"]]
    row = assignments[(assignments.PLAYER_ID == 23) & (assignments.SEASON == "1996-97")].iloc[0]
    gaps = {f: row[f"Z_{f}"] - c for f, c in profile["centroid"].items()}
    told = sorted((f for f in gaps if abs(round(gaps[f], 1)) >= 1), key=lambda f: -abs(gaps[f]))
    assert [d["feature"] for d in unlike] == told[:3]
    for d in unlike:
        assert d["difference"] == pytest.approx(gaps[d["feature"]], abs=0.005)

    text = cli("player", "Dennis Rodman", "1996-97").out.splitlines()
    lines = [line for line in text if line.startswith("  unlike a typical ")]
    assert lines == [
        f"  unlike a typical {rodman['archetype']}: "
        + ", ".join(
            f"{d['label']} {'far ' if abs(round(d['difference'], 1)) >= 1.5 else ''}"
            f"{'higher' if d['difference'] > 0 else 'lower'} ({d['difference']:+.1f})"
            for d in unlike
        )
    ]


def site_row(recording: str, player_id: int) -> dict[str, Any]:
    """One player's row of a raw recording, read with json alone."""
    payload = json.loads((RECORDINGS / f"leaguedashplayerstats_{recording}.json").read_bytes())
    result = payload["resultSets"][0]
    rows = (dict(zip(result["headers"], row, strict=True)) for row in result["rowSet"])
    return next(row for row in rows if row["PLAYER_ID"] == player_id)


KOBE, GIANNIS = 977, 203507


def test_percentages_are_the_sites_own_per_segment(cli: Cli) -> None:
    """Issue 17: Giannis Antetokounmpo's 2018-19 3P% was 28.1 % (regular season and playoffs
    folded, playoffs x 2) under a plain "3P%", where the site says 25.6 %."""
    regular = site_row("2018-19_regular_pergame", GIANNIS)
    playoffs = site_row("2018-19_playoffs_per36", GIANNIS)
    run = cli("player", "Giannis Antetokounmpo", "2018-19", "--json")
    assert run.code == 0, run.err
    answer = run.json()
    for key, column in (("fg_pct", "FG_PCT"), ("fg3_pct", "FG3_PCT"), ("ft_pct", "FT_PCT")):
        assert answer["regular_season"][key] == regular[column]
        assert answer["playoffs"][key] == playoffs[column]
    assert answer["regular_season"]["games"] == regular["GP"] == 72
    assert answer["playoffs"]["games"] == playoffs["GP"] == 15
    assert answer["blended"]["playoff_weight"] == 2.0

    text = cli("player", "Giannis Antetokounmpo", "2018-19")
    assert text.code == 0, text.err
    lines = [line for line in text.out.splitlines() if not line.startswith("  unlike a typical")]
    assert lines[2].startswith("  regular season: 72 games · ")
    assert f"· 3P {100 * regular['FG3_PCT']:.1f} % ·" in lines[2]  # 25.6, not 28.1
    assert lines[3].startswith("  playoffs: 15 games · ")
    assert f"· 3P {100 * playoffs['FG3_PCT']:.1f} % ·" in lines[3]  # 32.7
    assert lines[4].startswith("  per 36, blended, playoffs ×2: ")
    assert "28.1" not in text.out  # the blended 3P% is nowhere under a plain label


def test_similar_lists_the_nearest_other_players_of_every_season(
    cli: Cli, assignments: pd.DataFrame
) -> None:
    run = cli("similar", "Kobe Bryant", "2005-06", "--limit", "7", "--json")
    assert run.code == 0, run.err
    matches = run.json()
    assert len(matches) == 7
    assert [m["rank"] for m in matches] == list(range(1, 8))
    distances = [m["distance"] for m in matches]
    assert distances == sorted(distances)
    assert all(m["player"] != "Kobe Bryant" for m in matches)
    assert len({m["season"] for m in matches}) > 1  # not one season's list
    assert len({m["player_id"] for m in matches}) == 7  # each player once
    labels = {*STYLE_FEATURES.values(), "3-point shooting", "free-throw shooting"}
    for match in matches:
        assert {"player", "season", "team", "archetype", "distance", "similarity"} <= set(match)
        assert set(match["closest"]) <= labels
        assert set(match["farthest"]) <= labels
        assert 0 < match["similarity"] <= 100

    expected = nearest(assignments, "Kobe Bryant", "2005-06").head(7)
    assert [(m["player"], m["season"]) for m in matches] == list(
        zip(expected["PLAYER_NAME"], expected["SEASON"], strict=True)
    )
    assert distances == pytest.approx(expected["DISTANCE"].tolist(), abs=1e-3)


def test_similar_in_one_season(cli: Cli, assignments: pd.DataFrame) -> None:
    run = cli("similar", "Kobe Bryant", "2005-06", "--season", "1996-97", "--json")
    assert run.code == 0, run.err
    matches = run.json()
    assert len(matches) == 10  # the default limit
    assert {m["season"] for m in matches} == {"1996-97"}
    assert all(m["player"] != "Kobe Bryant" for m in matches)  # his rookie season is out
    expected = nearest(assignments, "Kobe Bryant", "2005-06", only="1996-97")
    assert matches[0]["player"] == expected["PLAYER_NAME"].iloc[0]
    assert matches[0]["distance"] == pytest.approx(expected["DISTANCE"].iloc[0], abs=1e-3)

    text = cli("similar", "Kobe Bryant", "2005-06", "--season", "1996-97", "--limit", "3")
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0].startswith("Most similar to Kobe Bryant, 2005-06 (LAL")
    assert lines[0].endswith("in 1996-97:")
    assert len(lines) == 4
    assert lines[1].lstrip().startswith(f"1. {matches[0]['player']}")


def test_an_answer_loads_no_queue_mlflow_or_training_code(cli: Cli) -> None:
    """A cold answer is about a second because it reads the champion with pandas alone: no
    redis-py (0.2 s), Celery, MLflow or scikit-learn (benchmarks/cli.py has the times)."""
    heavy = ("redis", "celery", "kombu", "mlflow", "sklearn", "sqlalchemy", "requests")
    code = (
        "import sys; from cli.main import main\n"
        "codes = [main(a) for a in ("
        "['player', 'Kobe Bryant', '2005-06'], ['similar', 'kobe', '2005-06'], ['league'],"
        " ['team', 'LAL', '2005-06'], ['player', 'Kobe Bryant'])]\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))\n"
        "assert codes == [0] * 5 and not loaded, (codes, loaded)\n"
    )
    env = {**os.environ, "DATA_DIR": str(cli.data_dir)}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]


def test_names_match_without_accents_or_case(cli: Cli) -> None:
    run = cli("player", "nikola jokic", "2018-19", "--json")
    assert run.code == 0, run.err
    assert run.json()["player"] == "Nikola Jokić"
    similar = cli("similar", "Nikola Jokic", "2018-19", "--limit", "3", "--json")
    assert similar.code == 0, similar.err
    assert all(m["player"] != "Nikola Jokić" for m in similar.json())


def test_an_unknown_name_is_refused_with_close_names(cli: Cli) -> None:
    for command in ("player", "similar"):
        run = cli(command, "Kobe Bryent", "2005-06", "--json")
        assert run.code == 2
        assert run.out == ""
        assert run.err.strip().startswith("error: No player named 'Kobe Bryent'.")
        assert "Did you mean Kobe Bryant" in run.err
        assert len(run.err.strip().splitlines()) == 1


def test_part_of_a_name_finds_the_one_player_it_fits(cli: Cli) -> None:
    """As a fan types: "giannis", "lebron"; "Curry" names the Currys of that season."""
    run = cli("player", "giannis", "2018-19", "--json")
    assert run.code == 0, run.err
    assert run.json()["player"] == "Giannis Antetokounmpo"
    career = cli("player", "lebron", "--json")
    assert career.code == 0, career.err
    assert [c["player"] for c in career.json()] == ["LeBron James"]
    assert len(career.json()[0]["seasons"]) == 4  # 2005-06 … 2022-23 of the five seeded
    both = cli("similar", "Curry", "2015-16")
    assert (both.code, both.out) == (2, "")
    assert both.err.strip().splitlines() == [
        "error: 'Curry' could be Seth Curry or Stephen Curry in 2015-16: give more of his name."
    ]


def test_an_unknown_season_is_refused(cli: Cli) -> None:
    absent = str(current_season())  # a valid label the bundled seasons do not have
    run = cli("player", "Kobe Bryant", absent)
    assert run.code == 2
    assert f"Season {absent} is not in the champion's data" in run.err
    run = cli("similar", "Kobe Bryant", "2005-06", "--season", absent)
    assert run.code == 2
    assert absent in run.err
    run = cli("player", "Kobe Bryant", "2005")
    assert run.code == 2
    assert "malformed" in run.err
    run = cli("player", "Kobe Bryant", "2018-19")  # retired after 2015-16
    assert run.code == 2
    assert "Kobe Bryant has no classified season '2018-19'" in run.err


# --- The league and its teams --------------------------------------------------------------------

SENTENCE = re.compile(
    r"(?P<who>.+?) (?P<verb>grew|shrank|emerged:|all but vanished:) from (?P<start>under 1|\d+) % "
    r"of minutes in (?P<start_season>\d{4}-\d{2}) to (?P<end>under 1|\d+) % in "
    r"(?P<end_season>\d{4}-\d{2})\."
)


def champion_assignments(cli: Cli) -> pd.DataFrame:
    """The current champion's assignments, read now (a forced retrain may have replaced the
    one the module fixture read)."""
    champion = find_champion(Settings(data_dir=cli.data_dir))
    assert champion is not None
    [path] = (cli.data_dir / "mlartifacts").glob(
        f"**/{champion.run_id}/artifacts/{ASSIGNMENTS_ARTIFACT}"
    )
    return pd.read_parquet(path)


def minutes_by(assignments: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The expected answer, in plain pandas: regular-season minutes (games x minutes per game)
    by ``keys`` and primary archetype, as shares of each row's total."""
    minutes = assignments.assign(M=assignments["GP"] * assignments["MIN_PER_GAME"])
    table = minutes.pivot_table(index=keys, columns="ARCHETYPE_NAME", values="M", aggfunc="sum")
    table = table.fillna(0.0)
    return table.div(table.sum(axis=1), axis=0)


def said(text: str) -> float:
    """A percentage as a sentence says it, as a share ("under 1" -> 0.004)."""
    return 0.004 if text == "under 1" else int(text) / 100


def test_league_names_the_biggest_shifts_true_to_the_numbers(cli: Cli) -> None:
    run = cli("league", "--json")
    assert run.code == 0, run.err
    answer = run.json()
    assignments = champion_assignments(cli)
    shares = minutes_by(assignments, ["SEASON"])
    assert answer["seasons"] == SEEDED_SEASONS
    assert answer["champion_version"] == find_champion(Settings(data_dir=cli.data_dir)).version
    assert "classified players (20+ games, 500+ minutes)" in answer["basis"]  # as set
    assert set(answer["archetypes"]) == set(assignments["ARCHETYPE_NAME"])
    for season in answer["mix"]:
        expected = shares.loc[season["season"]]
        for archetype, share in season["shares"].items():
            assert share == pytest.approx(expected.get(archetype, 0.0), abs=1e-4)
        assert sum(season["shares"].values()) == pytest.approx(1.0, abs=1e-3)

    shifts = answer["shifts"]
    assert shifts, "five seasons from 1996-97 to 2022-23 moved some role by 2 points"
    changes = [abs(s["change"]) for s in shifts]
    assert changes == sorted(changes, reverse=True)
    assert len({s["archetype"] for s in shifts}) == len(shifts)  # one sentence per role
    for shift in shifts:
        found = SENTENCE.fullmatch(shift["sentence"])
        assert found, shift["sentence"]
        assert shift["archetype"] in found["who"]
        series = shares[shift["archetype"]]
        start, end = series[found["start_season"]], series[found["end_season"]]
        assert found["start_season"] < found["end_season"]
        # The sentence's numbers are the stored shares, rounded to a whole percent.
        assert said(found["start"]) == pytest.approx(start, abs=0.005)
        assert said(found["end"]) == pytest.approx(end, abs=0.005)
        growing = found["verb"] in ("grew", "emerged:")
        assert growing == (end > start)
        # ... and the widest move of that role between any earlier and later season.
        values = series.to_numpy()
        widest = max(abs(values[j] - values[i]) for j in range(len(values)) for i in range(j))
        assert abs(end - start) == pytest.approx(widest)
        assert abs(end - start) >= 0.02

    text = cli("league")
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0].startswith("The league's mix of roles, 1996-97 … 2022-23 (5 seasons, ")
    assert lines[1] == "Biggest shifts:"
    assert lines[2 : 2 + len(shifts)] == [f"  - {s['sentence']}" for s in shifts]
    row = next(line for line in lines if line.startswith("  2005-06  "))
    assert len(row.split()) == 1 + len(answer["archetypes"])


def test_league_opens_one_season(cli: Cli) -> None:
    run = cli("league", "2015-16", "--json")
    assert run.code == 0, run.err
    answer = run.json()
    assignments = champion_assignments(cli)
    shares = minutes_by(assignments, ["SEASON"])
    assert (answer["season"], answer["previous_season"]) == ("2015-16", "2005-06")
    mix = answer["mix"]
    assert [m["share"] for m in mix] == sorted((m["share"] for m in mix), reverse=True)
    for row in mix:
        assert row["share"] == pytest.approx(shares.loc["2015-16", row["archetype"]], abs=1e-4)
        assert row["previous_share"] == pytest.approx(
            shares.loc["2005-06", row["archetype"]], abs=1e-4
        )
    season = assignments[assignments["SEASON"] == "2015-16"]
    assert answer["teams"] == sorted(season["TEAM_ABBREVIATION"].unique())
    assert len(answer["teams"]) == 30
    # The leaders of the biggest role: its players with the most minutes that season.
    top = mix[0]
    members = season[season["ARCHETYPE_NAME"] == top["archetype"]]
    most = members.assign(M=members["GP"] * members["MIN_PER_GAME"]).nlargest(3, "M")
    assert top["leaders"] == most["PLAYER_NAME"].tolist()
    for note in answer["notes"]:
        assert note.split(":")[0] in {m["archetype"] for m in mix}

    text = cli("league", "2015-16")
    assert text.code == 0, text.err
    assert text.out.startswith("2015-16: share of regular-season minutes")
    assert f"Teams (30; nba-archetypes team TEAM 2015-16): {', '.join(answer['teams'])}" in text.out


def test_team_shows_its_roster_by_archetype_and_the_teams_built_alike(cli: Cli) -> None:
    run = cli("team", "gsw", "2015-16", "--json")
    assert run.code == 0, run.err
    answer = run.json()
    assignments = champion_assignments(cli)
    assert (answer["team"], answer["season"]) == ("GSW", "2015-16")
    roster = assignments[
        (assignments["TEAM_ABBREVIATION"] == "GSW") & (assignments["SEASON"] == "2015-16")
    ]
    roster = roster.assign(M=roster["GP"] * roster["MIN_PER_GAME"])
    assert answer["players"] == len(roster)
    assert answer["minutes"] == pytest.approx(roster["M"].sum(), abs=0.1)
    listed = {p["player"]: row["archetype"] for row in answer["mix"] for p in row["players"]}
    assert listed == dict(zip(roster["PLAYER_NAME"], roster["ARCHETYPE_NAME"], strict=True))
    assert "Stephen Curry" in listed
    league = minutes_by(assignments, ["SEASON"]).loc["2015-16"]
    for row in answer["mix"]:
        mine = roster.loc[roster["ARCHETYPE_NAME"] == row["archetype"], "M"].sum()
        assert row["minutes"] == pytest.approx(mine, abs=0.1)
        assert row["share"] == pytest.approx(mine / roster["M"].sum(), abs=1e-4)
        assert row["league_share"] == pytest.approx(league[row["archetype"]], abs=1e-4)
    assert [r["share"] for r in answer["mix"]] == sorted(
        (r["share"] for r in answer["mix"]), reverse=True
    )

    # Built alike: the share of minutes in the same archetypes, other teams, any season.
    teams = minutes_by(assignments, ["TEAM_ABBREVIATION", "SEASON"])
    target = teams.loc[("GSW", "2015-16")].to_numpy()
    others = teams[teams.index.get_level_values(0) != "GSW"]
    overlap = np.minimum(others.to_numpy(), target).sum(axis=1)
    expected = others.assign(OVERLAP=overlap).sort_values("OVERLAP", ascending=False).head(5)
    alike = answer["alike"]
    assert [(m["team"], m["season"]) for m in alike] == list(expected.index)
    assert [m["similarity"] for m in alike] == pytest.approx(expected["OVERLAP"].tolist(), abs=1e-4)
    assert len({m["season"] for m in alike}) > 1  # any era, not one season's list

    text = cli("team", "GSW", "2015-16")
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0].startswith(f"GSW 2015-16: {len(roster)} classified players, ")
    assert any(line.startswith("Leaned on ") for line in lines)
    first = alike[0]
    assert f"  1. {first['team']} {first['season']}  " in text.out
    assert "traded mid-season" in lines[-1]


def franchise_names(season: str) -> dict[int, str]:
    """TEAM_ID -> the abbreviation its players were listed under in ``season``'s recording,
    read with json alone (not the product's code)."""
    path = RECORDINGS / f"leaguedashplayerstats_{season}_regular_pergame.json"
    result = json.loads(path.read_bytes())["resultSets"][0]
    at = result["headers"].index
    return {row[at("TEAM_ID")]: row[at("TEAM_ABBREVIATION")] for row in result["rowSet"]}


def test_a_team_is_found_under_its_franchises_name_that_season(cli: Cli) -> None:
    seattle = {v: k for k, v in franchise_names("2015-16").items()}["OKC"]
    then = franchise_names("1996-97")[seattle]
    assert then == "SEA"  # the recordings say what a fan knows: the Sonics then
    run = cli("team", "okc", "1996-97", "--json")
    assert run.code == 0, run.err
    answer = run.json()
    assert (answer["team"], answer["asked"], answer["season"]) == ("SEA", "OKC", "1996-97")
    text = cli("team", "OKC", "1996-97")
    first, second = text.out.splitlines()[:2]
    assert first == "OKC's franchise played as SEA in 1996-97."
    assert second.startswith(f"SEA 1996-97: {answer['players']} classified players, ")
    # No season: the latest stored, under the franchise's name then.
    latest = SEEDED_SEASONS[-1]
    assert franchise_names(latest)[seattle] == "OKC"
    answer = cli("team", "sea", "--json").json()
    assert (answer["team"], answer["asked"], answer["season"]) == ("OKC", "SEA", latest)
    text = cli("team", "OKC")
    assert text.out.startswith(f"OKC {latest}: {answer['players']} classified players, ")
    assert text.out.splitlines()[-1] == (
        f"{latest} is the latest season stored; another: nba-archetypes team OKC SEASON."
    )
    # Its seasons under either name are its own, never "built alike".
    alike = cli("team", "OKC", "2015-16", "--json").json()["alike"]
    names = {season: franchise_names(season) for season in SEEDED_SEASONS}
    assert all(names[m["season"]].get(seattle) != m["team"] for m in alike)


def test_team_and_league_refuse_what_is_not_there(cli: Cli) -> None:
    run = cli("team", "GSX", "2015-16")
    assert (run.code, run.out) == (2, "")
    (line,) = run.err.strip().splitlines()
    assert line.startswith("error: No team 'GSX' in 2015-16. Did you mean GSW")
    assert "Teams then: ATL, BKN, BOS, " in line  # the teams of that season

    run = cli("team", "NOP", "1996-97")  # its franchise began in 2002-03 (New Orleans Hornets)
    assert run.code == 2
    assert "NOP has no classified players in 1996-97" in run.err
    assert "CHH" in run.err

    absent = "2016-17"  # a valid season the five seeded ones leave out
    for args in (("team", "GSW", absent), ("league", absent)):
        run = cli(*args)
        assert run.code == 2, run
        (line,) = run.err.strip().splitlines()
        assert f"Season {absent} is not in the champion's data" in line
        assert f"nba-archetypes refresh {absent}" in line
    run = cli("team", "GSW", "2016")
    assert run.code == 2
    assert "malformed" in run.err


def test_league_and_team_without_a_champion(tmp_path: Path) -> None:
    empty = Cli(tmp_path / "data")
    for args in (("league",), ("team", "GSW", "2015-16")):
        run = empty(*args)
        assert (run.code, run.out) == (1, "")
        assert run.err.startswith("error: No champion model yet")
        assert len(run.err.strip().splitlines()) == 1


def test_train_inline_on_unchanged_data_keeps_the_champion(cli: Cli) -> None:
    before = cli("player", "Kobe Bryant", "2005-06", "--json").json()["champion_version"]
    run = cli("train", "--inline", timeout=600)
    assert run.code == 0, run.err[-3000:]
    assert run.out.startswith("training: ")
    after = cli("player", "Kobe Bryant", "2005-06", "--json").json()["champion_version"]
    assert after == before


def test_without_a_champion_the_cli_says_what_to_do(tmp_path: Path) -> None:
    empty = Cli(tmp_path / "data")
    for args in (("player", "Kobe Bryant", "2005-06"), ("similar", "Kobe Bryant", "2005-06")):
        run = empty(*args)
        assert run.code == 1
        assert run.out == ""
        assert run.err.startswith("error: No champion model yet")
        assert "nba-archetypes seed --inline" in run.err
        assert len(run.err.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "mlflow.db").exists()  # asking never creates a store


def test_nothing_to_seed_or_train_is_one_plain_line(tmp_path: Path) -> None:
    """A mistyped RECORDINGS_DIR or an empty data directory is the user's to fix, said so in
    one line: not a seed of nothing passed off as done, nor an "unexpected" error."""
    empty = Cli(tmp_path / "data")
    no_redis = f"redis://127.0.0.1:{free_port()}/0"
    (tmp_path / "no-recordings").mkdir()
    for folder, what in (("missing", "does not exist"), ("no-recordings", "holds no recording")):
        run = empty("seed", "--inline", REDIS_URL=no_redis, RECORDINGS_DIR=str(tmp_path / folder))
        assert (run.code, run.out) == (1, "")
        assert run.err.strip().splitlines() == [
            f"error: nothing to seed: {tmp_path / folder} (RECORDINGS_DIR) {what}: point "
            "RECORDINGS_DIR at a folder of leaguedashplayerstats_<season>_regular_pergame.json "
            "recordings, or unset it for the bundled ones"
        ]
    run = empty("train", "--inline", REDIS_URL=no_redis)
    assert (run.code, run.out) == (1, "")
    assert run.err.strip().splitlines() == [
        "error: No cleaned seasons yet: refresh a season, or seed the bundled ones, first."
    ]
    assert not (tmp_path / "data" / "mlflow.db").exists()


def test_train_force_is_queued_past_the_debounce(capsys: pytest.CaptureFixture[str]) -> None:
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert main(["train", "--force", "--seasons", "2018-19"]) == 0
    assert capsys.readouterr().out.startswith("forced training queued: ")
    [raw] = broker.lrange("train", 0, -1)
    args, kwargs, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
    assert args == []
    assert kwargs == {"seasons": ["2018-19"], "force": True}


def test_an_unreachable_mlflow_server_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multi-host profile with its MLflow server down: each reading command says so in one
    line, naming the server and the setting; backup and restore say what covers that profile."""
    server = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("TRACKING_SERVER_URL", server)
    monkeypatch.setenv("DATA_STORE", "mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    cli = Cli(tmp_path / "data")
    for args in (("player", "Kobe Bryant", "2005-06"), ("rebuild",)):
        run = cli(*args)
        assert run.code == 1, run
        (line,) = run.err.strip().splitlines()
        assert line.startswith("error: could not read the ")
        assert f"the MLflow store at {server}: check that the MLflow server answers" in line
    for command in ("backup", "restore"):
        run = cli(command, str(tmp_path / "backup"))
        assert run.code == 1, run
        (line,) = run.err.strip().splitlines()
        assert "covers the single-host profile's data volume" in line
        assert "back up its PostgreSQL database and artifact volume" in line


def test_train_inline_with_no_redis_promotes_and_the_answers_follow(cli: Cli) -> None:
    """A forced retrain with no Redis at all becomes the champion (no lease without a broker),
    and the next answer is the new champion's."""
    before = cli("player", "Kobe Bryant", "2005-06", "--json").json()["champion_version"]
    no_redis = f"redis://127.0.0.1:{free_port()}/0"
    run = cli("train", "--inline", "--force", timeout=900, REDIS_URL=no_redis)
    assert run.code == 0, run.err[-3000:]
    assert "is the new champion: forced (--force)" in run.out
    assert_own_logging_only(run.err)  # a second version: MLflow says "already exists" too
    after = cli("player", "Kobe Bryant", "2005-06", "--json").json()["champion_version"]
    assert int(after) > int(before)


def test_a_closed_pipe_ends_quietly(cli: Cli) -> None:
    """`… | head -1` on an answer longer than a pipe holds: the first line, and nothing on
    stderr (no BrokenPipeError traceback)."""
    env = {**os.environ, "DATA_DIR": str(cli.data_dir)}
    command = f'"{CLI}" similar "Kobe Bryant" 2005-06 --limit 3000 | head -1'
    done = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.startswith("Most similar to Kobe Bryant, 2005-06")
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""


def test_status_names_the_champion_and_the_seasons_stored(cli: Cli) -> None:
    queued = cli("refresh", "2022-23")  # no fetch worker runs here: it waits in the queue
    assert queued.code == 0, queued.err
    run = cli("status")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    champion = find_champion(Settings(data_dir=cli.data_dir))
    assert champion is not None
    first, last = SEEDED_SEASONS[0], SEEDED_SEASONS[-1]
    assert lines[0].startswith(f"champion: v{champion.version}, ")
    assert f"archetypes, {len(SEEDED_SEASONS)} seasons ({first} … {last}), live since " in lines[0]
    assert lines[1] == f"seasons stored: {len(SEEDED_SEASONS)} seasons ({first} … {last})"
    assert "workers: none seen in the last minute: queued work waits (scripts/up.sh" in run.out
    assert "queues: fetch 1 waiting, train 0 waiting" in lines
    assert (
        lines[lines.index("refreshes in flight: ") + 1] == "  2022-23: waiting for a fetch worker…"
    )


# --- One player, one career: a real rename --------------------------------------------------------


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """2018-19 as the site named it in 2019 ("Jimmy Butler") and 2020-21 as it names it now
    ("Jimmy Butler III"): real recordings, seeded, then trained by the CLI."""
    data = tmp_path_factory.mktemp("cli-renamed")
    seed_recordings(data, RENAMED_SEASONS)
    cli = Cli(data)
    run = cli("train", "--inline", timeout=600, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert run.code == 0, run.err[-3000:]
    return cli


def test_any_name_he_had_finds_every_season_of_his_career(renamed: Cli) -> None:
    answers = {}
    for name in ("Jimmy Butler", "Jimmy Butler III", "jimmy butler iii", str(BUTLER)):
        for season in ("2018-19", "2020-21"):
            run = renamed("player", name, season, "--json")
            assert run.code == 0, (name, season, run.err)
            answers[name, season] = run.json()
    assert {a["player_id"] for a in answers.values()} == {BUTLER}
    assert {a["player"] for a in answers.values()} == {"Jimmy Butler III"}  # his latest name
    assert answers["Jimmy Butler III", "2018-19"]["name_that_season"] == "Jimmy Butler"
    assert answers["Jimmy Butler", "2020-21"]["name_that_season"] == "Jimmy Butler III"
    assert answers["Jimmy Butler", "2018-19"]["team"] == "PHI"
    assert answers["Jimmy Butler", "2020-21"]["team"] == "MIA"

    text = renamed("player", "Jimmy Butler III", "2018-19")
    assert text.code == 0, text.err
    assert text.out.splitlines()[:2] == [
        f"Jimmy Butler III, 2018-19 (PHI): {answers['Jimmy Butler', '2018-19']['archetype']}",
        "  listed as Jimmy Butler that season",
    ]
    # Without a season: his one career, every season whatever the site called him.
    for name in ("Jimmy Butler", "Jimmy Butler III"):
        career = renamed("player", name, "--json")
        assert career.code == 0, career.err
        [one] = career.json()
        assert (one["player"], one["player_id"]) == ("Jimmy Butler III", BUTLER)
        assert one["other_names"] == ["Jimmy Butler"]
        assert [(s["season"], s["team"], s["name_that_season"]) for s in one["seasons"]] == [
            ("2018-19", "PHI", "Jimmy Butler"),
            ("2020-21", "MIA", "Jimmy Butler III"),
        ]
    text = renamed("player", "jimmy butler")
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == (
        f"Jimmy Butler III (id {BUTLER}): 2 classified seasons; also listed as Jimmy Butler"
    )
    assert lines[1].startswith("  2018-19  PHI  ")
    assert lines[1].endswith("  (listed as Jimmy Butler)")
    assert lines[2].startswith("  2020-21  MIA  ")
    assert len(lines) == 3

    typo = renamed("player", "Jimmy Buttler", "2018-19")
    assert typo.code == 2
    assert "Did you mean Jimmy Butler III?" in typo.err


def test_similar_players_leave_out_all_his_seasons_whatever_his_name(renamed: Cli) -> None:
    champion = find_champion(Settings(data_dir=renamed.data_dir))
    assert champion is not None
    [path] = (renamed.data_dir / "mlartifacts").glob(
        f"**/{champion.run_id}/artifacts/{ASSIGNMENTS_ARTIFACT}"
    )
    everyone = pd.read_parquet(path)
    assert len(everyone[everyone["PLAYER_ID"] == BUTLER]) == 2  # his two classified seasons
    for name, season in (("Jimmy Butler", "2018-19"), ("Jimmy Butler III", "2020-21")):
        run = renamed("similar", name, season, "--limit", "5000", "--json")
        assert run.code == 0, run.err
        matches = run.json()
        others = everyone.loc[everyone["PLAYER_ID"] != BUTLER, "PLAYER_ID"]
        assert len(matches) == others.nunique()  # everyone else once; his other season left out
        assert BUTLER not in {m["player_id"] for m in matches}
        assert not {m["player"] for m in matches} & {"Jimmy Butler", "Jimmy Butler III"}
