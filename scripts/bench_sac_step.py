"""What one SAC gradient step costs on this CPU, with the standard benchmark's pendulum agent on the
true state (MlpPolicy, 2 stacked 3-dim states) against the ``raw_pixels`` reference (SB3's CnnPolicy
on 2 stacked 64×64 RGB frames), same SB3 defaults (batch 256, actor and two critics), one torch
thread, alternating the two over the repeats (medians count). SAC takes a gradient step per env
step, so a 20k-step agent costs about 20k of these. Writes results/bench/sac_step.json.

    python scripts/bench_sac_step.py [--steps 20] [--repeats 3] [--budget 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.report import write_json_atomic  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "results" / "bench" / "sac_step.json"
OBSERVATIONS = {"true_state": ("MlpPolicy", gym.spaces.Box(-np.inf, np.inf, (6,), np.float32)),
                "raw_pixels": ("CnnPolicy", gym.spaces.Box(0, 255, (64, 64, 6), np.uint8))}


class RandomEnv(gym.Env):
    """Random observations of a given space and pendulum's action space: only the update is timed."""

    action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)

    def __init__(self, observation_space: gym.spaces.Box) -> None:
        self.observation_space = observation_space

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}


def agent(kind: str):
    """A SAC agent with a replay buffer filled by 300 random steps."""
    from stable_baselines3 import SAC

    policy, space = OBSERVATIONS[kind]
    model = SAC(policy, RandomEnv(space), buffer_size=1000, learning_starts=300, seed=0, verbose=0)
    model.learn(300)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="gradient steps timed per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=int, default=20000, help="an agent's env steps, for the projection")
    args = parser.parse_args()
    torch.set_num_threads(1)
    agents = {kind: agent(kind) for kind in OBSERVATIONS}
    seconds: dict[str, list[float]] = {kind: [] for kind in OBSERVATIONS}
    for _ in range(args.repeats):
        for kind, model in agents.items():
            started = time.perf_counter()
            model.train(gradient_steps=args.steps, batch_size=model.batch_size)
            seconds[kind].append((time.perf_counter() - started) / args.steps)
    step = {kind: statistics.median(values) for kind, values in seconds.items()}
    result = {
        "command": "python scripts/bench_sac_step.py " + " ".join(sys.argv[1:]),
        "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "load_average_1min": os.getloadavg()[0]},
        "torch_threads": 1, "batch_size": agents["true_state"].batch_size,
        "ms_per_gradient_step": {kind: round(value * 1000, 1) for kind, value in step.items()},
        "raw_pixels_over_true_state": round(step["raw_pixels"] / step["true_state"], 1),
        "projected_minutes_per_agent": {kind: round(value * args.budget / 60, 1) for kind, value in step.items()},
        "budget_env_steps": args.budget,
    }
    write_json_atomic(OUT, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
