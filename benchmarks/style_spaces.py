"""How the style space was chosen: prints the measurements behind workers/train/features.py.

    uv run python -m benchmarks.style_spaces              # hit rates (~10 s)
    uv run python -m benchmarks.style_spaces --grid       # + the tuned ceiling (~15 s more)
    uv run python -m benchmarks.style_spaces --stability  # + k-means stability, held-out
        # seasons, sub-roles (~35 min on a loaded 2-core host; ``--only + --only ceiling``:
        # the baseline and the fan-role spaces only, ~24 min)

For each candidate space (era adjustment, decorrelation, feature set), on the 27 bundled
seasons: the curated cross-era comparisons (tests/data/comparisons.csv, both directions:
rank of the comparable player among every eligible player of his season by Euclidean
distance), and with --stability the k-means partitions for k = 6..12 (weakest archetype's
bootstrap Jaccard, seed ARI, permutation gap), scored and selected as the training scores
and selects its candidates.

**Fan roles** (issue 17, item 1): spaces that add inputs the ten style features lack.
Shooting skill: 3P% and FT% shrunk toward the season's league rate by attempts (empirical
Bayes, ``(made + m·league) / (attempts + m)``, m = 100 3PA and 50 FTA: a player's percentage
counts as much as the league's once he has taken m shots), then era-adjusted like every
feature (normal score of the rank within the season). Scoring load: points per 36, or a usage
proxy (FGA + 0.44·FTA + TOV per 36), era-adjusted the same way. Singly, together, and with
the added block weighted. ``--grid`` searches 3,125 settings of prior and weights *on the
curated set itself* to show the ceiling of these inputs (a setting chosen this way is fitted
to the check, so it is a bound, not a candidate).

With --stability, for the baseline and the two best fan-role spaces (stable, then hit rate):
the held-out check (selection on the seasons up to 2019-20, later seasons assigned, ARI with
the full selection's labels: benchmarks/archetypes.py ``held_out``), a second level (k-means
with 2 and 3 sub-roles inside each archetype, kept where the training's own stability rules
hold: every sub-role's Jaccard ≥ 0.75, seed ARI ≥ 0.95, permutation gap ≥ 0.05), whether
the roles a fan names are a stable archetype or sub-role (:data:`FAN_ROLES`: a centroid
signature per role), and where the issue's example players land.
"""

from __future__ import annotations

import csv
import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from benchmarks.harness import PROJECT_ROOT, emit, parser, seed_seasons, write_json

COMPARISONS = PROJECT_ROOT / "tests" / "data" / "comparisons.csv"
ROLE_GROUPS = PROJECT_ROOT / "tests" / "data" / "role_groups.csv"
FIRST_VERSION_FEATURES = ["FG3A_RATE", "FGA_PER36", "AST_PER36", "OREB_PER36"]
BLOCKS = {
    "FGA_PER36": "volume", "FG3A_RATE": "mix", "FTA_RATE": "mix", "AST_PER36": "play",
    "TOV_PER36": "play", "OREB_PER36": "boards", "DREB_PER36": "boards", "STL_PER36": "defence",
    "BLK_PER36": "defence", "PF_PER36": "fouls",
}  # fmt: skip
BASELINE = "normal scores of ranks within season"

# Shooting skill: prior attempts of league-average shooting (empirical Bayes shrinkage). A
# season of 100 3PA or 50 FTA is about where a percentage starts to say more than the league's.
PRIOR_3PA = 100
PRIOR_FTA = 50
LAST_FITTED = "2019-20"  # held-out check: as benchmarks/archetypes.py
SUB_ROLE_COUNTS = (2, 3)
TARGET_HIT_RATE = 0.70

