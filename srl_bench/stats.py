"""Scores over seeds: a point estimate and its 95% stratified-bootstrap interval, as rliable computes them.

The one wrapper of rliable in srl-bench, used by the leaderboards (``srl_bench.bench.leaderboard``)
and by downstream RL (``srl_bench.rl``). Two rules hold whatever the statistic:

- fewer than 2 runs: there is no interval, the bounds are NaN (never a fake zero-width one);
- constant input: the interval is the point itself (the bootstrap could only resample that value).

Scores are one value per run (seed), or a ``(runs, tasks)`` matrix, the bootstrap then resampling
runs within each task (rliable's stratified bootstrap).
"""

from __future__ import annotations

import math
import warnings
from typing import Callable, Literal

import numpy as np
from numpy.typing import ArrayLike

Statistic = Literal["mean", "iqm"]
CONFIDENCE = 0.95
REPS = 2000


def _mean(scores: np.ndarray) -> float:
    return float(np.mean(scores))


def _iqm(scores: np.ndarray) -> float:
    from rliable import metrics

    return float(metrics.aggregate_iqm(scores))


STATISTICS: dict[str, Callable[[np.ndarray], float]] = {"mean": _mean, "iqm": _iqm}


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
    """``(point, low, high)``: ``statistic`` (mean or IQM) of ``scores`` and its 95% bootstrap interval.

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

    with warnings.catch_warnings():  # arch (under rliable) warns about the RandomState rliable passes it
        warnings.simplefilter("ignore", FutureWarning)
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
