"""Growth with the dataset: time and peak resident memory of generate, one training epoch and evaluate.

    python scripts/bench_scale.py [--frames 10000 30000 100000 300000] [--work /tmp/srl-scale]

For each size, a cart-pole dataset (64×64, random policy, episodes of at most 200 steps) is generated,
a method (``--method``, default the autoencoder) trains for one epoch on it, and the run is evaluated, each as its own ``srl-bench``
process under ``/usr/bin/time -v`` (peak resident memory, wall time), with ``--threads`` torch threads.
Writes results/bench/scale.json and a log-log plot results/bench/scale.png, with each stage's growth
exponent (slope of log time against log frames). Target: peak memory < 1 GB at 300k frames (3.7 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MEAN_EPISODE = 22.5  # rows per cart-pole episode under the random policy (measured on 6000 episodes)


def srl_bench() -> str:
    beside = Path(sys.executable).parent / "srl-bench"
    return str(beside) if beside.exists() else "srl-bench"


def measured(argv: list[str], threads: int) -> dict[str, float]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": str(threads)}
    result = subprocess.run(["/usr/bin/time", "-v", srl_bench(), *argv], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    rss_kb = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    hours, minutes, seconds = (float(v) if v else 0.0 for v in wall.groups())
    return {"seconds": round(hours * 3600 + minutes * 60 + seconds, 2), "peak_rss_mb": round(rss_kb / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[10_000, 30_000, 100_000, 300_000])
    parser.add_argument("--work", default="/tmp/srl-scale")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--method", default="autoencoder", help="the method trained for one epoch")
    parser.add_argument("--out", default="results/bench/scale.json")
    args = parser.parse_args()
    work = Path(args.work)
    rows = []
    for frames in args.frames:
        data, run = work / f"data{frames}", work / f"run{frames}"
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)
        episodes = int(round(frames / MEAN_EPISODE))
        row: dict = {"target_frames": frames, "episodes": episodes}
        row["generate"] = measured(["generate", "srl/CartPole-v0", "--episodes", str(episodes), "--max-steps", "200",
                                    "--out", str(data), "--quiet"], 1)
        meta = json.loads((data / "meta.json").read_text())
        row["frames"] = meta["n_frames"]
        row["disk_mb"] = round(sum(f.stat().st_size for f in data.iterdir()) / 2**20, 1)
        row["train_epoch"] = measured(["train", args.method, "--data", str(data), "--out", str(run), "--epochs", "1",
                                       "--threads", str(args.threads), "--quiet"], args.threads)
        row["evaluate"] = measured(["evaluate", str(run), "--data", str(data), "--threads", str(args.threads)],
                                   args.threads)
        print(json.dumps(row), flush=True)
        rows.append(row)
        shutil.rmtree(run, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    import numpy as np

    stages = ("generate", "train_epoch", "evaluate")
    growth = {}
    if len(rows) > 1:
        x = np.log([r["frames"] for r in rows])
        for stage in stages:
            growth[stage] = round(float(np.polyfit(x, np.log([r[stage]["seconds"] for r in rows]), 1)[0]), 2)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": "python scripts/bench_scale.py " + " ".join(sys.argv[1:]),
                               "threads": args.threads, "method": args.method, "rows": rows, "growth_exponent": growth}, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    for stage in stages:
        frames = [r["frames"] for r in rows]
        ax_t.loglog(frames, [r[stage]["seconds"] for r in rows], "o-", label=f"{stage} (slope {growth.get(stage, '?')})")
        ax_m.loglog(frames, [r[stage]["peak_rss_mb"] for r in rows], "o-", label=stage)
    ax_m.axhline(1024, color="grey", linestyle="--", label="1 GB")
    for ax, title in ((ax_t, "wall time (s)"), (ax_m, "peak resident memory (MB)")):
        ax.set_xlabel("frames")
        ax.set_title(title)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=110)
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
