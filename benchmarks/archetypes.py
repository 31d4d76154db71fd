"""Benchmark of the archetypes: prints figures against the targets (not a timed test).

    uv run python -m benchmarks.archetypes          # ~3 min on 2 cores

On the 27 bundled real seasons: a training on all seasons with its stability checks (MLflow
logging included) and on one season; the champion's archetypes (count, bootstrap Jaccard per
archetype, seed ARI, permutation gap, silhouette in the full style space); held-out seasons
(selection fit on the seasons up to 2019-20, 2020-21 to 2022-23 assigned, compared with the
full training's labels); the new-season report on those three seasons (its cost against a
training); the curated cross-era comparisons (tests/data/comparisons.csv, both
directions: rank of the comparable player among every player of his season in the app's
similar-players list); and the warm similar-players query. Trainings print wall time and CPU
time (all threads): on a busy host the wall time grows, the CPU time does not.
"""

from __future__ import annotations

import csv
import statistics
import tempfile
from pathlib import Path

from benchmarks.harness import (
    PROJECT_ROOT,
    emit,
    machine,
    parser,
    quiet_logs,
    repeat,
    report,
    seed_seasons,
    timed,
    write_json,
)

COMPARISONS = PROJECT_ROOT / "tests" / "data" / "comparisons.csv"
ONE_SEASON = "2018-19"
LAST_FITTED = "2019-20"  # held-out check: fit on seasons up to this one, assign the later ones

TARGETS = {
    "min_jaccard": ("≥", 0.75),
    "seed_ari": ("≥", 0.95),
    "held_out_ari": ("≥", 0.80),
    "train_all_seasons_s": ("≤", 60.0),
    "train_one_season_s": ("≤", 5.0),
    "similar_query_warm_ms": ("≤", 50.0),
    "new_season_report_share_of_training": ("≤", 0.10),
}


def train(data_dir: Path) -> dict[str, float]:
    from common.champion import find_champion
    from common.seasons import Season
    from common.settings import Settings
    from workers.train.training import train_archetypes

    settings = Settings(data_dir=data_dir)
    seed_seasons(data_dir)
    with timed() as all_seasons:
        everything = train_archetypes(settings)
    train_archetypes(settings, [Season.parse(ONE_SEASON)])  # warm-up: store, imports
    with timed() as one:
        train_archetypes(settings, [Season.parse(ONE_SEASON)], force=True)
    metrics = find_champion(settings).metrics
    return {
        "archetypes": int(metrics["n_clusters"]),
        "min_jaccard": metrics["min_jaccard"],
        "mean_jaccard": metrics["mean_jaccard"],
        "seed_ari": metrics["seed_ari"],
        "permutation_gap": metrics["permutation_gap"],
        "silhouette_full_space": metrics["silhouette"],
        "players": everything.players,
        "candidates": everything.candidates,
        "train_all_seasons_s": all_seasons.wall_s,
        "train_all_seasons_cpu_s": all_seasons.cpu_s,  # what a loaded host cannot inflate
        "candidates_per_s_all_seasons": everything.candidates / all_seasons.wall_s,
        "train_one_season_s": one.wall_s,
        "train_one_season_cpu_s": one.cpu_s,
    }


def held_out(data_dir: Path) -> dict[str, float]:
    """The selection on the seasons up to LAST_FITTED; later seasons assigned by its model."""
    from sklearn.metrics import adjusted_rand_score

    from common.champion import find_champion
    from common.settings import Settings
    from common.storage import DataDir
    from workers.train.candidates import candidate_grid
    from workers.train.dataset import load_training_data
    from workers.train.scoring import evaluate_all, select_winner
    from workers.train.tracking import ArchetypeTracker

    settings = Settings(data_dir=data_dir)
    data = load_training_data(DataDir(data_dir))
    later = (data.players["SEASON"] > LAST_FITTED).to_numpy()
    winner = select_winner(evaluate_all(candidate_grid(0), data.features[~later]))
    full = ArchetypeTracker(settings).load_model(find_champion(settings))
    assigned = winner.model.predict(data.features[later])
    return {
        "held_out_archetypes": winner.n_clusters,
        "held_out_ari": adjusted_rand_score(full.predict(data.features[later]), assigned),
        "held_out_players": int(later.sum()),
    }


