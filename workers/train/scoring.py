"""Fit and score candidates, reject degenerate ones, pick the winner.

Metrics are computed in the space the model was fit in (after scaling and PCA: the
``embedding``), on the points the model put in a cluster (HDBSCAN's noise, -1, is left out
and reported as ``noise_share``):

- silhouette (higher is better, -1..1): the selection metric;
- Calinski-Harabasz (higher is better) and Davies-Bouldin (lower is better), for the record.

Silhouette is O(n^2): up to :data:`SILHOUETTE_SAMPLE_ROWS` clustered rows it is exact; above
(all seasons together, ~9,000 rows) it is computed on a random sample of that many rows drawn
with the fixed :data:`SILHOUETTE_RANDOM_STATE`, whatever the training seed, so a score is a
deterministic function of the data and the labels.

Everything runs single-threaded (threadpoolctl, limit 1): the data is tiny (at most ~10k x 4),
so BLAS/OpenMP threads only add synchronization, and with another busy process on the 2 cores
their spin-waiting made the one-season grid 5-8x slower (1.1 s single-threaded, 6-9 s not).

A candidate is rejected (``Evaluation.rejected`` says why, all reasons joined) when:

- it failed to fit, or the silhouette is undefined;
- its PCA keeps less than :data:`MIN_VARIANCE_KEPT` of the feature variance;
- it found fewer than ``min_clusters`` clusters (fewer archetypes than the product shows);
- more than ``max_noise_share`` of the players are noise;
- a cluster holds less than :data:`MIN_CLUSTER_SHARE` of the players: a handful of outliers is
  not an archetype (and tiny clusters inflate silhouette).

Selection rule (:func:`select_winner`): candidates that are not rejected are ranked by
silhouette rounded to 4 decimals, ties going to fewer clusters, then to the name (names do not
depend on the seed). The first in that order that is also *stable* wins: its clusterer, refit
with the fixed reference seeds (:func:`seed_stability`, on the stored embedding), must give
the same partition as its own fit and as each other (adjusted Rand index >= :data:`MIN_SEED_ARI`
for every pair); a candidate that
fails is rejected as "unstable" and the next one is tried.

Why: player styles form a continuum, so a randomly initialized clusterer has many near-equal
optima (for k-means++: inertia within 0.01 %, ARI 0.5-0.99 between them) and its best
silhouette is partly the luck of the seed; the check keeps such a lucky draw from winning, so
trainings with different seeds pick the same archetypes. Deterministic candidates
(Ward-initialized k-means, Ward and HDBSCAN on one season) pass it by construction.
Same data and same seed give the same winner and labels.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController

from workers.train.candidates import Candidate

MIN_VARIANCE_KEPT = 0.70
MIN_CLUSTER_SHARE = 0.03
SILHOUETTE_SAMPLE_ROWS = 3000
SILHOUETTE_RANDOM_STATE = 0
SILHOUETTE_WORKING_MIB = 16
STABILITY_REFERENCE_SEEDS = (0, 1, 2)  # seed_stability refits with these
MIN_SEED_ARI = 0.95


class NoViableCandidateError(ValueError):
    """Every candidate of a training was rejected; the message lists why."""


@dataclass
class Evaluation:
    """One fitted and scored candidate. ``select_winner`` may set ``rejected`` ("unstable")
    and ``seed_ari`` on the evaluations it examines."""

    candidate: Candidate
    pipeline: Pipeline | None  # fitted; None only if fitting failed
    labels: np.ndarray  # fit labels, one per row; -1 = noise
    embedding: np.ndarray  # the rows in the fitted space: pipeline[:-1].transform(X)
    n_clusters: int
    noise_share: float
    silhouette: float | None
    calinski_harabasz: float | None
    davies_bouldin: float | None
    variance_kept: float  # share of the standardized feature variance the PCA keeps
    rejected: str | None = None  # why the candidate cannot win; None = eligible
    seconds: float = 0.0  # fit + scoring wall time
    seed_ari: float | None = None  # agreement with refits on other seeds (seed_stability)

    @property
    def name(self) -> str:
        return self.candidate.name

    def metrics(self) -> dict[str, float]:
        """The numeric results, NaN for undefined ones (ready for a metrics logger)."""
        return {
            "n_clusters": float(self.n_clusters),
            "noise_share": self.noise_share,
            "silhouette": _nan(self.silhouette),
            "calinski_harabasz": _nan(self.calinski_harabasz),
            "davies_bouldin": _nan(self.davies_bouldin),
            "variance_kept": self.variance_kept,
            "fit_seconds": self.seconds,
            "seed_ari": _nan(self.seed_ari),
        }


def evaluate(
    candidate: Candidate,
    X: pd.DataFrame | np.ndarray,
    *,
    min_clusters: int = 5,
    max_noise_share: float = 0.10,
) -> Evaluation:
    """Fit ``candidate`` on ``X`` (the feature frame), score it, and say whether it is viable."""
    with _single_threaded():
        return _evaluate(candidate, X, min_clusters=min_clusters, max_noise_share=max_noise_share)


def evaluate_all(
    candidates: Iterable[Candidate],
    X: pd.DataFrame | np.ndarray,
    *,
    min_clusters: int = 5,
    max_noise_share: float = 0.10,
) -> list[Evaluation]:
    """:func:`evaluate` every candidate, in order."""
    with _single_threaded():
        return [
            _evaluate(c, X, min_clusters=min_clusters, max_noise_share=max_noise_share)
            for c in candidates
        ]


def _evaluate(
    candidate: Candidate,
    X: pd.DataFrame | np.ndarray,
    *,
    min_clusters: int = 5,
    max_noise_share: float = 0.10,
) -> Evaluation:
    start = time.perf_counter()
    n = len(X)
    pipeline = candidate.build()
    try:
        # Degenerate data (e.g. identical rows: zero variance) makes PCA divide by zero and
        # k-means warn; the rejection reasons below say it instead.
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = np.asarray(pipeline.fit_predict(X), dtype=np.int64)
            embedding = pipeline[:-1].transform(X)
    except Exception as exc:  # one broken candidate must not sink the whole training
        return Evaluation(
            candidate, None, np.full(n, -1, dtype=np.int64), np.empty((n, 0)), 0, 1.0,
            None, None, None, 0.0, f"fit failed: {type(exc).__name__}: {exc}",
            time.perf_counter() - start,
        )  # fmt: skip

    variance_kept = _variance_kept(pipeline)
    clustered = labels >= 0
    cluster_ids, sizes = np.unique(labels[clustered], return_counts=True)
    n_clusters = len(cluster_ids)
    noise_share = float(1.0 - clustered.mean()) if n else 1.0
    silhouette = ch = db = None
    if 2 <= n_clusters < clustered.sum():
        points, point_labels = embedding[clustered], labels[clustered]
        silhouette = _silhouette(points, point_labels)
        ch = float(calinski_harabasz_score(points, point_labels))
        db = float(davies_bouldin_score(points, point_labels))

    reasons = []
    if variance_kept < MIN_VARIANCE_KEPT:
        reasons.append(f"PCA keeps {variance_kept:.2f} of the variance < {MIN_VARIANCE_KEPT}")
    if n_clusters < min_clusters:
        reasons.append(f"{n_clusters} clusters < {min_clusters}")
    if noise_share > max_noise_share:
        reasons.append(f"noise share {noise_share:.2f} > {max_noise_share}")
    if n_clusters and sizes.min() < MIN_CLUSTER_SHARE * n:
        reasons.append(
            f"smallest cluster has {sizes.min()} players ({sizes.min() / n:.1%})"
            f" < {MIN_CLUSTER_SHARE:.0%}"
        )
    if silhouette is None or not np.isfinite(silhouette):
        reasons.append("silhouette undefined")
    return Evaluation(
        candidate=candidate,
        pipeline=pipeline,
        labels=labels,
        embedding=embedding,
        n_clusters=n_clusters,
        noise_share=noise_share,
        silhouette=silhouette,
        calinski_harabasz=ch,
        davies_bouldin=db,
        variance_kept=variance_kept,
        rejected="; ".join(reasons) or None,
        seconds=time.perf_counter() - start,
    )


def select_winner(evaluations: Sequence[Evaluation], *, check_stability: bool = True) -> Evaluation:
    """The best viable candidate (rule in the module docstring).

    With ``check_stability``, candidates are taken in ranking order and the first one whose
    :func:`seed_stability` is at least :data:`MIN_SEED_ARI` wins; one below gets ``rejected``
    set on its Evaluation, in place (so the reason is logged with the others). Raises
    :class:`NoViableCandidateError` listing every rejection if none is viable.
    """
    viable = [e for e in evaluations if e.rejected is None and e.silhouette is not None]
    ranked = sorted(viable, key=lambda e: (-round(e.silhouette, 4), e.n_clusters, e.name))  # type: ignore[arg-type]
    for evaluation in ranked:
        if not check_stability or seed_stability(evaluation) >= MIN_SEED_ARI:
            return evaluation
        evaluation.rejected = (
            f"unstable: ARI {evaluation.seed_ari:.3f} < {MIN_SEED_ARI} with refits on other seeds"
        )
    detail = "; ".join(f"{e.name}: {e.rejected}" for e in evaluations) or "no candidates"
    raise NoViableCandidateError(f"every candidate was rejected ({detail})")


def seed_stability(evaluation: Evaluation) -> float:
    """How reproducible the candidate's partition is: the lowest adjusted Rand index between
    any two of its own labels and refits of its clusterer with each seed of
    :data:`STABILITY_REFERENCE_SEEDS` (1.0 for a deterministic clusterer); also stored in
    ``evaluation.seed_ari``.

    The reference seeds are fixed, not derived from the training seed, and they are compared
    with each other too, so the verdict on a candidate is the same in every training: it is
    accepted only if the reference seeds agree on a partition and this fit found it. (ARI is
    not transitive: checking only "own labels vs the others" let a fit lying between two
    disagreeing references pass in one training and fail in another.) Scaling and PCA are
    deterministic, so refitting the clusterer on the stored embedding is the same as refitting
    the whole pipeline.
    """
    if evaluation.pipeline is None:
        evaluation.seed_ari = 0.0
        return 0.0
    clusterer = evaluation.pipeline[-1]
    seed = clusterer.get_params().get("random_state")
    runs = [evaluation.labels]
    if seed is not None:
        with _single_threaded(), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for reference in STABILITY_REFERENCE_SEEDS:
                if reference != seed:
                    refit = clone(clusterer).set_params(random_state=reference)
                    runs.append(refit.fit_predict(evaluation.embedding))
    evaluation.seed_ari = min(
        (float(adjusted_rand_score(a, b)) for a, b in itertools.combinations(runs, 2)),
        default=1.0,
    )
    return evaluation.seed_ari


def score_model(pipeline: Pipeline, X: pd.DataFrame | np.ndarray) -> float | None:
    """Silhouette of an already-fitted pipeline on (possibly new) rows ``X``, in its own space.

    Rows are assigned with ``predict``, so this scores the model as it would label players
    (never noise). None when fewer than two clusters are used or there are too few rows. Used
    to compare the current champion with a new winner on the same data.
    """
    with _single_threaded():
        embedding = pipeline[:-1].transform(X)
        labels = np.asarray(pipeline[-1].predict(embedding))
    clustered = labels >= 0
    if not 2 <= len(np.unique(labels[clustered])) < clustered.sum():
        return None
    return _silhouette(embedding[clustered], labels[clustered])


def embedding_2d(evaluation: Evaluation) -> np.ndarray:
    """(n, 2) coordinates for a scatter plot: the first two principal components of the
    fitted space (the PCA orders them by variance, so these are the two most informative
    directions of the standardized features). A 1-D space gets a zero second coordinate.
    """
    embedding = evaluation.embedding
    out = np.zeros((embedding.shape[0], 2))
    width = min(2, embedding.shape[1])
    out[:, :width] = embedding[:, :width]
    return out


@functools.cache
def _threadpools() -> ThreadpoolController:
    # Built once, on first use (every BLAS/OpenMP library is loaded by then): threadpool_limits
    # rescans the loaded libraries on each call (~4 ms), the controller's limit() does not.
    return ThreadpoolController()


def _single_threaded() -> contextlib.AbstractContextManager[object]:
    return _threadpools().limit(limits=1)


def _silhouette(points: np.ndarray, labels: np.ndarray) -> float | None:
    sample = SILHOUETTE_SAMPLE_ROWS if len(points) > SILHOUETTE_SAMPLE_ROWS else None
    try:
        # Pairwise distances in chunks of at most SILHOUETTE_WORKING_MIB, not one 3000 x 3000
        # block (72 MiB): keeps the all-seasons peak memory down, same result.
        with config_context(working_memory=SILHOUETTE_WORKING_MIB):
            return float(
                silhouette_score(
                    points, labels, sample_size=sample, random_state=SILHOUETTE_RANDOM_STATE
                )
            )
    except ValueError:  # e.g. a sample that drew a single cluster
        return None


def _variance_kept(pipeline: Pipeline) -> float:
    reduce = pipeline.named_steps.get("reduce")
    if reduce is None:
        return 1.0
    kept = float(np.sum(reduce.explained_variance_ratio_))
    return kept if np.isfinite(kept) else 0.0


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
