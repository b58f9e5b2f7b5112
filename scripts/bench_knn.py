"""KNN-MSE at scale: srl-bench's exact search against scikit-learn's ball tree (the S-RL Toolbox's).

    python scripts/bench_knn.py [--frames 100000] [--dims 32] [--k 5] [--threads 1]

Both searches run in this process, on the same states, one after the other; the figure is the ratio
of their times. Two kinds of states: ``learned-like`` (a 4-dimensional manifold embedded in ``dims``
dimensions, plus noise: what trained encoders give) and ``isotropic`` (Gaussian in all ``dims``
dimensions: the worst case for any tree). Exactness, per query: srl-bench's error must equal the one
from the ball tree's k neighbours to 1e-9, except where the ball tree's k-th and (k+1)-th distances
tie within ``tie_tolerance`` (there srl-bench takes the expectation over the tied frames and the ball
tree picks one). Writes results/bench/knn.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def states(kind: str, n: int, dims: int, rng) -> "np.ndarray":
    import numpy as np

    if kind == "learned-like":
        z = rng.standard_normal((n, 4))
        return np.tanh(z @ rng.standard_normal((4, dims))) + 0.01 * rng.standard_normal((n, dims))
    return rng.standard_normal((n, dims))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=32)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="threads for both searches")
    parser.add_argument("--kinds", nargs="+", default=["learned-like", "isotropic"], choices=["learned-like", "isotropic"])
    parser.add_argument("--out", default="results/bench/knn.json")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from srl_bench.metrics.knn import knn_sq_errors, tie_tolerance, without_self

    rng = np.random.default_rng(0)
    g = rng.standard_normal((args.frames, 4))
    results = []
    for kind in args.kinds:
        s = states(kind, args.frames, args.dims, rng)
        start = time.perf_counter()
        ours = knn_sq_errors(s, [g], args.k, workers=args.threads)[0]
        ours_s = time.perf_counter() - start
        start = time.perf_counter()
        ball_tree = NearestNeighbors(n_neighbors=args.k + 1, algorithm="ball_tree", n_jobs=args.threads).fit(s)
        distances, idx = ball_tree.kneighbors(s)
        ball_s = time.perf_counter() - start
        _, idx = without_self(distances, idx, np.arange(len(s)))
        reference = ((g[idx] - g[:, None, :]) ** 2).sum(axis=2).mean(axis=1)
        differ = np.flatnonzero(~np.isclose(ours, reference, rtol=1e-9, atol=1e-12))
        # where they differ: is the ball tree's k-th distance tied with the (k+1)-th (self excluded)?
        distances = np.zeros((0, args.k + 1))
        if len(differ):
            distances, near = ball_tree.kneighbors(s[differ], n_neighbors=args.k + 2)
            distances = without_self(distances, near, differ)[0] ** 2
        squared = ((s - s.mean(axis=0)) ** 2).sum(axis=1)
        tied = distances[:, args.k] - distances[:, args.k - 1] <= tie_tolerance(squared, differ)[:, 0]
        row = {"states": kind, "frames": args.frames, "dims": args.dims, "k": args.k, "threads": args.threads,
               "ball_tree_s": round(ball_s, 2), "srl_bench_s": round(ours_s, 2),
               "speedup": round(ball_s / ours_s, 1), "knn_mse": float(ours.mean()),
               "knn_mse_ball_tree": float(reference.mean()), "queries_differing": len(differ),
               "of_which_tied": int(tied.sum()), "identical_up_to_ties": bool(tied.all())}
        print(f"{kind:>12}: ball tree {ball_s:7.2f} s, srl-bench {ours_s:6.2f} s -> {row['speedup']}×; "
              f"KNN-MSE {row['knn_mse']:.6f} vs {row['knn_mse_ball_tree']:.6f}; {row['queries_differing']} queries differ, "
              f"{row['of_which_tied']} of them at a tie ({'identical up to ties' if row['identical_up_to_ties'] else 'DIFFERENT'})", flush=True)
        results.append(row)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": "python scripts/bench_knn.py " + " ".join(sys.argv[1:]),
                               "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
                               "results": results}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
