"""Leaderboards from a benchmark's cell results: per environment and method, each metric's mean over
seeds with its 95% stratified-bootstrap interval (``srl_bench.stats``), the downstream-RL
normalised score against the ``ground_truth`` and ``random_policy`` agents of the same benchmark, a
rank (the mean rank over the metrics every method of the environment has) and the best value per
column.

Nothing here trains or evaluates: the tables are made from the cell records alone, and written as
``runs.csv`` (one row per env × method × seed), ``rl_runs.csv`` (one row per env × representation ×
RL seed), ``leaderboard.csv`` and ``leaderboard.md``; ``srl_bench.bench.report`` adds the
aggregates across environments, the plots, ``index.html``, ``leaderboard.tex`` and
``leaderboard.json`` to the same folder. No timing goes into the CSVs, so the same benchmark gives
the same bytes however it was run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from srl_bench.bench.config import NORMALISING, REFERENCES, BenchmarkConfig
from srl_bench.stats import mean_ci

# metric -> (higher is better, shown in the markdown table)
METRICS: dict[str, tuple[bool, bool]] = {
    "knn_mse_ratio": (False, True), "knn_mse": (False, False), "gtc_mean": (True, True),
    "probe_linear_r2": (True, True), "probe_mlp_r2": (True, True), "probe_linear_acc": (True, False),
    "probe_linear_f1": (True, True), "state_std": (True, True), "rl_score": (True, True),
}
LEADERBOARD_METRICS = tuple(METRICS)
NO_INTERVAL = ("`(n=N)`: N seeds and no interval: one seed, or a partial row (fewer seeds than the benchmark "
               "plans; unranked and never bold, since its first seeds would look firmer than they are)")
# the metrics a method is ranked by, and marked best on (state_std has no better direction)
RANKED = ("knn_mse_ratio", "gtc_mean", "probe_linear_r2", "probe_mlp_r2", "probe_linear_f1", "rl_score")
SORT_BY = "probe_linear_r2"  # breaks ties of the rank
TITLES = {"rl_score": "RL normalised score", "state_std": "state std"}
# said under an env's table when its references are not separated (headline, rest)
UNSEPARATED = ("The RL scores here rank nothing", ": the 95% intervals of ground_truth and random_policy overlap, so "
               "this budget does not tell the agent on the true state from the random policy; the RL score is left "
               "out of the rank and not marked best.")

# the shared rliable wrapper (srl_bench.stats), under the name srl_bench.bench has always exported
bootstrap_ci = mean_ci


def normalised_scores(rl_runs: pd.DataFrame) -> pd.Series:
    """Per RL run: (R − mean R_random_policy) / (mean R_ground_truth − mean R_random_policy), the
    references' means taken over their seeds in the same env; NaN where a reference is missing or the
    two coincide."""
    out = pd.Series(np.nan, index=rl_runs.index, dtype=float)
    for env, group in rl_runs.groupby("env", sort=False):
        by_name = group.groupby("representation")["score"].mean()
        if not set(NORMALISING) <= set(by_name.index):
            continue
        span = by_name["ground_truth"] - by_name["random_policy"]
        if abs(span) > 1e-12:
            out[group.index] = (group["score"] - by_name["random_policy"]) / span
    return out


def collect(config: BenchmarkConfig | dict[str, str], cells: Iterable[Any],
            records: dict[str, dict[str, Any] | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(runs, rl_runs)`` from the finished cells (failed or missing cells leave no row). ``config``
    is the benchmark, or just its env ids by slug (``{"CartPole-v0": "srl/CartPole-v0"}``).

    An encoder of your own made without a seed is scored once: nothing in its metrics depends on the
    seed (the held-out split has its own), so with the benchmark known its one row stands for each of
    the benchmark's seeds, as a closed-form baseline's identical per-seed rows do, and the row is ranked
    like the others instead of looking partial."""
    runs: list[dict[str, Any]] = []
    rl_runs: list[dict[str, Any]] = []
    slugs = dict(config) if isinstance(config, dict) else {env.slug: env.id for env in config.envs}
    for cell in cells:
        record = records.get(cell.key)
        if cell.stage not in ("metrics", "rl") or record is None or record.get("status") != "done":
            continue
        stage, slug, name, seed_part = cell.key.split("/")
        seed = int(seed_part.removeprefix("seed"))
        if stage == "metrics":
            result = record["result"]
            train = records.get(cell.key.replace("metrics/", "train/", 1)) or {}
            summary = train.get("result") or {}
            unseeded = (not isinstance(config, dict) and "encoder" in cell.spec
                        and cell.spec["encoder"].get("seed") is None)
            for each_seed in config.seeds if unseeded else [seed]:
                runs.append({"env": slugs.get(slug, slug), "method": name, "seed": each_seed,
                             **{m: result.get(m, math.nan) for m in METRICS if m != "rl_score"},
                             "state_dim": result.get("state_dim"), "n_eval_frames": result.get("n_eval_frames"),
                             "epochs_run": summary.get("epochs_run"), "epochs_cap": summary.get("epochs_cap"),
                             "stopped": summary.get("stopped")})
        elif stage == "rl":
            result = record["result"]
            rl_runs.append({"env": slugs.get(slug, slug), "representation": name, "seed": seed, "algo": cell.spec["algo"],
                            "timesteps": result["timesteps"], "score": result["score"]})
    runs_df = pd.DataFrame(runs, columns=["env", "method", "seed", *[m for m in METRICS if m != "rl_score"],
                                          "state_dim", "n_eval_frames", "epochs_run", "epochs_cap", "stopped"])
    rl_df = pd.DataFrame(rl_runs, columns=["env", "representation", "seed", "algo", "timesteps", "score"])
    rl_df["normalised_score"] = normalised_scores(rl_df) if len(rl_df) else pd.Series(dtype=float)
    return runs_df, rl_df


