"""The candidate models a training tries: k-means with 6 to 12 archetypes in the style space.

One family, chosen by measurement on the 27 bundled seasons: player styles form a continuum
without density gaps, so density methods (HDBSCAN) answer with few clusters and much noise,
and a full-covariance Gaussian mixture found a partition unlike k-means' (adjusted Rand index
0.29) whose shapes follow the correlated big-man block rather than roles. k-means on the
era-adjusted style space gives compact, readable archetypes, predicts new players natively,
and is cheap enough to refit the dozens of times honest stability checks need.

Ten k-means++ starts per fit (``n_init``): with fewer, different seeds settle in different
near-equal optima (seed ARI 0.63-0.94 at 4 starts); with ten the stable k agree at ≥ 0.96.
The number of archetypes is not a hyperparameter to tune for a score: the data chooses it in
``scoring.select_winner`` (the largest k whose every archetype is stable).
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.cluster import KMeans

CLUSTER_COUNTS = tuple(range(6, 13))
N_INIT = 10
# Types skops must trust to load a saved model: none beyond scikit-learn's own (tested).
SKOPS_TRUSTED_TYPES: list[str] = []


@dataclass(frozen=True)
class Candidate:
    """One model to try: its name (the same for every seed), k, and the training seed."""

    k: int
    seed: int

    @property
    def name(self) -> str:
        return f"kmeans-k{self.k}"

    @property
    def family(self) -> str:
        return "kmeans"

    @property
    def params(self) -> dict[str, object]:
        return {"n_clusters": self.k, "n_init": N_INIT, "random_state": self.seed}

    def build(self, seed: int | None = None) -> KMeans:
        """A fresh, unfitted model (``seed`` overrides the training seed, for refits)."""
        return KMeans(self.k, n_init=N_INIT, random_state=self.seed if seed is None else seed)


def candidate_grid(seed: int) -> list[Candidate]:
    """The candidates of a training, fewest archetypes first."""
    return [Candidate(k, seed) for k in CLUSTER_COUNTS]
