"""Scores over seeds: mean with a 95% stratified-bootstrap interval (rliable), and normalised scores."""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np


def mean_ci(values: Sequence[float], reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``values`` (one per seed) and its 95% bootstrap interval, as rliable computes it.

    With one value the interval is that value; with none, all three are NaN.
    """
    scores = np.asarray(values, dtype=np.float64).reshape(-1)
    if scores.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(scores.mean())
    if scores.size == 1 or np.all(scores == scores[0]):
        return mean, mean, mean
    from rliable import library as rly

    with warnings.catch_warnings():  # arch (under rliable) warns about its own RandomState argument
        warnings.simplefilter("ignore", FutureWarning)
        _, interval = rly.get_interval_estimates(
            {"x": scores.reshape(-1, 1)}, lambda x: np.array([np.mean(x)]), reps=reps,
            random_state=np.random.RandomState(seed),
        )
    low, high = interval["x"][:, 0]
    return mean, float(low), float(high)


def normalized_score(score: float, ground_truth: float, random: float) -> float:
    """``(score − random) / (ground_truth − random)``: 0 is the random policy, 1 the ground-truth agent.

    NaN when the two references coincide (the normalisation is undefined).
    """
    span = ground_truth - random
    if not math.isfinite(span) or abs(span) < 1e-12:
        return math.nan
    return (score - random) / span
