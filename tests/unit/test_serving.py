"""The served model's path from box-score rows to the style space, without a store.

Expected values come from elsewhere: the cleaned tables the fetch worker's ``clean_season``
builds from the same recordings (what the app's answers stand on), or numbers worked out by
hand. The whole model, loaded from a real registry and served over HTTP, is checked in
tests/integration/test_serving.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from scipy.stats import norm

from common.seasons import Season, SeasonType
from common.settings import Settings
from common.style import FEATURES
from tests.box_scores import box_score_rows
from tests.conftest import RECORDINGS
from workers.fetch.cleaning import clean_season
from workers.fetch.recordings import bundled_recordings, read_recording, recorded_per_mode
from workers.fetch.response import parse_dashboard
from workers.train.assignments import memberships, within_variance
from workers.train.features import UnknownSeasonError, reference_table, style_space
from workers.train.scoring import MapProjection
from workers.train.serving import (
    COUNTS,
    INPUT_COLUMNS,
    PER36_FEATURES,
    PLAYOFF_COLUMNS,
    REGULAR_COLUMNS,
    SHOT_MIX_FEATURES,
    checked_rows,
    signature,
    style_inputs,
)

SETTINGS = Settings()


def _cleaned(season: str) -> pd.DataFrame:
    """The fetch worker's cleaned table of a bundled season (its own path, not the model's)."""
    label = Season.parse(season)
    files = bundled_recordings(RECORDINGS)[label]
    tables = {
        kind: parse_dashboard(read_recording(path), label, kind, recorded_per_mode(path))
        for kind, path in files.items()
    }
    return clean_season(
        tables[SeasonType.REGULAR],
        tables.get(SeasonType.PLAYOFFS),
        playoff_weight=SETTINGS.playoff_weight,
        min_games=SETTINGS.eligible_min_games,
        min_minutes=SETTINGS.eligible_min_minutes,
    )


def test_every_feature_is_computed_from_the_columns_asked_for() -> None:
    assert set(PER36_FEATURES) | set(SHOT_MIX_FEATURES) == set(FEATURES)
    assert {f.removesuffix("_PER36") for f in PER36_FEATURES} | {"FGA", "FG3A", "FTA"} == set(
        COUNTS
    )
    schema = signature(4)
    inputs = {c.name: c for c in schema.inputs.inputs}
    assert list(inputs) == INPUT_COLUMNS
    assert all(inputs[c].required for c in ["SEASON", *REGULAR_COLUMNS])
    assert not any(inputs[c].required for c in PLAYOFF_COLUMNS)
    outputs = [c.name for c in schema.outputs.inputs]
    assert outputs[:4] == ["SEASON", "ELIGIBLE", "ARCHETYPE", "ARCHETYPE_NAME"]
    assert [c for c in outputs if c.startswith("MEMBERSHIP_")] == [
        f"MEMBERSHIP_{j}" for j in range(4)
    ]
    assert [c for c in outputs if c.startswith("Z_")] == [f"Z_{f}" for f in FEATURES]


@pytest.mark.parametrize("season", ["1996-97", "2005-06", "2018-19"])
def test_box_score_totals_give_the_features_the_cleaned_table_holds(season: str) -> None:
    rows = box_score_rows(season)  # 2018-19: PerGame regular season, Per36 playoffs
    cleaned = _cleaned(season).set_index("PLAYER_ID").loc[rows["PLAYER_ID"]]
    checked = checked_rows(rows.drop(columns=["PLAYER_ID", "PLAYER_NAME"]))
    served = style_inputs(checked, SETTINGS.playoff_weight)
    # Exactly the same numbers (NaN where a rate is undefined), not merely close ones.
    np.testing.assert_array_equal(served[FEATURES].to_numpy(), cleaned[FEATURES].to_numpy())
    assert (served["SEASON"] == season).all()
    if season == "2018-19":
        assert (rows["PLAYOFF_MIN"] > 0).sum() > 150  # the playoffs were folded in


def test_a_row_is_placed_among_its_seasons_reference_by_hand() -> None:
    reference = pd.DataFrame({"SEASON": "2001-02", **{f: [1.0, 2.0, 2.0, 3.0] for f in FEATURES}})
    rows = pd.DataFrame({"SEASON": "2001-02", **{f: [2.0, 2.5, 1.0, 0.0, 9.0] for f in FEATURES}})
    scores = style_space(rows, reference)[:, 0]
    n = 4
    expected = [
        norm.ppf((1 + (2 + 1) / 2 - 0.5) / n),  # tied with two reference rows: their rank
        norm.ppf(3 / n),  # between 2 and 3: half a rank above the 2s
        norm.ppf((0 + 1 - 0.5) / n),  # the reference's lowest value
        norm.ppf(0.5 / (n + 1)),  # below them all: the season's new lowest of n + 1
        norm.ppf(1 - 0.5 / (n + 1)),  # above them all: its new highest
    ]
    np.testing.assert_allclose(scores, expected)
    assert scores[3] < scores[2] < scores[0] < scores[1] < scores[4]


def test_reference_rows_get_exactly_their_own_coordinates() -> None:
    cleaned = _cleaned("2005-06")
    eligible = cleaned[cleaned["ELIGIBLE"]].reset_index(drop=True)
    reference = reference_table(eligible)
    np.testing.assert_array_equal(
        style_space(eligible.iloc[::7], reference), style_space(eligible)[::7]
    )
    with pytest.raises(UnknownSeasonError, match=r"season\(s\) 2022-23; known: 2005-06"):
        style_space(eligible.head(2).assign(SEASON="2022-23"), reference)


def test_rows_are_checked_before_anything_is_computed() -> None:
    row = box_score_rows("2005-06").drop(columns=["PLAYER_ID", "PLAYER_NAME"]).head(3)
    with pytest.raises(MlflowException, match="missing column"):
        checked_rows(row.drop(columns=["FGA"]))
    with pytest.raises(MlflowException, match="negative or not finite, first AST of row 1"):
        checked_rows(row.assign(AST=[1.0, -1.0, 2.0]))
    with pytest.raises(MlflowException, match="first MIN of row 2"):
        checked_rows(row.assign(MIN=[1.0, 2.0, np.nan]))
    with pytest.raises(MlflowException, match=r"FG3A above FGA .* in row\(s\) 0, first 9 of 8"):
        checked_rows(row.assign(FGA=[8.0, 100.0, 100.0], FG3A=[9.0, 1.0, 1.0]))
    with pytest.raises(MlflowException, match="PLAYOFF_FG3A above PLAYOFF_FGA"):
        checked_rows(row.assign(PLAYOFF_FGA=[0.0, 5.0, 0.0], PLAYOFF_FG3A=[0.0, 6.0, 0.0]))
    with pytest.raises(MlflowException, match="no rows"):
        checked_rows(row.head(0))
    with pytest.raises(MlflowException, match="no SEASON in row"):
        checked_rows(row.assign(SEASON=["2005-06", None, "2005-06"]))
    # No playoff columns, or nulls in them: no playoffs.
    checked = checked_rows(row.assign(PLAYOFF_MIN=[np.nan, 10.0, np.nan]))
    assert checked["PLAYOFF_MIN"].tolist() == [0.0, 10.0, 0.0]
    assert (checked[[c for c in PLAYOFF_COLUMNS if c != "PLAYOFF_MIN"]] == 0).all().all()


def test_one_row_alone_gets_the_memberships_it_gets_among_all() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    centroids = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [0.0, 1.5, 1.0]])
    together = memberships(X, centroids)
    variance = within_variance(X, centroids)
    alone = np.vstack([memberships(X[i : i + 1], centroids, variance) for i in range(5)])
    np.testing.assert_allclose(alone, together[:5], rtol=0, atol=1e-15)
    # Without the measured variance a lone row measures its own spread: another answer.
    assert np.abs(memberships(X[:1], centroids) - together[:1]).max() > 0.05


def test_the_map_projection_travels_as_plain_numbers() -> None:
    X = np.random.default_rng(1).normal(size=(50, 10))
    fitted = MapProjection.fit(X)
    again = MapProjection(
        *(np.asarray(a.tolist()) for a in (fitted.mean, fitted.components, fitted.signs))
    )
    np.testing.assert_array_equal(again.apply(X), fitted.apply(X))
