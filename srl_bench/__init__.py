"""srl-bench: a Gymnasium-compatible benchmark toolbox for state representation learning.

``import srl_bench`` registers the ``srl/...`` environments with Gymnasium. The main entry points::

    srl_bench.load_dataset(path)             # memory-mapped dataset
    srl_bench.Encoder                        # base class for any encoder
    srl_bench.load_run(run_dir)              # a trained encoder from its run directory
    srl_bench.evaluate(encoder, dataset)     # KNN-MSE, GTC and probe R² on held-out episodes
    srl_bench.evaluate(run_dir, dataset)     # a trained run, on its own held-out episodes

Heavy modules (PyTorch) load on first use, so the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from srl_bench import envs  # noqa: F401  (registers the srl/... environments)

__version__ = "0.2.0"

_LAZY = {
    "load_dataset": "srl_bench.data",
    "Dataset": "srl_bench.data",
    "generate_dataset": "srl_bench.collect",
    "Encoder": "srl_bench.encoder",
    "load_run": "srl_bench.runs",
    "evaluate_run": "srl_bench.runs",
    "train": "srl_bench.trainer",
    "evaluate": "srl_bench.runs",
    "rl_evaluate": "srl_bench.rl",
    "SrlBenchError": "srl_bench.errors",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'srl_bench' has no attribute {name!r}")
