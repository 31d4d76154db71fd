"""What a model publishes names a player by id: his latest name over every stored season, the
season's own beside it, and each segment's shooting as the site gives it.

Real recordings with a real rename: the 2017-18 Per36 response (pulled in 2018) names
PLAYER_ID 1628412 "Frank Mason", eligible that season (52 games); the 2018-19 PerGame one
(pulled in 2025) "Frank Mason III", with 38 games of 11.5 minutes: too few minutes to be
classified, yet his latest name. Expected values are read from the recordings with json alone.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from common.storage import DataDir
from tests.conftest import RECORDINGS
from tests.services import seed_recordings
from workers.train.assignments import Placement, build_assignments
from workers.train.dataset import TrainingData, load_training_data

MASON, GIANNIS = 1628412, 203507


def site_row(recording: str, player_id: int) -> dict[str, object]:
    payload = json.loads((RECORDINGS / f"leaguedashplayerstats_{recording}.json").read_bytes())
    result = payload["resultSets"][0]
    rows = (dict(zip(result["headers"], row, strict=True)) for row in result["rowSet"])
    return next(row for row in rows if row["PLAYER_ID"] == player_id)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> TrainingData:
    root: Path = tmp_path_factory.mktemp("renamed-training")
    seed_recordings(root, ["2017-18_regular_per36", "2018-19_regular_pergame",
                           "2018-19_playoffs_per36"])  # fmt: skip
    return load_training_data(DataDir(root))


def test_the_recordings_rename_him_in_a_season_too_short_to_classify() -> None:
    before = site_row("2017-18_regular_per36", MASON)
    after = site_row("2018-19_regular_pergame", MASON)
    assert (before["PLAYER_NAME"], before["GP"]) == ("Frank Mason", 52)
    assert (after["PLAYER_NAME"], after["GP"], after["MIN"]) == ("Frank Mason III", 38, 11.5)


def test_the_latest_name_comes_from_every_stored_season(data: TrainingData) -> None:
    mason = data.players[data.players["PLAYER_ID"] == MASON]
    assert list(mason["SEASON"]) == ["2017-18"]  # 2018-19: 437 minutes, not classified
    row = mason.iloc[0]
    assert (row["PLAYER_NAME"], row["NAME_THAT_SEASON"]) == ("Frank Mason III", "Frank Mason")


def test_the_published_table_names_by_id_and_keeps_each_segment(data: TrainingData) -> None:
    # A stand-in model (one archetype at the mean): only the columns carried are checked.
    X = data.features
    labels = np.zeros(len(X), dtype="int64")
    placement = Placement.measure(X, X.mean(axis=0, keepdims=True), [{"id": 0, "name": "All"}])
    skills = np.zeros((len(X), 2))  # not what is checked here
    table = build_assignments(data.players, X, labels, placement, skills)
    mason = table[table["PLAYER_ID"] == MASON].iloc[0]
    assert (mason["PLAYER_NAME"], mason["NAME_THAT_SEASON"]) == ("Frank Mason III", "Frank Mason")

    regular = site_row("2018-19_regular_pergame", GIANNIS)
    playoffs = site_row("2018-19_playoffs_per36", GIANNIS)
    giannis = table[(table["PLAYER_ID"] == GIANNIS) & (table["SEASON"] == "2018-19")].iloc[0]
    for column in ("FG_PCT", "FG3_PCT", "FT_PCT"):
        assert giannis[f"REGULAR_{column}"] == regular[column]
        assert giannis[f"PLAYOFF_{column}"] == playoffs[column]
    assert (giannis["GP"], giannis["PLAYOFF_GP"]) == (regular["GP"], playoffs["GP"])


def test_a_rename_alone_is_new_data(data: TrainingData) -> None:
    """The same rows before 2018-19 was stored (his name then: "Frank Mason", built here from
    this data) and after: the rename alone must be published anew, not skipped as the
    champion's data."""
    players = data.players.copy()
    players.loc[players["PLAYER_ID"] == MASON, "PLAYER_NAME"] = "Frank Mason"
    before = dataclasses.replace(data, players=players)
    assert before.data_hash != data.data_hash
    assert dataclasses.replace(data, players=data.players.copy()).data_hash == data.data_hash