def planned_seeds(config: BenchmarkConfig | None) -> dict[str, int]:
    """How many seeds the benchmark plans per score: its RL seeds for ``rl_score``, its seeds for every
    other metric and probe score ({} without a config: every interval is shown)."""
    if config is None:
        return {}
    return {"rl_score": len(config.rl_seeds), **{m: len(config.seeds) for m in METRICS if m != "rl_score"}}


def leaderboard(runs: pd.DataFrame, rl_runs: pd.DataFrame | None = None,
                metrics: tuple[str, ...] = LEADERBOARD_METRICS, planned: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per (env, method): per metric ``<m>_mean``, ``<m>_ci_low``, ``<m>_ci_high``, ``<m>_n``
    (seeds; NaN bounds for a single seed, and for fewer seeds than ``planned[m]``: a bootstrap over
    the first 2 of 5 seeds is no honest interval), ``partial`` (some metric has fewer seeds than
    planned: the row is neither ranked nor marked best), the epochs used, and ``mean_rank`` / ``rank`` (see
    :func:`add_ranks`); the RL references get a row with their RL score only and no rank. Sorted by
    env, then by rank (ties: by ``probe_linear_r2``, best first), references last."""
    rows: list[dict[str, Any]] = []
    rl_runs = rl_runs if rl_runs is not None else pd.DataFrame(columns=["env", "representation", "seed",
                                                                        "normalised_score"])
    envs = list(dict.fromkeys([*runs["env"], *rl_runs["env"]]))
    for env in envs:
        names = list(dict.fromkeys([*runs.loc[runs["env"] == env, "method"],
                                    *[r for r in rl_runs.loc[rl_runs["env"] == env, "representation"]
                                      if r not in REFERENCES],
                                    *[r for r in REFERENCES if r in set(rl_runs.loc[rl_runs["env"] == env, "representation"])]]))
        for name in names:
            group = runs[(runs["env"] == env) & (runs["method"] == name)]
            rl_group = rl_runs[(rl_runs["env"] == env) & (rl_runs["representation"] == name)]
            row: dict[str, Any] = {"env": env, "method": name, "reference": name in REFERENCES, "partial": False}
            for metric in metrics:
                values = (rl_group["normalised_score"] if metric == "rl_score" else
                          group[metric] if metric in group else pd.Series(dtype=float)).dropna().to_numpy()
                mean, low, high = mean_ci(values) if len(values) else (math.nan, math.nan, math.nan)
                if len(values) < (planned or {}).get(metric, 0):
                    low = high = math.nan
                    row["partial"] = row["partial"] or len(values) > 0
                row.update({f"{metric}_mean": mean, f"{metric}_ci_low": low, f"{metric}_ci_high": high,
                            f"{metric}_n": len(values)})
            epochs = group.get("epochs_run", pd.Series(dtype=float)).dropna()
            stopped = group.get("stopped", pd.Series(dtype=object))
            dims = group.get("state_dim", pd.Series(dtype=float)).dropna()
            row["state_dim"] = int(dims.median()) if len(dims) else math.nan
            row["epochs_mean"] = float(epochs.mean()) if len(epochs) else math.nan
            row["epoch_cap_runs"] = int((stopped == "epoch_cap").sum())
            row["diverged_runs"] = int((stopped == "diverged").sum())
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = add_ranks(table)
    order = table[f"{SORT_BY}_mean"].fillna(-np.inf) if f"{SORT_BY}_mean" in table else 0
    table = table.assign(_order=-order, _rank=table["mean_rank"].fillna(np.inf))
    table = table.sort_values(["env", "reference", "_rank", "_order"], kind="stable")
    return table.drop(columns=["_order", "_rank"]).reset_index(drop=True)


def references_separated(group: pd.DataFrame) -> bool | None:
    """Whether one env's RL budget tells the agent on the true state from the random policy: the 95%
    intervals of ``ground_truth``'s and ``random_policy``'s normalised scores do not overlap. None when
    it cannot be told (a reference missing, or with fewer than 2 seeds: no interval)."""
    if "rl_score_ci_low" not in group:
        return None
    ends = {}
    for name in NORMALISING:
        row = group[group["reference"].astype(bool) & (group["method"] == name)]
        if row.empty or row["rl_score_n"].iloc[0] < 2 or row[["rl_score_ci_low", "rl_score_ci_high"]].isna().any(axis=None):
            return None
        ends[name] = (float(row["rl_score_ci_low"].iloc[0]), float(row["rl_score_ci_high"].iloc[0]))
    return ends["ground_truth"][0] > ends["random_policy"][1]


def contenders(group: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``group`` that are ranked and marked best: methods (not references) whose every
    metric has the seeds the benchmark plans (not ``partial``)."""
    partial = group["partial"].astype(bool) if "partial" in group else False
    return group[~group["reference"].astype(bool) & ~partial]


def rank_metrics(group: pd.DataFrame) -> list[str]:
    """The metrics the :func:`contenders` of one env's rows are ranked by: those of :data:`RANKED` that
    every contender has a value of; not the RL score where the env's references are not separated
    (:func:`references_separated`), since it then ranks noise."""
    methods = contenders(group)
    if methods.empty:
        return []
    unranked = {"rl_score"} if references_separated(group) is False else set()
    return [m for m in RANKED if m not in unranked and f"{m}_n" in methods and bool((methods[f"{m}_n"] > 0).all())]


def add_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """``mean_rank``: per env, each method's rank on each of :func:`rank_metrics` (1 = best mean,
    ties share the average rank), averaged over those metrics; ``rank``: the order of ``mean_rank``
    (1 = best; equal mean ranks share the lower rank). References and partial rows have neither."""
    table = table.copy()
    table["mean_rank"] = np.nan
    table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for _, group in table.groupby("env", sort=False):
        methods = contenders(group)
        metrics = rank_metrics(group)
        if not metrics:
            continue
        ranks = pd.concat([methods[f"{m}_mean"].rank(ascending=not METRICS[m][0], method="average")
                           for m in metrics], axis=1)
        mean_rank = ranks.mean(axis=1)
        table.loc[methods.index, "mean_rank"] = mean_rank
        table.loc[methods.index, "rank"] = mean_rank.rank(method="min").astype(int).to_numpy()
    return table


def best_rows(group: pd.DataFrame, metric: str) -> set[Any]:
    """Index labels of the rows of one env's table holding the best mean of ``metric`` among the
    :func:`contenders` (references are never marked: the ground-truth agent would always win the RL score);
    empty for ``state_std`` (no better direction), when no method has the metric, and for the RL
    score where the env's references are not separated."""
    if metric not in RANKED or f"{metric}_mean" not in group:
        return set()
    if metric == "rl_score" and references_separated(group) is False:
        return set()
    values = contenders(group)[f"{metric}_mean"].dropna()
    if values.empty:
        return set()
    best = values.max() if METRICS[metric][0] else values.min()
    return set(values.index[values == best])


def _cell(row: pd.Series, metric: str, bold: bool = False) -> str:
    n = row.get(f"{metric}_n", 0)
    if not n:
        return "—"
    mean, low, high = row[f"{metric}_mean"], row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]
    shown = f"**{mean:.3f}**" if bold else f"{mean:.3f}"
    if n == 1 or not (math.isfinite(low) and math.isfinite(high)):
        return f"{shown} (n={n})"
    return f"{shown} [{low:.3f}, {high:.3f}]"


