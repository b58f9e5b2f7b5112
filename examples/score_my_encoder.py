"""Score a hand-written encoder on held-out episodes: the encoder and the call are ten lines.

    python examples/score_my_encoder.py [DATASET]       # default: a small cart-pole dataset, made once

The same encoder by import path, from the command line (``make`` is its factory):

    srl-bench evaluate --encoder examples/score_my_encoder.py:make --data DATASET
    srl-bench rl --encoder examples/score_my_encoder.py:make --env srl/CartPole-v0 --out rl/grid
"""

import sys
from pathlib import Path

import numpy as np

import srl_bench


def grid_colours(images: np.ndarray, cells: int = 4) -> np.ndarray:
    """uint8 (N, H, W, 3) images -> (N, cells·cells·3) states: the mean colour of each cell of a grid."""
    n, h, w, c = images.shape
    grid = images[:, : h - h % cells, : w - w % cells].reshape(n, cells, h // cells, cells, w // cells, c)
    return grid.mean(axis=(2, 4)).reshape(n, -1) / 255.0


def make(cells: int = 4):
    """The factory ``--encoder examples/score_my_encoder.py:make`` calls (``--encoder-kwargs cells=8``)."""
    return lambda images: grid_colours(images, cells)


if __name__ == "__main__":
    data = sys.argv[1] if len(sys.argv) > 1 else "data/cartpole-small"
    if len(sys.argv) == 1 and not Path(data).exists():
        srl_bench.generate_dataset("srl/CartPole-v0", 40, data, max_steps=100)
    metrics = srl_bench.evaluate(grid_colours, data)  # held-out episodes of a seeded split
    print({name: round(metrics[name], 3) for name in ("knn_mse_ratio", "gtc_mean", "probe_linear_r2")})
