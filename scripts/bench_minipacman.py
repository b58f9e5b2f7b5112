"""Time ``MiniPacmanEnv.step`` (game rules + the rendered observation + the state) per image size.

    python scripts/bench_minipacman.py [--steps 50000]

Random actions; resets (about one per 40 steps under a random policy) are included in the time.
The target is well under 100 µs per step at 64×64 on one CPU core.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.envs.minipacman import MiniPacmanEnv  # noqa: E402


def time_per_step(image_size: int | tuple[int, int], mode: str, steps: int) -> float:
    """Mean seconds per ``step`` (and the resets it needs) over ``steps`` random actions."""
    env = MiniPacmanEnv(mode=mode, image_size=image_size)
    actions = np.random.default_rng(0).integers(5, size=steps).tolist()
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    args = parser.parse_args()
    print(f"{'mode':8s} {'image':>8s} {'µs/step':>8s}")
    for mode, size in [("regular", 64), ("avoid", 64), ("regular", (60, 76)), ("regular", 84), ("regular", 128)]:
        label = f"{size}x{size}" if isinstance(size, int) else f"{size[0]}x{size[1]}"
        print(f"{mode:8s} {label:>8s} {time_per_step(size, mode, args.steps) * 1e6:8.1f}")


if __name__ == "__main__":
    main()
