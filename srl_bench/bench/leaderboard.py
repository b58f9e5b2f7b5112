"""Leaderboards: per (environment, method), the mean over seeds and a 95% stratified-bootstrap interval."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from srl_bench.metrics import HIGHER_IS_BETTER

LEADERBOARD_METRICS = ("knn_mse_ratio", "knn_mse", "gtc_mean", "probe_linear_r2")


def bootstrap_ci(values: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval over seeds (rliable's estimator), seeded."""
    from rliable import library as rly

    values = np.asarray(values, dtype=np.float64)
    if len(values) == 1:
        return float(values[0]), float(values[0]), float(values[0])
    with warnings.catch_warnings():  # arch warns that RandomState is deprecated; rliable still passes one
        warnings.simplefilter("ignore", FutureWarning)
        point, interval = rly.get_interval_estimates(
            {"x": values.reshape(-1, 1)}, lambda x: np.array([np.mean(x)]), reps=reps,
            random_state=np.random.RandomState(seed),
        )
    return float(point["x"][0]), float(interval["x"][0, 0]), float(interval["x"][1, 0])


def leaderboard(runs: pd.DataFrame, metrics: tuple[str, ...] = LEADERBOARD_METRICS) -> pd.DataFrame:
    """One row per (env, method): ``n_seeds`` and, per metric, ``<m>_mean``, ``<m>_ci_low``, ``<m>_ci_high``.

    ``runs`` has one row per (env, method, seed) with the metric columns. Rows are sorted by env, then
    by the linear probe's R² (best first).
    """
    rows: list[dict[str, Any]] = []
    for (env, method), group in runs.groupby(["env", "method"], sort=False):
        row: dict[str, Any] = {"env": env, "method": method, "n_seeds": int(group["seed"].nunique())}
        for metric in metrics:
            mean, low, high = bootstrap_ci(group[metric].to_numpy())
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
