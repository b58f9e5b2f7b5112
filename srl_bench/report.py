"""Small output helpers: atomic JSON/text files (from ``srl_bench.publish``) and readable metric tables."""

from __future__ import annotations

from typing import Any

from srl_bench.publish import write_json_atomic, write_text_atomic

__all__ = ["format_metrics", "write_json_atomic", "write_text_atomic"]


def format_metrics(metrics: dict[str, Any]) -> str:
    """A short table of the headline metrics, with the per-dimension detail below."""
    lines = [
        f"  evaluated on {metrics['n_eval_frames']} frames ({metrics['split']['mode']}, "
        f"{len(metrics['split']['test_episodes'])} test episodes); state_dim {metrics['state_dim']}, k={metrics['k']}",
        f"  {'knn_mse_ratio':<16} {metrics['knn_mse_ratio']:8.4f}   (lower is better; 1 = random neighbours)",
        f"  {'knn_mse':<16} {metrics['knn_mse']:8.4f}   (standardised ground truth)",
        f"  {'knn_mse_raw':<16} {metrics['knn_mse_raw']:8.4f}   (raw ground truth)",
        f"  {'gtc_mean':<16} {metrics['gtc_mean']:8.4f}   (higher is better)",
        f"  {'probe_linear_r2':<16} {metrics['probe_linear_r2']:8.4f}   (higher is better)",
    ]
    if "probe_mlp_r2" in metrics:
        lines.append(f"  {'probe_mlp_r2':<16} {metrics['probe_mlp_r2']:8.4f}   (higher is better)")
    for key in ("probe_linear_acc", "probe_linear_f1"):  # categorical entries (MiniPacman), classified
        if key in metrics:
            lines.append(f"  {key:<16} {metrics[key]:8.4f}   (higher is better; categorical entries)")
    for name, r2 in metrics["probe_linear_r2_per_dim"].items():
        mlp_r2 = metrics.get("probe_mlp_r2_per_dim", {}).get(name)
        lines.append(f"    {name:<20} R² {r2:7.3f}   GTC {metrics['gtc'].get(name, float('nan')):6.3f}"
                     + (f"   MLP R² {mlp_r2:7.3f}" if mlp_r2 is not None else ""))
    if metrics["dropped_constant_dims"]:
        lines.append(f"  constant on the evaluation set, dropped: {', '.join(metrics['dropped_constant_dims'])}")
    return "\n".join(lines)
