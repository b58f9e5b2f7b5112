"""GTC on a chosen subset of the true state, per method, from a benchmark's metrics cells.

    python scripts/position_gtc.py [--work .srl-bench/standard] [--env MiniPacman-v0]
                                   [--dims pacman_row pacman_col] [--out results/findings/minipacman_position_gtc.json]

Raffin et al. 2019 report GTC_mean on their 2-D navigation task, whose true state is the robot's
position. MiniPacman's true state also holds ghosts, pills, food and the power timer; this script
averages the per-dimension GTC the metrics cells already recorded (``gtc``: GTC_d = max_j
|corr(g_d, s_j)|, docs/metrics.md) over the chosen dimensions only, for each method and seed, and
gives each method's mean with rliable's 95% stratified-bootstrap interval (as the leaderboard does).
Only methods whose every seed is done are listed; the count of seeds is written beside each.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.report import write_json_atomic  # noqa: E402
from srl_bench.stats import mean_ci  # noqa: E402


def position_gtc(work: Path, env: str, dims: list[str]) -> dict[str, list[float]]:
    """method -> the mean GTC over ``dims`` of each finished seed."""
    by_method: dict[str, list[float]] = defaultdict(list)
    for path in sorted((work / "cells").glob(f"metrics__{env}__*.json")):
        record = json.loads(path.read_text())
        if record.get("status") != "done":
            continue
        gtc = record["result"].get("gtc", {})
        missing = [d for d in dims if d not in gtc]
        if missing:
            raise SystemExit(f"{path.name} has no GTC for {', '.join(missing)} (it has: {', '.join(gtc)})")
        method = record["key"].split("/")[2]
        by_method[method].append(sum(gtc[d] for d in dims) / len(dims))
    return dict(by_method)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default=".srl-bench/standard",
                        help="a work directory or a leaderboard folder (both hold the records in cells/)")
    parser.add_argument("--env", default="MiniPacman-v0")
    parser.add_argument("--dims", nargs="+", default=["pacman_row", "pacman_col"])
    parser.add_argument("--seeds", type=int, default=5, help="list only methods with this many finished seeds")
    parser.add_argument("--out", default="results/findings/minipacman_position_gtc.json")
    args = parser.parse_args()

    rows = {}
    for method, values in sorted(position_gtc(Path(args.work), args.env, args.dims).items()):
        if len(values) < args.seeds:
            continue
        mean, low, high = mean_ci(values)
        rows[method] = {"mean": round(mean, 3), "ci95": [round(low, 3), round(high, 3)], "seeds": len(values),
                        "per_seed": [round(v, 3) for v in values]}
    ranked = dict(sorted(rows.items(), key=lambda item: -item[1]["mean"]))
    write_json_atomic(args.out, {
        "what": f"GTC averaged over {', '.join(args.dims)} only (per-dimension GTC from the metrics cells)",
        "command": "python " + " ".join([f"scripts/{Path(__file__).name}", *sys.argv[1:]]),
        "env": args.env, "dims": args.dims, "methods": ranked})
    print(f"| method | GTC over {', '.join(args.dims)} | seeds |\n|---|---|---|")
    for method, row in ranked.items():
        print(f"| {method} | {row['mean']:.3f} [{row['ci95'][0]:.3f}, {row['ci95'][1]:.3f}] | {row['seeds']} |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
