"""``leaderboard.tex``: booktabs tables ready for a paper — one per environment and one across
environments — with the best value per column in bold and every name escaped for LaTeX.

Needs ``\\usepackage{booktabs}`` in the preamble; nothing else. Each value is the mean over seeds
(or the aggregate) in math mode with its 95% interval in ``\\scriptsize`` beside it.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from srl_bench.bench.config import REFERENCES
from srl_bench.bench.leaderboard import (METRICS, UNSEPARATED, best_rows, dim_text, rank_metrics, rank_text,
                                         references_separated, seed_counts, shown_metrics)
from srl_bench.bench.report.aggregate import BASELINE, SCORES, STATISTIC_TITLES

TITLES = {"knn_mse_ratio": "KNN-MSE ratio", "knn_mse": "KNN-MSE", "gtc_mean": "GTC",
          "probe_linear_r2": "Linear probe $R^2$", "probe_mlp_r2": "MLP probe $R^2$",
          "probe_linear_acc": "Linear probe acc.", "probe_linear_f1": "Linear probe $F_1$", "state_std": "State std",
          "rl_score": "RL norm.\\ score"}
SCORE_TITLES = {"rl_score": "RL norm.\\ score", "probe_linear_r2": "Linear probe $R^2$",
                "probe_mlp_r2": "MLP probe $R^2$"}
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: Any) -> str:
    """``text`` with LaTeX's special characters escaped (``ground_truth`` -> ``ground\\_truth``)."""
    return re.sub(r"[\\&%$#_{}~^]", lambda m: _SPECIAL[m.group(0)], str(text))


def number(value: float, bold: bool = False) -> str:
    """A value in math mode (a true minus sign), bold when it is the best of its column."""
    text = f"{value:.3f}"
    return f"$\\mathbf{{{text}}}$" if bold else f"${text}$"


def interval(mean: float, low: float, high: float, n: int, bold: bool) -> str:
    """``mean {\\scriptsize [low, high]}``, or ``--`` when there is no value."""
    if not n or mean is None or not math.isfinite(mean):
        return "--"
    text = number(mean, bold)
    if n > 1 and math.isfinite(low) and math.isfinite(high):
        text += f" {{\\scriptsize $[{low:.3f}, {high:.3f}]$}}"
    else:
        text += f" {{\\scriptsize ($n={n}$)}}"
    return text


def _arrow(metric: str) -> str:
    return "" if metric == "state_std" else " $\\uparrow$" if METRICS[metric][0] else " $\\downarrow$"


def _label(*parts: str) -> str:
    return "tab:" + "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-").lower() for p in parts if p)


def env_table(name: str, env: str, group: pd.DataFrame) -> str:
    """One environment's table."""
    present = shown_metrics(group)
    best = {m: best_rows(group, m) for m in present}
    ranked_by = rank_metrics(group)
    lines = [
        "\\begin{table}[t]", "  \\centering", "  \\small", "  \\setlength{\\tabcolsep}{4pt}",
        f"  \\caption{{{escape(name)} leaderboard on {escape(env)}: mean over seeds with its 95\\% stratified-bootstrap "
        "interval; best mean per column in bold; rank: mean rank over "
        + (", ".join(TITLES[m] for m in ranked_by) if ranked_by else "no metric") + "."
        + (f" {escape(UNSEPARATED[0] + UNSEPARATED[1])}" if references_separated(group) is False else "") + "}",
        f"  \\label{{{_label(name, env)}}}",
        "  \\begin{tabular}{rl" + "c" * len(present) + "rr}", "    \\toprule",
        "    Rank & Method & " + " & ".join(TITLES[m] + _arrow(m) for m in present) + " & Dim & Seeds \\\\",
        "    \\midrule",
    ]
    in_references = False
    for index, row in group.iterrows():
        if row["reference"] and not in_references:
            lines.append("    \\midrule")
            in_references = True
        seeds = escape(seed_counts(row, present)[1])
        method = f"\\textit{{{escape(row['method'])}}}" if row["reference"] else escape(row["method"])
        cells = [interval(row[f"{m}_mean"], row[f"{m}_ci_low"], row[f"{m}_ci_high"], int(row[f"{m}_n"]),
                          index in best[m]) for m in present]
        lines.append(f"    {rank_text(row)} & {method} & " + " & ".join(cells) + f" & {escape(dim_text(row))} & {seeds} \\\\")
    lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def across_table(report: Any) -> str:
    """The table across environments ("" when there are no aggregates)."""
    rows = report.across_rows()
    if not rows:
        return ""
    lines = [
        "\\begin{table}[t]", "  \\centering", "  \\small", "  \\setlength{\\tabcolsep}{4pt}",
        f"  \\caption{{{escape(report.name)} leaderboard across environments: interquartile mean (IQM) and optimality "
        "gap over every (seed, environment) run, and the probability of improvement over the "
        f"\\texttt{{{escape(BASELINE)}}} encoder, each with its 95\\% stratified-bootstrap interval; best per column in "
        "bold (references aside).}",
        f"  \\label{{{_label(report.name, 'across')}}}",
        "  \\begin{tabular}{llcccr}", "    \\toprule",
        "    Score & Method & IQM $\\uparrow$ & Optimality gap $\\downarrow$ & "
        f"$P(X > \\mathrm{{{escape(BASELINE)}}})$ $\\uparrow$ & Runs \\\\",
    ]
    for score, methods, improvement in rows:
        lines.append("    \\midrule")
        for i, (method, row) in enumerate(methods.items()):
            cells = []
            for statistic in STATISTIC_TITLES:
                point, low, high, best = row[statistic]
                cells.append(interval(point, low, high, row["n_seeds"], best))
            poi = improvement.get(method)
            cells.append(interval(poi[0], poi[1], poi[2], row["n_seeds"], poi[3]) if poi is not None else "--")
            name = f"\\textit{{{escape(method)}}}" if method in REFERENCES else escape(method)
            lines.append(f"    {SCORE_TITLES.get(score, escape(SCORES[score].title)) if i == 0 else ''} & {name} & "
                         + " & ".join(cells) + f" & ${row['n_seeds']}\\times{row['n_tasks']}$ \\\\")
    lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)


def render_latex(report: Any) -> str:
    """Every table of the report, one after the other."""
    parts = [f"% {escape(report.name)} leaderboard, made by srl-bench from the benchmark's cell records.",
             "% Needs \\usepackage{booktabs}. Values: mean over seeds (or the aggregate) with its 95% "
             "stratified-bootstrap interval.", ""]
    for env in report.envs():
        parts.append(env_table(report.name, env, report.table[report.table["env"] == env]))
    across = across_table(report)
    if across:
        parts.append(across)
    return "\n".join(parts)
