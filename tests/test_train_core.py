"""The train worker's ML core on real data: cleaned tables built from the bundled recordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from common.settings import Settings
from common.storage import DataDir
from workers.fetch.recordings import seed_from_recordings
from workers.train.candidates import (
    FAMILIES,
    SKOPS_TRUSTED_TYPES,
    Candidate,
    NearestCentroidClusterer,
    candidate_grid,
)
from workers.train.features import FEATURES, feature_frame
from workers.train.profiles import UNCLASSIFIED, archetype_names, archetype_profiles
from workers.train.scoring import (
    Evaluation,
    NoViableCandidateError,
    embedding_2d,
    evaluate,
    evaluate_all,
    score_model,
    select_winner,
)

RECORDINGS = Path(__file__).resolve().parent.parent / "replay" / "recordings"
SEASON = "2018-19"


@pytest.fixture(scope="session")
def cleaned_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train-data")
    seed_from_recordings(RECORDINGS, DataDir(root), Settings(data_dir=root))
    return root / "cleaned"


def _eligible(cleaned_dir: Path, season: str) -> pd.DataFrame:
    table = pd.read_parquet(cleaned_dir / f"{season}.parquet")
    return table[table["ELIGIBLE"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def table(cleaned_dir: Path) -> pd.DataFrame:
    return _eligible(cleaned_dir, SEASON)


@pytest.fixture(scope="module")
def features(table: pd.DataFrame) -> pd.DataFrame:
    return feature_frame(table)


@pytest.fixture(scope="module")
def evaluations(features: pd.DataFrame) -> list[Evaluation]:
    return evaluate_all(candidate_grid(0), features)


@pytest.fixture(scope="module")
def winner(evaluations: list[Evaluation]) -> Evaluation:
    return select_winner(evaluations)


def _row(table: pd.DataFrame, player: str, season: str) -> pd.DataFrame:
    rows = table[(table["PLAYER_NAME"] == player) & (table["SEASON"] == season)]
    assert len(rows) == 1, f"{player} {season} not found once"
    return rows


# --- features and grid -------------------------------------------------------------------------


def test_feature_frame_is_float_without_nan(table: pd.DataFrame) -> None:
    odd = table.head(3).copy()
    odd.loc[odd.index[0], "FG3A_RATE"] = np.nan  # no field-goal attempt: rate undefined
    frame = feature_frame(odd)
    assert list(frame.columns) == FEATURES
    assert (frame.dtypes == "float64").all()
    assert not frame.isna().any().any()
    assert frame.iloc[0]["FG3A_RATE"] == 0.0
    with pytest.raises(KeyError, match="FG3A_RATE"):
        feature_frame(table.drop(columns="FG3A_RATE"))


def test_grid_has_40_candidates_over_four_families() -> None:
    grid = candidate_grid(0)
    assert len(grid) >= 40
    assert {c.family for c in grid} == set(FAMILIES)
    assert len({c.name for c in grid}) == len(grid)
    # Names do not depend on the seed (winners of different seeds are comparable).
    assert [c.name for c in candidate_grid(1)] == [c.name for c in grid]


# --- winner quality, determinism, stability ---------------------------------------------------


def test_winner_meets_quality_targets_and_beats_baseline(
    winner: Evaluation, table: pd.DataFrame
) -> None:
    assert winner.rejected is None
    assert winner.n_clusters >= 5
    assert winner.variance_kept >= 0.70
    assert winner.silhouette is not None
    assert winner.silhouette >= 0.30
    assert winner.embedding.shape == (len(table), winner.pipeline[-2].n_components_)
    # Baseline: plain k-means, 5 clusters, on all standardized per-36 rates.
    per36 = StandardScaler().fit_transform(table.filter(like="_PER36").to_numpy())
    baseline = silhouette_score(per36, KMeans(5, n_init=10, random_state=0).fit_predict(per36))
    assert winner.silhouette > baseline + 0.05


def test_same_seed_same_winner_and_labels(winner: Evaluation, features: pd.DataFrame) -> None:
    again = select_winner(evaluate_all(candidate_grid(0), features))
    assert again.name == winner.name
    np.testing.assert_array_equal(again.labels, winner.labels)


def test_winners_of_other_seeds_agree(winner: Evaluation, features: pd.DataFrame) -> None:
    for seed in (1, 2):
        other = select_winner(evaluate_all(candidate_grid(seed), features))
        assert adjusted_rand_score(winner.labels, other.labels) >= 0.95, (seed, other.name)


# --- rejections -------------------------------------------------------------------------------


def test_identical_rows_are_rejected_not_crashed(features: pd.DataFrame) -> None:
    flat = pd.DataFrame([features.iloc[0].to_numpy()] * 60, columns=features.columns)
    kmeans = next(c for c in candidate_grid(0) if c.family == "kmeans")
    hdbscan = next(c for c in candidate_grid(0) if c.family == "hdbscan")
    results = [evaluate(kmeans, flat), evaluate(hdbscan, flat)]
    for result in results:
        assert result.rejected, result
        assert "clusters < 5" in result.rejected or "fit failed" in result.rejected
    with pytest.raises(NoViableCandidateError, match="every candidate was rejected"):
        select_winner(results)


def test_too_few_clusters_and_too_much_noise_are_rejected(
    evaluations: list[Evaluation], features: pd.DataFrame
) -> None:
    grid = candidate_grid(0)
    strict = [evaluate(c, features, min_clusters=9) for c in grid if c.family == "kmeans"]
    assert all("clusters < 9" in (e.rejected or "") for e in strict)
    with pytest.raises(NoViableCandidateError):
        select_winner(strict)
    # Density-based candidates on a continuum of styles: noise or too few clusters.
    density = [e for e in evaluations if e.candidate.family == "hdbscan"]
    assert density
    assert all(e.rejected for e in density)
    assert any("noise share" in (e.rejected or "") for e in density)
    # A three-component space can be kept, but every rejection gives its reason.
    assert all(e.rejected is None or e.rejected.strip() for e in evaluations)


def test_min_cluster_share_rejects_tiny_clusters() -> None:
    rng = np.random.default_rng(0)
    sizes = [60] * 5 + [2]
    blobs = np.vstack([rng.normal(center, 0.05, size=(n, 4)) for center, n in enumerate(sizes)])
    candidate = Candidate(
        "kmeans-k6-test", "kmeans", {"variance": 0.7, "n_clusters": 6, "random_state": 0}
    )
    result = evaluate(candidate, pd.DataFrame(blobs, columns=FEATURES))
    assert result.n_clusters == 6
    assert "smallest cluster has 2 players" in (result.rejected or "")


def test_unreproducible_candidates_are_rejected_as_unstable(winner: Evaluation) -> None:
    # Uniform noise has no archetypes: a Gaussian mixture lands somewhere else on every seed.
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.uniform(size=(400, len(FEATURES))), columns=FEATURES)
    params = {"variance": 0.7, "n_components": 5, "covariance_type": "full", "random_state": 5}
    mixture = evaluate(Candidate("gmm-noise", "gmm", params), noise)
    assert mixture.rejected is None  # viable on every other count...
    with pytest.raises(NoViableCandidateError, match="unstable"):
        select_winner([mixture])
    assert mixture.seed_ari is not None
    assert mixture.seed_ari < 0.95
    assert "unstable" in (mixture.rejected or "")
    # ...whereas the real winner reproduces exactly (Ward-initialized k-means is deterministic).
    assert winner.seed_ari == 1.0
    fresh = evaluate(Candidate("gmm-noise", "gmm", params), noise)
    assert select_winner([fresh], check_stability=False) is fresh


# --- scoring a fitted model, 2-D view ----------------------------------------------------------


def test_score_model_scores_fitted_pipeline_on_new_data(
    winner: Evaluation, features: pd.DataFrame, cleaned_dir: Path
) -> None:
    same = score_model(winner.pipeline, features)
    assert same is not None
    assert same == pytest.approx(winner.silhouette, abs=0.02)
    other_season = feature_frame(_eligible(cleaned_dir, "2017-18"))
    score = score_model(winner.pipeline, other_season)
    assert score is not None
    assert -1.0 <= score <= 1.0
    assert score_model(winner.pipeline, features.head(1)) is None


def test_embedding_2d_is_first_two_components(winner: Evaluation) -> None:
    flat = embedding_2d(winner)
    assert flat.shape == (len(winner.labels), 2)
    np.testing.assert_array_equal(flat, winner.embedding[:, :2])


def test_nearest_centroid_wrapper_keeps_noise_and_subsamples(features: pd.DataFrame) -> None:
    hdbscan = next(c for c in candidate_grid(0) if c.family == "hdbscan").build()
    labels = hdbscan.fit_predict(features)
    assert (labels == -1).any()  # noise is kept on fit...
    assert (hdbscan.predict(features) >= 0).all()  # ...but a new row always gets a cluster
    ward = Candidate("ward", "ward", {"variance": 0.7, "n_clusters": 5, "random_state": 3})
    sampled = ward.build()
    sampled.set_params(cluster__max_fit_samples=100)
    first = sampled.fit_predict(features)
    second = ward.build().set_params(cluster__max_fit_samples=100).fit_predict(features)
    assert len(first) == len(features)
    np.testing.assert_array_equal(first, second)
    assert isinstance(sampled[-1], NearestCentroidClusterer)
    assert sampled[-1].cluster_centers_.shape == (5, sampled[-2].n_components_)


# --- persistence ---------------------------------------------------------------------------------


def test_skops_round_trip_needs_exactly_the_trusted_types(features: pd.DataFrame) -> None:
    reported: set[str] = set()
    for family in FAMILIES:
        candidate = next(c for c in candidate_grid(0) if c.family == family)
        pipeline = candidate.build().fit(features)
        blob = sio.dumps(pipeline)
        untrusted = set(sio.get_untrusted_types(data=blob))
        reported |= untrusted
        loaded = sio.loads(blob, trusted=SKOPS_TRUSTED_TYPES)
        np.testing.assert_array_equal(loaded.predict(features), pipeline.predict(features))
        if untrusted:
            with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
                sio.loads(blob)
    assert reported == set(SKOPS_TRUSTED_TYPES)


# --- profiles ----------------------------------------------------------------------------------


def test_profiles_are_named_sized_and_serializable(winner: Evaluation, table: pd.DataFrame) -> None:
    profiles = archetype_profiles(table, winner.labels)
    assert json.loads(json.dumps(profiles)) == profiles
    names = [p["name"] for p in profiles]
    assert len(set(names)) == len(names) == winner.n_clusters
    assert all(names)
    assert sum(p["size"] for p in profiles) == len(table)
    assert sum(p["share"] for p in profiles) == pytest.approx(1.0)
    for profile in profiles:
        assert 3 <= len(profile["distinguishing"]) <= 4
        assert profile["examples"]


def test_famous_players_land_in_sensible_archetypes(
    winner: Evaluation, table: pd.DataFrame, cleaned_dir: Path
) -> None:
    profiles = {p["id"]: p for p in archetype_profiles(table, winner.labels)}
    labels = pd.Series(winner.labels, index=table.index)
    gobert = labels[_row(table, "Rudy Gobert", SEASON).index[0]]
    capela = labels[_row(table, "Clint Capela", SEASON).index[0]]
    assert gobert == capela
    bigs = profiles[int(gobert)]
    top = {d["stat"] for d in bigs["distinguishing"]}
    assert top & {"OREB_PER36", "REB_PER36", "BLK_PER36"}, bigs
    # Assigning a player of another season with the fitted model (predict on a new row).
    curry = feature_frame(_row(_eligible(cleaned_dir, "2015-16"), "Stephen Curry", "2015-16"))
    curry_label = int(winner.pipeline.predict(curry)[0])
    assert curry_label != gobert
    assert profiles[curry_label]["z_scores"]["OREB_PER36"] < 0


def test_noise_gets_unclassified_and_names_stay_unique(table: pd.DataFrame) -> None:
    labels = np.arange(len(table)) % 4
    labels[:5] = -1
    profiles = archetype_profiles(table, labels)
    assert profiles[0]["id"] == -1
    assert profiles[0]["name"] == UNCLASSIFIED
    assert profiles[0]["size"] == 5
    names = [p["name"] for p in profiles]
    assert len(set(names)) == len(names)
    # Identical profiles still get distinct, deterministic names.
    same = {"OREB": 1.5, "BLK": 1.2, "FG3A_RATE": -1.4, "FGA": -0.6}
    first = archetype_names({0: same, 1: same, 2: same})
    assert len(set(first.values())) == 3
    assert first == archetype_names({0: same, 1: same, 2: same})
    assert first[0] == "Rim-protecting center"
