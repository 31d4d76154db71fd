"""Which model the app shows: promotion, experiments, and the champion covering every season.

Real MLflow store (sqlite in tmp_path), real trainings on bundled recordings.
"""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from cli.main import main
from common.champion import (
    ASSIGNMENTS_ARTIFACT,
    CHALLENGER_ALIAS,
    CHAMPION_ALIAS,
    TAG_ALL_SEASONS,
    TAG_FEATURES,
    TAG_REPUBLISHED_FROM,
    TAG_SPACE,
    Champion,
    find_champion,
)
from common.failures import LeaseBusyError
from common.keys import PROMOTION_LEASE_KEY
from common.leases import held
from common.mlflow_store import tracking_client
from common.redis_client import redis_client
from common.season_report import SEASON_REPORT_ARTIFACT, TAG_NEW_SEASONS
from common.seasons import Season
from common.settings import Settings, get_settings
from common.storage import DataDir
from devkit.services import RedisServer
from tests.services import assert_registry_reader_agrees, champion_artifact, seed_seasons
from workers.train.candidates import Candidate
from workers.train.dataset import load_training_data
from workers.train.features import FEATURES, STYLE_SPACE
from workers.train.promotion import (
    decide_and_apply,
    decide_promotion,
    promotion_lease,
    republish_champion,
)
from workers.train.publishing import publish_model
from workers.train.scoring import Evaluation, evaluate
from workers.train.tracking import ArchetypeTracker
from workers.train.training import train_archetypes

FIRST = ["2016-17", "2017-18", "2018-19"]
LATER = "2019-20"


def _assignments(settings: Settings) -> pd.DataFrame:
    champion = find_champion(settings)
    assert champion is not None
    with tempfile.TemporaryDirectory() as tmp:
        path = champion_artifact(settings, champion, ASSIGNMENTS_ARTIFACT, Path(tmp))
        return pd.read_parquet(path)


def _eligible(data: Path, seasons: list[str]) -> int:
    tables = [pd.read_parquet(data / "cleaned" / f"{s}.parquet") for s in seasons]
    return int(sum(t["ELIGIBLE"].sum() for t in tables))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Three seasons and a first champion trained on all of them."""
    data = tmp_path_factory.mktemp("policy")
    seed_seasons(data, FIRST)
    settings = Settings(data_dir=data)
    first = train_archetypes(settings)
    assert first.status == "promoted"
    return settings


def test_a_training_on_chosen_seasons_is_an_experiment(store: Settings) -> None:
    before = find_champion(store)
    outcome = train_archetypes(store, [Season.parse("2018-19")])
    assert outcome.status == "experiment"
    assert find_champion(store) == before
    client = tracking_client(store)
    challenger = client.get_model_version_by_alias(store.registered_model_name, CHALLENGER_ALIAS)
    assert str(challenger.version) == outcome.model_version
    assert client.get_run(outcome.run_id).data.tags[TAG_ALL_SEASONS] == "false"


def test_the_light_registry_reader_finds_what_mlflow_finds(store: Settings) -> None:
    """Every answer reads the champion with SQL on MLflow's store (common/model_registry.py),
    not MLflow's client: checked against the client, after a promotion and an experiment."""
    assert_registry_reader_agrees(store, (CHAMPION_ALIAS, CHALLENGER_ALIAS))


def test_a_new_season_is_visible_whichever_model_wins(store: Settings) -> None:
    seed_seasons(store.data_dir, [LATER])
    before = find_champion(store)
    outcome = train_archetypes(store)
    assert outcome.status in {"promoted", "kept-champion"}, outcome
    champion = find_champion(store)
    assert champion.version != before.version
    assignments = _assignments(store)
    assert LATER in set(assignments["SEASON"])
    assert len(assignments) == _eligible(store.data_dir, [*FIRST, LATER])
    # Before the search, the old champion's model was republished on the new data.
    client = tracking_client(store)
    republished = [
        v
        for v in client.search_model_versions(f"name = '{store.registered_model_name}'")
        if client.get_run(v.run_id).data.tags.get(TAG_REPUBLISHED_FROM) == before.version
    ]
    assert len(republished) == 1
    assert int(republished[0].version) > int(before.version)
    # The decision is logged with both scores, computed on the same rows in the same space.
    run = tracking_client(store).get_run(outcome.run_id)
    assert "same rows, same space" in run.data.tags["promotion_reason"]
    metrics = run.data.metrics
    assert {"champion_min_jaccard", "champion_silhouette", "min_jaccard"} <= set(metrics)
    data = load_training_data(DataDir(store.data_dir))
    old_model = ArchetypeTracker(store).load_model(before)
    expected = silhouette_score(data.features, old_model.predict(data.features))
    assert metrics["champion_silhouette"] == pytest.approx(expected, abs=1e-9)
    # Both runs that first assigned the new season carry its report.
    for run_id in (outcome.run_id, republished[0].run_id):
        _assert_new_season_report(store, run_id, data.features, data.players)


