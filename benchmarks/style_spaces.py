"""How the style space was chosen: prints the measurements behind workers/train/features.py.

    uv run python -m benchmarks.style_spaces              # hit rates (~20 s)
    uv run python -m benchmarks.style_spaces --stability  # + k-means stability (~10 min)

For each candidate space (era adjustment, decorrelation, feature set), on the 27 bundled
seasons: the curated cross-era comparisons (tests/data/comparisons.csv, both directions:
rank of the comparable player among every eligible player of his season by Euclidean
distance), and with --stability the k-means partitions for k = 6..12 (weakest archetype's
bootstrap Jaccard, seed ARI), scored as the training scores its candidates.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import PROJECT_ROOT, emit, parser, seed_seasons, write_json

COMPARISONS = PROJECT_ROOT / "tests" / "data" / "comparisons.csv"
FIRST_VERSION_FEATURES = ["FG3A_RATE", "FGA_PER36", "AST_PER36", "OREB_PER36"]
BLOCKS = {
    "FGA_PER36": "volume", "FG3A_RATE": "mix", "FTA_RATE": "mix", "AST_PER36": "play",
    "TOV_PER36": "play", "OREB_PER36": "boards", "DREB_PER36": "boards", "STL_PER36": "defence",
    "BLK_PER36": "defence", "PF_PER36": "fouls",
}  # fmt: skip


def players() -> pd.DataFrame:
    from common.storage import DataDir
    from workers.train.dataset import load_training_data

    with tempfile.TemporaryDirectory(prefix="bench-style-spaces-") as tmp:
        seed_seasons(Path(tmp))
        return load_training_data(DataDir(Path(tmp))).players


def spaces(table: pd.DataFrame) -> dict[str, np.ndarray]:
    from common.style import FEATURES
    from workers.train.features import feature_frame, style_space

    def z(columns: list[str], by_season: bool) -> np.ndarray:
        values = table[columns].astype(float).fillna(0.0)
        grouped = values.groupby(table["SEASON"]) if by_season else None
        mean = grouped.transform("mean") if grouped is not None else values.mean()
        std = grouped.transform("std") if grouped is not None else values.std()
        return ((values - mean) / std).to_numpy()

    ranked = style_space(table)
    centered = ranked - ranked.mean(axis=0)
    _, singular, components = np.linalg.svd(centered, full_matrices=False)
    whitened = centered @ components.T / (singular / np.sqrt(len(ranked) - 1))
    counts = pd.Series(BLOCKS).value_counts()
    block_weights = np.array([1 / np.sqrt(counts[BLOCKS[f]]) for f in FEATURES])
    assert feature_frame(table).shape[1] == len(FEATURES)
    return {
        "z-scores over all seasons (no era)": z(FEATURES, by_season=False),
        "z-scores within each season": z(FEATURES, by_season=True),
        "normal scores of ranks within season": ranked,
        "same, decorrelated (PCA whitening)": whitened,
        "same, correlated blocks down-weighted": ranked * block_weights,
        "the 4 features of the first version": z(FIRST_VERSION_FEATURES, by_season=True),
    }


def comparison_ranks(table: pd.DataFrame, X: np.ndarray) -> np.ndarray:
    key = (table["PLAYER_NAME"] + "|" + table["SEASON"]).tolist()
    where = {k: i for i, k in enumerate(key)}
    seasons = table["SEASON"].to_numpy()
    ranks = []
    with COMPARISONS.open() as handle:
        for row in csv.DictReader(handle):
            a, b = (
                f"{row['player']}|{row['season']}",
                f"{row['comparable']}|{row['comparable_season']}",
            )
            for me, them, season in ((a, b, row["comparable_season"]), (b, a, row["season"])):
                i, j = where[me], where[them]
                distances = np.linalg.norm(X[seasons == season] - X[i], axis=1)
                ranks.append(1 + int((distances < np.linalg.norm(X[j] - X[i])).sum()))
    return np.array(ranks)


def stability(X: np.ndarray) -> dict[str, dict[str, float]]:
    """Per k: the weakest archetype's bootstrap Jaccard and the seed ARI."""
    from workers.train.candidates import candidate_grid
    from workers.train.scoring import evaluate

    cells = {}
    for candidate in candidate_grid(0):
        e = evaluate(candidate, X)
        cells[f"k{e.n_clusters}"] = {"min_jaccard": e.min_jaccard, "seed_ari": e.seed_ari}
    return cells


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--stability", action="store_true", help="also k-means stability")
    args = cli.parse_args()
    table = players()
    emit(f"{'space':40} {'top-10 hit':>10} {'median rank':>12}")
    measure: Callable[[np.ndarray], dict] = stability if args.stability else lambda X: {}
    figures = {}
    for name, X in spaces(table).items():
        ranks = comparison_ranks(table, X)
        hits, median, by_k = float(np.mean(ranks <= 10)), float(np.median(ranks)), measure(X)
        figures[name] = {"top10_hit_rate": hits, "median_rank": median, "stability": by_k}
        cells = "; ".join(f"{k}: J {c['min_jaccard']:.2f} ARI {c['seed_ari']:.2f}"
                          for k, c in by_k.items())  # fmt: skip
        emit(f"{name:40} {hits:10.2f} {median:12.0f}  {cells}".rstrip())
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