# Roles a fan names (issue 17), as a signature of a centroid in the style space (normal
# scores of ranks within the season: 0 is the league's middle, ±0.67 its quartiles). Written
# from what the role means, before looking at where any cluster falls.
FAN_ROLES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    # a big (boards and blocks above the middle) who takes more threes than most
    "stretch big": {
        "FG3A_RATE": (0.25, None), "DREB_PER36": (0.3, None), "BLK_PER36": (0.25, None),
    },
    # a big who passes more than most
    "playmaking big": {"AST_PER36": (0.4, None), "DREB_PER36": (0.75, None)},
    # boards at both ends, few shots, blocks not his game (a Rodman)
    "rebounding specialist": {
        "OREB_PER36": (0.75, None), "DREB_PER36": (0.75, None), "FGA_PER36": (None, -0.5),
        "BLK_PER36": (None, 0.5),
    },
    # pass first: assists far above the middle, shots at most around it
    "floor general": {"AST_PER36": (0.75, None), "FGA_PER36": (None, 0.4)},
}  # fmt: skip
# The examples (player-seasons of the bundled recordings), for illustration only: they
# are not a check, and the curated files in tests/data are not edited to fit.
EXAMPLES = {
    "rebounder who blocked little": ["Dennis Rodman|1996-97"],
    "stretch bigs": [
        "Dirk Nowitzki|2006-07", "Ryan Anderson|2011-12", "Rashard Lewis|2008-09",
        "Channing Frye|2009-10", "Brook Lopez|2018-19",
    ],
    "playmaking bigs": [
        "Nikola Jokić|2021-22", "Arvydas Sabonis|1996-97", "Chris Webber|2000-01",
        "Draymond Green|2015-16", "Domantas Sabonis|2021-22",
    ],
    "shooting point guards": ["Steve Nash|2006-07", "Stephen Curry|2015-16"],
}  # fmt: skip
NEAREST_OF = ["Steve Nash|2006-07", "Stephen Curry|2015-16"]


def players() -> pd.DataFrame:
    """Eligible players of the bundled seasons, as a training reads them."""
    from common.storage import DataDir
    from workers.train.dataset import load_training_data

    with tempfile.TemporaryDirectory(prefix="bench-style-spaces-") as tmp:
        seed_seasons(Path(tmp))
        return load_training_data(DataDir(Path(tmp))).players


# --- the spaces ---------------------------------------------------------------------------


def season_scores(values: np.ndarray, seasons: np.ndarray) -> np.ndarray:
    """Normal score of the rank within the season, as ``features.style_space`` does (ties
    share their average rank). ``values``: (rows,) or (rows, columns)."""
    frame = pd.DataFrame(np.asarray(values, dtype="float64").reshape(len(seasons), -1))
    ranks = frame.groupby(seasons).rank(method="average").to_numpy()
    sizes = pd.Series(seasons).map(pd.Series(seasons).value_counts()).to_numpy()[:, np.newaxis]
    scores = ndtri((ranks - 0.5) / sizes)
    return scores[:, 0] if np.ndim(values) == 1 else scores


def fan_inputs(
    table: pd.DataFrame, prior_3pa: float = PRIOR_3PA, prior_fta: float = PRIOR_FTA
) -> dict[str, np.ndarray]:
    """The added inputs, each era-adjusted (normal score of the rank within the season):
    shooting skill as the product computes it for its comparisons (with these priors), and
    the two measures of scoring load."""
    from common.settings import Settings
    from workers.train.features import shooting_skills

    seasons = table["SEASON"].astype(str).to_numpy()
    priors = {"FG3_PCT": ("FG3A_PER36", prior_3pa), "FT_PCT": ("FTA_PER36", prior_fta)}
    shooting = shooting_skills(table, Settings().playoff_weight, priors)
    usage = table["FGA_PER36"] + 0.44 * table["FTA_PER36"] + table["TOV_PER36"]
    load = {
        "PTS": table["PTS_PER36"].fillna(0.0).to_numpy(),
        "USG": usage.fillna(0.0).to_numpy(),
    }
    return {
        "3P": shooting[:, 0],
        "FT": shooting[:, 1],
        **{name: season_scores(values, seasons) for name, values in load.items()},
    }


