"""How much an episode's first frames weigh in a frame-stacked run's held-out metrics.

    python scripts/first_frame_outliers.py RUN [--data DATASET] [--out results/findings/first_frames.json]

With ``frame_stack`` k > 1 an encoder sees each frame with the k−1 before it, black before an
episode's first frame (SB3's ``VecFrameStack`` convention, which the RL agents see too). An encoder
free to scale its state (an auto-encoder) may code those first frames far from all others. This
script encodes the run's held-out episodes (the split ``srl-bench evaluate`` scores) and reports, per
learned dimension, how far the first frames and the others lie from the median, and GTC (Pearson,
docs/metrics.md) and Spearman's rank correlation with and without the first frames, so one can see
whether a low GTC says the state lacks the truth or that a few frames dominate the correlation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from held_out import held_out_rows, run_parser  # first: it puts this repository on sys.path
from scipy.stats import spearmanr
from srl_bench.metrics.core import gtc
from srl_bench.metrics.evaluate import encode_rows
from srl_bench.report import write_json_atomic
from srl_bench.runs import load_run, read_run_config


def max_spearman(states: np.ndarray, truth: np.ndarray) -> list[float]:
    """Per true dimension d: max_j |Spearman ρ(g_d, s_j)| (GTC with ranks instead of values)."""
    return [max(abs(float(spearmanr(states[:, j], truth[:, d])[0])) for j in range(states.shape[1]))
            for d in range(truth.shape[1])]


def main() -> None:
    args = run_parser(__doc__.splitlines()[0]).parse_args()
    torch.set_num_threads(1)
    run = Path(args.run)
    data, rows = held_out_rows(run, args.data)
    states = encode_rows(load_run(run), data, rows)
    truth = np.asarray(data.states)[rows].astype(np.float64)
    first = np.asarray(data.episode_starts)[rows]
    distance = np.abs(states - np.median(states, axis=0))
    names = list(data.meta["state_names"])
    result = {
        "command": "python scripts/first_frame_outliers.py " + " ".join(sys.argv[1:]),
        "run": str(run), "method": read_run_config(run)["method"], "held_out_frames": int(len(rows)),
        "first_frames": int(first.sum()),
        "median_distance_from_median": {"first_frames": np.median(distance[first], axis=0).round(3).tolist(),
                                         "other_frames": np.median(distance[~first], axis=0).round(3).tolist()},
        "state_std": {"all_frames": states.std(axis=0).round(3).tolist(),
                      "without_first_frames": states[~first].std(axis=0).round(3).tolist()},
        "gtc": {"all_frames": dict(zip(names, gtc(states, truth).round(4).tolist())),
                "without_first_frames": dict(zip(names, gtc(states[~first], truth[~first]).round(4).tolist()))},
        "max_spearman": {"all_frames": dict(zip(names, np.round(max_spearman(states, truth), 4).tolist())),
                         "without_first_frames": dict(zip(names, np.round(max_spearman(states[~first], truth[~first]), 4).tolist()))},
    }
    if args.out:
        write_json_atomic(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
