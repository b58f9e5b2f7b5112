"""The short text summary of an ``rl.json`` payload that ``srl-bench rl`` prints."""

from __future__ import annotations

from typing import Any


def format_rl(payload: dict[str, Any]) -> str:
    """Per-seed scores, the mean with its interval (none for one seed), the normalised score, the time."""
    rep = payload["representation"]
    state = f" (state_dim {rep['state_dim']})" if rep.get("state_dim") else ""
    n_points = len({row["timesteps"] for row in payload.get("curve", [])}) or "?"
    n_seeds = payload["n_seeds"]
    lines = [f"  {payload['algo']} on {payload['env_id']} with {rep['name']}{state}: {payload['timesteps']} steps × "
             f"{n_seeds} seeds, {n_points} evaluations of {payload['evaluation']['n_eval']} episodes",
             "  " + "   ".join(f"seed {s}: {v:.1f}" for s, v in payload["scores"].items())]
    low, high = payload["score_ci95"]
    interval = f"95% CI {low:.1f} to {high:.1f}" if low is not None and high is not None else "no interval"
    lines.append(f"  score {payload['score_mean']:.1f} ({interval}, {n_seeds} seeds)")
    if payload.get("normalized_score") is not None:
        ref = payload["normalized_reference"]
        lines.append(f"  normalised score {payload['normalized_score']:.3f} (ground_truth {ref['ground_truth_mean']:.1f},"
                     f" random_policy {ref['random_policy_mean']:.1f})")
    elif payload.get("normalized_reference", {}).get("missing"):
        missing = ", ".join(payload["normalized_reference"]["missing"])
        lines.append(f"  normalised score: needs {missing} runs of the same env, algorithm and budget (--references)")
    else:
        lines.append("  normalised score: undefined (the ground_truth and random_policy scores coincide)")
    speed = f", {payload['env_steps_per_second']:.0f} env steps/s" if payload.get("env_steps_per_second") else ""
    lines.append(f"  {payload['seconds']:.1f} s{speed}")
    return "\n".join(lines)
