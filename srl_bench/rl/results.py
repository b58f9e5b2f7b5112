"""A run's results: the ``rl.json`` payload, the normalised score against the reference runs, and the
files (``rl.json``, ``curve.csv``), written into the temporary directory of ``srl_bench.publish``'s
``Publisher``, which moves it into place when complete."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np
import torch

from srl_bench import __version__
from srl_bench.errors import SrlBenchError
from srl_bench.rl.agent import SeedResult, policy_name
from srl_bench.rl.protocol import seed_scores
from srl_bench.rl.settings import RLRun
from srl_bench.stats import mean_ci

RL_FORMAT = "srl-bench-rl/1"
CURVE_FIELDS = ("seed", "timesteps", "mean_return", "std_return", "min_return", "max_return", "mean_length",
                "n_episodes", "wall_seconds")
REFERENCE_KINDS = ("ground_truth", "random_policy")


# --- the normalised score ------------------------------------------------------------------------

def normalized_score(score: float, ground_truth: float, random: float) -> float:
    """``(score − random) / (ground_truth − random)``: 0 is the random policy, 1 the ground-truth agent.

    NaN when the two references coincide (the normalisation is undefined).
    """
    span = ground_truth - random
    if not math.isfinite(span) or abs(span) < 1e-12:
        return math.nan
    return (score - random) / span


def find_references(references: str | Path, env_id: str, algo: str, timesteps: int) -> dict[str, dict[str, Any]]:
    """The ``rl.json`` of ground_truth and random_policy runs under ``references`` with the same env,
    algorithm and budget (``{kind: payload}``; kinds without a match are absent)."""
    found: dict[str, dict[str, Any]] = {}
    root = Path(references)
    if not root.is_dir():
        raise SrlBenchError(f"references directory {root} does not exist; point it at a folder of rl runs")
    for path in sorted(root.rglob("rl.json")):
        try:
            payload = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        kind = payload.get("representation", {}).get("kind")
        if kind in REFERENCE_KINDS and kind not in found and payload.get("env_id") == env_id \
                and payload.get("algo") == algo and payload.get("timesteps") == timesteps:
            found[kind] = {**payload, "path": str(path)}
    return found


def attach_normalized_score(payload: dict[str, Any], ground_truth_mean: float | None, random_mean: float | None,
                            sources: Mapping[str, str]) -> None:
    """Add the normalised score (per seed and of the mean) to an ``rl.json`` payload, given the references."""
    if ground_truth_mean is None or random_mean is None:
        payload["normalized_score"] = None
        payload["normalized_reference"] = {"missing": [k for k, v in (("ground_truth", ground_truth_mean),
                                                                      ("random_policy", random_mean)) if v is None]}
        return
    per_seed = {s: normalized_score(v, ground_truth_mean, random_mean) for s, v in payload["scores"].items()}
    payload["normalized_score"] = normalized_score(payload["score_mean"], ground_truth_mean, random_mean)
    payload["normalized_scores"] = per_seed
    payload["normalized_reference"] = {"ground_truth_mean": ground_truth_mean, "random_policy_mean": random_mean,
                                       **sources}


def attach_references(payload: dict[str, Any], references: str | Path | None) -> None:
    """The normalised score of ``payload`` against the references found under ``references`` (a run
    that is itself a reference is its own)."""
    kind = payload["representation"]["kind"]
    found = (find_references(references, payload["env_id"], payload["algo"], payload["timesteps"])
             if references is not None else {})
    means = {ref: payload["score_mean"] if kind == ref else found.get(ref, {}).get("score_mean")
             for ref in REFERENCE_KINDS}
    sources = {f"{k}_file": v["path"] for k, v in found.items()}
    attach_normalized_score(payload, means["ground_truth"], means["random_policy"], sources)


# --- the payload ---------------------------------------------------------------------------------

def rl_payload(run: RLRun, rows: Sequence[dict[str, Any]], results: Mapping[int, SeedResult],
               seconds: float) -> dict[str, Any]:
    """The ``rl.json`` of a finished run, before its normalised score (:func:`attach_references`) and
    :func:`strict_json`."""
    seeds = run.options.seeds
    scores = seed_scores(rows, seeds)
    mean, low, high = mean_ci(list(scores.values()))
    total_steps = sum(result.timesteps for result in results.values())
    shapes = [result.observation_shape for result in results.values() if result.observation_shape is not None]
    protocol, representation = run.protocol, run.representation
    payload: dict[str, Any] = {
        "format": RL_FORMAT,
        "env_id": run.env_id,
        "env_kwargs": run.factory.env_kwargs,
        "representation": {"kind": representation.kind, "name": representation.name, **representation.info},
        "algo": run.algo,
        "timesteps": protocol.budget,
        "timesteps_done": {str(seed): result.timesteps for seed, result in results.items()},
        "seeds": seeds,
        "n_seeds": len(seeds),
        "evaluation": protocol.describe(),
        "scores": scores,
        "score_mean": mean,
        "score_ci95": [low, high],
        "score_std": float(np.std(list(scores.values()))),
        "hyperparams": {**run.config.hyperparams(), "eval_freq": protocol.eval_freq},
        "hyperparams_file": run.config.source,
        "policy": policy_name(run.config.runner, representation),
        "agent_observation_shape": shapes[-1] if shapes else None,
        "device": str(run.device),
        "vec_env": run.options.vec_env,
        "seconds": round(seconds, 2),
        "env_steps_per_second": round(total_steps / seconds, 1) if total_steps else None,
        "curve_file": "curve.csv",
        "versions": versions(),
    }
    if representation.kind == "random_policy":
        payload["hyperparams"] = {"n_timesteps": protocol.budget, "eval_freq": protocol.eval_freq,
                                  "n_eval": protocol.n_eval, "note": "uniform random actions; nothing is trained"}
    return payload


def versions() -> dict[str, str]:
    """The versions of srl-bench and of the libraries a result depends on."""
    import stable_baselines3

    return {"srl_bench": __version__, "stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__,
            "gymnasium": gym.__version__}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def strict_json(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as plain JSON values: NumPy numbers as Python's, paths as text, NaN and infinities as None."""
    return _finite_or_none(json.loads(json.dumps(payload, default=_json_default)))


# --- files ---------------------------------------------------------------------------------------

def curve_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The text of ``curve.csv``: one row per evaluation, ``CURVE_FIELDS`` as columns."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CURVE_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_curve(path: str | Path) -> list[dict[str, float]]:
    """The rows of a ``curve.csv`` as dicts of numbers."""
    with open(path, newline="") as handle:
        return [{k: (int(v) if k in ("seed", "timesteps", "n_episodes") else float(v)) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def write_results(work_dir: Path, payload: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rl.json`` and ``curve.csv`` into ``work_dir`` (the publisher's temporary directory), beside
    the run's other files (agents, ``tb/``)."""
    (work_dir / "curve.csv").write_text(curve_csv(rows))
    (work_dir / "rl.json").write_text(json.dumps(payload, indent=2))