def _assert_new_season_report(
    settings: Settings, run_id: str, X: np.ndarray, players: pd.DataFrame
) -> None:
    """The report of ``run_id`` on LATER, checked against the run's own model by plain NumPy:
    the distances to the nearest centre, the seen seasons' 95th percentile of them."""
    client = tracking_client(settings)
    run = client.get_run(run_id)
    assert run.data.tags[TAG_NEW_SEASONS] == LATER
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(run_id, SEASON_REPORT_ARTIFACT, tmp)
        [report] = json.loads(Path(path).read_text())
    [version] = client.search_model_versions(f"run_id = '{run_id}'")
    centres = (
        ArchetypeTracker(settings)
        .load_model(Champion(str(version.version), run_id, {}, {}, 0))
        .cluster_centers_
    )
    nearest = np.linalg.norm(X[:, None, :] - centres[None], axis=2).min(axis=1)
    seasons = players["SEASON"].astype(str).to_numpy()
    threshold = np.percentile(nearest[seasons != LATER], 95)
    later = nearest[seasons == LATER]
    assert report["season"] == LATER
    assert report["players"] == len(later)
    assert report["misfit_share"] == pytest.approx((later > threshold).mean())
    assert run.data.metrics[f"misfit_share.{LATER}"] == pytest.approx(report["misfit_share"])
    assert set(report["seen_misfit_shares"]) == set(FIRST)
    assert report["compared_with"] == FIRST
    assert len(report["misfits"]) == (later > threshold).sum()
    names = {m["player"] for m in report["misfits"]}
    assert names <= set(players.loc[seasons == LATER, "PLAYER_NAME"])
    shares = {s["archetype"]: s["share"] for s in report["shares"]}
    assert sum(shares.values()) == pytest.approx(1.0)


