"""One leaderboard, every format: the tables, the aggregates across environments, the plots, and the
files of a leaderboard folder.

:func:`build_report` turns a :class:`~srl_bench.bench.report.source.Source` (cells and records) into
a :class:`Report`; :func:`write_folder` publishes the whole folder (atomically, as the ``benchmark``
kind of ``srl_bench.publish``); :func:`render` gives one format as text.

A leaderboard folder holds ``leaderboard.md`` / ``.csv`` / ``.json`` / ``.tex``, ``index.html`` (one
page: every table, every plot linked from ``plots/``), ``aggregates.csv`` (across environments),
``runs.csv``, ``rl_runs.csv``, ``curves.csv`` (the RL learning curves), ``plots/``, ``cells/`` (the cell
records, so the folder stands without its work directory: ``srl_bench.bench.published``) and
``timing.json``. Only ``leaderboard.md``, ``index.html`` and ``timing.json`` say how long it took; the
CSVs and the JSON do not, so the same benchmark gives the same bytes however (and however often) it was
run.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from srl_bench.bench.config import REFERENCES
from srl_bench.bench.leaderboard import (METRICS, NO_INTERVAL, RANKED, TITLES, best_rows, collect, header,
                                         leaderboard, leaderboard_markdown, planned_seeds, rank_metrics,
                                         references_separated, shown_metrics)
from srl_bench.bench.report.aggregate import (BASELINE, SCORES, STATISTIC_TITLES, across_envs, best_of,
                                              improvement_over, interval_text, names_in_order, profiles,
                                              withhold_partial)
from srl_bench.bench.published import keep_other_records, write_records
from srl_bench.bench.report.source import Source, collect_curves

FORMATS = ("md", "csv", "html", "latex", "json")
# the pictures of one run (seed 0 of each env × method): kind -> what its caption says
RUN_PLOTS = {"training": "training curves", "state": "learned state against the true state",
             "neighbours": "nearest neighbours in learned space", "reconstructions": "reconstructions"}
CSV_FORMAT = "%.6g"


@dataclass
class Plot:
    """A figure of the report: its file (relative to the leaderboard folder) and where it belongs."""

    path: str
    section: str  # "across", or an env id
    kind: str  # "intervals", "rl_curves", "aggregates", "improvement", "profiles", or a per-run kind
    caption: str
    method: str | None = None


@dataclass
class Report:
    """Everything a leaderboard shows, computed from the cell records."""

    source: Source
    runs: pd.DataFrame
    rl_runs: pd.DataFrame
    table: pd.DataFrame
    across: pd.DataFrame
    improvement: pd.DataFrame
    profiles: dict[str, dict[str, Any]]
    curves: pd.DataFrame
    plots: list[Plot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source.config.name if self.source.config is not None else self.source.name

    def envs(self) -> list[str]:
        """The environments of the tables, in their order."""
        return list(dict.fromkeys(self.table["env"])) if not self.table.empty else []

    def header(self) -> list[str]:
        """The opening lines (markdown): how it was made, what the numbers mean, the data, the RL, and
        how much of the benchmark is done."""
        return self._made() + self._completeness()

    def _completeness(self) -> list[str]:
        """A warning when cells of the benchmark are not done (interrupted, failed or still to run)."""
        missing = [c for c in self.source.cells if (self.source.records.get(c.key) or {}).get("status") != "done"]
        if not missing:
            return []
        per_stage = Counter(c.stage for c in missing)
        return [f"**Incomplete**: {len(self.source.cells) - len(missing)} of {len(self.source.cells)} cells done "
                f"({', '.join(f'{n} {stage}' for stage, n in per_stage.items())} not done); a row whose `seeds` "
                "is below the benchmark's count is partial, and rows not begun are absent. "
                + (f"`{self.source.resume}` finishes it." if self.source.resume else
                   "Run the same command again to finish it."), ""]

    def _made(self) -> list[str]:
        if self.source.config is not None:
            return header(self.source.config, self.source.command, self.source.timing)
        lines = [f"# Leaderboard: {self.name}", "",
                 f"Made by `{self.source.command}` from the cell records of the work directory `{self.source.work}` "
                 f"({self.source.timing}). Metrics on held-out episodes (docs/metrics.md); mean over seeds with a 95% "
                 f"stratified-bootstrap interval [low, high] (rliable); {NO_INTERVAL}. Rows sorted by "
                 "rank (the mean rank over the metrics every method has), best first; **bold**: the best mean per "
                 "column; *references* last.", ""]
        metas = []
        for slug, env in self.source.env_ids.items():
            try:
                meta = json.loads((self.source.work / "datasets" / slug / "meta.json").read_text())
            except (OSError, ValueError):
                continue
            size = "×".join(str(v) for v in meta.get("image_shape", [])[:2])
            metas.append(f"- {env}: {meta.get('n_episodes')} episodes, {meta.get('n_frames')} frames, policy "
                         f"{meta.get('policy')}, seed {meta.get('seed')}, {size} images")
        if metas:
            lines += ["Datasets:", "", *metas, ""]
        if not self.rl_runs.empty:
            budgets = ", ".join(f"{env} {group['algo'].iloc[0]} {int(group['timesteps'].max())} steps"
                                for env, group in self.rl_runs.groupby("env", sort=False))
            lines += [f"Downstream RL ({budgets}): score = mean return of the last evaluation, normalised as "
                      "(R − R_random_policy) / (R_ground_truth − R_random_policy).", ""]
        return lines

    # --- formats ------------------------------------------------------------------------------------

    def across_markdown(self) -> str:
        """The aggregates across environments as a markdown table ("" when there are none)."""
        if self.across.empty:
            return ""
        lines = ["### Across environments", "",
                 "Per method, over every (seed, environment) run: the interquartile mean (IQM) and the optimality "
                 "gap (1 − mean(min(score, 1)); 0 = every run at 1), each with a 95% stratified-bootstrap interval "
                 f"(rliable); P(> {BASELINE}): the probability that a run of the method beats a run of the `{BASELINE}` "
                 "encoder on the same environment, averaged over environments. RL normalised score: 1 = the "
                 "ground-truth agent, 0 = the random policy; R²: 1 = the true state read back exactly.", "",
                 f"| score | method | IQM ↑ | optimality gap ↓ | P(> {BASELINE}) ↑ | seeds × envs |",
                 "|---|---|---|---|---|---|"]
        for score, rows, improvement in self.across_rows():
            for i, (method, row) in enumerate(rows.items()):
                cells = []
                for statistic in STATISTIC_TITLES:
                    point, low, high, best = row[statistic]
                    text = interval_text(point, low, high)
                    cells.append(text.replace(f"{point:.3f}", f"**{point:.3f}**", 1) if best else text)
                poi = improvement.get(method)
                poi_text = "—" if poi is None else interval_text(*poi[:3])
                if poi is not None and poi[3]:
                    poi_text = poi_text.replace(f"{poi[0]:.3f}", f"**{poi[0]:.3f}**", 1)
                name = f"*{method}*" if method in REFERENCES else method
                lines.append(f"| {SCORES[score].title if i == 0 else ''} | {name} | " + " | ".join(cells)
                             + f" | {poi_text} | {row['n_seeds']} × {row['n_tasks']} |")
        return "\n".join(lines) + "\n"

    def across_rows(self) -> list[tuple[str, dict[str, dict[str, Any]], dict[str, tuple[float, float, float, bool]]]]:
        """Per score: ``{method: {statistic: (point, low, high, best), n_seeds, n_tasks}}`` and
        ``{method: (P(> baseline), low, high, best)}``, methods in their usual order."""
        out = []
        for score in SCORES:
            part = self.across[self.across["score"] == score]
            if part.empty:
                continue
            rows: dict[str, dict[str, Any]] = {}
            for statistic in STATISTIC_TITLES:
                stat = part[part["statistic"] == statistic]
                best = best_of(stat, statistic != "optimality_gap")
                for index, row in stat.iterrows():
                    entry = rows.setdefault(row["method"], {"n_seeds": int(row["n_seeds"]),
                                                            "n_tasks": int(row["n_tasks"])})
                    entry[statistic] = (row["point"], row["low"], row["high"], index in best)
            improvement: dict[str, tuple[float, float, float, bool]] = {}
            poi = self.improvement
            poi = poi[poi["score"] == score] if not poi.empty else poi
            if len(poi):
                best = best_of(poi, True)
                improvement = {row["method"]: (row["point"], row["low"], row["high"], index in best)
                               for index, row in poi.iterrows()}
            out.append((score, rows, improvement))
        return out

    def markdown(self, with_plots: bool = False) -> str:
        """``leaderboard.md``: the header, a table per environment, the aggregates across environments
        (and, in a leaderboard folder, the plots under each table)."""
        parts = ["\n".join(self.header())]
        if self.table.empty:
            parts.append(leaderboard_markdown(self.table))
        for env in self.envs():
            parts.append(leaderboard_markdown(self.table[self.table["env"] == env]))
            images = [p for p in self.plots if p.section == env and p.method is None] if with_plots else []
            if images:
                parts.append("\n".join(f"![{p.caption}]({p.path})" for p in images) + "\n")
        across = self.across_markdown()
        if across:
            parts.append(across)
            if with_plots:
                images = [p for p in self.plots if p.section == "across"]
                if images:
                    parts.append("\n".join(f"![{p.caption}]({p.path})" for p in images) + "\n")
        if with_plots and self.plots:
            parts.append("Per run (seed 0 of each method): training curves, the learned state against the true state, "
                         "nearest neighbours and reconstructions are in `index.html` and `plots/`.\n")
        return "\n".join(parts)

    def csv(self) -> str:
        """``leaderboard.csv``."""
        return self.table.to_csv(index=False, float_format=CSV_FORMAT)

    def aggregates_csv(self) -> str:
        """``aggregates.csv``: the across-environment aggregates and the probabilities of improvement,
        one row per (score, statistic, method)."""
        columns = ["score", "statistic", "method", "baseline", "reference", "point", "low", "high", "n_seeds",
                   "n_tasks", "envs"]
        across = self.across.assign(baseline="")
        improvement = self.improvement.assign(statistic="probability_of_improvement")
        frames = [f.reindex(columns=columns) for f in (across, improvement) if not f.empty]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        return frame.to_csv(index=False, float_format=CSV_FORMAT)

    def curves_csv(self) -> str:
        """``curves.csv``: the RL learning curves (no wall-clock time)."""
        return self.curves.to_csv(index=False, float_format=CSV_FORMAT)

    def to_json(self) -> dict[str, Any]:
        """``leaderboard.json``: the benchmark config, every table (with ranks and best marks), the
        aggregates, the probabilities of improvement and the performance profiles; no timing."""
        envs: dict[str, Any] = {}
        present = shown_metrics(self.table) if not self.table.empty else []
        for env, group in (self.table.groupby("env", sort=False) if not self.table.empty else []):
            best = {m: best_rows(group, m) for m in present}
            rows = []
            for index, row in group.iterrows():
                rows.append({
                    "method": row["method"], "reference": bool(row["reference"]),
                    "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
                    "mean_rank": _num(row["mean_rank"]),
                    "metrics": {m: {"mean": _num(row[f"{m}_mean"]), "ci_low": _num(row[f"{m}_ci_low"]),
                                    "ci_high": _num(row[f"{m}_ci_high"]), "n": int(row[f"{m}_n"]),
                                    "best": index in best.get(m, ())}
                                for m in METRICS if f"{m}_n" in row},
                    "state_dim": None if pd.isna(row.get("state_dim")) else int(row["state_dim"]),
                    "epochs_mean": _num(row["epochs_mean"]), "epoch_cap_runs": int(row["epoch_cap_runs"]),
                    "diverged_runs": int(row["diverged_runs"]),
                })
            envs[env] = {"rank_by": rank_metrics(group), "rl_references_separated": references_separated(group),
                         "rows": rows}
        payload = {
            "format": "srl-bench-leaderboard/1",
            "name": self.name,
            "benchmark": self.source.config.model_dump(mode="json") if self.source.config is not None else None,
            "metrics": {m: {"higher_is_better": None if m == "state_std" else METRICS[m][0],
                            "title": TITLES.get(m, m), "ranked": m in RANKED} for m in METRICS},
            "envs": envs,
            "across": _records(self.across),
            "probability_of_improvement": _records(self.improvement),
            "performance_profiles": _clean(self.profiles),
        }
        return payload

    def json_text(self) -> str:
        """``leaderboard.json`` as strict JSON (NaN written as null)."""
        return json.dumps(_clean(self.to_json()), indent=2, allow_nan=False) + "\n"

    def latex(self) -> str:
        """``leaderboard.tex``."""
        from srl_bench.bench.report.latex import render_latex

        return render_latex(self)

    def html(self, folder: Path, embed: bool = False) -> str:
        """``index.html``, linking its plots under ``folder`` (or, with ``embed``, holding them)."""
        from srl_bench.bench.report.html import render_html

        return render_html(self, folder, embed)

    # --- plots --------------------------------------------------------------------------------------

    def draw(self, folder: Path, previous: Path | None = None) -> list[Plot]:
        """Draw every plot into ``folder/plots/``; a figure that cannot be drawn is left out with a note."""
        from srl_bench.bench.report import plots as P

        folder = Path(folder)
        names = names_in_order(self.runs, self.rl_runs)
        colour_of = P.colours(names)
        self.plots = []

        def add(path: str, section: str, kind: str, caption: str, draw: Any, method: str | None = None) -> None:
            try:
                draw(folder / path)
            except Exception as exc:  # noqa: BLE001 - one figure must not cost the whole leaderboard
                self.notes.append(f"could not draw {path}: {type(exc).__name__}: {exc}")
                return
            self.plots.append(Plot(path, section, kind, caption, method))

        titles = {m: f"{TITLES.get(m, m)} {_arrow(m)}".strip() for m in METRICS}
        for env, group in (self.table.groupby("env", sort=False) if not self.table.empty else []):
            slug = _slug(env)
            present = [m for m in shown_metrics(group)]
            best = {m: best_rows(group, m) for m in present}
            if present:
                add(f"plots/intervals_{slug}.png", env, "intervals", f"{env}: every metric's mean and 95% interval",
                    lambda p, g=group, e=env, m=present, b=best: P.plot_intervals(g, e, m, colour_of, b, titles, p))
            if not self.curves.empty and env in set(self.curves["env"]):
                add(f"plots/rl_curves_{slug}.png", env, "rl_curves", f"{env}: downstream RL learning curves",
                    lambda p, e=env: P.plot_rl_curves(self.curves, e, colour_of, p))
        if not self.across.empty:
            add("plots/aggregates.png", "across", "aggregates", "IQM and optimality gap across environments",
                lambda p: P.plot_aggregates(self.across, colour_of, p))
        if not self.improvement.empty:
            add("plots/improvement.png", "across", "improvement", f"probability of improvement over {BASELINE}",
                lambda p: P.plot_improvement(self.improvement, colour_of, p))
        if self.profiles:
            add("plots/profiles.png", "across", "profiles", "performance profiles",
                lambda p: P.plot_profiles(self.profiles, colour_of, p))
        self._draw_runs(folder, add, previous)
        return self.plots

    def _draw_runs(self, folder: Path, add: Any, previous: Path | None = None) -> None:
        """Per (env, method): seed 0 (else its lowest seed) — training curves, learned state against
        the true state, nearest neighbours, reconstructions for methods with a decoder."""
        from srl_bench.bench.report import inspect as I
        from srl_bench.bench.report import plots as P

        k = self.source.config.evaluate.k if self.source.config is not None else 5
        outs = {cell.key: cell.out for cell in self.source.cells}
        for (env, method), group in self.runs.groupby(["env", "method"], sort=False):
            seed = 0 if 0 in set(group["seed"]) else int(group["seed"].min())
            slug = _slug(env)
            key_slug = next((s for s, e in self.source.env_ids.items() if e == env), slug)
            train_key = f"train/{key_slug}/{method}/seed{seed}"
            if train_key not in outs:  # an encoder of your own: scored, never trained, no run directory
                continue
            run_dir = self.source.work / (outs[train_key] or f"runs/{key_slug}/{method}/seed{seed}")
            dataset_dir = self.source.work / outs.get(f"dataset/{key_slug}", f"datasets/{key_slug}")
            stem = f"plots/{slug}/{_slug(method)}_seed{seed}"
            if not run_dir.is_dir():  # a published record: its run is not here, its pictures may be
                # in the folder being replaced, or in the leaderboard folder the records are read from
                drawn = {kind: next((place / f"{stem}_{kind}.png" for place in (previous, self.source.work)
                                     if place is not None and (place / f"{stem}_{kind}.png").is_file()), None)
                         for kind in RUN_PLOTS}
                kept = [kind for kind, path in drawn.items() if path is not None]
                for kind in kept:
                    add(f"{stem}_{kind}.png", env, kind, f"{method} (seed {seed}): {RUN_PLOTS[kind]}",
                        lambda p, k=kind: _copy(drawn[k], p), method)
                if not kept:
                    self.notes.append(f"no run directory {run_dir} for {env} {method} seed {seed}; its plots are left out")
                continue
            caption = {kind: f"{method} (seed {seed}): {what}" for kind, what in RUN_PLOTS.items()}
            log = I.train_log(run_dir)
            if log is not None:
                add(f"{stem}_training.png", env, "training", caption["training"],
                    lambda p, l=log, m=method, s=seed: P.plot_training(
                        l, f"{env} · {m} (seed {s}): loss per epoch (train solid, validation dashed)", p), method)
            try:
                sample = I.load_sample(run_dir, dataset_dir, env, method, seed)
            except Exception as exc:  # noqa: BLE001 - a run that cannot be reloaded loses its pictures only
                self.notes.append(f"could not encode held-out frames of {run_dir}: {type(exc).__name__}: {exc}")
                continue
            best, corr = I.best_dimensions(sample.states, sample.truth)
            add(f"{stem}_state.png", env, "state", caption["state"],
                lambda p, s=sample, b=best, c=corr: P.plot_state_vs_truth(s, b, c, p), method)
            neighbours = I.nearest_neighbours(sample.states, sample.truth, k=k)
            if neighbours:
                add(f"{stem}_neighbours.png", env, "neighbours", caption["neighbours"],
                    lambda p, s=sample, n=neighbours: P.plot_neighbours(s, n, p), method)
            if sample.reconstructions:
                add(f"{stem}_reconstructions.png", env, "reconstructions", caption["reconstructions"],
                    lambda p, s=sample: P.plot_reconstructions(s, p), method)

    def _keep_other_pictures(self, previous: Path, folder: Path) -> None:
        """Copy into ``folder`` the per-run pictures of ``previous`` (the folder it replaces) whose rows
        this leaderboard does not show: a run of one part of a benchmark into the folder of the whole
        keeps them, as it keeps the other parts' records, for the leaderboard of the whole made later
        (whose runs may no longer be on any machine)."""
        shown = {(_slug(env), _slug(method)) for env, method in
                 self.runs[["env", "method"]].drop_duplicates().itertuples(index=False)} if not self.runs.empty else set()
        for picture in sorted((previous / "plots").glob("*/*.png")):
            row = picture.name.rsplit("_seed", 1)[0]
            target = folder / "plots" / picture.parent.name / picture.name
            if (picture.parent.name, row) not in shown and not target.exists():
                _copy(picture, target)

    # --- the folder ---------------------------------------------------------------------------------

    def write(self, folder: Path, previous: Path | None = None) -> None:
        """Write every file of a leaderboard folder into ``folder`` (an empty directory); ``previous``:
        the folder it replaces, whose per-run pictures are kept for runs no longer on this machine."""
        folder = Path(folder)
        self.draw(folder, previous)
        write_records(folder, self.source.work, self.source.cells, self.source.records)
        if previous is not None:
            keep_other_records(previous, folder, self.source.cells)
            self._keep_other_pictures(previous, folder)
        (folder / "leaderboard.md").write_text(self.markdown(with_plots=True))
        (folder / "leaderboard.csv").write_text(self.csv())
        (folder / "leaderboard.json").write_text(self.json_text())
        (folder / "leaderboard.tex").write_text(self.latex())
        (folder / "aggregates.csv").write_text(self.aggregates_csv())
        (folder / "runs.csv").write_text(self.runs.to_csv(index=False, float_format=CSV_FORMAT))
        (folder / "rl_runs.csv").write_text(self.rl_runs.to_csv(index=False, float_format=CSV_FORMAT))
        (folder / "curves.csv").write_text(self.curves_csv())
        (folder / "index.html").write_text(self.html(folder))
        (folder / "timing.json").write_text(json.dumps({"command": self.source.command, "timing": self.source.timing,
                                                        "work_dir": str(self.source.work)}, indent=2))


def build_report(source: Source) -> Report:
    """The tables and aggregates of a benchmark's finished cells."""
    runs, rl_runs = collect(source.config if source.config is not None else source.env_ids, source.cells,
                            source.records)
    planned = planned_seeds(source.config)
    table = leaderboard(runs, rl_runs, planned=planned)
    return Report(source, runs, rl_runs, table, withhold_partial(across_envs(runs, rl_runs), planned),
                  withhold_partial(improvement_over(runs, rl_runs), planned), profiles(runs, rl_runs),
                  collect_curves(source), notes=list(source.notes))


