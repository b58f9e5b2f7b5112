"""Kuka button: stepping speed (1 and N worker processes) and the scripted policy's success rate.

    python scripts/bench_kuka.py [--steps 2000] [--workers 1 2] [--episodes 50]
                                 [--out results/envs/kuka_button.json]

Speed: random actions at 64×64, resets included; each worker process owns one env, and the
throughput is all workers' steps over the slowest worker's stepping time (process start and scene
loading excluded). The spec's target: about 4 ms per frame for the renderer on one core.

Success: ``ReachButtonPolicy`` (greedy on the ground truth; and with 25% random actions, as used to
collect datasets) on each variant; an episode succeeds if it has at least one press (+1 reward).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.envs.kuka_button import KukaButtonEnv, NoisyReachButtonPolicy, ReachButtonPolicy  # noqa: E402


def _time_random_steps(steps: int, image_size: int, seed: int) -> tuple[float, float]:
    """(Wall, CPU) seconds one env takes for ``steps`` random-action steps and their resets."""
    env = KukaButtonEnv(image_size=image_size)
    actions = np.random.default_rng(seed).integers(6, size=steps).tolist()
    env.reset(seed=seed)
    wall, cpu = time.perf_counter(), time.process_time()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    env.close()
    return wall, cpu


def kuka_steps_per_second(workers: int = 1, steps: int = 2000, image_size: int = 64) -> dict[str, float]:
    """Env steps (= rendered frames) per second with ``workers`` processes, one env each.

    ``wall``: all workers' steps over the slowest worker's wall time (what a collection run sees);
    ``per_cpu_second``: steps per CPU second of one worker (the cost, whatever else runs).
    """
    if workers == 1:
        times = [_time_random_steps(steps, image_size, seed=0)]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            times = list(
                pool.map(_time_random_steps, [steps] * workers, [image_size] * workers, range(workers))
            )
    return {
        "wall": workers * steps / max(wall for wall, _ in times),
        "per_cpu_second": steps / float(np.mean([cpu for _, cpu in times])),
    }


def scripted_success(episodes: int, epsilon: float = 0.0, **env_kwargs) -> dict[str, float]:
    """Share of seeded episodes with a press, share ending in -1, and mean length, for the policy."""
    env = KukaButtonEnv(**env_kwargs)
    policy = ReachButtonPolicy(env, seed=0, epsilon=epsilon)
    pressed = failed = steps = 0
    for seed in range(episodes):
        observation, info = env.reset(seed=seed)
        rewards = []
        while True:
            observation, reward, terminated, truncated, info = env.step(policy(observation, info))
            rewards.append(reward)
            if terminated or truncated:
                break
        pressed += 1.0 in rewards
        failed += rewards[-1] == -1.0
        steps += len(rewards)
    env.close()
    return {
        "episodes_with_press": pressed / episodes,
        "episodes_ending_minus_one": failed / episodes,
        "mean_episode_length": steps / episodes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps per worker")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("results/envs/kuka_button.json"))
    args = parser.parse_args()

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    speed = {}
    for workers in args.workers:
        speed[str(workers)] = kuka_steps_per_second(workers, args.steps)
        print(
            f"{workers} worker(s): {speed[str(workers)]['wall']:.0f} steps/s at 64x64 "
            f"({speed[str(workers)]['per_cpu_second']:.0f} per CPU second of a worker)"
        )

    success = {}
    for label, kwargs in {
        "default": {},
        "random_target": {"random_target": True},
        "continuous_random_target": {"continuous": True, "random_target": True},
    }.items():
        for epsilon in (0.0, NoisyReachButtonPolicy.default_epsilon):
            key = f"{label}/epsilon={epsilon}"
            success[key] = scripted_success(args.episodes, epsilon, **kwargs)
            print(f"{key:42s} " + "  ".join(f"{k}={v:.2f}" for k, v in success[key].items()))

    report = {
        "env": "srl/KukaButton-v0",
        "image_size": 64,
        "steps_per_second_by_workers": speed,
        "steps_per_worker": args.steps,
        "scripted_policy": success,
        "episodes_per_setting": args.episodes,
        "machine": {
            "cpus": multiprocessing.cpu_count(),
            "load_average_1min_before": load_before,  # other work on the machine slows the figures
            "python": platform.python_version(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
