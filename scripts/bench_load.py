"""Graceful under load: the quick benchmark on an idle machine and beside two CPU-bound processes.

    python scripts/bench_load.py [--config quick] [--jobs 2] [--competitors 2]

Runs ``srl-bench benchmark CONFIG --jobs J --fresh`` twice in a fresh work directory: alone, then
while ``--competitors`` other processes each keep a core busy (a NumPy matrix product in a loop, with
NumPy's default threads, as a researcher's side job would). Prints both wall times and their ratio
(the target: at most 3×), and writes results/bench/load.json. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPETITOR = "import numpy as np\na = np.random.rand(600, 600)\nwhile True:\n    a = np.tanh(a @ a / 600)\n"


def srl_bench() -> str:
    beside = Path(sys.executable).parent / "srl-bench"
    return str(beside) if beside.exists() else "srl-bench"


def run_once(config: str, jobs: int, work: Path) -> float:
    start = time.perf_counter()
    subprocess.run([srl_bench(), "benchmark", config, "--jobs", str(jobs), "--fresh", "--quiet", "--work-dir",
                    str(work), "--out", str(work / "leaderboard")], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/benchmarks/quick.yaml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--competitors", type=int, default=2)
    parser.add_argument("--out", default="results/bench/load.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        idle = run_once(args.config, args.jobs, Path(tmp) / "idle")
        print(f"idle: {idle / 60:.2f} min", flush=True)
        competitors = [subprocess.Popen([sys.executable, "-c", COMPETITOR]) for _ in range(args.competitors)]
        try:
            time.sleep(2)
            loaded = run_once(args.config, args.jobs, Path(tmp) / "loaded")
        finally:
            for proc in competitors:
                proc.kill()
                proc.wait()
    ratio = loaded / idle
    print(f"beside {args.competitors} CPU-bound processes: {loaded / 60:.2f} min -> {ratio:.2f}× the idle time")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": "python scripts/bench_load.py " + " ".join(sys.argv[1:]),
                               "config": args.config, "jobs": args.jobs, "competitors": args.competitors,
                               "idle_s": round(idle, 1), "loaded_s": round(loaded, 1), "ratio": round(ratio, 2),
                               "cpus": os.cpu_count()}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