def shown_metrics(table: pd.DataFrame, metrics: tuple[str, ...] | None = None) -> list[str]:
    """The metrics of the tables: those shown by default (or ``metrics``) that some row has."""
    metrics = metrics or tuple(m for m, (_, shown) in METRICS.items() if shown)
    return [m for m in metrics if f"{m}_n" in table and table[f"{m}_n"].sum() > 0]


def arrow(metric: str) -> str:
    """↑ (higher is better), ↓ (lower is better) or nothing (``state_std``)."""
    return "" if metric == "state_std" else "↑" if METRICS[metric][0] else "↓"


def dim_text(row: pd.Series) -> str:
    """The state's dimension as shown ("—" for the RL references, which read no encoder)."""
    dim = row.get("state_dim", math.nan)
    return "—" if pd.isna(dim) else str(int(dim))


def epochs_text(row: pd.Series) -> str:
    """Mean epochs trained, with how many runs stopped at the cap or diverged."""
    epochs = "—" if not math.isfinite(row["epochs_mean"]) else f"{row['epochs_mean']:.1f}"
    if row["epoch_cap_runs"]:
        epochs += f" ({row['epoch_cap_runs']} at cap)"
    if row["diverged_runs"]:
        epochs += f" ({row['diverged_runs']} diverged)"
    return epochs


