"""A benchmark's training, metrics and RL stages on a GPU against the CPU: same machine, same run.

    python scripts/bench_gpu.py [--config quick] [--devices cpu cuda] [--jobs 4]
                                [--work /tmp/srl-bench-gpu] [--out results/bench/gpu.json]

The datasets are made once, on the CPU (generation does not use a GPU), and shared. Then, for each
device in turn, the benchmark's train, metrics and RL cells run with the config's ``device`` set to
it, ``--jobs`` cells at once, each on the config's torch threads. Written to ``--out``:

- each device's wall time and its compute time per stage (the cells' own seconds), and the ratios
  against the first device;
- the devices the encoders and agents really ran on, read back from every run's ``config.json`` and
  every agent's ``rl.json``, so a silent fall-back to the CPU shows;
- the GPU's name, the CUDA and torch versions, the CPU count;
- each leaderboard's scores side by side (GPU kernels are not bit-identical to the CPU's, so the
  numbers agree within their seed intervals, not exactly).

Sized for the device machine's 15 minutes: the quick benchmark takes ~5 min on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.bench.config import resolve_benchmark_path  # noqa: E402
from srl_bench.bench.report.source import from_directory, stage_seconds  # noqa: E402
from srl_bench.bench.runner import run_benchmark  # noqa: E402
from srl_bench.device import resolve_device  # noqa: E402
from srl_bench.errors import SrlBenchError  # noqa: E402
from srl_bench.report import write_json_atomic  # noqa: E402


def device_config(source: Path, device: str, work: Path, folder: Path) -> Path:
    """A copy of the benchmark YAML at ``source`` with its device and folders set, in ``folder``."""
    config = yaml.safe_load(source.read_text())
    config.update(device=device, work_dir=str(work), out=str(work / "leaderboard"))
    path = folder / f"{source.stem}_{device.replace(':', '')}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def share_datasets(done: Path, work: Path) -> None:
    """The datasets of the first device's work directory, and their cell records, for the next one."""
    (work / "cells").mkdir(parents=True, exist_ok=True)
    shutil.copytree(done / "datasets", work / "datasets")
    for record in (done / "cells").glob("dataset__*.json"):
        shutil.copy(record, work / "cells" / record.name)


def compute_seconds(work: Path) -> dict[str, float]:
    """Compute seconds per stage, summed over the work directory's cell records."""
    source = from_directory(work)
    return {stage: round(value, 1) for stage, value in sorted(stage_seconds(source.cells, source.records).items())}


def devices_used(work: Path) -> dict[str, dict[str, int]]:
    """How many training runs and agents ran on each device, from what their outputs record."""
    runs = Counter(json.loads(p.read_text()).get("device", "?") for p in (work / "runs").rglob("config.json"))
    agents = [json.loads(p.read_text()) for p in (work / "rl").rglob("rl.json")]
    trained = Counter(a.get("device", "?") for a in agents if a.get("representation", {}).get("kind") != "random_policy")
    return {"training runs": dict(runs), "agents": dict(trained)}


def scores(work: Path) -> dict[str, dict[str, float]]:
    """The leaderboard's mean scores: env -> method -> {metric: mean}."""
    import pandas as pd

    table = pd.read_csv(work / "leaderboard" / "leaderboard.csv")
    columns = [c for c in table.columns if c.endswith("_mean")]
    out: dict[str, dict[str, float]] = {}
    for _, row in table.iterrows():
        out.setdefault(row["env"], {})[row["method"]] = {c: round(float(row[c]), 4) for c in columns
                                                         if row[c] == row[c]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="quick", help="a shipped benchmark name or a YAML path")
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    parser.add_argument("--jobs", type=int, default=4, help="cells at once, on every device")
    parser.add_argument("--work", default="/tmp/srl-bench-gpu", help="scratch folder (replaced)")
    parser.add_argument("--out", default="results/bench/gpu.json")
    args = parser.parse_args()
    try:
        for device in args.devices:
            resolve_device(device)
        source = resolve_benchmark_path(args.config)
    except SrlBenchError as exc:
        parser.error(str(exc))
    scratch = Path(args.work)
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    runs: dict[str, dict] = {}
    first: Path | None = None
    for device in args.devices:
        work = scratch / device.replace(":", "")
        if first is not None:
            share_datasets(first, work)
        started = time.perf_counter()
        run_benchmark(device_config(source, device, work, scratch), jobs=args.jobs, progress=False)
        wall = time.perf_counter() - started
        runs[device] = {"wall_s": round(wall, 1), "compute_s_per_stage": compute_seconds(work),
                        "devices_recorded": devices_used(work), "scores": scores(work)}
        print(f"{device}: {wall:.1f} s wall; compute per stage {runs[device]['compute_s_per_stage']}; "
              f"outputs recorded {runs[device]['devices_recorded']}", flush=True)
        first = first or work
    baseline = args.devices[0]
    base = runs[baseline]
    for device, run in runs.items():
        run[f"wall_ratio_vs_{baseline}"] = round(base["wall_s"] / run["wall_s"], 2)
        run[f"stage_ratio_vs_{baseline}"] = {
            stage: round(base["compute_s_per_stage"][stage] / seconds, 2)
            for stage, seconds in run["compute_s_per_stage"].items()
            if seconds > 0 and stage in base["compute_s_per_stage"] and stage != "dataset"}
    cuda = torch.cuda.is_available()
    result = {
        "what": "a benchmark's train, metrics and RL stages per device, datasets shared; ratios: first device's "
                "seconds / this device's",
        "command": "python " + " ".join([f"scripts/{Path(__file__).name}", *sys.argv[1:]]),
        "config": str(source),
        "jobs": args.jobs,
        "runs": runs,
        "machine": {"gpu": torch.cuda.get_device_name(0) if cuda else None,
                    "cuda": torch.version.cuda if cuda else None, "cpus": os.cpu_count(),
                    "platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__},
    }
    write_json_atomic(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