def with_inputs(
    base: np.ndarray, inputs: dict[str, np.ndarray], weights: dict[str, float]
) -> np.ndarray:
    """The style space with ``inputs`` appended as columns, each times its weight."""
    added = [weights[name] * inputs[name] for name in weights if weights[name]]
    return np.column_stack([base, *added])


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
    fan = fan_inputs(table)
    tuned = fan_inputs(table, prior_3pa=25, prior_fta=50)  # best of --grid (see docstring)
    half = 1 / np.sqrt(2)  # a two-feature block counts as one feature
    return {
        "z-scores over all seasons (no era)": z(FEATURES, by_season=False),
        "z-scores within each season": z(FEATURES, by_season=True),
        BASELINE: ranked,
        "same, decorrelated (PCA whitening)": whitened,
        "same, correlated blocks down-weighted": ranked * block_weights,
        "the 4 features of the first version": z(FIRST_VERSION_FEATURES, by_season=True),
        "+ 3P% (shrunk, 100 3PA)": with_inputs(ranked, fan, {"3P": 1}),
        "+ FT% (shrunk, 50 FTA)": with_inputs(ranked, fan, {"FT": 1}),
        "+ shooting skill (3P% and FT%)": with_inputs(ranked, fan, {"3P": 1, "FT": 1}),
        "+ shooting skill, block weight 1/√2": with_inputs(ranked, fan, {"3P": half, "FT": half}),
        "+ shooting skill, block weight 1.5": with_inputs(ranked, fan, {"3P": 1.5, "FT": 1.5}),
        "+ scoring load (PTS/36)": with_inputs(ranked, fan, {"PTS": 1}),
        "+ scoring load (usage proxy)": with_inputs(ranked, fan, {"USG": 1}),
        "+ shooting skill and PTS/36": with_inputs(ranked, fan, {"3P": 1, "FT": 1, "PTS": 1}),
        "tuned on the curated set (ceiling)": with_inputs(
            ranked, tuned, {"3P": 2, "FT": 1.5, "PTS": 1}
        ),
    }


# --- the curated comparisons -------------------------------------------------------------


@dataclass(frozen=True)
class Comparisons:
    """The curated pairs, both directions, as row indices of the table."""

    me: np.ndarray
    them: np.ndarray
    pools: list[np.ndarray]  # rows of the season the other player is ranked in
    labels: list[str]

    @classmethod
    def of(cls, table: pd.DataFrame) -> Comparisons:
        where = row_index(table)
        seasons = table["SEASON"].astype(str).to_numpy()
        me, them, pools, labels = [], [], [], []
        with COMPARISONS.open() as handle:
            for row in csv.DictReader(handle):
                a = f"{row['player']}|{row['season']}"
                b = f"{row['comparable']}|{row['comparable_season']}"
                for x, y, season in ((a, b, row["comparable_season"]), (b, a, row["season"])):
                    me.append(where[x])
                    them.append(where[y])
                    pools.append(np.flatnonzero(seasons == season))
                    labels.append(f"{x} -> {y}")
        return cls(np.array(me), np.array(them), pools, labels)

    def ranks(self, X: np.ndarray) -> np.ndarray:
        """Rank of the other player among every player of his season (1 = nearest)."""
        out = np.empty(len(self.me), dtype=np.int64)
        for n, (i, j, pool) in enumerate(zip(self.me, self.them, self.pools, strict=True)):
            distances = np.linalg.norm(X[pool] - X[i], axis=1)
            out[n] = 1 + int((distances < np.linalg.norm(X[j] - X[i])).sum())
        return out


def row_index(table: pd.DataFrame) -> dict[str, int]:
    key = table["PLAYER_NAME"].astype(str) + "|" + table["SEASON"].astype(str)
    return {k: i for i, k in enumerate(key)}


def comparison_ranks(table: pd.DataFrame, X: np.ndarray) -> np.ndarray:
    return Comparisons.of(table).ranks(X)


def nearest(table: pd.DataFrame, X: np.ndarray, who: str, n: int = 3) -> list[str]:
    """The ``n`` nearest player-seasons over every season, the player's own left out (as
    ``common/similarity.py`` does)."""
    i = row_index(table)[who]
    distances = np.linalg.norm(X - X[i], axis=1)
    others = table["PLAYER_ID"].to_numpy() != table["PLAYER_ID"].iloc[i]
    order = [j for j in np.argsort(distances, kind="stable") if others[j]][:n]
    return [f"{table['PLAYER_NAME'].iloc[j]} {table['SEASON'].iloc[j]}" for j in order]