def rank_text(row: pd.Series) -> str:
    """The rank of a row as shown in the tables ("" for references and unranked rows)."""
    rank = row.get("rank")
    return "" if rank is None or pd.isna(rank) else str(int(rank))


def seed_counts(row: pd.Series, metrics: list[str]) -> tuple[int, str]:
    """(the most seeds of any metric in the row, the text shown): ``5``, or ``5 (RL normalised score: 4)``
    when some metric has fewer seeds (a partial or failed cell), so no column looks firmer than it is."""
    counts = {m: int(row[f"{m}_n"]) for m in metrics}
    most = max(counts.values(), default=0)
    fewer = [f"{TITLES.get(m, m)}: {n}" for m, n in counts.items() if 0 < n < most]
    return most, f"{most} ({', '.join(fewer)})" if fewer else str(most)


def leaderboard_markdown(table: pd.DataFrame, metrics: tuple[str, ...] | None = None) -> str:
    """Markdown tables, one per environment: mean [95% CI] per metric, the epochs used, the seeds."""
    if table.empty:
        return "(no finished runs)\n"
    present = shown_metrics(table, metrics)
    has_rank = "rank" in table
    lines: list[str] = []
    for env, group in table.groupby("env", sort=False):
        best = {m: best_rows(group, m) for m in present}
        lines += [f"### {env}", "",
                  ("| rank " if has_rank else "") + "| method | "
                  + " | ".join(f"{TITLES.get(m, m)} {arrow(m)}".strip() for m in present) + " | dim | epochs | seeds |",
                  ("|---" if has_rank else "") + "|---|" + "---|" * len(present) + "---|---|---|"]
        for index, row in group.iterrows():
            _, seeds = seed_counts(row, present)
            name = f"*{row['method']}*" if row["reference"] else row["method"]
            lines.append(("| " + rank_text(row) + " " if has_rank else "") + f"| {name} | "
                         + " | ".join(_cell(row, m, index in best[m]) for m in present)
                         + f" | {dim_text(row)} | {epochs_text(row)} | {seeds} |")
        if has_rank:
            ranked_by = rank_metrics(group)
            lines += ["", "Rank: mean rank over " + (", ".join(ranked_by) if ranked_by else "no metric (none that "
                                                      "every method has)") + "; **bold**: best mean per column."]
        if references_separated(group) is False:
            lines += ["", f"**{UNSEPARATED[0]}**{UNSEPARATED[1]}"]
        lines.append("")
    return "\n".join(lines)


