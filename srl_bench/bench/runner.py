"""The benchmark runner: datasets -> trained runs -> held-out metrics -> leaderboard.

Work (datasets, run directories) goes to the config's ``work_dir`` and is reused when the same
settings ask for it again; results (``runs.csv``, ``leaderboard.{md,csv}``) go to ``out``.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from srl_bench.bench.config import BenchmarkConfig, EnvEntry, load_benchmark
from srl_bench.bench.leaderboard import LEADERBOARD_METRICS, leaderboard, leaderboard_markdown
from srl_bench.collect import generate_dataset
from srl_bench.data import Dataset, load_dataset
from srl_bench.errors import SrlBenchError
from srl_bench.report import write_json_atomic, write_text_atomic
from srl_bench.runs import evaluate_run
from srl_bench.trainer import train

KEY_FILE = "benchmark_key.json"


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def prepare_dataset(entry: EnvEntry, work_dir: Path, reuse: bool, progress: bool) -> Dataset:
    """The env's dataset, generated unless an identical one is already in ``work_dir``."""
    path = work_dir / "datasets" / entry.slug
    wanted = {"env_id": entry.id, "seed": entry.seed, "policy": entry.policy, "max_steps": entry.max_steps,
              "env_kwargs": {"image_size": entry.image_size, **entry.env_kwargs}, "n_episodes": entry.episodes}
    if reuse and (path / "meta.json").is_file():
        try:
            dataset = load_dataset(path)
            if all(dataset.meta.get(k) == v for k, v in wanted.items()):
                return dataset
        except SrlBenchError:
            pass
    generate_dataset(entry.id, entry.episodes, path, seed=entry.seed, image_size=entry.image_size,
                     policy=entry.policy, workers=entry.workers, max_steps=entry.max_steps,
                     env_kwargs=entry.env_kwargs, overwrite=True, progress=progress)
    return load_dataset(path)


def run_one(config: BenchmarkConfig, dataset: Dataset, env: EnvEntry, method: str, seed: int, work_dir: Path,
            reuse: bool, progress: bool) -> tuple[dict[str, Any], bool]:
    """Train (or reuse) one (method, seed) on one env's dataset; returns its held-out metrics and
    whether they were reused from an earlier run with the same settings."""
    run_dir = work_dir / "runs" / env.slug / method / f"seed{seed}"
    overrides = {**config.train, **config.method_overrides.get(method, {})}
    evaluate_kwargs = config.evaluate.model_dump()
    key = _fingerprint({"method": method, "seed": seed, "overrides": overrides, "evaluate": evaluate_kwargs,
                        "dataset": dataset.meta["checksums"]})
    key_file, metrics_file = run_dir / KEY_FILE, run_dir / "metrics.json"
    if reuse and key_file.is_file() and metrics_file.is_file() and json.loads(key_file.read_text()).get("key") == key:
        return json.loads(metrics_file.read_text()), True
    train(method, dataset, run_dir, overrides=overrides, seed=seed, device=config.device,
          test_fraction=evaluate_kwargs["test_fraction"], split_seed=evaluate_kwargs["split_seed"],
          overwrite=True, progress=progress)
    metrics = evaluate_run(run_dir, dataset, **evaluate_kwargs)
    write_json_atomic(metrics_file, metrics)
    write_json_atomic(key_file, {"key": key})
    return metrics, False


def _describe_env(entry: EnvEntry) -> str:
    cap = f", at most {entry.max_steps} steps each" if entry.max_steps else ""
    return (f"- {entry.id}: {entry.episodes} episodes{cap}, policy {entry.policy}, seed {entry.seed}, "
            f"{entry.image_size}×{entry.image_size} images")


def run_benchmark(config_path: str | Path, out_dir: str | Path | None = None, work_dir: str | Path | None = None,
                  progress: bool = True, reuse: bool = True) -> Path:
    """Run a benchmark YAML end to end and write its leaderboard; returns the results directory."""
    config = load_benchmark(config_path)
    out = Path(out_dir or config.out)
    work = Path(work_dir or config.work_dir)
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    reused = 0
    for env in config.envs:
        dataset = prepare_dataset(env, work, reuse, progress)
        print(f"[{env.id}] dataset: {len(dataset)} frames, {dataset.n_episodes} episodes", file=sys.stderr)
        for method in config.methods:
            for seed in config.seeds:
                t0 = time.perf_counter()
                metrics, was_reused = run_one(config, dataset, env, method, seed, work, reuse, progress)
                reused += was_reused
                print(f"[{env.id}] {method} seed {seed}: knn_mse_ratio {metrics['knn_mse_ratio']:.3f}, "
                      f"probe_linear_r2 {metrics['probe_linear_r2']:.3f} "
                      f"({'reused' if was_reused else f'{time.perf_counter() - t0:.0f} s'})", file=sys.stderr)
                records.append({"env": env.id, "method": method, "seed": seed,
                                **{m: metrics[m] for m in LEADERBOARD_METRICS},
                                "n_eval_frames": metrics["n_eval_frames"], "dataset_frames": len(dataset)})
    runs = pd.DataFrame(records)
    table = leaderboard(runs)
    elapsed = time.perf_counter() - started
    command = "srl-bench benchmark " + shlex.quote(str(config_path))
    header = [
        f"# Leaderboard: {config.name}",
        "",
        f"Produced by `{command}` ({elapsed / 60:.1f} min on this machine"
        + (f", {reused} of {len(records)} runs reused from {work}" if reused else "") + "). Metrics on held-out episodes "
        f"(docs/metrics.md); mean over seeds with a 95% stratified-bootstrap interval [low, high] "
        f"(rliable); `seeds` counts them; rows sorted by probe_linear_r2, best first. Datasets:",
        "",
        *[_describe_env(e) for e in config.envs],
        "",
    ]
    write_text_atomic(out / "leaderboard.md", "\n".join(header) + "\n" + leaderboard_markdown(table))
    write_text_atomic(out / "leaderboard.csv", table.to_csv(index=False, float_format="%.6g"))
    write_text_atomic(out / "runs.csv", runs.to_csv(index=False, float_format="%.6g"))
    return out