def grid(table: pd.DataFrame, comparisons: Comparisons) -> dict[str, Any]:
    """Every setting of prior attempts and weights of the added inputs: how many reach the
    target hit rate, and the best few. Tuned on the check itself: a ceiling, not a choice."""
    from workers.train.features import style_space

    base = style_space(table)
    priors = {
        (p3, pft): fan_inputs(table, p3, pft)
        for p3 in (25, 50, 100, 200, 400)
        for pft in (12, 25, 50, 100, 200)
    }
    results = []
    for (p3, pft), inputs in priors.items():
        for w3, wft, wload in itertools.product(
            (0, 0.5, 1, 1.5, 2), (0, 0.5, 1, 1.5, 2), (0, 0.5, 1)
        ):
            for load in ("PTS", "USG") if wload else ("PTS",):
                X = with_inputs(base, inputs, {"3P": w3, "FT": wft, load: wload})
                ranks = comparisons.ranks(X)
                results.append(
                    {
                        "prior_3pa": p3,
                        "prior_fta": pft,
                        "w_3p": w3,
                        "w_ft": wft,
                        "load": load if wload else "-",
                        "w_load": wload,
                        "top10_hit_rate": float(np.mean(ranks <= 10)),
                        "median_rank": float(np.median(ranks)),
                    }
                )
    results.sort(key=lambda r: (-r["top10_hit_rate"], r["median_rank"]))
    return {
        "settings": len(results),
        "reaching_target": sum(r["top10_hit_rate"] >= TARGET_HIT_RATE for r in results),
        "best": results[:5],
    }


# --- stability, held-out seasons, sub-roles ----------------------------------------------


def stability(X: np.ndarray) -> dict[str, Any]:
    """Per k: the weakest archetype's bootstrap Jaccard, seed ARI and permutation gap; and
    the candidate the training would select (the largest stable k)."""
    from workers.train.candidates import candidate_grid
    from workers.train.scoring import evaluate, select_winner

    evaluations = [evaluate(candidate, X) for candidate in candidate_grid(0)]
    winner = select_winner(evaluations)
    return {
        "by_k": {
            f"k{e.n_clusters}": {
                "min_jaccard": e.min_jaccard,
                "seed_ari": e.seed_ari,
                "permutation_gap": e.permutation_gap,
                "stable": e.stable,
            }
            for e in evaluations
        },
        "stable_k": [e.n_clusters for e in evaluations if e.stable],
        "chosen_k": winner.n_clusters,
        "chosen_stable": winner.stable,
        "min_jaccard": winner.min_jaccard,
        "seed_ari": winner.seed_ari,
        "permutation_gap": winner.permutation_gap,
        "_winner": winner,
    }


def held_out(table: pd.DataFrame, X: np.ndarray, full_labels: np.ndarray) -> dict[str, Any]:
    """The selection on the seasons up to LAST_FITTED; later seasons assigned by its model and
    compared with the full selection's labels (benchmarks/archetypes.py ``held_out``)."""
    from sklearn.metrics import adjusted_rand_score

    from workers.train.candidates import candidate_grid
    from workers.train.scoring import evaluate_all, select_winner

    later = (table["SEASON"].astype(str) > LAST_FITTED).to_numpy()
    early = select_winner(evaluate_all(candidate_grid(0), X[~later]))
    assigned = early.model.predict(X[later])
    return {
        "held_out_k": early.n_clusters,
        "held_out_ari": float(adjusted_rand_score(full_labels[later], assigned)),
        "held_out_players": int(later.sum()),
    }


def sub_roles(X: np.ndarray, labels: np.ndarray, names: dict[int, str]) -> list[dict[str, Any]]:
    """Per archetype: k-means with 2 and 3 sub-roles on its members, scored by the training's
    own rules; the largest stable sub-k is kept (none: the archetype is not split)."""
    from workers.train.candidates import Candidate
    from workers.train.scoring import evaluate

    out = []
    for archetype in range(int(labels.max()) + 1):
        rows = np.flatnonzero(labels == archetype)
        tried = []
        for k in SUB_ROLE_COUNTS:
            e = evaluate(Candidate(k, 0), X[rows])
            tried.append(
                {
                    "k": k,
                    "min_jaccard": e.min_jaccard,
                    "seed_ari": e.seed_ari,
                    "permutation_gap": e.permutation_gap,
                    "stable": e.stable,
                    "centroids": e.model.cluster_centers_,
                    "labels": e.labels,
                    "rows": rows,
                }
            )
        stable = [t for t in tried if t["stable"]]
        out.append(
            {
                "archetype": archetype,
                "name": names[archetype],
                "size": len(rows),
                "tried": tried,
                "kept": stable[-1] if stable else None,
            }
        )
    return out


