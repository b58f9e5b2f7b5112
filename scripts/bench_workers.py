"""Dataset generation with 1 and 2 workers on each environment, collected as the standard benchmark
collects it (its policy, step cap and image size), in one run:

    python scripts/bench_workers.py [--episodes 40] [--repeats 2] [--env ...]

For each env, ``generate_dataset`` (writing and hashing included) runs with 1 and then 2 workers,
alternating, ``--repeats`` times; the median wall time counts. Prints frames/s and the 2-over-1 ratio,
and writes results/bench/workers.json. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import statistics
import tempfile
import time
from pathlib import Path

from srl_bench.bench.config import load_benchmark, resolve_benchmark_path

OUT = Path(__file__).resolve().parents[1] / "results" / "bench" / "workers.json"


def seconds_to_generate(entry, episodes: int, workers: int) -> tuple[float, int]:
    """Wall seconds and frames of one ``generate_dataset`` of ``episodes`` episodes of ``entry``."""
    from srl_bench.collect import generate_dataset
    from srl_bench.data import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = generate_dataset(entry.id, episodes, Path(tmp) / "d", seed=entry.seed, image_size=entry.image_size,
                                policy=entry.policy, workers=workers, max_steps=entry.max_steps,
                                env_kwargs=entry.env_kwargs, progress=False)
        elapsed = time.perf_counter() - start
        return elapsed, len(load_dataset(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=40, help="episodes per generation (per env)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--env", nargs="+", default=None, help="env ids (default: every env of the standard config)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    entries = [e for e in load_benchmark(resolve_benchmark_path("standard")).envs if not args.env or e.id in args.env]
    results = {}
    for entry in entries:
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeats):
            for workers in (1, 2):
                elapsed, frames = seconds_to_generate(entry, args.episodes, workers)
                times[workers].append(elapsed)
        one, two = statistics.median(times[1]), statistics.median(times[2])
        results[entry.id] = {"frames": frames, "policy": entry.policy, "seconds": {"1": one, "2": two},
                             "fps": {"1": round(frames / one, 1), "2": round(frames / two, 1)},
                             "workers_2_over_1": round(one / two, 2)}
        print(f"{entry.id}: {frames} frames, 1 worker {frames / one:,.0f} frames/s, 2 workers {frames / two:,.0f} "
              f"-> {one / two:.2f}×", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": "python scripts/bench_workers.py " + " ".join(sys.argv[1:]),
                                    "cpus": os.cpu_count(), "episodes": args.episodes, "repeats": args.repeats,
                                    "envs": results}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
