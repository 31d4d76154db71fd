"""Score candidates honestly and let the data choose the number of archetypes.

Every candidate, and the current champion, is scored on the same rows in one fixed space:
the style space itself (``features.style_space``), never a candidate's own reduction. What
is rewarded is what holds up:

- **Bootstrap stability per archetype** (Hennig's clusterboot): the model is refit on
  :data:`N_BOOTSTRAP` bootstrap samples; each archetype's Jaccard with its best-matching
  cluster of each refit (over the sampled players) is averaged. Hennig's rule of thumb: ≥ 0.75
  stable, ≤ 0.5 dissolved. The weakest archetype decides (``min_jaccard``).
- **Agreement across seeds**: refits with :data:`REFERENCE_SEEDS` must give the same partition
  (lowest adjusted Rand index over all pairs ≥ :data:`MIN_SEED_ARI`).
- **Structure beyond chance**: the same method on column-permuted data (each feature shuffled
  on its own, which keeps every marginal but destroys how features go together) must explain
  clearly less of the variance: ``permutation_gap`` = R² (real) - R² (permuted), with
  R² = 1 - within-cluster / total sum of squares.

Silhouette (sampled, in the full style space), Calinski-Harabasz and Davies-Bouldin are
reported for the record, never targeted: they favour fewer, coarser clusters.

Selection (:func:`select_winner`): among stable candidates, the one with the most archetypes
(finer archetypes answer "what kind of player is he?" better, as long as each one is real);
if none is stable, the one whose weakest archetype is the most stable, flagged in the logs.
Bootstrap samples and reference seeds are fixed, not drawn from the training seed, so a score
is a function of the data and the partition.

Each fit runs single-threaded (threadpoolctl): on ~9,000 x 10 rows BLAS/OpenMP threads only
add synchronization, and their spin-waiting slows a busy 2-core host several times over. The
refits of the checks run side by side on a few threads instead (``_parallel``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from sklearn import config_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from threadpoolctl import ThreadpoolController

from workers.train.candidates import Candidate

N_BOOTSTRAP = 20
BOOTSTRAP_SEED = 0
REFERENCE_SEEDS = (0, 1, 2)
PERMUTATION_SEED = 0
MIN_JACCARD = 0.75  # Hennig: a cluster below this is not reliably recovered
MIN_SEED_ARI = 0.95
MIN_PERMUTATION_GAP = 0.05
SILHOUETTE_SAMPLE_ROWS = 3000
SILHOUETTE_WORKING_MIB = 16
REFIT_THREADS = max(1, min(4, os.cpu_count() or 1))
T = TypeVar("T")
R = TypeVar("R")


class NoViableCandidateError(ValueError):
    """Every candidate of a training failed to fit; the message lists why."""


@dataclass
class Evaluation:
    """One fitted model scored on one table (a candidate, or the champion on new data)."""

    name: str
    model: KMeans | None  # fitted; None only if fitting failed
    labels: np.ndarray  # one per row
    jaccard: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per archetype (id order)
    seed_ari: float = 0.0
    permutation_gap: float = 0.0
    silhouette: float | None = None
    calinski_harabasz: float | None = None
    davies_bouldin: float | None = None
    seconds: float = 0.0
    failed: str | None = None  # why it could not be fit
    candidate: Candidate | None = None  # None for a champion scored again

    @property
    def n_clusters(self) -> int:
        return len(self.jaccard)

    @property
    def min_jaccard(self) -> float:
        return float(self.jaccard.min()) if len(self.jaccard) else 0.0

    @property
    def mean_jaccard(self) -> float:
        return float(self.jaccard.mean()) if len(self.jaccard) else 0.0

    @property
    def unstable_because(self) -> str | None:
        """Why the partition does not hold up, or None when it does."""
        if self.failed:
            return self.failed
        reasons = []
        if self.min_jaccard < MIN_JACCARD:
            weakest = int(np.argmin(self.jaccard))
            reasons.append(
                f"archetype {weakest} bootstrap Jaccard {self.min_jaccard:.2f} < {MIN_JACCARD}"
            )
        if self.seed_ari < MIN_SEED_ARI:
            reasons.append(f"seed ARI {self.seed_ari:.3f} < {MIN_SEED_ARI}")
        if self.permutation_gap < MIN_PERMUTATION_GAP:
            reasons.append(f"permutation gap {self.permutation_gap:.3f} < {MIN_PERMUTATION_GAP}")
        return "; ".join(reasons) or None

    @property
    def stable(self) -> bool:
        return self.unstable_because is None

    def selection_key(self) -> tuple[bool, int, float]:
        """Higher is better: stable first, then more archetypes, then steadier ones."""
        return (self.stable, self.n_clusters if self.stable else 0, self.mean_jaccard)

    def metrics(self) -> dict[str, float]:
        """The numeric results, NaN for undefined ones (ready for a metrics logger)."""
        return {
            "n_clusters": float(self.n_clusters),
            "min_jaccard": self.min_jaccard,
            "mean_jaccard": self.mean_jaccard,
            "seed_ari": self.seed_ari,
            "permutation_gap": self.permutation_gap,
            "silhouette": _nan(self.silhouette),
            "calinski_harabasz": _nan(self.calinski_harabasz),
            "davies_bouldin": _nan(self.davies_bouldin),
            "fit_seconds": self.seconds,
        }


def evaluate(candidate: Candidate, X: np.ndarray) -> Evaluation:
    """Fit ``candidate`` on ``X`` (style-space rows) and score its partition."""
    start = time.perf_counter()
    with _single_threaded(), _quiet():
        try:
            model = candidate.build().fit(X)
        except Exception as exc:  # one broken candidate must not sink the whole training
            return Evaluation(
                candidate.name,
                None,
                np.full(len(X), -1),
                failed=f"fit failed: {type(exc).__name__}: {exc}",
                candidate=candidate,
            )
        evaluation = _score(candidate.name, model, X, candidate.k)
    evaluation.candidate = candidate
    evaluation.seconds = time.perf_counter() - start
    return evaluation


def evaluate_all(candidates: Iterable[Candidate], X: np.ndarray) -> list[Evaluation]:
    return [evaluate(c, X) for c in candidates]


def evaluate_fitted(name: str, model: KMeans, X: np.ndarray) -> Evaluation:
    """Score an already-fitted model (the champion) on ``X`` exactly as a candidate is scored:
    its partition of these rows is ``predict``; stability refits its method (k-means, its k)."""
    start = time.perf_counter()
    with _single_threaded(), _quiet():
        evaluation = _score(name, model, X, int(model.n_clusters))
    evaluation.seconds = time.perf_counter() - start
    return evaluation


def select_winner(evaluations: Sequence[Evaluation]) -> Evaluation:
    """The stable candidate with the most archetypes, else the steadiest (module docstring)."""
    fitted = [e for e in evaluations if e.model is not None]
    if not fitted:
        detail = "; ".join(f"{e.name}: {e.failed}" for e in evaluations) or "no candidates"
        raise NoViableCandidateError(f"every candidate failed ({detail})")
    stable = [e for e in fitted if e.stable]
    if stable:
        return max(stable, key=lambda e: (e.n_clusters, e.mean_jaccard))
    return max(fitted, key=lambda e: (e.min_jaccard, e.mean_jaccard, -e.n_clusters))


def _score(name: str, model: KMeans, X: np.ndarray, k: int) -> Evaluation:
    labels = np.asarray(model.predict(X), dtype=np.int64)
    silhouette, ch, db = _separation(X, labels)
    return Evaluation(
        name,
        model,
        labels,
        jaccard=bootstrap_jaccard(X, labels, k),
        seed_ari=seed_agreement(X, labels, k),
        permutation_gap=permutation_gap(X, labels, k),
        silhouette=silhouette,
        calinski_harabasz=ch,
        davies_bouldin=db,
    )


def _fit(k: int, seed: int, X: np.ndarray) -> KMeans:
    """The candidates' method (k-means, k clusters) refit on ``X`` with ``seed``."""
    with _single_threaded(), _quiet():  # per thread: OpenMP limits are thread-local
        return Candidate(k, seed).build().fit(X)


