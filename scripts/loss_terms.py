"""Which loss term decides a multi-term run's early stopping: each term's validation curve, where it
stood at the kept epoch, and its own best.

    python scripts/loss_terms.py RUN [RUN ...] [--out results/findings/loss_terms.json]

Early stopping keeps the epoch with the lowest weighted validation total, Σ_i w_i · L_i, and stops
after ``patience`` epochs without a new lowest. Where one term sits at chance (cart-pole's inverse
model: ln 2 ≈ 0.693, docs/findings.md section 4) its epoch-to-epoch noise can outweigh another term's
real progress (a reconstruction error of ~0.003), and then that noise picks the epoch kept. For each
run (its ``train_log.csv``) this prints and writes, per term: the value at the kept epoch, its lowest
value and the epoch of it, and the typical size of its epoch-to-epoch change (the median absolute
difference, robust to the first epochs' large drops), weighted as the total weighs it.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.report import write_json_atomic  # noqa: E402


def summarise(run: Path) -> dict:
    """One run's per-term validation summary (see the module docstring)."""
    rows = list(csv.DictReader((run / "train_log.csv").read_text().splitlines()))
    config = json.loads((run / "config.json").read_text())["config"]
    weights = {name: float(term.get("weight", 1.0)) for name, term in config.get("losses", {}).items()}
    terms = [key[len("val_"):] for key in rows[0] if key.startswith("val_") and key != "val_total"]
    total = np.array([float(r["val_total"]) for r in rows])
    kept = int(np.argmin(total))
    summary = {"run": str(run), "epochs_run": len(rows), "kept_epoch": kept + 1, "terms": {}}
    for term in terms:
        curve = np.array([float(r[f"val_{term}"]) for r in rows])
        weight = weights.get(term, 1.0)
        summary["terms"][term] = {
            "weight": weight, "at_kept_epoch": curve[kept], "lowest": curve.min(), "lowest_epoch": int(curve.argmin()) + 1,
            "weighted_median_change": float(np.median(np.abs(np.diff(curve))) * weight) if len(curve) > 1 else None,
            "curve": [round(float(v), 6) for v in curve]}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    summaries = []
    for run in args.runs:
        if not (run / "train_log.csv").is_file():
            sys.exit(f"loss_terms: {run} holds no train_log.csv (give a trained run's directory)")
        summary = summarise(run)
        summaries.append(summary)
        print(f"{run}: kept epoch {summary['kept_epoch']} of {summary['epochs_run']}")
        for term, s in summary["terms"].items():
            print(f"  {term:<16} w={s['weight']:<4g} at kept {s['at_kept_epoch']:.5g}  lowest {s['lowest']:.5g} "
                  f"(epoch {s['lowest_epoch']})  weighted median change {s['weighted_median_change']:.2g}")
    if args.out:
        write_json_atomic(args.out, {"command": "python scripts/loss_terms.py " + " ".join(sys.argv[1:]),
                                     "runs": summaries})
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
