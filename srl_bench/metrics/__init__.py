"""Evaluation metrics: KNN-MSE, ground-truth correlation (GTC) and ground-truth probes."""

from srl_bench.metrics.core import gtc, knn_mse, knn_sq_errors, linear_probe_r2, mlp_probe_r2, r2_per_dim, standardise
from srl_bench.metrics.evaluate import HIGHER_IS_BETTER, encode_rows, evaluate

__all__ = ["HIGHER_IS_BETTER", "encode_rows", "evaluate", "gtc", "knn_mse", "knn_sq_errors", "linear_probe_r2",
           "r2_per_dim", "standardise"]