def _describe_env(env: Any) -> str:
    cap = f", at most {env.max_steps} steps each" if env.max_steps else ""
    return (f"- {env.id}: {env.episodes} episodes{cap}, policy {env.policy}, seed {env.seed}, "
            f"{env.image_size}×{env.image_size} images")


def header(config: BenchmarkConfig, command: str, timing: str) -> list[str]:
    """The leaderboard's opening lines: how it was made, what the numbers mean, the datasets, the RL."""
    lines = [
        f"# Leaderboard: {config.name}", "",
        f"Produced by `{command}` ({timing}; cells on one torch thread each). Metrics on held-out episodes (docs/metrics.md); mean over seeds with "
        f"a 95% stratified-bootstrap interval [low, high] (rliable); {NO_INTERVAL}. Rows sorted by "
        "rank (the mean rank over the metrics every method has; ties by probe_linear_r2), best first; **bold**: the "
        "best mean per column; *references* last. `state std`: the learned state's mean per-dimension standard "
        "deviation on the held-out frames (the metrics ignore scale; far below `random`'s, the state collapsed). "
        "`dim`: the state's dimension, what the probes, KNN and the agent read (more dimensions give a probe more "
        "to fit). `epochs`: mean epochs trained (early stopping on validation loss; `at cap`: runs that were still "
        "improving when the epoch cap stopped them).", "", "Datasets:", "", *[_describe_env(e) for e in config.envs],
    ]
    if config.rl is not None:
        rl = config.rl
        budgets = ", ".join(f"{env.id} {rl.algo_for(env.id)} {rl.timesteps.get(env.id, 'the RL config’s')} steps"
                            for env in config.rl_envs())
        lines += ["", f"Downstream RL ({budgets}; seeds {', '.join(map(str, config.rl_seeds))}): the agent sees only "
                  "the frozen encoder's state; score = mean return of the last evaluation, normalised as "
                  "(R − R_random_policy) / (R_ground_truth − R_random_policy) with the references' means over "
                  "seeds (1 = the ground-truth agent, 0 = the random policy)."]
        skipped = [f"{', '.join(names)} on {env}" for env, names in rl.skip_references.items() if names]
        if skipped:
            lines[-1] += f" Not run (the config's `skip_references`): {'; '.join(skipped)}."
    return lines + [""]


def write_leaderboard(config: BenchmarkConfig, cells: Iterable[Any], records: dict[str, dict[str, Any] | None],
                      work: Path, out: Path, command: str, timing: str) -> Path:
    """Write the leaderboard folder ``out`` (replacing an earlier one) from the cell records: the
    tables (md, csv, json, tex), the aggregates across environments, the plots and ``index.html``
    (``srl_bench.bench.report``)."""
    from srl_bench.bench.report import from_benchmark, write_folder

    return write_folder(from_benchmark(config, list(cells), records, Path(work), command, timing), out)
