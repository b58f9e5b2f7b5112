"""Evaluation metrics: KNN-MSE, ground-truth correlation (GTC) and ground-truth probes (regression on
continuous entries, classification on categorical ones)."""

from srl_bench.metrics.core import (
    ABSENT,
    CATEGORICAL,
    CONTINUOUS,
    OPTIONAL,
    gtc,
    knn_mse,
    knn_sq_errors,
    linear_probe_classify,
    linear_probe_r2,
    linear_probe_r2_where_present,
    macro_f1_score,
    mlp_probe_r2,
    r2_per_dim,
    standardise,
    state_kinds,
)
from srl_bench.metrics.evaluate import HIGHER_IS_BETTER, encode_rows, evaluate

__all__ = ["ABSENT", "CATEGORICAL", "CONTINUOUS", "HIGHER_IS_BETTER", "OPTIONAL", "encode_rows", "evaluate", "gtc",
           "knn_mse", "knn_sq_errors", "linear_probe_classify", "linear_probe_r2", "linear_probe_r2_where_present",
           "macro_f1_score", "mlp_probe_r2", "r2_per_dim", "standardise", "state_kinds"]
