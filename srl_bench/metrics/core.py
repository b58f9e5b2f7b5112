"""The metric definitions of ``specs/metrics.md``: KNN-MSE, ground-truth correlation, linear probe.

Every function takes learned states ``s`` (N, K) as the encoder returned them (unscaled) and ground
truth ``g`` (N, D), and is deterministic.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from srl_bench.errors import SrlBenchError

CONSTANT_EPS = 1e-8
PROBE_ALPHA = 1e-3  # ridge regularisation on standardised inputs: small and fixed


def constant_dims(g: np.ndarray) -> np.ndarray:
    """Boolean mask of ground-truth dimensions that do not vary over the set."""
    return np.asarray(g, dtype=np.float64).std(axis=0) <= CONSTANT_EPS


def standardise(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth standardised per dimension (zero mean, unit variance), constant dims dropped.

    Returns the standardised array and the mask of dropped dimensions.
    """
    g = np.asarray(g, dtype=np.float64)
    dropped = constant_dims(g)
    kept = g[:, ~dropped]
    return (kept - kept.mean(axis=0)) / kept.std(axis=0), dropped


def knn_indices(s: np.ndarray, k: int, tie_seed: int = 0) -> np.ndarray:
    """For each row, the indices of its k nearest other rows by Euclidean distance, (N, k).

    A frame is never its own neighbour, even when other frames share its exact state (ties and
    duplicates are allowed: the self-match is removed wherever it appears among the k + 1 found).
    Ties are broken in a seeded random order, not by row order: rows are stored in time order, so
    breaking ties by index would hand a collapsed (constant) encoder its temporal neighbours and a
    flattering score.
    """
    s = np.asarray(s, dtype=np.float64)
    n = len(s)
    if n <= k:
        raise SrlBenchError(f"KNN-MSE with k={k} needs more than {k} frames, got {n}")
    if not np.isfinite(s).all():
        raise SrlBenchError("the encoder returned NaN or infinite states; the metrics cannot be computed")
    shuffle = np.random.default_rng(tie_seed).permutation(n)
    _, idx = NearestNeighbors(n_neighbors=k + 1, algorithm="auto").fit(s[shuffle]).kneighbors(s)
    idx = shuffle[idx]
    is_self = idx == np.arange(n)[:, None]
    # drop the self-match where present, else the (k+1)-th neighbour
    no_self = ~is_self.any(axis=1)
    is_self[no_self, -1] = True
    return idx[~is_self].reshape(n, k)


def knn_mse(s: np.ndarray, g: np.ndarray, k: int = 5) -> float:
    """1/(N·k) Σ_i Σ_{j ∈ KNN(i)} ‖g_j − g_i‖², neighbours found in the learned state space."""
    g = np.asarray(g, dtype=np.float64)
    neighbours = knn_indices(s, k)
    return float(((g[neighbours] - g[:, None, :]) ** 2).sum(axis=2).mean())


def gtc(s: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Per ground-truth dimension d: max_j |Pearson corr(g_d, s_j)|; 0 where a learned dim is constant.

    Each maximum is taken within its own ground-truth dimension's row of the correlation matrix.
    Constant ground-truth dimensions give NaN (the caller drops them).
    """
    s = np.asarray(s, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    sc = s - s.mean(axis=0)
    gc = g - g.mean(axis=0)
    s_norm = np.sqrt((sc**2).sum(axis=0))
    g_norm = np.sqrt((gc**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (gc.T @ sc) / np.outer(g_norm, s_norm)  # (D, K)
    corr[:, s_norm <= CONSTANT_EPS * np.sqrt(len(s))] = 0.0
    result = np.abs(corr).max(axis=1)
    result[g_norm <= CONSTANT_EPS * np.sqrt(len(g))] = np.nan
    return result


def r2_per_dim(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column: 1 − SSE / SST (SST around the true mean); may be < 0."""
    y_true = np.asarray(y_true, dtype=np.float64)
    sse = ((y_true - y_pred) ** 2).sum(axis=0)
    sst = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sst > 0, 1.0 - sse / sst, np.nan)


def linear_probe_r2(s_train: np.ndarray, g_train: np.ndarray, s_test: np.ndarray, g_test: np.ndarray,
                    alpha: float = PROBE_ALPHA) -> np.ndarray:
    """Ridge regression from standardised learned states to ground truth, fitted on the training
    frames; R² per ground-truth dimension on the test frames."""
    scaler = StandardScaler().fit(np.asarray(s_train, dtype=np.float64))
    probe = Ridge(alpha=alpha, solver="cholesky").fit(scaler.transform(s_train), np.asarray(g_train, np.float64))
    return r2_per_dim(g_test, probe.predict(scaler.transform(np.asarray(s_test, np.float64))))
