"""The leaderboard's figures (matplotlib, drawn off-screen with the Agg canvas, saved as PNG).

Every function draws one figure from data already computed (tables, aggregates, curves, a
:class:`~srl_bench.bench.report.inspect.RunSample`) and saves it; none trains or evaluates. A method
keeps one colour across all figures (:func:`colours`); the RL references are drawn in greys.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from srl_bench.bench.report.aggregate import SCORES, STATISTIC_TITLES, best_of

DPI = 100
REFERENCE_STYLE = {"ground_truth": ("#222222", "--"), "random_policy": ("#9a9a9a", ":"),
                   "raw_pixels": ("#8c6d31", "-.")}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#17becf", "#e377c2", "#bcbd22", "#7f7f7f",
           "#8c564b", "#393b79", "#637939", "#843c39", "#7b4173", "#3182bd", "#e6550d"]
MAX_TRUE_DIMS = 8


def colours(names: Iterable[str]) -> dict[str, str]:
    """One colour per name (in order), the references in greys."""
    out: dict[str, str] = {}
    i = 0
    for name in names:
        if name in REFERENCE_STYLE:
            out[name] = REFERENCE_STYLE[name][0]
        else:
            out[name] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def _figure(width: float, height: float, constrained: bool = True) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained" if constrained else None)


def _title(fig: Figure, text: str, size: float = 10) -> None:
    """A figure title wrapped to the figure's width."""
    chars = max(20, int(fig.get_figwidth() * 72 / (0.58 * size)))
    fig.suptitle("\n".join(line for part in text.split("\n") for line in textwrap.wrap(part, chars)), fontsize=size)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def _interval_panel(ax: Any, labels: list[str], points: list[float], lows: list[float], highs: list[float],
                    colour_of: dict[str, str], best: set[str], title: str, reference_line: float | None = None) -> None:
    """rliable-style interval estimates: one row per label, a bar over the 95% interval, a tick at the point."""
    y = np.arange(len(labels))[::-1]
    for yi, label, point, low, high in zip(y, labels, points, lows, highs):
        colour = colour_of.get(label, "#444444")
        if math.isfinite(low) and math.isfinite(high):
            ax.barh(yi, high - low, left=low, height=0.6, color=colour, alpha=0.35, edgecolor="none")
        if math.isfinite(point):
            ax.plot([point, point], [yi - 0.3, yi + 0.3], color=colour, lw=2.2)
    if reference_line is not None:
        ax.axvline(reference_line, color="#888888", lw=0.8, ls="--")
    ax.set_yticks(y, [f"{label} ★" if label in best else label for label in labels], fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    values = [v for v in [*points, *lows, *highs, *([reference_line] if reference_line is not None else [])]
              if v is not None and math.isfinite(v)]
    if values:
        low, high = min(values), max(values)
        pad = 0.06 * (high - low) if high > low else 0.05 * max(1.0, abs(low))
        ax.set_xlim(low - pad, high + pad)


def plot_intervals(group: pd.DataFrame, env: str, metrics: list[str], colour_of: dict[str, str],
                   best: dict[str, set[Any]], titles: dict[str, str], path: Path) -> Path:
    """Per metric of one environment's table: each method's mean over seeds and its 95% interval."""
    columns = min(3, max(1, len(metrics)))
    rows = math.ceil(len(metrics) / columns)
    fig = _figure(3.6 * columns, 0.35 * max(3, len(group)) * rows + 0.9)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        shown = group[group[f"{metric}_n"] > 0]
        _interval_panel(ax, list(shown["method"]), list(shown[f"{metric}_mean"]), list(shown[f"{metric}_ci_low"]),
                        list(shown[f"{metric}_ci_high"]), colour_of,
                        {shown.loc[i, "method"] for i in best.get(metric, set()) if i in shown.index}, titles[metric],
                        reference_line=1.0 if metric == "knn_mse_ratio" else None)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    _title(fig, f"{env}: mean over seeds and 95% stratified-bootstrap interval (★ best)")
    return _save(fig, path)


def plot_aggregates(across: pd.DataFrame, colour_of: dict[str, str], path: Path) -> Path:
    """IQM and optimality gap of each aggregated score, per method, with 95% intervals."""
    scores = [s for s in SCORES if s in set(across["score"])]
    statistics = list(STATISTIC_TITLES)
    n_methods = max(1, across["method"].nunique())
    fig = _figure(3.8 * len(statistics), (0.32 * max(3, n_methods) + 0.6) * len(scores) + 0.5)
    axes = fig.subplots(len(scores), len(statistics), squeeze=False)
    for r, score in enumerate(scores):
        for c, statistic in enumerate(statistics):
            part = across[(across["score"] == score) & (across["statistic"] == statistic)]
            best = {part.loc[i, "method"] for i in best_of(part, statistic != "optimality_gap")}
            _interval_panel(axes[r, c], list(part["method"]), list(part["point"]), list(part["low"]), list(part["high"]),
                            colour_of, best, f"{STATISTIC_TITLES[statistic]} of {SCORES[score].title}"
                            + (" ↓" if statistic == "optimality_gap" else " ↑"))
    _title(fig, "Across environments: aggregates over every (seed, environment) run, 95% stratified-bootstrap "
                 "intervals (★ best)")
    return _save(fig, path)


def plot_improvement(improvement: pd.DataFrame, colour_of: dict[str, str], path: Path) -> Path:
    """P(method > baseline) per aggregated score, with 95% intervals; 0.5 = no better, no worse."""
    scores = [s for s in SCORES if s in set(improvement["score"])]
    baseline = improvement["baseline"].iloc[0]
    n_methods = max(1, improvement["method"].nunique())
    fig = _figure(3.8 * len(scores), 0.35 * max(3, n_methods) + 1.0)
    axes = fig.subplots(1, len(scores), squeeze=False)
    for ax, score in zip(axes.flat, scores):
        part = improvement[improvement["score"] == score]
        _interval_panel(ax, list(part["method"]), list(part["point"]), list(part["low"]), list(part["high"]), colour_of,
                        set(), SCORES[score].title, reference_line=0.5)
        ax.set_xlim(-0.02, 1.02)
    _title(fig, f"Probability of improvement over {baseline}: P(method > {baseline}), 95% intervals")
    return _save(fig, path)


def plot_profiles(profiles: dict[str, dict[str, Any]], colour_of: dict[str, str], path: Path) -> Path:
    """Performance profiles: the fraction of runs scoring above each threshold, with 95% bands."""
    fig = _figure(4.0 * len(profiles), 3.4)
    axes = fig.subplots(1, len(profiles), squeeze=False)
    for ax, (score, profile) in zip(axes.flat, profiles.items()):
        taus = np.asarray(profile["taus"])
        for name, curve in profile["methods"].items():
            colour = colour_of.get(name, "#444444")
            style = REFERENCE_STYLE.get(name, (colour, "-"))[1]
            ax.plot(taus, curve["profile"], color=colour, ls=style, lw=1.6, label=name)
            low, high = np.asarray(curve["low"], dtype=float), np.asarray(curve["high"], dtype=float)
            if np.isfinite(low).all() and np.isfinite(high).all():
                ax.fill_between(taus, low, high, color=colour, alpha=0.15, lw=0)
        ax.set_xlabel(f"{profile['title']} τ", fontsize=8)
        ax.set_ylabel("fraction of runs with score > τ", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    _title(fig, "Performance profiles (score distributions over all seeds and environments, 95% bands)")
    return _save(fig, path)


def plot_rl_curves(curves: pd.DataFrame, env: str, colour_of: dict[str, str], path: Path) -> Path:
    """Sample efficiency on one environment: mean return of the deterministic evaluations against the
    environment steps trained, the mean over seeds as a line, the range over seeds shaded."""
    fig = _figure(6.4, 3.8)
    ax = fig.subplots()
    part = curves[curves["env"] == env]
    for name in dict.fromkeys(part["representation"]):
        rows = part[part["representation"] == name]
        table = rows.pivot_table(index="timesteps", columns="seed", values="mean_return", aggfunc="mean").sort_index()
        steps = table.index.to_numpy(dtype=float)
        colour = colour_of.get(name, "#444444")
        style = REFERENCE_STYLE.get(name, (colour, "-"))[1]
        n = table.shape[1]
        ax.plot(steps, table.mean(axis=1, skipna=True), color=colour, ls=style, lw=1.8, label=f"{name} ({n} seeds)")
        if n > 1:
            ax.fill_between(steps, table.min(axis=1), table.max(axis=1), color=colour, alpha=0.15, lw=0)
    ax.set_xlabel("environment steps", fontsize=8)
    ax.set_ylabel("mean evaluation return", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    _title(fig, f"{env}: downstream RL learning curves (line: mean over seeds, band: range over seeds)", 9)
    return _save(fig, path)


def plot_training(log: pd.DataFrame, title: str, path: Path) -> Path:
    """Training curves of one run: each loss term (and the total, when there are several terms) on the
    training and validation frames, per epoch."""
    terms = [c.removeprefix("train_") for c in log.columns if c.startswith("train_")]
    if len(terms) == 2 and "total" in terms:  # one term: the total is that term
        terms = [t for t in terms if t != "total"]
    columns = min(4, len(terms))
    rows = math.ceil(len(terms) / columns)
    fig = _figure(max(5.0, 3.0 * columns), 2.4 * rows + 0.5)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, term in zip(axes.flat, terms):
        for split, style in (("train", "-"), ("val", "--")):
            column = f"{split}_{term}"
            if column in log:
                ax.plot(log["epoch"], log[column], ls=style, marker="o", ms=3, lw=1.4, label=split)
        values = log[[c for c in (f"train_{term}", f"val_{term}") if c in log]].to_numpy(dtype=float)
        if np.isfinite(values).all() and (values > 0).all() and values.max() / values.min() > 20:
            ax.set_yscale("log")
        ax.set_title(term, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
    for ax in list(axes.flat)[len(terms):]:
        ax.set_visible(False)
    _title(fig, title)
    return _save(fig, path)


def plot_state_vs_truth(sample: Any, best: np.ndarray, corr: np.ndarray, path: Path) -> Path:
    """For each true-state dimension d: the true value (x) against the learned dimension most
    correlated with it (y; its |r| is GTC_d), each frame coloured by the next true dimension."""
    dims = min(MAX_TRUE_DIMS, sample.truth.shape[1])
    columns = min(4, dims)
    rows = math.ceil(dims / columns)
    fig = _figure(3.1 * columns, 2.7 * rows + 0.5)
    axes = fig.subplots(rows, columns, squeeze=False)
    names = sample.state_names
    for d, ax in zip(range(dims), axes.flat):
        if sample.truth.shape[1] > 1:
            other = (d + 1) % sample.truth.shape[1]
            colour, label = sample.truth[:, other], names[other]
        else:
            colour, label = np.arange(len(sample.truth)), "frame"
        points = ax.scatter(sample.truth[:, d], sample.states[:, best[d]], c=colour, s=7, cmap="viridis",
                            linewidths=0, alpha=0.85)
        bar = fig.colorbar(points, ax=ax, pad=0.01)
        bar.set_label(label, fontsize=7)
        bar.ax.tick_params(labelsize=6)
        r = "—" if not math.isfinite(corr[d]) else f"{corr[d]:.2f}"
        ax.set_title(f"{names[d]} vs s[{best[d]}]  |r| = {r}", fontsize=8)
        ax.set_xlabel(f"true {names[d]}", fontsize=7)
        ax.set_ylabel(f"learned s[{best[d]}]", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[dims:]:
        ax.set_visible(False)
    _title(fig, f"{sample.env} · {sample.method} (seed {sample.seed}): learned state against each true dimension "
                 f"({len(sample.states)} held-out frames)", 9)
    return _save(fig, path)


def plot_neighbours(sample: Any, neighbours: list[Any], path: Path) -> Path:
    """The picture behind KNN-MSE: query frames (left) and their nearest frames in learned space, each
    with its distance to the query in the (standardised) true state."""
    k = len(neighbours[0].neighbours)
    height = 1.45 * len(neighbours) + 0.7
    fig = _figure(1.25 * (k + 1) + 0.2, height, constrained=False)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.95 / height, wspace=0.08, hspace=0.45)
    axes = fig.subplots(len(neighbours), k + 1, squeeze=False)
    for row, item in zip(axes, neighbours):
        row[0].imshow(sample.images[item.query], interpolation="nearest")
        row[0].set_title(f"query\nratio {item.ratio:.2f}", fontsize=7, color="#1f4e9c")
        for ax in row[0].spines.values():
            ax.set_edgecolor("#1f4e9c")
            ax.set_linewidth(2)
        for ax, index, distance in zip(row[1:], item.neighbours, item.distances):
            ax.imshow(sample.images[index], interpolation="nearest")
            ax.set_title(f"‖Δg‖ {distance:.2f}", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    _title(fig, f"{sample.env} · {sample.method}: {k} nearest neighbours in learned space\n(‖Δg‖: true-state "
                 "distance, standardised; ratio: the query's KNN-MSE / 2D′)", 8)
    return _save(fig, path)


def plot_reconstructions(sample: Any, path: Path) -> Path:
    """Held-out frames (top of each pair of rows) and what the method's decoder makes of their state."""
    terms = list(sample.reconstructions.items())
    n = len(terms[0][1][0])
    height = 2.3 * len(terms) + 0.6
    fig = _figure(1.15 * n + 0.8, height, constrained=False)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.02, top=1 - 0.5 / height, wspace=0.06, hspace=0.08)
    axes = fig.subplots(2 * len(terms), n, squeeze=False)
    for t, (term, (target, output)) in enumerate(terms):
        for i in range(n):
            for r, image in ((2 * t, target[i]), (2 * t + 1, output[i])):
                ax = axes[r, i]
                if image.ndim == 2:
                    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                else:
                    ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
        axes[2 * t, 0].set_ylabel("frame" if target.ndim == 4 else "target", fontsize=7)
        axes[2 * t + 1, 0].set_ylabel(term, fontsize=7)
    _title(fig, f"{sample.env} · {sample.method} (seed {sample.seed}): held-out frames and their reconstructions",
           9)
    return _save(fig, path)
