"""The candidate models a training tries: clusterer families over a hyperparameter grid.

Every candidate is the same three-step scikit-learn ``Pipeline``:

1. ``StandardScaler``: the features have different units (a share, counts per 36 minutes).
2. ``PCA(n_components=<variance fraction>, svd_solver="full")``: the fewest components keeping
   at least that share of the standardized variance. 0.70 gives two components on every season
   (76-78 % kept with the four features of workers/train/features.py), which is also the map the
   UI draws; 0.90 gives three (about 94 %). Clustering in the reduced space drops the noisy,
   least informative directions, which is what lets the clusters separate.
3. The clusterer. k-means and Gaussian mixtures predict new rows natively; Ward agglomerative
   and HDBSCAN cannot, so they are wrapped in :class:`NearestCentroidClusterer`.

k-means starts from the centroids of Ward's clustering (:func:`ward_centroids`, one run)
instead of k-means++ restarts. Player styles are a continuum, and k-means++ with 10 restarts
found a different near-optimal partition for each seed in 9 of the 27 seasons (inertia within
0.01 %, adjusted Rand index 0.56-0.93 between seeds' winners); the Ward start is deterministic,
as good (mean winning silhouette over the 27 seasons 0.380 versus 0.381) and faster. Gaussian
mixtures stay randomly initialized (seeded); scoring.select_winner checks they are reproducible.

Every fitted pipeline therefore has ``predict`` (assign a player, score a champion on new data)
and is saved with skops; :data:`SKOPS_TRUSTED_TYPES` lists the two names of this module skops
must be told to trust when loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

FAMILIES = ("kmeans", "gmm", "ward", "hdbscan")
VARIANCE_LEVELS = (0.70, 0.90)
CLUSTER_COUNTS = (5, 6, 7, 8)
# Ward builds a full pairwise-distance matrix: 9,000 rows (all seasons) is ~800 MiB and 3 s per
# fit. Above this many rows it runs on a subsample: seeded random for the Ward family (the other
# rows join the nearest centroid), evenly spaced for the k-means start. A single season (~360
# rows) is always used whole. Measured on all seasons: 2,000 rows keep the grid's peak at ~300
# MiB (3,000: ~360 MiB) for a winning silhouette of 0.370 (3,000: 0.371).
WARD_MAX_FIT_SAMPLES = 2000

# What skops.io.get_untrusted_types reports for fitted pipelines of every family (tested).
SKOPS_TRUSTED_TYPES: list[str] = [
    "workers.train.candidates.NearestCentroidClusterer",
    "workers.train.candidates.ward_centroids",
]


class NearestCentroidClusterer(ClusterMixin, BaseEstimator):
    """Give a transductive clusterer (Ward, HDBSCAN) a ``predict``.

    ``fit`` runs ``clusterer.fit_predict`` (on at most ``max_fit_samples`` rows drawn with
    ``random_state``; the other rows get their nearest centroid) and keeps those labels in
    ``labels_``, HDBSCAN's noise included as -1. ``predict`` assigns every row to the nearest
    cluster centroid (mean of the cluster's fitted points), so new rows are never noise. Only
    the centroids are kept, not the fitted inner clusterer: predicting needs nothing else, and
    the saved model stays small and made of trusted types.
    """

    def __init__(
        self,
        clusterer: BaseEstimator | None = None,
        *,
        max_fit_samples: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.clusterer = clusterer
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> NearestCentroidClusterer:
        X = validate_data(self, X, dtype=np.float64)
        n = X.shape[0]
        if self.max_fit_samples is not None and n > self.max_fit_samples:
            rng = np.random.default_rng(self.random_state)
            fit_rows = np.sort(rng.choice(n, size=self.max_fit_samples, replace=False))
        else:
            fit_rows = np.arange(n)
        fitted_labels = np.asarray(clone(self.clusterer).fit_predict(X[fit_rows]), dtype=np.int64)
        cluster_ids = np.unique(fitted_labels[fitted_labels >= 0])
        self.cluster_centers_ = np.array(
            [X[fit_rows][fitted_labels == c].mean(axis=0) for c in cluster_ids]
        ).reshape(len(cluster_ids), X.shape[1])
        self.cluster_ids_ = cluster_ids
        labels = self._nearest(X) if len(fit_rows) < n else np.empty(n, dtype=np.int64)
        labels[fit_rows] = fitted_labels
        self.labels_ = labels
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "cluster_centers_")
        return self._nearest(validate_data(self, X, dtype=np.float64, reset=False))

    def _nearest(self, X: np.ndarray) -> np.ndarray:
        if len(self.cluster_ids_) == 0:  # everything was noise: nothing to join
            return np.full(X.shape[0], -1, dtype=np.int64)
        # Squared distances via the expansion |x|^2 - 2 x.c + |c|^2: (n, k) memory, not (n, k, d).
        distances = (
            np.einsum("ij,ij->i", X, X)[:, np.newaxis]
            - 2.0 * X @ self.cluster_centers_.T
            + np.einsum("ij,ij->i", self.cluster_centers_, self.cluster_centers_)
        )
        return self.cluster_ids_[np.argmin(distances, axis=1)]


def ward_centroids(X: np.ndarray, n_clusters: int, random_state: object = None) -> np.ndarray:
    """k-means initialization (``KMeans(init=ward_centroids)``): the centroids of Ward's
    clustering of ``X``, or of :data:`WARD_MAX_FIT_SAMPLES` evenly spaced rows of it when it
    is larger (all seasons: Ward's distance matrix on every row would take ~800 MiB); k-means
    then refines them on every row.

    Deterministic on purpose: ``random_state`` (passed by KMeans) is ignored. A seeded random
    sample (3,000 rows) made the all-seasons winners of seeds 0/1/2 agree at ARI 0.953-0.959; the
    evenly spaced sample (rows come ordered by season and player id, so it is a systematic
    sample of every season) makes them identical.
    """
    X = np.asarray(X, dtype=np.float64)
    if len(X) > WARD_MAX_FIT_SAMPLES:
        X = X[np.unique(np.linspace(0, len(X) - 1, WARD_MAX_FIT_SAMPLES).round().astype(int))]
    labels = AgglomerativeClustering(n_clusters=n_clusters, linkage="ward").fit_predict(X)
    return np.array([X[labels == c].mean(axis=0) for c in range(n_clusters)])


@dataclass(frozen=True)
class Candidate:
    """One model to try: a name unique in the grid (the same for every seed), its family, and
    the parameters ``build`` needs (``variance``: PCA variance fraction; the clusterer's own
    parameters; ``random_state``: the training seed, where the family is random)."""

    name: str
    family: str
    params: dict[str, object] = field(hash=False)

    def build(self) -> Pipeline:
        """A fresh, unfitted pipeline: scaler → PCA → clusterer."""
        params = dict(self.params)
        variance = float(params.pop("variance"))  # type: ignore[arg-type]
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("reduce", PCA(n_components=variance, svd_solver="full")),
                ("cluster", _clusterer(self.family, params)),
            ]
        )


def _clusterer(family: str, params: dict[str, object]) -> BaseEstimator:
    seed = params.pop("random_state", None)
    if family == "kmeans":
        return KMeans(**params, init=ward_centroids, n_init=1, random_state=seed)  # type: ignore[arg-type]
    if family == "gmm":
        return GaussianMixture(**params, n_init=3, random_state=seed)  # type: ignore[arg-type]
    if family == "ward":
        return NearestCentroidClusterer(
            AgglomerativeClustering(**params, linkage="ward"),  # type: ignore[arg-type]
            max_fit_samples=WARD_MAX_FIT_SAMPLES,
            random_state=seed,  # type: ignore[arg-type]
        )
    if family == "hdbscan":
        return NearestCentroidClusterer(HDBSCAN(**params, copy=True))  # type: ignore[arg-type]
    raise ValueError(f"unknown clusterer family {family!r}; expected one of {FAMILIES}")


def candidate_grid(seed: int) -> list[Candidate]:
    """The 40 candidates of a training, in a fixed order; ``seed`` only seeds the random ones.

    - k-means (Ward-initialized), k = 5..8, at both PCA variance levels (8);
    - Gaussian mixture, k = 5..8, full or diagonal covariances, both levels (16);
    - Ward agglomerative, k = 5..8, both levels (8);
    - HDBSCAN, min_cluster_size 5/10/20/40 x min_samples 3/10, two components (8).
      Player styles form a continuum without density gaps, so HDBSCAN mostly answers with
      few clusters and much noise and is rejected; it stays in the grid to show that, and to
      win if a season ever does have well-separated dense groups.
    """
    grid: list[Candidate] = []
    for variance in VARIANCE_LEVELS:
        dims = f"v{round(variance * 100)}"
        for k in CLUSTER_COUNTS:
            grid.append(
                Candidate(
                    f"kmeans-k{k}-{dims}",
                    "kmeans",
                    {"variance": variance, "n_clusters": k, "random_state": seed},
                )
            )
            for covariance in ("full", "diag"):
                grid.append(
                    Candidate(
                        f"gmm-{covariance}-k{k}-{dims}",
                        "gmm",
                        {
                            "variance": variance,
                            "n_components": k,
                            "covariance_type": covariance,
                            "random_state": seed,
                        },
                    )
                )
            grid.append(
                Candidate(
                    f"ward-k{k}-{dims}",
                    "ward",
                    {"variance": variance, "n_clusters": k, "random_state": seed},
                )
            )
    for min_cluster_size in (5, 10, 20, 40):
        for min_samples in (3, 10):
            grid.append(
                Candidate(
                    f"hdbscan-mcs{min_cluster_size}-ms{min_samples}-v70",
                    "hdbscan",
                    {
                        "variance": 0.70,
                        "min_cluster_size": min_cluster_size,
                        "min_samples": min_samples,
                    },
                )
            )
    return grid
