"""Aggregates across environments, from the per-run tables (``runs``, ``rl_runs``) alone, the way
rliable reports a benchmark (Agarwal et al. 2021): per method, the interquartile mean (IQM) and the
optimality gap of its scores over every (seed, environment) run, the probability of improvement over
the ``random`` encoder, and performance profiles; each with a 95% stratified-bootstrap interval
(``srl_bench.stats``, 2000 resamples, seeded).

Scores aggregated (:data:`SCORES`): the downstream-RL normalised score (0 = the random policy,
1 = the ground-truth agent) and the probes' R² (1 = the true state read back exactly). Both are on a
scale where 1 is the top, so the optimality gap ``1 − mean(min(score, 1))`` reads the same way for
each. A method's runs are the seeds it has in *every* environment it has that score in (the bootstrap
resamples seeds within each environment, so each needs the same seeds); ``n_tasks`` says how many
environments that is, and a method scored on fewer environments than another is marked by it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srl_bench.bench.config import REFERENCES
from srl_bench.stats import interval_estimate, performance_profile, probability_of_improvement

BASELINE = "random"  # the untrained encoder every method is compared with
STATISTICS = ("iqm", "optimality_gap")
STATISTIC_TITLES = {"iqm": "IQM", "optimality_gap": "optimality gap"}
PROFILE_POINTS = 101


@dataclass(frozen=True)
class Score:
    """A score aggregated across environments: where it is read from and what it is called."""

    name: str
    title: str
    frame: str  # "runs" or "rl_runs"
    column: str
    who: str  # the column naming the method


SCORES: dict[str, Score] = {
    "rl_score": Score("rl_score", "RL normalised score", "rl_runs", "normalised_score", "representation"),
    "probe_linear_r2": Score("probe_linear_r2", "linear probe R²", "runs", "probe_linear_r2", "method"),
    "probe_mlp_r2": Score("probe_mlp_r2", "MLP probe R²", "runs", "probe_mlp_r2", "method"),
}


def names_in_order(runs: pd.DataFrame, rl_runs: pd.DataFrame) -> list[str]:
    """Every method as it first appears, then the RL references (in their usual order): one order
    for every table and plot, so a method keeps its colour throughout."""
    names = [*runs["method"], *[r for r in rl_runs["representation"] if r not in REFERENCES]]
    present = set(rl_runs["representation"])
    return list(dict.fromkeys([*names, *[r for r in REFERENCES if r in present]]))


def score_matrix(frame: pd.DataFrame, score: Score, name: str,
                 envs: list[str] | None = None) -> tuple[np.ndarray, list[str], list[int]]:
    """``(matrix, envs, seeds)``: ``name``'s ``score`` as a (seeds × environments) matrix over the
    environments where it has that score (or ``envs``), keeping the seeds it has in all of them."""
    rows = frame[(frame[score.who] == name) & frame[score.column].notna()]
    if envs is not None:
        rows = rows[rows["env"].isin(envs)]
    if rows.empty:
        return np.zeros((0, 0)), [], []
    table = rows.pivot_table(index="seed", columns="env", values=score.column, aggfunc="mean")
    kept_envs = [e for e in dict.fromkeys(rows["env"]) if e in table.columns]
    if envs is not None:
        if set(envs) - set(kept_envs):
            return np.zeros((0, 0)), [], []
        kept_envs = list(envs)
    table = table[kept_envs].dropna(axis=0, how="any").sort_index()
    return table.to_numpy(dtype=np.float64), kept_envs, [int(s) for s in table.index]


def _frames(runs: pd.DataFrame, rl_runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {"runs": runs, "rl_runs": rl_runs}


def across_envs(runs: pd.DataFrame, rl_runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (score, statistic, method): ``point``, ``low``, ``high`` (95% interval; NaN with
    one seed), ``n_seeds``, ``n_tasks`` (environments) and ``envs``; references flagged."""
    rows: list[dict[str, Any]] = []
    frames = _frames(runs, rl_runs)
    for score in SCORES.values():
        frame = frames[score.frame]
        if frame.empty or score.column not in frame or frame[score.column].notna().sum() == 0:
            continue
        for name in names_in_order(runs, rl_runs):
            matrix, envs, seeds = score_matrix(frame, score, name)
            if matrix.size == 0:
                continue
            for statistic in STATISTICS:
                point, low, high = interval_estimate(matrix, statistic)  # type: ignore[arg-type]
                rows.append({"score": score.name, "statistic": statistic, "method": name,
                             "reference": name in REFERENCES, "point": point, "low": low, "high": high,
                             "n_seeds": len(seeds), "n_tasks": len(envs), "envs": " ".join(envs)})
    return pd.DataFrame(rows, columns=["score", "statistic", "method", "reference", "point", "low", "high",
                                       "n_seeds", "n_tasks", "envs"])


