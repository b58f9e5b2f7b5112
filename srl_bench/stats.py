"""Scores over seeds: a point estimate and its 95% stratified-bootstrap interval, as rliable computes them.

The one wrapper of rliable in srl-bench, used by the leaderboards (``srl_bench.bench.leaderboard``)
and by downstream RL (``srl_bench.rl``). Two rules hold whatever the statistic:

- fewer than 2 runs: there is no interval, the bounds are NaN (never a fake zero-width one);
- constant input: the interval is the point itself (the bootstrap could only resample that value).

Scores are one value per run (seed), or a ``(runs, tasks)`` matrix, the bootstrap then resampling
runs within each task (rliable's stratified bootstrap). Across tasks (environments) it also gives
rliable's optimality gap, the probability of improvement of one method over another and performance
profiles (Agarwal et al. 2021, "Deep RL at the edge of the statistical precipice").

Every interval is seeded: rliable's bootstraps draw their indices from NumPy's *global* generator
(whatever ``random_state`` they are given), so each call here seeds that generator for the draw and
puts its previous state back afterwards; equal inputs give equal intervals in any process.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Callable, Iterator, Literal

import numpy as np
from numpy.typing import ArrayLike

Statistic = Literal["mean", "iqm", "median", "optimality_gap"]
CONFIDENCE = 0.95
REPS = 2000


def _mean(scores: np.ndarray) -> float:
    return float(np.mean(scores))


def _iqm(scores: np.ndarray) -> float:
    """rliable's ``aggregate_iqm`` (scipy's ``trim_mean(scores, 0.25, axis=None)``: the mean of the
    flattened scores without the lowest and highest ``int(0.25 · n)``), without scipy's per-call
    overhead, which dominated the 2000 bootstrap resamples."""
    flat = np.sort(scores, axis=None)
    cut = int(0.25 * flat.size)
    return float(np.mean(flat[cut:flat.size - cut]))


def _median(scores: np.ndarray) -> float:
    from rliable import metrics

    return float(metrics.aggregate_median(scores))


def _optimality_gap(scores: np.ndarray) -> float:
    from rliable import metrics

    return float(metrics.aggregate_optimality_gap(scores, gamma=1.0))


# median: of the per-task means; optimality_gap: 1 − mean(min(score, 1)), how far below a score of 1
# (the ground-truth agent's normalised score, a perfect probe's R²) the runs fall on average
STATISTICS: dict[str, Callable[[np.ndarray], float]] = {"mean": _mean, "iqm": _iqm, "median": _median,
                                                        "optimality_gap": _optimality_gap}


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """NumPy's global generator seeded with ``seed`` inside the block (rliable's bootstraps draw from
    it), its previous state restored afterwards; FutureWarnings of arch (under rliable) silenced."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():  # arch warns about the RandomState rliable passes it
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        np.random.set_state(state)


def _as_matrix(scores: ArrayLike) -> np.ndarray:
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim == 0:
        return matrix.reshape(1, 1)
    if matrix.ndim == 1:
        return matrix.reshape(-1, 1)
    if matrix.ndim != 2:
        raise ValueError(f"scores must be one value per run or a (runs, tasks) matrix, got shape {matrix.shape}")
    return matrix


def interval_estimate(scores: ArrayLike, statistic: Statistic = "mean", reps: int = REPS,
                      seed: int = 0) -> tuple[float, float, float]:
    """``(point, low, high)``: ``statistic`` of ``scores`` and its 95% stratified-bootstrap interval.

    ``statistic``: ``mean``, ``iqm`` (interquartile mean over all runs and tasks), ``median`` (of the
    per-task means) or ``optimality_gap`` (``1 − mean(min(score, 1))``; lower is better).

    ``scores`` is one value per run or a ``(runs, tasks)`` matrix. No scores: all three are NaN;
    fewer than 2 runs or non-finite scores: NaN bounds; constant scores: ``low == point == high``.
    The bootstrap (``reps`` resamples) is seeded by ``seed``, so equal inputs give equal intervals.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; choose one of: {', '.join(STATISTICS)}")
    matrix = _as_matrix(scores)
    if matrix.size == 0:
        return math.nan, math.nan, math.nan
    func = STATISTICS[statistic]
    point = func(matrix)
    if matrix.shape[0] < 2 or not np.isfinite(matrix).all():
        return point, math.nan, math.nan
    if np.all(matrix == matrix.flat[0]):
        return point, point, point
    from rliable import library as rly

    with _seeded(seed):
        _, interval = rly.get_interval_estimates(
            {"x": matrix}, lambda x: np.array([func(x)]), reps=reps, confidence_interval_size=CONFIDENCE,
            random_state=np.random.RandomState(seed),
        )
    low, high = interval["x"][:, 0]
    return point, float(low), float(high)


def mean_ci(scores: ArrayLike, reps: int = REPS, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``scores`` and its 95% stratified-bootstrap interval (see :func:`interval_estimate`)."""
    return interval_estimate(scores, "mean", reps=reps, seed=seed)


