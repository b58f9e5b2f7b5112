"""Frames per second of making pixel frames, in one run, for cart-pole and pendulum:

(a) Gymnasium's own render path: ``gymnasium.make("CartPole-v1", render_mode="rgb_array")``, each
    frame resized to 64×64 (nearest neighbour by NumPy indexing, and box/area by PIL);
(b) srl-bench's single-env loop (``run_episode``: one env, one step, one picture at a time);
(c) the batched collector on one core (``BatchedCollector``: the same episodes, bytes for bytes);
(d) dataset generation (``generate_dataset``, writing included) with 1 and 2 workers, and the
    single-env generation for reference;
(e) the RL side: ``PixelVecEnv`` against ``DummyVecEnv`` of the single env, 16 envs, random actions.

(a)-(c) and (e) make frames only (no dataset written). Each measure is repeated ``--repeats`` times,
alternating the measures, and the median counts; ratios are against (a) nearest. Writes
results/bench/generate.json.

    python scripts/bench_generate.py [--frames 30000] [--gym-frames 3000] [--repeats 3] [--env cartpole pendulum]
    python scripts/bench_generate.py --quick        # a smoke run with tiny sizes (numbers mean nothing; no file)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "results" / "bench" / "generate.json"
ENVS = {"cartpole": ("srl/CartPole-v0", "CartPole-v1"), "pendulum": ("srl/Pendulum-v0", "Pendulum-v1")}
SIZE = 64


def gymnasium_fps(gym_id: str, frames: int, resize: str) -> float:
    """(a) Gymnasium's rgb_array render plus a resize to 64×64, random actions, auto-reset."""
    from PIL import Image

    env = gym.make(gym_id, render_mode="rgb_array")
    env.action_space.seed(0)
    env.reset(seed=0)
    full = env.render()
    rows = (np.arange(SIZE) * full.shape[0]) // SIZE
    cols = (np.arange(SIZE) * full.shape[1]) // SIZE
    start = time.perf_counter()
    for _ in range(frames):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
        full = env.render()
        if resize == "nearest":
            frame = full[rows[:, None], cols[None, :]]
        else:
            frame = np.asarray(Image.fromarray(full).resize((SIZE, SIZE), Image.Resampling.BOX))
        assert frame.shape == (SIZE, SIZE, 3)
    elapsed = time.perf_counter() - start
    env.close()
    return frames / elapsed