def fits(centroid: np.ndarray, signature: dict[str, tuple[float | None, float | None]]) -> bool:
    from common.style import FEATURES

    by_feature = dict(zip(FEATURES, centroid[: len(FEATURES)], strict=True))
    return all(
        (low is None or by_feature[f] >= low) and (high is None or by_feature[f] <= high)
        for f, (low, high) in signature.items()
    )


def fan_roles_found(
    centroids: np.ndarray, roles: list[dict[str, Any]], names: dict[int, str]
) -> dict[str, list[str]]:
    """Per fan role: the stable archetypes and kept sub-roles whose centroid fits it."""
    found: dict[str, list[str]] = {}
    for role, signature in FAN_ROLES.items():
        hits = [
            f"archetype {names[c]}" for c in range(len(centroids)) if fits(centroids[c], signature)
        ]
        for r in roles:
            kept = r["kept"]
            if kept is not None:
                hits += [
                    f"sub-role {r['name']} {s + 1}/{kept['k']}"
                    for s, c in enumerate(kept["centroids"])
                    if fits(c, signature)
                ]
        found[role] = hits
    return found


def where_examples(
    table: pd.DataFrame,
    X: np.ndarray,
    winner: Any,
    names: dict[int, str],
    roles: list[dict[str, Any]],
) -> dict[str, str]:
    """Each example's archetype with his membership share, and his kept sub-role if any."""
    from workers.train.assignments import memberships

    where = row_index(table)
    shares = memberships(X, winner.model.cluster_centers_)
    out = {}
    for who in itertools.chain.from_iterable(EXAMPLES.values()):
        if who not in where:
            out[who] = "not in the bundled seasons"
            continue
        i = where[who]
        archetype = int(winner.labels[i])
        text = f"{names[archetype]} ({shares[i, archetype]:.0%})"
        kept = roles[archetype]["kept"]
        if kept is not None:
            sub = int(kept["labels"][np.flatnonzero(kept["rows"] == i)[0]])
            text += f", sub-role {sub + 1}/{kept['k']}"
        out[who] = text
    return out


def role_group_shares(table: pd.DataFrame, labels: np.ndarray, names: dict[int, str]) -> dict:
    """The curated role groups (tests/data/role_groups.csv): each group's largest share in one
    archetype, and that archetype."""
    where = row_index(table)
    groups = pd.read_csv(ROLE_GROUPS)
    out = {}
    for group, members in groups.groupby("group"):
        got = [
            int(labels[where[f"{p}|{s}"]])
            for p, s in zip(members.player, members.season, strict=True)
        ]
        values, counts = np.unique(got, return_counts=True)
        out[group] = f"{counts.max()}/{len(got)} {names[int(values[np.argmax(counts)])]}"
    return out


def study(table: pd.DataFrame, name: str, X: np.ndarray, figures: dict[str, Any]) -> None:
    """Held-out seasons, sub-roles, fan roles and examples of one space (needs --stability)."""
    from workers.train.profiles import name_archetypes

    winner = figures["_winner"]
    centroids = winner.model.cluster_centers_
    names = name_archetypes(centroids[:, : len(BLOCKS)])
    emit(f"\n== {name} (k = {winner.n_clusters}) ==")
    figures |= held_out(table, X, winner.labels)
    emit(
        f"held-out seasons: selection on seasons ≤ {LAST_FITTED} picks k = "
        f"{figures['held_out_k']}, ARI with the full selection {figures['held_out_ari']:.3f} "
        f"({figures['held_out_players']} players)"
    )
    roles = sub_roles(X, winner.labels, names)
    emit(f"{'archetype':26} {'size':>5}  sub-roles: k weakest J / seed ARI / gap")
    for r in roles:
        cells = "; ".join(
            f"{t['k']}: {t['min_jaccard']:.2f} / {t['seed_ari']:.2f} / {t['permutation_gap']:.2f}"
            f"{' stable' if t['stable'] else ''}"
            for t in r["tried"]
        )
        emit(f"{r['name']:26} {r['size']:5}  {cells}")
    figures["sub_roles"] = [
        {
            "archetype": r["name"],
            "size": r["size"],
            "kept": r["kept"]["k"] if r["kept"] else None,
            "tried": [
                {k: v for k, v in t.items() if k not in ("centroids", "labels", "rows")}
                for t in r["tried"]
            ],
        }
        for r in roles
    ]
    found = fan_roles_found(centroids, roles, names)
    figures["fan_roles"] = found
    for role, hits in found.items():
        emit(
            f"fan role {role:22} {', '.join(hits) or 'not found as a stable archetype or sub-role'}"
        )
    figures["role_groups"] = role_group_shares(table, winner.labels, names)
    emit(
        "curated role groups (largest share in one archetype): "
        + "; ".join(f"{g} {s}" for g, s in figures["role_groups"].items())
    )
    figures["examples"] = where_examples(table, X, winner, names, roles)
    for who, text in figures["examples"].items():
        emit(f"  {who.replace('|', ' '):28} {text}")


