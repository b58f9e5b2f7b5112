"""Seeded splits of a dataset by episode (never by frame, so no episode leaks across a split)."""

from __future__ import annotations

import numpy as np

from srl_bench.errors import SrlBenchError

TEST_FRACTION = 0.2  # default share of a dataset's episodes held out for scoring
SPLIT_SEED = 0  # default seed of that split (training and evaluation use the same one)


def split_episodes(n_episodes: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split episode ids ``0..n_episodes-1`` into (train, test), both sorted, test non-empty.

    The same ``(n_episodes, test_fraction, seed)`` always gives the same split.
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.integer, np.floating)) \
            or not 0.0 < test_fraction < 1.0:
        raise SrlBenchError(f"the held-out fraction (test_fraction) must be a number between 0 and 1 "
                            f"(exclusive), got {test_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SrlBenchError(f"the split seed (split_seed) must be a non-negative integer, got {seed!r}")
    if n_episodes < 2:
        raise SrlBenchError(f"a split by episode needs at least 2 episodes, the dataset has {n_episodes}")
    n_test = min(max(1, int(round(n_episodes * test_fraction))), n_episodes - 1)
    order = np.random.default_rng(seed).permutation(n_episodes)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