def _parallel(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(item) for item in items]`` on :data:`REFIT_THREADS` threads, in order.

    k-means' inner loops release the GIL, so refits on threads use every core (measured: 8
    fits 4.2 s serial, 2.1 s on 2 threads) without the start-up and memory of processes."""
    with ThreadPoolExecutor(REFIT_THREADS) as pool:
        return list(pool.map(function, items))


def bootstrap_jaccard(
    X: np.ndarray, labels: np.ndarray, k: int, n_boot: int = N_BOOTSTRAP
) -> np.ndarray:
    """Per archetype of ``labels`` (ids 0..k-1): mean Jaccard with its best match in refits of
    k-means on bootstrap samples, over the distinct sampled rows (Hennig 2007)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples = [rng.integers(0, len(X), len(X)) for _ in range(n_boot)]

    def jaccard_of(b: int) -> np.ndarray:
        refit = _fit(k, b + 1, X[samples[b]])
        rows = np.unique(samples[b])
        return _best_jaccard(labels[rows], refit.predict(X[rows]), k)

    per_refit = np.array(_parallel(jaccard_of, range(n_boot)))
    present = ~np.isnan(per_refit)
    totals, counts = np.where(present, per_refit, 0.0).sum(axis=0), present.sum(axis=0)
    return np.divide(totals, counts, out=np.zeros(k), where=counts > 0)