def improvement_over(runs: pd.DataFrame, rl_runs: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """One row per (score, method ≠ ``baseline``): P(method > baseline), the probability that a run of
    the method scores above a run of the baseline in the same environment, averaged over the
    environments both have, with its 95% interval (``point``, ``low``, ``high``). Empty when the
    benchmark has no ``baseline``."""
    rows: list[dict[str, Any]] = []
    frames = _frames(runs, rl_runs)
    for score in SCORES.values():
        frame = frames[score.frame]
        if frame.empty or score.column not in frame:
            continue
        base = frame[(frame[score.who] == baseline) & frame[score.column].notna()]
        if base.empty:
            continue
        for name in names_in_order(runs, rl_runs):
            if name == baseline:
                continue
            mine = frame[(frame[score.who] == name) & frame[score.column].notna()]
            common = [e for e in dict.fromkeys(mine["env"]) if e in set(base["env"])]
            if not common:
                continue
            x, envs, seeds_x = score_matrix(frame, score, name, common)
            y, _, seeds_y = score_matrix(frame, score, baseline, common)
            if x.size == 0 or y.size == 0:
                continue
            point, low, high = probability_of_improvement(x, y)
            rows.append({"score": score.name, "method": name, "baseline": baseline, "reference": name in REFERENCES,
                         "point": point, "low": low, "high": high, "n_seeds": len(seeds_x),
                         "n_seeds_baseline": len(seeds_y), "n_tasks": len(envs), "envs": " ".join(envs)})
    return pd.DataFrame(rows, columns=["score", "method", "baseline", "reference", "point", "low", "high", "n_seeds",
                                       "n_seeds_baseline", "n_tasks", "envs"])


def withhold_partial(frame: pd.DataFrame, planned: dict[str, int]) -> pd.DataFrame:
    """``frame`` (rows of :func:`across_envs` or :func:`improvement_over`) without the intervals of the
    rows over fewer seeds than ``planned[score]`` (the seeds the benchmark plans; a partial row)."""
    if frame.empty or not planned:
        return frame
    need = frame["score"].map(planned).fillna(0)
    short = frame["n_seeds"] < need
    if "n_seeds_baseline" in frame:
        short |= frame["n_seeds_baseline"] < need
    return frame.assign(low=frame["low"].mask(short), high=frame["high"].mask(short))


def profiles(runs: pd.DataFrame, rl_runs: pd.DataFrame, points: int = PROFILE_POINTS) -> dict[str, dict[str, Any]]:
    """Performance profiles per score: ``{score: {"taus": [...], "methods": {name: {"profile",
    "low", "high", "n_seeds", "n_tasks"}}}}``; the profile at tau is the fraction of the method's
    runs (all seeds of all environments) scoring above tau. The thresholds span 0..1 and whatever the
    scores reach beyond it."""
    out: dict[str, dict[str, Any]] = {}
    frames = _frames(runs, rl_runs)
    for score in SCORES.values():
        frame = frames[score.frame]
        if frame.empty or score.column not in frame:
            continue
        values = frame[score.column].dropna().to_numpy(dtype=np.float64)
        if not len(values):
            continue
        low_end = min(0.0, float(np.floor(values.min() * 10) / 10))
        high_end = max(1.0, float(np.ceil(values.max() * 10) / 10))
        taus = np.linspace(low_end, high_end, points)
        methods: dict[str, Any] = {}
        for name in names_in_order(runs, rl_runs):
            matrix, envs, seeds = score_matrix(frame, score, name)
            if matrix.size == 0:
                continue
            profile, low, high = performance_profile(matrix, taus)
            methods[name] = {"profile": profile.tolist(), "low": low.tolist(), "high": high.tolist(),
                             "n_seeds": len(seeds), "n_tasks": len(envs), "reference": name in REFERENCES}
        if methods:
            out[score.name] = {"title": score.title, "taus": taus.tolist(), "methods": methods}
    return out


def best_of(frame: pd.DataFrame, higher_is_better: bool) -> set[Any]:
    """Index labels of the best ``point`` among the rows that are not references."""
    values = frame.loc[~frame["reference"].astype(bool), "point"].dropna()
    if values.empty:
        return set()
    best = values.max() if higher_is_better else values.min()
    return set(values.index[values == best])


def interval_text(point: float, low: float, high: float, digits: int = 3) -> str:
    """``point [low, high]``, or the point alone when there is no interval; "—" for no value."""
    if point is None or not math.isfinite(point):
        return "—"
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return f"{point:.{digits}f}"
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