def test_the_cli_shows_the_champions_new_season_report(
    store: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    champion = find_champion(store)
    monkeypatch.setenv("DATA_DIR", str(store.data_dir))
    get_settings.cache_clear()
    try:
        assert main(["new-season", "--json"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert main(["new-season"]) == 0
        lines = capsys.readouterr().out.splitlines()
    finally:
        get_settings.cache_clear()
    assert answer["champion_version"] == champion.version
    [report] = answer["reports"]
    assert report["season"] == LATER
    share = report["misfit_share"]
    assert report["unusual"] == (share > max(report["seen_misfit_shares"].values()))
    assert lines[0].startswith(f"{LATER}: {share:.1%} of {report['players']} players fit no ")
    assert lines[1] == f"  shares of minutes that moved most, against {FIRST[0]} … {FIRST[-1]}:"
    misfit = report["misfits"][0]
    assert f"    {misfit['player']} ({misfit['team']}), nearest {misfit['nearest']}" in lines


def test_a_kept_champion_is_republished_with_every_season(store: Settings) -> None:
    champion = find_champion(store)
    tracker = ArchetypeTracker(store)
    data = load_training_data(DataDir(store.data_dir))
    version = republish_champion(tracker, data, champion, tracker.champion_profiles(champion))
    refreshed = find_champion(store)
    assert refreshed.version == version != champion.version
    assert refreshed.tags[TAG_REPUBLISHED_FROM] == champion.version
    assignments = _assignments(store)
    model = tracker.load_model(champion)
    np.testing.assert_array_equal(assignments["ARCHETYPE"], model.predict(data.features))
    # Same model, same archetypes: every name carried over.
    assert set(assignments["ARCHETYPE_NAME"]) <= {
        p["name"] for p in tracker.champion_profiles(champion)
    }


def test_force_promotes_an_all_season_training(store: Settings) -> None:
    outcome = train_archetypes(store, force=True)
    assert outcome.status == "promoted"
    assert find_champion(store).version == outcome.model_version


def test_promotion_rules() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=8, size=(6, 10))
    X = np.vstack([c + rng.normal(size=(80, 10)) for c in centers])
    stable = evaluate(Candidate(6, 0), X)
    finer = evaluate(Candidate(9, 0), X)  # splits real groups: not stable
    assert stable.stable
    assert not finer.stable

    champion = Champion("1", "run", {}, {}, 0)
    assert not decide_promotion(finer, champion, stable, all_seasons=True, force=False).promote
    assert decide_promotion(stable, champion, finer, all_seasons=True, force=False).promote
    # Equal scores: a refit on more data is not a new model.
    assert not decide_promotion(stable, champion, stable, all_seasons=True, force=False).promote
    assert decide_promotion(finer, champion, stable, all_seasons=True, force=True).promote
    assert decide_promotion(stable, None, None, all_seasons=True, force=False).promote
    assert not decide_promotion(stable, None, None, all_seasons=False, force=True).promote


def test_a_promotion_reached_while_redis_restarts_waits_for_it(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A training minutes long that reaches its promotion as Redis restarts takes the
    promotion lease once Redis is back, instead of failing."""
    with redis_server.down_for(2), promotion_lease(get_settings(), owner="training-1"):
        assert redis_client().get(PROMOTION_LEASE_KEY) == "training-1"
    assert redis_client().get(PROMOTION_LEASE_KEY) is None  # given back after the block
    assert f"taking {PROMOTION_LEASE_KEY}: Redis unreachable" in caplog.text


def test_a_lease_held_past_the_wait_says_by_whom_and_what_to_do() -> None:
    """An inline training that waited its whole time for a worker's training says so in
    words (the CLI shows it as one plain line), not as an unexpected error."""
    client = redis_client()
    with (
        held(client, PROMOTION_LEASE_KEY, "training-1", 5, wait_s=0),
        pytest.raises(LeaseBusyError) as busy,
        held(client, PROMOTION_LEASE_KEY, "inline-2", 5, wait_s=0.3),
    ):
        pytest.fail("the lease was taken while held")
    assert str(busy.value) == (
        f"{PROMOTION_LEASE_KEY} is still held by training-1 after 0.3 s of waiting: the work "
        "holding it goes on; try again once it ends (`nba-archetypes status`)"
    )
    assert client.get(PROMOTION_LEASE_KEY) is None  # given back by its holder, not the waiter


def test_racing_promotions_move_the_champion_one_decision_at_a_time(tmp_path: Path) -> None:
    """Two trainings reach promotion together on a store without a champion. Each decision is
    taken under the promotion lease against the champion as it is then: one of them is the
    first champion, the other is compared with it (never two "first champions", the later
    overwriting the earlier whatever their scores)."""
    data_dir = tmp_path / "data"
    seed_seasons(data_dir, ["2018-19"])
    settings = Settings(data_dir=data_dir)
    tracker = ArchetypeTracker(settings)
    data = load_training_data(DataDir(data_dir))
    published = []
    comparable = {TAG_SPACE: STYLE_SPACE, TAG_FEATURES: ",".join(FEATURES)}
    for k in (6, 9):
        evaluation = evaluate(Candidate(k, seed=0), data.features)
        with tracker.training_run(f"racer k{k}", comparable) as run:
            published.append((evaluation, publish_model(run, data, evaluation, None)))

    start = threading.Barrier(len(published))
    decisions: dict[str, str] = {}

    def race(evaluation: Evaluation, version: str) -> None:
        start.wait()
        with promotion_lease(settings, owner=f"racer-{version}"):
            decision, _, champion = decide_and_apply(
                ArchetypeTracker(settings), data, evaluation, version, None, force=False
            )
        decisions[version] = f"{decision.promote}|{decision.reason}|{champion}"

    threads = [threading.Thread(target=race, args=pair) for pair in published]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    reasons = [d.split("|")[1] for d in decisions.values()]
    assert reasons.count("first champion") == 1, decisions
    (later,) = [v for v, d in decisions.items() if "first champion" not in d]
    (first,) = set(decisions) - {later}
    promoted_later = decisions[later].startswith("True")
    assert "same rows, same space" in decisions[later]  # compared with the first champion
    assert find_champion(settings).version == (later if promoted_later else first)
