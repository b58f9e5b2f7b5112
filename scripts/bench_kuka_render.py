"""The Kuka arm drawn from simplified meshes (the default) against pybullet_data's full ones: drawing
time per frame, env steps per second (physics + drawing) and dataset generation, on one core, in the
same run, alternating the two over several repeats (medians count), and how far their frames differ
on the same episode. Writes results/bench/kuka_render.json.

    python scripts/bench_kuka_render.py [--frames 400] [--repeats 5] [--image-size 64]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.collect import generate_dataset  # noqa: E402
from srl_bench.data import load_dataset  # noqa: E402
from srl_bench.envs.kuka_button import KukaButtonEnv  # noqa: E402
from srl_bench.report import write_json_atomic  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "results" / "bench" / "kuka_render.json"
MESHES = ("full", "simplified")


def draw_and_step(env: KukaButtonEnv, frames: int, seed: int) -> tuple[float, float]:
    """Milliseconds per drawn frame and env steps per second over ``frames`` steps of a seeded walk."""
    actions = np.random.default_rng(seed).integers(6, size=frames)
    env.reset(seed=seed)
    started = time.perf_counter()
    for action in actions:
        env.step(int(action))
        if env._steps >= env.max_steps:
            env.reset(seed=seed)
    stepping = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(frames):
        env._draw_frame()
    return (time.perf_counter() - started) / frames * 1000, frames / stepping


def generation_fps(mesh: str, frames: int, image_size: int) -> float:
    """Frames per second of ``generate_dataset`` (1 worker, the exploring policy) for about ``frames``."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = generate_dataset("srl/KukaButton-v0", max(1, frames // 100), Path(tmp) / "d", seed=0, max_steps=100,
                                policy="kuka_explore", image_size=image_size, env_kwargs={"arm_mesh": mesh},
                                progress=False)
        return len(load_dataset(path)) / (time.perf_counter() - started)


def frame_difference(image_size: int, steps: int = 50) -> dict[str, float]:
    """Grey levels (0-255) between the two arms' frames over one seeded episode."""
    seen = {}
    for mesh in MESHES:
        env = KukaButtonEnv(image_size=image_size, arm_mesh=mesh)
        observations = [env.reset(seed=7)[0]]
        for action in np.random.default_rng(7).integers(6, size=steps):
            observation, _, terminated, truncated, _ = env.step(int(action))
            observations.append(observation)
            if terminated or truncated:
                break
        env.close()
        seen[mesh] = np.stack(observations).astype(np.int16)
    n = min(len(seen["full"]), len(seen["simplified"]))
    difference = np.abs(seen["full"][:n] - seen["simplified"][:n])
    return {"frames": int(n), "mean_abs_grey_levels": round(float(difference.mean()), 3),
            "pixels_off_by_over_60": round(float((difference.max(axis=-1) > 60).mean()), 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)

    envs = {mesh: KukaButtonEnv(image_size=args.image_size, arm_mesh=mesh) for mesh in MESHES}
    draw_ms: dict[str, list[float]] = {mesh: [] for mesh in MESHES}
    steps: dict[str, list[float]] = {mesh: [] for mesh in MESHES}
    generation: dict[str, list[float]] = {mesh: [] for mesh in MESHES}
    for repeat in range(args.repeats):
        for mesh in MESHES if repeat % 2 == 0 else MESHES[::-1]:
            ms, rate = draw_and_step(envs[mesh], args.frames, seed=repeat)
            draw_ms[mesh].append(ms)
            steps[mesh].append(rate)
            generation[mesh].append(generation_fps(mesh, args.frames, args.image_size))
    for env in envs.values():
        env.close()

    median = {name: {mesh: statistics.median(values[mesh]) for mesh in MESHES}
              for name, values in (("draw_ms", draw_ms), ("env_steps_per_s", steps), ("generation_fps", generation))}
    result = {
        "command": "python scripts/bench_kuka_render.py " + " ".join(sys.argv[1:]),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "torch_threads": 1},
        "image_size": args.image_size, "frames": args.frames, "repeats": args.repeats,
        "median": {name: {mesh: round(value, 2) for mesh, value in values.items()} for name, values in median.items()},
        "speedup": {"draw": round(median["draw_ms"]["full"] / median["draw_ms"]["simplified"], 2),
                    "env_steps": round(median["env_steps_per_s"]["simplified"] / median["env_steps_per_s"]["full"], 2),
                    "generation": round(median["generation_fps"]["simplified"] / median["generation_fps"]["full"], 2)},
        "frame_difference": frame_difference(args.image_size),
        "runs": {"draw_ms": draw_ms, "env_steps_per_s": steps, "generation_fps": generation},
    }
    write_json_atomic(args.out, result)
    print(json.dumps({k: result[k] for k in ("median", "speedup", "frame_difference")}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
