"""The downstream-RL suite: cart-pole and pendulum, reference and learned representations, 3 seeds.

    python scripts/rl_suite.py [--work-dir .srl-bench/rl_suite] [--out results/rl] [--workers 2] [--fresh]
                               [--summary-only] [--smoke]

Steps, each an ``srl-bench`` command (logged to WORK_DIR/logs, listed in OUT/README.md):

1. ``srl-bench generate`` a random-policy dataset per environment;
2. ``srl-bench train`` the learned representations on it (``LEARNED``);
3. ``srl-bench rl`` PPO for every representation — ground_truth, raw_pixels, random_policy and the
   learned ones — with the budget of ``SUITE``, seeds 0,1,2, into OUT/<env>/<representation>/;
4. the summary: normalised scores against ground_truth and random_policy (written back into each
   ``rl.json``), OUT/summary.json, OUT/README.md (mean and 95% bootstrap CI over seeds, IQM of the
   normalised scores across environments, as rliable computes them) and learning-curve plots.

Jobs whose output exists are skipped unless ``--fresh``; up to ``--workers`` run at once, each agent
on one torch thread.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from srl_bench.report import write_json_atomic, write_text_atomic  # noqa: E402
from srl_bench.rl.results import attach_normalized_score, read_curve  # noqa: E402
from srl_bench.stats import mean_ci  # noqa: E402

SEEDS = "0,1,2"
# per environment: dataset size, encoder training epochs, RL algorithm and budget (env steps per seed)
SUITE = {
    "srl/CartPole-v0": {"short": "cartpole", "episodes": 200, "epochs": 8, "algo": "ppo", "timesteps": 30_000,
                        "n_eval": 5},
    "srl/Pendulum-v0": {"short": "pendulum", "episodes": 25, "epochs": 8, "algo": "ppo", "timesteps": 40_000,
                        "n_eval": 5},
}
# learned representations: name -> (method, extra `srl-bench train` arguments)
LEARNED = {
    "supervised": ("supervised", []),
    "autoencoder": ("autoencoder", []),
    "random_encoder": ("random", []),
    "world_models_zh": ("world_models", ["--set", "representation=zh"]),
}
REFERENCE_ORDER = ["ground_truth", "raw_pixels", "random_policy"]


@dataclass
class Job:
    name: str
    args: list[str]
    done_marker: Path
    deps: list[str] = field(default_factory=list)
    seconds: float | None = None


def srl_bench_command() -> str:
    """The ``srl-bench`` console script beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "srl-bench"
    return str(beside) if beside.exists() else (shutil.which("srl-bench") or "srl-bench")


def plan(work: Path, out: Path) -> list[Job]:
    """Every job of the suite, in an order that starts the longest ones early."""
    jobs: list[Job] = []
    for env_id, spec in SUITE.items():
        short = spec["short"]
        data = work / "data" / short
        jobs.append(Job(f"data:{short}", ["generate", env_id, "--episodes", str(spec["episodes"]), "--seed", "0",
                                          "--out", str(data), "--quiet", "--overwrite"], data / "meta.json"))
        for name, (method, extra) in LEARNED.items():
            run = work / "runs" / short / name
            jobs.append(Job(f"train:{short}:{name}", ["train", method, "--data", str(data), "--out", str(run),
                                                      "--epochs", str(spec["epochs"]), "--seed", "0", "--device", "cpu",
                                                      "--quiet", "--overwrite", *extra],
                            run / "summary.json", deps=[f"data:{short}"]))
    rl_jobs: list[Job] = []
    for env_id, spec in SUITE.items():
        short = spec["short"]
        for rep in REFERENCE_ORDER + list(LEARNED):
            learned = rep in LEARNED
            source = str(work / "runs" / short / rep) if learned else rep
            target = out / short / rep
            rl_jobs.append(Job(
                f"rl:{short}:{rep}",
                ["rl", "--env", env_id, "--representation", source, "--algo", spec["algo"],
                 "--timesteps", str(spec["timesteps"]), "--seeds", SEEDS, "--n-eval", str(spec["n_eval"]),
                 "--device", "cpu", "--threads", "1", "--out", str(target), "--quiet", "--overwrite"],
                target / "rl.json", deps=[f"train:{short}:{rep}"] if learned else []))
    # raw_pixels trains a CNN end to end: by far the longest, so first
    rl_jobs.sort(key=lambda job: 0 if job.name.endswith(":raw_pixels") else 1)
    return jobs + rl_jobs