def _best_jaccard(reference: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each reference cluster, the largest Jaccard with any cluster of ``other``."""
    k_other = int(other.max()) + 1
    overlap = np.bincount(reference * k_other + other, minlength=k * k_other).reshape(k, -1)
    sizes = overlap.sum(axis=1)[:, np.newaxis]
    union = sizes + overlap.sum(axis=0)[np.newaxis, :] - overlap
    with np.errstate(invalid="ignore", divide="ignore"):
        best = (overlap / union).max(axis=1)
    return np.where(sizes[:, 0] > 0, best, np.nan)


def seed_agreement(X: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Lowest ARI between ``labels`` and refits with each reference seed, and among those."""
    refits = _parallel(lambda seed: _fit(k, seed, X).labels_, REFERENCE_SEEDS)
    runs = [labels, *refits]
    return min(float(adjusted_rand_score(a, b)) for a, b in itertools.combinations(runs, 2))


def permutation_gap(X: np.ndarray, labels: np.ndarray, k: int) -> float:
    """R² of ``labels`` on X minus R² of the same method fit on column-permuted X."""
    rng = np.random.default_rng(PERMUTATION_SEED)
    permuted = np.column_stack([rng.permutation(column) for column in X.T])
    null = _fit(k, REFERENCE_SEEDS[0], permuted)
    return explained_share(X, labels) - explained_share(permuted, null.labels_)


def explained_share(X: np.ndarray, labels: np.ndarray) -> float:
    """R² of a partition: 1 - within-cluster sum of squares / total sum of squares."""
    total = float(np.sum((X - X.mean(axis=0)) ** 2))
    within = sum(
        float(np.sum((X[labels == c] - X[labels == c].mean(axis=0)) ** 2))
        for c in np.unique(labels)
    )
    return 1.0 - within / total if total > 0 else 0.0


def _separation(X: np.ndarray, labels: np.ndarray) -> tuple[float | None, ...]:
    """Silhouette (exact up to SILHOUETTE_SAMPLE_ROWS rows, else a fixed sample), CH, DB."""
    if not 2 <= len(np.unique(labels)) < len(X):
        return None, None, None
    sample = SILHOUETTE_SAMPLE_ROWS if len(X) > SILHOUETTE_SAMPLE_ROWS else None
    # Pairwise distances in chunks of at most SILHOUETTE_WORKING_MIB: same result, less memory.
    with config_context(working_memory=SILHOUETTE_WORKING_MIB):
        silhouette = float(silhouette_score(X, labels, sample_size=sample, random_state=0))
    return (
        silhouette,
        float(calinski_harabasz_score(X, labels)),
        float(davies_bouldin_score(X, labels)),
    )


@dataclass(frozen=True)
class MapProjection:
    """The map of the style space: its first two principal components (for drawing only;
    nothing is computed in them), measured on a model's rows and kept with the served model so
    a row sent to it lands where the app draws it."""

    mean: np.ndarray  # (features,)
    components: np.ndarray  # (2, features)
    signs: np.ndarray  # (2,): each axis' sign, fixed so the map does not flip between trainings

    @classmethod
    def fit(cls, X: np.ndarray) -> MapProjection:
        mean = X.mean(axis=0)
        _, _, components = np.linalg.svd(X - mean, full_matrices=False)
        signs = np.sign(components[:2].sum(axis=1))  # SVD's sign is arbitrary
        return cls(mean, components[:2], np.where(signs == 0, 1.0, signs))

    def apply(self, X: np.ndarray) -> np.ndarray:
        """(n, 2) map coordinates of ``X``."""
        return ((X - self.mean) @ self.components.T) * self.signs


@functools.cache
def _threadpools() -> ThreadpoolController:
    # Built once, on first use: threadpool_limits rescans loaded libraries on every call.
    return ThreadpoolController()


def _single_threaded() -> contextlib.AbstractContextManager[object]:
    return _threadpools().limit(limits=1)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