def iqm_ci(scores: ArrayLike, reps: int = REPS, seed: int = 0) -> tuple[float, float, float]:
    """Interquartile mean of ``scores`` and its 95% stratified-bootstrap interval (see :func:`interval_estimate`)."""
    return interval_estimate(scores, "iqm", reps=reps, seed=seed)


def optimality_gap_ci(scores: ArrayLike, reps: int = REPS, seed: int = 0) -> tuple[float, float, float]:
    """Optimality gap ``1 − mean(min(score, 1))`` of ``scores`` (lower is better: 0 when every run
    reaches 1) and its 95% stratified-bootstrap interval (see :func:`interval_estimate`)."""
    return interval_estimate(scores, "optimality_gap", reps=reps, seed=seed)


def _improvement(x: np.ndarray, y: np.ndarray) -> float:
    """rliable's ``probability_of_improvement`` computed directly: per task, the share of (x, y) run
    pairs with x > y, ties counting ½ (= Mann-Whitney U / (n_x · n_y); ½ for identical runs), averaged
    over tasks; vectorised, as scipy's per-call overhead dominated the bootstrap."""
    greater = (x[:, None, :] > y[None, :, :]).mean(axis=(0, 1))
    equal = (x[:, None, :] == y[None, :, :]).mean(axis=(0, 1))
    return float(np.mean(greater + 0.5 * equal))


def probability_of_improvement(scores_x: ArrayLike, scores_y: ArrayLike, reps: int = REPS,
                               seed: int = 0) -> tuple[float, float, float]:
    """``(point, low, high)``: P(X > Y), the probability that a run of X scores higher than a run of Y
    on the same task (Mann-Whitney U / (n_x · n_y), ties counting ½), averaged over tasks, and its 95%
    interval (rliable's stratified bootstrap, X's and Y's runs resampled independently within each task).

    ``scores_x`` and ``scores_y`` are ``(runs, tasks)`` matrices (or one value per run) on the same
    tasks, with any number of runs each. No runs: all NaN; fewer than 2 runs of either: NaN bounds.
    """
    x, y = _as_matrix(scores_x), _as_matrix(scores_y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"the two score matrices must cover the same tasks, got {x.shape[1]} and {y.shape[1]} columns")
    if x.size == 0 or y.size == 0:
        return math.nan, math.nan, math.nan
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return math.nan, math.nan, math.nan
    from rliable import library as rly
    from rliable import metrics

    point = float(metrics.probability_of_improvement(x, y))
    if x.shape[0] < 2 or y.shape[0] < 2:
        return point, math.nan, math.nan
    with _seeded(seed):
        _, interval = rly.get_interval_estimates(
            {"x,y": [x, y]}, lambda a, b: np.array([_improvement(a, b)]), reps=reps,
            confidence_interval_size=CONFIDENCE, random_state=np.random.RandomState(seed),
        )
    low, high = interval["x,y"][:, 0]
    return point, float(low), float(high)


def performance_profile(scores: ArrayLike, taus: ArrayLike, reps: int = REPS,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(profile, low, high)`` at each threshold of ``taus``: the fraction of all runs (of all tasks)
    whose score exceeds tau (rliable's score distribution), with its pointwise 95% stratified-bootstrap
    interval. Fewer than 2 runs: NaN bounds."""
    matrix = _as_matrix(scores)
    taus = np.asarray(taus, dtype=np.float64).reshape(-1)
    if matrix.size == 0:
        nan = np.full(len(taus), np.nan)
        return nan, nan.copy(), nan.copy()

    def profile(x: np.ndarray) -> np.ndarray:  # what rliable's score_distributions computes, vectorised
        return (x.reshape(-1, 1) > taus.reshape(1, -1)).mean(axis=0)

    point = profile(matrix)
    if matrix.shape[0] < 2 or not np.isfinite(matrix).all():
        return point, np.full(len(taus), np.nan), np.full(len(taus), np.nan)
    from rliable import library as rly

    with _seeded(seed):
        _, interval = rly.get_interval_estimates(
            {"x": matrix}, profile, reps=reps, confidence_interval_size=CONFIDENCE,
            random_state=np.random.RandomState(seed),
        )
    return point, interval["x"][0].astype(np.float64), interval["x"][1].astype(np.float64)