def run_jobs(jobs: list[Job], work: Path, workers: int, fresh: bool) -> None:
    """Runs the jobs as their dependencies finish, ``workers`` at a time; stops at the first failure."""
    exe = srl_bench_command()
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    done = {job.name for job in jobs if not fresh and job.done_marker.exists()}
    pending = [job for job in jobs if job.name not in done]
    for name in sorted(done):
        print(f"[skip] {name} (output exists)", flush=True)
    running: dict[Future, Job] = {}

    def launch(job: Job) -> float:
        start = time.perf_counter()
        with open(logs / f"{job.name.replace(':', '_')}.log", "w") as log:
            subprocess.run([exe, *job.args], stdout=log, stderr=subprocess.STDOUT, check=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            for job in [j for j in pending if all(d in done for d in j.deps)][: workers - len(running)]:
                pending.remove(job)
                print(f"[start] {job.name}", flush=True)
                running[pool.submit(launch, job)] = job
            if not running:
                raise RuntimeError(f"jobs wait on failed dependencies: {[j.name for j in pending]}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                job.seconds = future.result()  # raises on failure: see WORK_DIR/logs/<job>.log
                done.add(job.name)
                print(f"[done] {job.name} in {job.seconds:.0f} s", flush=True)


def _reference_means(runs: dict[str, dict]) -> tuple[float | None, float | None]:
    gt, rnd = runs.get("ground_truth"), runs.get("random_policy")
    return (gt["score_mean"] if gt else None), (rnd["score_mean"] if rnd else None)


def summarise(out: Path, jobs: list[Job], timing: dict) -> None:
    """Normalised scores into each rl.json, then summary.json, README.md and the plots."""
    summary: dict[str, dict[str, dict]] = {}
    for env_id, spec in SUITE.items():
        env_dir = out / spec["short"]
        runs = {}
        for rep in REFERENCE_ORDER + list(LEARNED):
            path = env_dir / rep / "rl.json"
            if path.exists():
                runs[rep] = json.loads(path.read_text())
        gt, rnd = _reference_means(runs)
        for rep, payload in runs.items():
            attach_normalized_score(payload, gt, rnd, {"ground_truth_file": str(env_dir / "ground_truth" / "rl.json"),
                                                       "random_policy_file": str(env_dir / "random_policy" / "rl.json")})
            write_json_atomic(env_dir / rep / "rl.json", payload)
            per_seed = [v for v in (payload.get("normalized_scores") or {}).values() if v is not None]
            payload["normalized_ci95"] = list(mean_ci(per_seed)[1:]) if per_seed else None
        summary[env_id] = runs
    write_json_atomic(out / "summary.json", {
        env_id: {rep: {k: p.get(k) for k in ("score_mean", "score_ci95", "scores", "normalized_score",
                                             "normalized_scores", "normalized_ci95", "timesteps", "seeds", "algo",
                                             "seconds", "env_steps_per_second")}
                 for rep, p in runs.items()} for env_id, runs in summary.items()})
    plots = {env_id: plot_curves(out, env_id, runs) for env_id, runs in summary.items()}
    write_text_atomic(out / "README.md", readme(out, summary, plots, jobs, timing))


def plot_curves(out: Path, env_id: str, runs: dict[str, dict]) -> str:
    """Mean return over seeds against env steps, the band spanning the seeds' min to max."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    short = SUITE[env_id]["short"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    colours = plt.get_cmap("tab10")
    for i, (rep, payload) in enumerate(runs.items()):
        rows = read_curve(out / short / rep / "curve.csv")
        seeds = sorted({r["seed"] for r in rows})
        grid = np.array([r["timesteps"] for r in rows if r["seed"] == seeds[0]], dtype=float)
        curves = np.stack([np.interp(grid, [r["timesteps"] for r in rows if r["seed"] == s],
                                     [r["mean_return"] for r in rows if r["seed"] == s]) for s in seeds])
        style = "--" if rep in REFERENCE_ORDER else "-"
        ax.plot(grid, curves.mean(0), style, color=colours(i), label=f"{rep} ({len(seeds)} seeds)", linewidth=1.8)
        ax.fill_between(grid, curves.min(0), curves.max(0), color=colours(i), alpha=0.15)
    spec = SUITE[env_id]
    ax.set_title(f"{env_id}: {spec['algo'].upper()}, {spec['timesteps']:,} steps; mean over seeds, band = min–max")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"return ({spec['n_eval']} deterministic episodes)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    name = f"{short}_curves.png"
    fig.savefig(out / name)
    plt.close(fig)
    return name


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def aggregate_iqm(summary: dict[str, dict[str, dict]]) -> dict[str, tuple[float, float, float, int]]:
    """IQM of the per-seed normalised scores across environments, 95% stratified-bootstrap CI (rliable)."""
    import warnings

    from rliable import library as rly
    from rliable import metrics

    result = {}
    reps = [rep for rep in REFERENCE_ORDER + list(LEARNED) if all(rep in runs for runs in summary.values())]
    for rep in reps:
        columns = [[v for v in (runs[rep].get("normalized_scores") or {}).values()] for runs in summary.values()]
        n = min(len(c) for c in columns)
        if n == 0 or any(v is None for c in columns for v in c):
            continue
        matrix = np.array([c[:n] for c in columns], dtype=float).T  # (seeds, environments)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            point, interval = rly.get_interval_estimates({rep: matrix}, lambda x: np.array([metrics.aggregate_iqm(x)]),
                                                         reps=2000, random_state=np.random.RandomState(0))
        result[rep] = (float(point[rep][0]), float(interval[rep][0, 0]), float(interval[rep][1, 0]), n)
    return result


def readme(out: Path, summary: dict[str, dict[str, dict]], plots: dict[str, str], jobs: list[Job],
           timing: dict) -> str:
    exe = "srl-bench"
    lines = ["# Downstream RL: cart-pole and pendulum", "",
             "An SB3 agent learns on the live pixel environment; the encoder is frozen and the agent sees only its "
             "state (docs/metrics.md, \"Downstream RL\"). Score: mean return of the last evaluation "
             "(deterministic episodes on a separate, differently seeded env). Normalised score: "
             "(R − R_random_policy) / (R_ground_truth − R_random_policy), the references being the mean over seeds "
             "of the same budget and algorithm. Intervals: 95% stratified bootstrap over seeds (rliable). "
             "Made by `python scripts/rl_suite.py`.", ""]
    budget = "; ".join(f"{env_id}: {s['algo'].upper()} (configs/rl/{s['algo']}.yaml), {s['timesteps']:,} env steps "
                       f"per seed, seeds {SEEDS}, evaluation every {s['timesteps'] // 10:,} steps over {s['n_eval']} "
                       "episodes" for env_id, s in SUITE.items())
    lines += ["**Settings.** Every representation gets the same hyper-parameters: rl-zoo3's tuned PPO values for "
              "CartPole-v1 / Pendulum-v1 (configs/rl/ppo.yaml), and the agent sees the last 2 states (`frame_stack: 2`: "
              "encoders of single frames cannot see velocities), standardised with statistics of 2000 random-action "
              "steps, then frozen (`normalize_state: fixed`; learned states come at arbitrary scales, and running "
              "statistics cost PPO about 180 of 500 points on the true cart-pole state). raw_pixels is SB3's "
              "NatureCNN on the last 2 images, trained end to end, not standardised. world_models_zh is [z, h]: the "
              "VAE mean and the LSTM state, carried through each episode with the last action.", ""]
    datasets = ", ".join(f"{s['episodes']} episodes for {s['short']}" for s in SUITE.values())
    epochs = ", ".join(sorted({str(s["epochs"]) for s in SUITE.values()}))
    lines += [f"**Budget.** {budget}. Encoders trained on a random-policy dataset of the same env "
              f"({datasets}; {epochs} epochs).", ""]
    job_seconds = [timing["jobs"][j.name] for j in jobs if j.name in timing.get("jobs", {})]
    if job_seconds:
        walls = [s["wall_seconds"] for s in timing.get("sessions", [])]
        lines += [f"**Time.** The {len(job_seconds)} jobs below took {sum(job_seconds) / 60:.0f} min one after the "
                  f"other; run {max(s['workers'] for s in timing['sessions'])} at a time on 2 CPU cores shared with "
                  f"other work (no GPU), {sum(walls) / 60:.0f} min of wall time over {len(walls)} session(s) "
                  "(timing.json has every job's time).", ""]
    for env_id, runs in summary.items():
        lines += [f"## {env_id}", "",
                  "| representation | kind | state dim | seeds | score (mean [95% CI]) | normalised (mean [95% CI]) | train steps per wall s (evaluations included) |",
                  "|---|---|---|---|---|---|---|"]
        for rep, p in runs.items():
            info = p["representation"]
            kind = info.get("method") or info["kind"]
            dim = info.get("state_dim") or ("pixels" if rep == "raw_pixels" else "–")
            low, high = p["score_ci95"]
            norm_ci = p.get("normalized_ci95") or [None, None]
            lines.append(f"| {rep} | {kind} | {dim} | {p['n_seeds']} | {_fmt(p['score_mean'])} [{_fmt(low)}, {_fmt(high)}] "
                         f"| {_fmt(p.get('normalized_score'), 2)} [{_fmt(norm_ci[0], 2)}, {_fmt(norm_ci[1], 2)}] "
                         f"| {_fmt(p.get('env_steps_per_second'), 0)} |")
        lines += ["", f"![learning curves]({plots[env_id]})", ""]
    iqm = aggregate_iqm(summary)
    if iqm:
        lines += ["## Across environments", "",
                  "Interquartile mean of the per-seed normalised scores over both environments, 95% stratified "
                  "bootstrap interval (rliable).", "",
                  "| representation | IQM normalised score [95% CI] | runs (seeds × envs) |", "|---|---|---|"]
        for rep, (point, low, high, n) in iqm.items():
            lines.append(f"| {rep} | {point:.2f} [{low:.2f}, {high:.2f}] | {n} × {len(summary)} |")
        lines.append("")
    lines += ["## Commands", "", "```"]
    lines += [" ".join([exe, *(shlex.quote(a) for a in job.args)]) for job in jobs]
    lines += ["```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work-dir", default=".srl-bench/rl_suite", help="datasets, encoder runs and logs")
    parser.add_argument("--out", default="results/rl")
    parser.add_argument("--workers", type=int, default=2, help="jobs at once")
    parser.add_argument("--fresh", action="store_true", help="rerun jobs whose output exists")
    parser.add_argument("--summary-only", action="store_true", help="only rebuild the summary from existing runs")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets, to check the pipeline (not results)")
    args = parser.parse_args()
    if args.smoke:
        for spec in SUITE.values():
            spec.update(episodes=4, epochs=1, timesteps=512, n_eval=2)
    work, out = Path(args.work_dir), Path(args.out)
    jobs = plan(work, out)
    timing_path = work / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.exists() and not args.fresh else {"sessions": [], "jobs": {}}
    if not args.summary_only:
        start = time.perf_counter()
        try:
            run_jobs(jobs, work, args.workers, args.fresh)
        finally:
            timing["sessions"].append({"wall_seconds": round(time.perf_counter() - start, 1), "workers": args.workers,
                                       "jobs_run": [j.name for j in jobs if j.seconds is not None]})
            timing["jobs"].update({j.name: round(j.seconds, 1) for j in jobs if j.seconds is not None})
            write_json_atomic(timing_path, timing)
    write_json_atomic(out / "timing.json", timing)
    summarise(out, jobs, timing)
    print(f"wrote {out / 'README.md'}")


if __name__ == "__main__":
    main()