def _episodes_for(env_id: str, frames: int) -> int:
    return max(1, frames // (201 if "Pendulum" in env_id else 22))


def single_loop_fps(env_id: str, frames: int) -> float:
    """(b) srl-bench's single-env loop: run_episode, one episode after the other."""
    from srl_bench.collect import make_env
    from srl_bench.collect.generate import run_episode

    env = make_env(env_id, image_size=SIZE)
    made = 0
    start = time.perf_counter()
    for episode in range(_episodes_for(env_id, frames)):
        made += len(run_episode(env, "random", 0, episode, None)["rewards"])
    elapsed = time.perf_counter() - start
    env.close()
    return made / elapsed


def batched_fps(env_id: str, frames: int) -> float:
    """(c) the batched collector in this process (one core): the same episodes as (b)."""
    from srl_bench.collect.generate import BatchedCollector

    collector = BatchedCollector(env_id, {"image_size": SIZE}, "random", 0, None)
    made = 0
    start = time.perf_counter()
    for arrays in collector.episodes(range(_episodes_for(env_id, frames))):
        made += len(arrays["rewards"])
    elapsed = time.perf_counter() - start
    collector.close()
    return made / elapsed


def generation_fps(env_id: str, frames: int, workers: int, batched: bool | None = None) -> float:
    """(d) generate_dataset, writing included."""
    from srl_bench.collect import generate_dataset
    from srl_bench.data import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = generate_dataset(env_id, _episodes_for(env_id, frames), Path(tmp) / "d", seed=0, image_size=SIZE,
                                workers=workers, batched=batched, progress=False)
        elapsed = time.perf_counter() - start
        return len(load_dataset(path)) / elapsed


def vec_env_fps(env_id: str, frames: int, batched: bool, n_envs: int = 16) -> float:
    """(e) steps/s (frames/s) of the RL VecEnv: PixelVecEnv or make_vec_env's DummyVecEnv."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    from srl_bench.collect import make_env
    from srl_bench.envs.vector import make_pixel_vec_env

    env_fn = functools.partial(make_env, env_id, image_size=SIZE)
    venv = (make_pixel_vec_env(env_fn, n_envs=n_envs, seed=0) if batched
            else make_vec_env(env_fn, n_envs=n_envs, seed=0, vec_env_cls=DummyVecEnv))
    venv.action_space.seed(0)
    venv.reset()
    steps = max(1, frames // n_envs)
    actions = [np.stack([venv.action_space.sample() for _ in range(n_envs)]) for _ in range(steps)]
    start = time.perf_counter()
    for action in actions:
        venv.step(action)
    elapsed = time.perf_counter() - start
    venv.close()
    return steps * n_envs / elapsed


def measures(env_id: str, gym_id: str) -> dict[str, Callable[[int], float]]:
    return {
        "a_gymnasium_render_nearest": functools.partial(gymnasium_fps, gym_id, resize="nearest"),
        "a_gymnasium_render_area": functools.partial(gymnasium_fps, gym_id, resize="area"),
        "b_single_env_loop": functools.partial(single_loop_fps, env_id),
        "c_batched_one_core": functools.partial(batched_fps, env_id),
        "d_generate_single_env_1_worker": functools.partial(generation_fps, env_id, workers=1, batched=False),
        "d_generate_batched_1_worker": functools.partial(generation_fps, env_id, workers=1),
        "d_generate_batched_2_workers": functools.partial(generation_fps, env_id, workers=2),
        "e_dummy_vec_env_16": functools.partial(vec_env_fps, env_id, batched=False),
        "e_pixel_vec_env_16": functools.partial(vec_env_fps, env_id, batched=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30000, help="frames per measure (about), (b)-(e)")
    parser.add_argument("--gym-frames", type=int, default=3000,
                        help="frames per measure of (a): Gymnasium's pygame renderer draws a few hundred a second")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--env", nargs="+", choices=sorted(ENVS), default=sorted(ENVS))
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, one repeat: a smoke run (writes nothing unless --out is given)")
    parser.add_argument("--out", type=Path, default=None, help=f"results file (default {OUT.relative_to(OUT.parents[2])})")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.gym_frames, args.repeats = 100, 50, 1
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "gymnasium": gym.__version__, "machine": platform.machine()},
        "image_size": SIZE, "frames": args.frames, "gym_frames": args.gym_frames, "repeats": args.repeats,
        "quick": args.quick,
        "note": "frames/s, median of the repeats; ratios against a_gymnasium_render_nearest",
        "envs": {},
    }
    for name in args.env:
        env_id, gym_id = ENVS[name]
        runs = measures(env_id, gym_id)
        samples: dict[str, list[float]] = {key: [] for key in runs}
        for _ in range(args.repeats):  # alternate the measures, so a drifting machine affects them alike
            for key, run in runs.items():
                samples[key].append(run(args.gym_frames if key.startswith("a_") else args.frames))
        fps = {key: round(statistics.median(values), 1) for key, values in samples.items()}
        base = fps["a_gymnasium_render_nearest"]
        results["envs"][env_id] = {"fps": fps, "ratio_to_a": {key: round(v / base, 2) for key, v in fps.items()},
                                   "workers_2_over_1": round(fps["d_generate_batched_2_workers"]
                                                             / fps["d_generate_batched_1_worker"], 2)}
        print(f"{env_id}  (frames/s, × a_gymnasium_render_nearest)")
        for key, value in fps.items():
            print(f"  {key:<34} {value:>10.0f}   ×{value / base:.2f}")
    out = args.out or (None if args.quick else OUT)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
