"""KNN-MSE's neighbour search: exact, fair to ties, and fast at scale.

For each query frame i, KNN(i) is its k nearest other frames in the learned space; KNN-MSE averages
‖g_j − g_i‖² over them. Ties at the k-th distance are resolved per query by their expectation: if c
frames are strictly closer and t lie at the k-th distance (equal up to float rounding), each tied
frame counts with weight (k − c)/t, the mean over uniformly random tie-breaks.

The search: a k-d tree (``scipy.spatial.cKDTree``, exact) over the states rotated onto their
principal axes (a rotation keeps every distance; the tree's axis-aligned cuts then follow the
directions the states spread along, which prunes far more for learned states, whose spread lies in
a few directions). Queries go in the tree's leaf order, so consecutive queries visit the same nodes
(several times faster than a random order, from the caches alone). Each query fetches its k + 2
nearest frames (itself, k neighbours and one more to see whether the k-th distance is tied); a query
whose tie group may extend past them is asked again for k + 1 + ``EXTRA``, and one still unsure is
recomputed by brute force against every frame. Continuous learned states rarely tie, so almost
every query takes the first path; a collapsed encoder ties everywhere and takes the brute-force
path, which is exact for it too. ``scripts/bench_knn.py`` measures it against scikit-learn's ball
tree (the S-RL Toolbox's search).
"""

from __future__ import annotations

import numpy as np

from srl_bench.errors import SrlBenchError

KNN_K = 5  # default number of neighbours of KNN-MSE
EXTRA = 32  # neighbours fetched beyond k + 1 for a query whose k-th distance is tied
_BLOCK_CELLS = 1 << 22  # query rows × frames per block of the brute-force distance matrix (32 MB of float64)
TIE_TOLERANCE = 1e-9  # squared distances closer than this × (‖s_i‖² + max_j ‖s_j‖²) tie (s centred)


def _prepared(s: np.ndarray, k: int) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    n = len(s)
    if n <= k:
        raise SrlBenchError(f"KNN-MSE with k={k} needs more than {k} frames, got {n}")
    if not np.isfinite(s).all():
        raise SrlBenchError("the encoder returned NaN or infinite states; the metrics cannot be computed")
    s = s - s.mean(axis=0)  # distances are unchanged; rounding is smaller, and the scale is 1 below
    scale = np.abs(s).max()
    return s / scale if scale > 0 else s


def tie_tolerance(squared: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The tie tolerance of each query row, as a column: squared distances this close tie (``squared``: ‖s_i‖² of the centred states)."""
    return TIE_TOLERANCE * (squared[rows, None] + squared.max() + 1e-300)


def _weighted_errors(weights: np.ndarray, neighbours: np.ndarray | None, rows: np.ndarray,
                     targets: list[np.ndarray], k: int, out: list[np.ndarray]) -> None:
    """out[t][rows] = 1/k Σ_j w_ij ‖g_j − g_i‖² (``neighbours`` None: j runs over every frame)."""
    for g, errors in zip(targets, out):
        gi = g[rows]
        if neighbours is None:
            g2 = (g**2).sum(axis=1)
            # Σ_j w_ij ‖g_j − g_i‖² = Σ_j w_ij ‖g_j‖² − 2 g_i · Σ_j w_ij g_j + k ‖g_i‖²
            errors[rows] = (weights @ g2 - 2.0 * ((weights @ g) * gi).sum(axis=1) + k * (gi**2).sum(axis=1)) / k
        else:
            errors[rows] = (weights * ((g[neighbours] - gi[:, None, :]) ** 2).sum(axis=2)).sum(axis=1) / k


def _tie_weights(distances: np.ndarray, kth: np.ndarray, tolerance: np.ndarray, k: int) -> np.ndarray:
    closer = distances < kth - tolerance
    tied = np.abs(distances - kth) <= tolerance
    share = (k - closer.sum(axis=1)) / tied.sum(axis=1)
    return closer + share[:, None] * tied  # each row sums to k


def _brute_force(s: np.ndarray, squared: np.ndarray, rows: np.ndarray, targets: list[np.ndarray], k: int,
                 out: list[np.ndarray]) -> None:
    """Exact expected errors of the query ``rows`` against every frame, a block of rows at a time."""
    n = len(s)
    block = max(1, _BLOCK_CELLS // n)
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        distances = squared[chunk, None] + squared[None, :] - 2.0 * (s[chunk] @ s.T)
        np.maximum(distances, 0.0, out=distances)
        distances[np.arange(len(chunk)), chunk] = np.inf  # a frame is not its own neighbour
        kth = np.partition(distances, k - 1, axis=1)[:, k - 1 : k]
        tolerance = tie_tolerance(squared, chunk)
        _weighted_errors(_tie_weights(distances, kth, tolerance, k), None, chunk, targets, k, out)


def _principal_axes(s: np.ndarray) -> np.ndarray:
    """``s`` (centred) rotated onto the eigenvectors of sᵀs: distances are unchanged up to rounding."""
    _, axes = np.linalg.eigh(s.T @ s)
    return s @ axes


def without_self(distances: np.ndarray, neighbours: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop each query's own row from its fetched neighbours (wherever it sits among equal distances),
    else the farthest fetched one."""
    is_self = neighbours == rows[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    shape = (len(rows), neighbours.shape[1] - 1)
    return distances[keep].reshape(shape), neighbours[keep].reshape(shape)


def knn_sq_errors(s: np.ndarray, targets: list[np.ndarray], k: int = KNN_K, workers: int = 1) -> list[np.ndarray]:
    """For each query frame i and each target array g: E[1/k Σ_{j ∈ KNN(i)} ‖g_j − g_i‖²], neighbours
    found in the learned space ``s`` among the other frames, ties by their expectation (module
    docstring). Exact; ``workers`` threads for the tree search."""
    from scipy.spatial import cKDTree

    s = _principal_axes(_prepared(s, k))
    n = len(s)
    squared = (s**2).sum(axis=1)
    centred = [np.asarray(g, dtype=np.float64) - np.asarray(g, dtype=np.float64).mean(axis=0) for g in targets]
    out = [np.empty(n) for _ in targets]
    tree = cKDTree(s)
    rows = tree.indices  # queries in the tree's leaf order: neighbouring queries share the nodes they visit
    for fetch in (min(n, k + 2), min(n, k + 1 + EXTRA)):
        distances, neighbours = tree.query(s[rows], k=fetch, workers=workers)
        distances, neighbours = without_self(distances**2, neighbours, rows)
        kth = distances[:, k - 1 : k]
        tolerance = tie_tolerance(squared, rows)
        # the tie group may go on past the fetched neighbours: those queries are asked again
        unsure = (np.abs(distances[:, -1:] - kth) <= tolerance)[:, 0] & (fetch - 1 < n - 1)
        sure = ~unsure
        _weighted_errors(_tie_weights(distances[sure], kth[sure], tolerance[sure], k), neighbours[sure], rows[sure],
                         centred, k, out)
        rows = rows[unsure]
        if not len(rows):
            break
    if len(rows):
        _brute_force(s, squared, rows, centred, k, out)
    return [np.maximum(e, 0.0) for e in out]


def knn_mse(s: np.ndarray, g: np.ndarray, k: int = KNN_K, workers: int = 1) -> float:
    """1/(N·k) Σ_i Σ_{j ∈ KNN(i)} ‖g_j − g_i‖², neighbours found in the learned state space (ties at
    the k-th distance by their expectation: :func:`knn_sq_errors`)."""
    return float(knn_sq_errors(s, [g], k, workers)[0].mean())
