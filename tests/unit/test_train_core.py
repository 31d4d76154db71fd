"""The train worker's ML core on real data: cleaned tables built from the bundled recordings.

Expected values are computed here independently (plain NumPy/SciPy, or by hand), never by the
functions under test. The basketball checks read two curated files in tests/data (see its
README): role groups that should share an archetype, and cross-era comparisons writers draw.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from scipy.stats import norm
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from common.settings import Settings
from common.storage import DataDir
from common.style import FEATURES, STYLE_FEATURES
from workers.fetch.recordings import seed_from_recordings
from workers.train.assignments import memberships
from workers.train.candidates import CLUSTER_COUNTS, SKOPS_TRUSTED_TYPES, Candidate, candidate_grid
from workers.train.dataset import TrainingData, load_training_data
from workers.train.features import shooting_skills, style_space
from workers.train.profiles import archetype_profiles, name_archetypes
from workers.train.scoring import (
    MIN_JACCARD,
    MIN_SEED_ARI,
    Evaluation,
    evaluate,
    evaluate_all,
    evaluate_fitted,
    select_winner,
)

RECORDINGS = Path(__file__).resolve().parents[2] / "replay" / "recordings"
TEST_DATA = Path(__file__).resolve().parents[1] / "data"
HELD_OUT = ("2020-21", "2021-22", "2022-23")  # fit on the seasons before, assign these
WEIGHT = Settings().playoff_weight  # of a playoff minute, as the seasons were cleaned


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train-data")
    seed_from_recordings(RECORDINGS, DataDir(root), Settings(data_dir=root))
    return root


@pytest.fixture(scope="module")
def data(data_root: Path) -> TrainingData:
    return load_training_data(DataDir(data_root))


@pytest.fixture(scope="module")
def evaluations(data: TrainingData) -> list[Evaluation]:
    """Every candidate on all 27 seasons (the real selection: ~40 s on 2 cores)."""
    return evaluate_all(candidate_grid(0), data.features)


@pytest.fixture(scope="module")
def winner(evaluations: list[Evaluation]) -> Evaluation:
    return select_winner(evaluations)


def _index(data: TrainingData, player: str, season: str) -> int:
    rows = data.players.index[
        (data.players["PLAYER_NAME"] == player) & (data.players["SEASON"] == season)
    ]
    assert len(rows) == 1, f"{player} {season} not found once"
    return int(rows[0])


# --- the style space ---------------------------------------------------------------------------


def test_features_cover_every_axis_a_scout_uses() -> None:
    assert len(FEATURES) >= 10
    axes = {
        "shot volume": {"FGA_PER36"},
        "shot mix": {"FG3A_RATE", "FTA_RATE"},
        "playmaking": {"AST_PER36", "TOV_PER36"},
        "rebounding": {"OREB_PER36", "DREB_PER36"},
        "defence": {"STL_PER36", "BLK_PER36"},
        "fouls": {"PF_PER36"},
    }
    for axis, columns in axes.items():
        assert columns <= set(FEATURES), axis
    # Efficiency, points and minutes describe a player; they are not style inputs.
    assert not set(FEATURES) & {"FG_PCT", "TS_PCT", "PTS_PER36", "MIN", "MIN_PER_GAME"}
    assert all(STYLE_FEATURES[f] for f in FEATURES)


def test_style_space_is_the_normal_score_of_the_rank_within_the_season(data_root: Path) -> None:
    season = pd.read_parquet(data_root / "cleaned" / "1996-97.parquet")
    season = season[season["ELIGIBLE"]].reset_index(drop=True)
    coordinates = style_space(season)
    # By hand for one player and one feature: count who took more threes per shot.
    shares = season["FG3A_RATE"].fillna(0).to_numpy()
    i = int(np.flatnonzero(season["PLAYER_NAME"] == "Reggie Miller")[0])
    rank = (shares < shares[i]).sum() + ((shares == shares[i]).sum() + 1) / 2
    expected = norm.ppf((rank - 0.5) / len(season))
    assert coordinates[i, FEATURES.index("FG3A_RATE")] == pytest.approx(expected)


def test_each_season_is_adjusted_on_its_own(data: TrainingData, data_root: Path) -> None:
    # A season's coordinates do not depend on the other seasons in the table.
    alone = load_training_data(DataDir(data_root), [data.seasons[0]])
    together = data.features[(data.players["SEASON"] == str(data.seasons[0])).to_numpy()]
    np.testing.assert_allclose(alone.features, together)
    # The era drift is gone: the league's average 3-point share nearly doubled, the scores not.
    raw = data.players.groupby("SEASON")["FG3A_RATE"].mean()
    assert raw["2022-23"] > 1.8 * raw["1996-97"]
    scores = pd.DataFrame(data.features, columns=FEATURES).groupby(data.players["SEASON"])
    assert scores["FG3A_RATE"].mean().abs().max() < 0.05


def test_shooting_skill_is_the_shrunk_percentage_ranked_within_the_season() -> None:
    """By hand: (made + m·league) / (attempts + m), m = 100 threes, then the normal score of
    the rank within the season. Attempts are per 36 times the minutes, a playoff minute x2."""
    rows = [  # season, name, 3P%, 3PA/36, minutes, playoff minutes
        ("A", "sniper", 0.45, 9.0, 300, 50),  # 45 of 100 threes (300 + 2 x 50 minutes)
        ("A", "two lucky shots", 0.50, 0.18, 400, 0),  # 1 of 2
        ("A", "never shot one", None, 0.0, 400, 0),
        ("A", "bricklayer", 0.30, 18.0, 400, 0),  # 60 of 200
        ("B", "worse", 0.33, 9.0, 400, 0),  # 33 of 100: ranked only among season B
        ("B", "better", 0.36, 9.0, 400, 0),  # 36 of 100
    ]
    table = pd.DataFrame(
        rows, columns=["SEASON", "NAME", "FG3_PCT", "FG3A_PER36", "MIN", "PLAYOFF_MIN"]
    ).assign(FT_PCT=0.8, FTA_PER36=3.6)  # free throws all alike: tied, the season's middle
    skills = shooting_skills(table, playoff_weight=2.0)
    # Season A's league: 106 of 302 = 0.351. Shrunk: sniper (45 + 35.1) / 200 = 0.400, two
    # lucky shots (1 + 35.1) / 102 = 0.354 (the best raw 3P%, ranked below the sniper), never
    # shot one 0.351 (the league's), bricklayer (60 + 35.1) / 300 = 0.317.
    a = [norm.ppf(q) for q in (7 / 8, 5 / 8, 3 / 8, 1 / 8)]
    b = [norm.ppf(q) for q in (1 / 4, 3 / 4)]
    np.testing.assert_allclose(skills[:, 0], a + b)
    np.testing.assert_allclose(skills[:, 1], 0.0, atol=1e-12)


# --- the stability checks can fail ------------------------------------------------------------


def test_stability_tells_real_structure_from_noise() -> None:
    blobs, _ = make_blobs(600, n_features=10, centers=7, cluster_std=1.0, random_state=3)
    real = evaluate(Candidate(7, 0), blobs)
    assert real.min_jaccard > 0.95
    assert real.seed_ari > 0.99
    assert real.permutation_gap > 0.5
    assert real.stable
    noise = np.random.default_rng(0).normal(size=(600, 10))
    shapeless = evaluate(Candidate(7, 0), noise)
    assert shapeless.min_jaccard < MIN_JACCARD
    assert shapeless.permutation_gap < 0.05
    assert not shapeless.stable
    assert "bootstrap Jaccard" in (shapeless.unstable_because or "")


def test_the_data_chooses_the_largest_stable_number_of_archetypes() -> None:
    blobs, truth = make_blobs(700, n_features=10, centers=8, cluster_std=1.0, random_state=5)
    evaluations = evaluate_all(candidate_grid(0), blobs)
    winner = select_winner(evaluations)
    assert winner.n_clusters == 8
    assert adjusted_rand_score(truth, winner.labels) > 0.99
    # Splitting a real group in two does not survive resampling.
    assert not next(e for e in evaluations if e.n_clusters == 9).stable


def test_a_champion_is_scored_like_a_candidate_on_the_same_rows() -> None:
    blobs, _ = make_blobs(500, n_features=10, centers=6, random_state=1)
    candidate = evaluate(Candidate(6, 0), blobs)
    again = evaluate_fitted("champion", candidate.model, blobs)
    np.testing.assert_array_equal(again.labels, candidate.labels)
    np.testing.assert_allclose(again.jaccard, candidate.jaccard)
    assert again.seed_ari == candidate.seed_ari
    assert again.silhouette == candidate.silhouette


# --- the real archetypes -----------------------------------------------------------------------


def test_all_seasons_give_stable_archetypes(winner: Evaluation, data: TrainingData) -> None:
    assert winner.n_clusters in CLUSTER_COUNTS
    assert winner.min_jaccard >= MIN_JACCARD
    assert winner.seed_ari >= MIN_SEED_ARI
    assert winner.permutation_gap > 0.1
    sizes = np.bincount(winner.labels)
    assert sizes.min() > 0.03 * len(data.features)


def test_role_groups_share_an_archetype_and_groups_differ(
    winner: Evaluation, data: TrainingData
) -> None:
    groups = pd.read_csv(TEST_DATA / "role_groups.csv")
    majority = {}
    for group, members in groups.groupby("group"):
        rows = zip(members.player, members.season, strict=True)
        labels = [winner.labels[_index(data, p, s)] for p, s in rows]
        label, count = np.unique(labels, return_counts=True)
        assert count.max() >= 2 / 3 * len(labels), (group, labels)
        majority[group] = int(label[np.argmax(count)])
    assert len(set(majority.values())) == len(majority), majority


def test_cross_era_comparisons_rank_high(data: TrainingData) -> None:
    """Both directions of each curated pair: the other player's rank among every player of his
    season, by distance in style and shooting skill, as "who played like him" compares
    (computed here with plain NumPy)."""
    pairs = pd.read_csv(TEST_DATA / "comparisons.csv")
    ranked: dict[tuple[str, str], int] = {}
    seasons = data.players["SEASON"].to_numpy()
    compared = np.column_stack([data.features, shooting_skills(data.players, WEIGHT)])
    for row in pairs.itertuples():
        for a, sa, b, sb in (
            (row.player, row.season, row.comparable, row.comparable_season),
            (row.comparable, row.comparable_season, row.player, row.season),
        ):
            me, them = _index(data, a, sa), _index(data, b, sb)
            pool = compared[seasons == sb]
            distances = np.linalg.norm(pool - compared[me], axis=1)
            gap = np.linalg.norm(compared[them] - compared[me])
            ranked[a, b] = 1 + int((distances < gap).sum())
    ranks = np.array(list(ranked.values()))
    # 21 of the 36 in the top 10 (19 on style alone): the great shooters find each other.
    assert np.mean(ranks <= 10) >= 0.55, ranked
    assert np.median(ranks) <= 8, ranked
    assert ranked["Steve Nash", "Stephen Curry"] <= 10, ranked
    assert ranked["Stephen Curry", "Steve Nash"] <= 10, ranked


def test_held_out_seasons_get_the_archetypes_a_full_retrain_gives(
    winner: Evaluation, data: TrainingData
) -> None:
    earlier = ~data.players["SEASON"].isin(HELD_OUT).to_numpy()
    fitted = Candidate(winner.n_clusters, 0).build().fit(data.features[earlier])
    assigned = fitted.predict(data.features[~earlier])
    assert adjusted_rand_score(winner.labels[~earlier], assigned) >= 0.80


# --- memberships, names, colours ---------------------------------------------------------------


def test_memberships_by_hand() -> None:
    centroids = np.array([[0.0, 0.0], [2.0, 0.0]])
    X = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    shares = memberships(X, centroids)
    # Nearest squared distances: 1, 0, 0 -> s² = (1/3) / 2; midpoint splits evenly.
    assert shares[0] == pytest.approx([0.5, 0.5])
    expected = 1 / (1 + np.exp(-4 / (2 * (1 / 6))))
    assert shares[1, 0] == pytest.approx(expected)
    assert shares[2, 1] == pytest.approx(expected)


def test_memberships_agree_with_the_archetype(winner: Evaluation, data: TrainingData) -> None:
    shares = memberships(data.features, winner.model.cluster_centers_)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_array_equal(shares.argmax(axis=1), winner.labels)
    # Most players lean clearly one way; a sizeable minority is a real mix.
    top = shares.max(axis=1)
    assert 0.6 < np.median(top) < 0.99
    assert 0.05 < np.mean(top < 0.6) < 0.5


def test_profiles_are_named_from_the_model_and_serializable(
    winner: Evaluation, data: TrainingData
) -> None:
    profiles = archetype_profiles(data.players, winner.labels, winner.model.cluster_centers_)
    assert json.loads(json.dumps(profiles)) == profiles
    names = [p["name"] for p in profiles]
    colors = [p["color"] for p in profiles]
    assert len(set(names)) == len(names) == winner.n_clusters
    assert len(set(colors)) == len(colors)
    for profile in profiles:
        assert set(profile["centroid"]) == set(FEATURES)
        assert {d["stat"] for d in profile["distinguishing"]} <= set(FEATURES)
    by_name = {p["name"]: p for p in profiles}
    # The blockers' archetype is named for blocks, which the model now sees.
    gobert = winner.labels[_index(data, "Rudy Gobert", "2018-19")]
    assert profiles[gobert]["name"] == "Rim protector"
    assert by_name["Rim protector"]["centroid"]["BLK_PER36"] > 0.8
    stockton = winner.labels[_index(data, "John Stockton", "1996-97")]
    assert profiles[stockton]["name"] == "Floor general"


def test_names_and_colours_carry_over_to_a_refit(winner: Evaluation, data: TrainingData) -> None:
    first = archetype_profiles(data.players, winner.labels, winner.model.cluster_centers_)
    # A refit on most of the data, ids shuffled: the same archetypes, slightly moved.
    refit = Candidate(winner.n_clusters, 7).build().fit(data.features[::2])
    labels = refit.predict(data.features)
    second = archetype_profiles(data.players, labels, refit.cluster_centers_, previous=first)
    old = {p["name"]: p["color"] for p in first}
    assert {p["name"]: p["color"] for p in second} == old
    # The same player keeps his archetype's name.
    jordan = _index(data, "Michael Jordan", "1996-97")
    assert second[labels[jordan]]["name"] == first[winner.labels[jordan]]["name"]


def test_unmatched_archetypes_get_free_names_and_unique_descriptions() -> None:
    centroids = np.zeros((3, len(FEATURES)))
    names = name_archetypes(centroids, fixed={0: "Floor general"})
    assert names[0] == "Floor general"
    assert len(set(names.values())) == 3
    assert names == name_archetypes(centroids, fixed={0: "Floor general"})


def test_skops_round_trip_needs_no_untrusted_type(data: TrainingData) -> None:
    model = Candidate(6, 0).build().fit(data.features)
    blob = sio.dumps(model)
    assert set(sio.get_untrusted_types(data=blob)) == set(SKOPS_TRUSTED_TYPES)
    loaded = sio.loads(blob, trusted=SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict(data.features), model.predict(data.features))