def write_folder(source: Source, out: str | Path, say_notes: bool = True) -> Path:
    """Publish the whole leaderboard folder of ``source`` at ``out`` (replacing an earlier one)."""
    from srl_bench.publish import Publisher

    report = build_report(source)
    with Publisher(out, "benchmark", overwrite=True) as tmp:
        report.write(tmp, previous=Path(out) if Path(out).is_dir() else None)
    if say_notes:
        for note in report.notes:
            print(f"srl-bench: leaderboard: {note}", file=sys.stderr)
    return Path(out)


def render(source: Source, fmt: str) -> str:
    """One format of the leaderboard as text: ``md``, ``csv``, ``json``, ``latex`` or ``html`` (the
    page with its plots embedded, drawn in a temporary directory)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    report = build_report(source)
    if fmt == "md":
        return report.markdown()
    if fmt == "csv":
        return report.csv()
    if fmt == "json":
        return report.json_text()
    if fmt == "latex":
        return report.latex()
    with tempfile.TemporaryDirectory(prefix="srl-bench-leaderboard-") as tmp:
        report.draw(Path(tmp))
        text = report.html(Path(tmp), embed=True)
    for note in report.notes:
        print(f"srl-bench: leaderboard: {note}", file=sys.stderr)
    return text


# --- helpers ----------------------------------------------------------------------------------------

def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _slug(name: str) -> str:
    """A file-name-safe form of an env id or method name (``srl/CartPole-v0`` -> ``CartPole-v0``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name.split("/")[-1]) or "_"


def _arrow(metric: str) -> str:
    return "" if metric == "state_std" else "↑" if METRICS[metric][0] else "↓"


def _num(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _clean(value: Any) -> Any:
    """Plain JSON values: NaN/Inf -> None, NumPy scalars and arrays -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _num(value)
    if value is pd.NA:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(row) for row in frame.to_dict(orient="records")]