def new_season_report(data_dir: Path, training_s: float) -> dict[str, float]:
    """The report a training logs on seasons its champion had not seen: the champion's model,
    with the seasons after LAST_FITTED as the new ones. Its cost against a whole training."""
    from common.champion import (
        PROFILES_ARTIFACT,
        find_champion,
        read_champion_artifact,
        read_profiles,
    )
    from common.settings import Settings
    from common.storage import DataDir
    from workers.train.dataset import load_training_data
    from workers.train.new_seasons import new_season_reports
    from workers.train.tracking import ArchetypeTracker

    settings = Settings(data_dir=data_dir)
    champion = find_champion(settings)
    model = ArchetypeTracker(settings).load_model(champion)
    profiles = read_champion_artifact(settings, champion, PROFILES_ARTIFACT, read_profiles)
    names = {p["id"]: p["name"] for p in profiles}
    data = load_training_data(DataDir(data_dir))
    seen = sorted({s for s in data.players["SEASON"].astype(str) if s <= LAST_FITTED})
    labels = model.predict(data.features)
    centres = model.cluster_centers_
    with timed() as took:
        reports = new_season_reports(data.players, data.features, labels, centres, names, seen=seen)
    figures: dict[str, float] = {
        "new_season_report_s": took.wall_s,
        "new_season_report_share_of_training": took.wall_s / training_s,
    }
    for r in reports:
        figures[f"misfit_share_{r.season}"] = r.misfit_share
    figures["misfit_share_highest_seen"] = reports[0].highest_seen_share
    return figures


def comparisons(data_dir: Path) -> dict[str, float]:
    from common.champion import find_champion
    from common.champion_results import load_champion_results
    from common.settings import Settings
    from common.similarity import find_player, most_similar

    settings = Settings(data_dir=data_dir)
    results = load_champion_results(settings, find_champion(settings))
    assignments = results.assignments
    ranks = []
    with COMPARISONS.open() as handle:
        for row in csv.DictReader(handle):
            pairs = [
                (row["player"], row["season"], row["comparable"], row["comparable_season"]),
                (row["comparable"], row["comparable_season"], row["player"], row["season"]),
            ]
            for me, my_season, them, their_season in pairs:
                player = find_player(assignments, me, my_season)
                ranked = most_similar(assignments, player, season=their_season, limit=10_000)
                ranks.append(int(ranked.loc[ranked["PLAYER_NAME"] == them, "RANK"].iloc[0]))
    kobe = find_player(assignments, "Kobe Bryant", "2005-06")
    timings = repeat(lambda: most_similar(assignments, kobe), 50, warmups=1)
    return {
        "comparisons": len(ranks),
        "comparison_top10_hit_rate": sum(r <= 10 for r in ranks) / len(ranks),
        "comparison_median_rank": statistics.median(ranks),
        "similar_query_warm_ms": statistics.median(timings) * 1000,
    }


def main() -> None:
    args = parser(__doc__).parse_args()
    quiet_logs()
    figures: dict[str, object] = machine()
    with tempfile.TemporaryDirectory(prefix="bench-archetypes-") as tmp:
        data_dir = Path(tmp)
        emit("seeding and training (all seasons, then one season)…")
        figures |= train(data_dir)
        emit("held-out seasons…")
        figures |= held_out(data_dir)
        emit("the new-season report…")
        figures |= new_season_report(data_dir, figures["train_all_seasons_s"])
        emit("cross-era comparisons and the similar-players query…")
        figures |= comparisons(data_dir)
    report(figures, TARGETS)
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