def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--stability", action="store_true", help="also k-means stability etc.")
    cli.add_argument("--grid", action="store_true", help="also the tuned ceiling")
    cli.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="only the spaces whose name contains TEXT (repeatable)",
    )
    args = cli.parse_args()
    table = players()
    comparisons = Comparisons.of(table)
    candidates = {
        n: X
        for n, X in spaces(table).items()
        if not args.only or n == BASELINE or any(t in n for t in args.only)
    }
    emit(
        f"{'space':40} {'top-10 hit':>10} {'median rank':>12}"
        + (
            f" {'k':>3} {'weakest J':>9} {'seed ARI':>8} {'gap':>5}  stable k"
            if args.stability
            else ""
        )
    )
    measure: Callable[[np.ndarray], dict] = stability if args.stability else lambda X: {}
    figures: dict[str, Any] = {}
    for name, X in candidates.items():
        ranks = comparisons.ranks(X)
        hits, median = float(np.mean(ranks <= 10)), float(np.median(ranks))
        figures[name] = {
            "top10_hit_rate": hits,
            "median_rank": median,
            "ranks": ranks.tolist(),
        } | measure(X)
        s = figures[name]
        line = f"{name:40} {hits:10.2f} {median:12.1f}"
        if args.stability:
            line += (
                f" {s['chosen_k']:3} {s['min_jaccard']:9.2f} {s['seed_ari']:8.3f} "
                f"{s['permutation_gap']:5.2f}  {', '.join(map(str, s['stable_k'])) or 'none'}"
            )
        emit(line)
    emit("\nper comparison (rank of the other player among his season's players):")
    shown = [BASELINE, *(n for n in candidates if n.startswith("+") or "ceiling" in n)]
    emit(f"{'':62}" + "".join(f"{i:>4}" for i in range(len(shown))))
    for c, label in enumerate(comparisons.labels):
        emit(f"{label:62}" + "".join(f"{figures[n]['ranks'][c]:4}" for n in shown))
    emit("columns: " + "; ".join(f"{i} {n}" for i, n in enumerate(shown)))
    # The fan-role spaces, best first: stable (when measured), then hit rate, then median rank.
    fan = sorted(
        (n for n in candidates if n.startswith("+")),
        key=lambda n: (
            figures[n].get("chosen_stable", True),
            figures[n]["top10_hit_rate"],
            -figures[n]["median_rank"],
        ),
        reverse=True,
    )
    for name in dict.fromkeys([BASELINE, *fan[:1], *(n for n in candidates if "ceiling" in n)]):
        for who in NEAREST_OF:
            emit(
                f"nearest 3 of {who.replace('|', ' ')} in '{name}': "
                f"{'; '.join(nearest(table, candidates[name], who))}"
            )
    if args.stability:
        for name in [BASELINE, *fan[:2]]:
            study(table, name, candidates[name], figures[name])
    if args.grid:
        figures["grid"] = grid(table, comparisons)
        g = figures["grid"]
        emit(
            f"\ngrid: {g['settings']} settings tuned on the curated set, "
            f"{g['reaching_target']} reach a top-10 hit rate ≥ {TARGET_HIT_RATE}; best:"
        )
        for r in g["best"]:
            emit(f"  {r}")
    for f in figures.values():
        if isinstance(f, dict):
            f.pop("_winner", None)
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
