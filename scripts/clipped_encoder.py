"""A trained run's encoder with its state clipped to the range of its training frames' states.

    srl-bench rl --env srl/Pendulum-v0 --encoder scripts/clipped_encoder.py:make \
        --encoder-kwargs run=.srl-bench/standard/runs/Pendulum-v0/autoencoder/seed0 --algo sac ...

An ablation, not a method: an encoder with ``frame_stack`` k > 1 sees an episode's first frame after
k−1 black ones and may code it far from every other frame (``scripts/first_frame_outliers.py``).
Clipping each state dimension to [min, max] over the run's training frames that are not an episode's
first keeps everything else as the run gives it, so an agent trained on this encoder tells whether
those outliers, rather than the rest of the state, are what the agent cannot learn from.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from srl_bench.data import load_dataset
from srl_bench.encoder import Encoder
from srl_bench.metrics.evaluate import encode_rows
from srl_bench.runs import load_run, read_run_config


class ClippedEncoder(Encoder):
    """``inner``'s state, each dimension clamped to [low, high]."""

    def __init__(self, inner: Encoder, low: np.ndarray, high: np.ndarray) -> None:
        super().__init__(inner.state_dim)
        self.inner = inner
        self.frame_stack = inner.frame_stack
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.inner(images), self.low, self.high)


def make(run: str, every: int = 4) -> ClippedEncoder:
    """The run's encoder clipped to the state range of every ``every``-th training frame that does
    not start an episode (training episodes: neither the run's validation nor its test episodes)."""
    torch.set_num_threads(1)
    config = read_run_config(run)
    data = load_dataset(json.loads((Path(run) / "dataset.json").read_text())["path"])
    held_out = set(config["split"].get("test_episodes", [])) | set(config["split"].get("val_episodes", []))
    train = np.array([e for e in range(data.n_episodes) if e not in held_out])
    rows = data.frames_of_episodes(train)
    rows = rows[~np.asarray(data.episode_starts)[rows]][::every]
    inner = load_run(run)
    states = encode_rows(inner, data, rows)
    return ClippedEncoder(inner, states.min(axis=0), states.max(axis=0)).eval()
