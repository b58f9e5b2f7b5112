"""Frames per second of dataset generation: the NumPy renderer against Gymnasium's renderer + resize,
and the Kuka arm with 1 and 2 worker processes.

Each pair is measured in the same run, alternating A/B over several repeats (the median counts), so the
ratios hold on a noisy machine even when the absolute figures drift. Writes results/bench/render.json.

    python scripts/bench_render.py [--frames 3000] [--repeats 3] [--kuka-frames 2000] [--skip-kuka]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from srl_bench.collect import generate_dataset
from srl_bench.data import load_dataset

OUT = Path(__file__).resolve().parents[1] / "results" / "bench" / "render.json"


def generation_fps(env_id: str, frames: int, workers: int = 1, **env_kwargs) -> float:
    """Frames per second of `generate_dataset` for about `frames` frames (episodes of 100 steps)."""
    episodes = max(workers, frames // 101)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = generate_dataset(env_id, episodes, Path(tmp) / "d", seed=0, workers=workers, max_steps=100,
                                env_kwargs=env_kwargs, progress=False)
        elapsed = time.perf_counter() - start
        return len(load_dataset(path)) / elapsed


def compare(label: str, baseline: dict, candidate: dict, frames: int, repeats: int) -> dict:
    """Median fps of two settings, alternated over `repeats` rounds, and their ratio."""
    base, cand = [], []
    for _ in range(repeats):
        base.append(generation_fps(frames=frames, **baseline))
        cand.append(generation_fps(frames=frames, **candidate))
    result = {"baseline": baseline, "candidate": candidate, "baseline_fps": round(statistics.median(base), 1),
              "candidate_fps": round(statistics.median(cand), 1)}
    result["ratio"] = round(result["candidate_fps"] / result["baseline_fps"], 2)
    print(f"{label:<34} {result['baseline_fps']:>9.0f} -> {result['candidate_fps']:>9.0f} frames/s   ×{result['ratio']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kuka-frames", type=int, default=2000,
                        help="frames per Kuka measurement (large enough to amortise each worker's scene loading)")
    parser.add_argument("--skip-kuka", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {"machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
               "frames": args.frames, "repeats": args.repeats, "comparisons": {}}
    print(f"{'comparison':<34} {'baseline':>9}    {'candidate':>9}")
    for env_id in ("srl/CartPole-v0", "srl/Pendulum-v0"):
        results["comparisons"][f"{env_id} numpy vs gymnasium renderer"] = compare(
            f"{env_id} gymnasium -> numpy",
            {"env_id": env_id, "renderer": "gymnasium"}, {"env_id": env_id, "renderer": "numpy"},
            args.frames, args.repeats)
    if not args.skip_kuka:
        kuka_frames = args.kuka_frames
        results["comparisons"]["srl/KukaButton-v0 1 vs 2 workers"] = compare(
            "srl/KukaButton-v0 1 -> 2 workers",
            {"env_id": "srl/KukaButton-v0", "workers": 1}, {"env_id": "srl/KukaButton-v0", "workers": 2},
            kuka_frames, args.repeats)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
