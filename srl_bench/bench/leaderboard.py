"""Leaderboards: per (environment, method), the mean over seeds and a 95% stratified-bootstrap interval."""

from __future__ import annotations

from typing import Any

import pandas as pd

from srl_bench.metrics import HIGHER_IS_BETTER
from srl_bench.stats import mean_ci

LEADERBOARD_METRICS = ("knn_mse_ratio", "knn_mse", "gtc_mean", "probe_linear_r2")

# the shared rliable wrapper (srl_bench.stats), under the name srl_bench.bench has always exported
bootstrap_ci = mean_ci


def leaderboard(runs: pd.DataFrame, metrics: tuple[str, ...] = LEADERBOARD_METRICS) -> pd.DataFrame:
    """One row per (env, method): ``n_seeds`` and, per metric, ``<m>_mean``, ``<m>_ci_low``, ``<m>_ci_high``
    (NaN bounds for a single seed: see ``srl_bench.stats``).

    ``runs`` has one row per (env, method, seed) with the metric columns. Rows are sorted by env, then
    by the linear probe's R² (best first).
    """
    rows: list[dict[str, Any]] = []
    for (env, method), group in runs.groupby(["env", "method"], sort=False):
        row: dict[str, Any] = {"env": env, "method": method, "n_seeds": int(group["seed"].nunique())}
        for metric in metrics:
            mean, low, high = mean_ci(group[metric].to_numpy())
            row.update({f"{metric}_mean": mean, f"{metric}_ci_low": low, f"{metric}_ci_high": high})
        rows.append(row)
    table = pd.DataFrame(rows)
    sort_key = "probe_linear_r2_mean" if "probe_linear_r2" in metrics else f"{metrics[0]}_mean"
    return table.sort_values(["env", sort_key], ascending=[True, not HIGHER_IS_BETTER.get(sort_key[:-5], True)],
                             kind="stable").reset_index(drop=True)


def leaderboard_markdown(table: pd.DataFrame, metrics: tuple[str, ...] = LEADERBOARD_METRICS) -> str:
    """Markdown tables, one per environment: mean [95% CI] per metric, with the number of seeds."""
    arrows = {m: "↑" if HIGHER_IS_BETTER[m] else "↓" for m in metrics}
    lines: list[str] = []
    for env, group in table.groupby("env", sort=False):
        lines += [f"### {env}", "", "| method | " + " | ".join(f"{m} {arrows[m]}" for m in metrics) + " | seeds |",
                  "|---|" + "---|" * len(metrics) + "---|"]
        for _, row in group.iterrows():
            cells = []
            for m in metrics:
                mean, low, high = row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"]
                cells.append(f"{mean:.3f}" if row["n_seeds"] == 1 else f"{mean:.3f} [{low:.3f}, {high:.3f}]")
            lines.append(f"| {row['method']} | " + " | ".join(cells) + f" | {row['n_seeds']} |")
        lines.append("")
    return "\n".join(lines)
