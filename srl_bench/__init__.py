"""srl-bench: a Gymnasium-compatible benchmark toolbox for state representation learning.

``import srl_bench`` registers the ``srl/...`` environments with Gymnasium. The main entry points::

    srl_bench.load_dataset(path)             # memory-mapped dataset
    srl_bench.Encoder                        # base class for any encoder
    srl_bench.load_run(run_dir)              # a trained encoder from its run directory
    srl_bench.evaluate(encoder, dataset)     # KNN-MSE, GTC and probe R² on held-out episodes
    srl_bench.evaluate(run_dir, dataset)     # a trained run, on its own held-out episodes
    srl_bench.rl_evaluate(encoder, env_id)   # downstream RL through the frozen encoder
    srl_bench.load_encoder("pkg.mod:make")   # an encoder by import path (its factory, called)
    @srl_bench.register_method("name", ...)  # a trainable method of your own (docs/extending.md)
    @srl_bench.register_term                 # a loss term of your own

Heavy modules (PyTorch) load on first use, so the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from srl_bench import envs  # noqa: F401  (registers the srl/... environments)

__version__ = "0.3.0"

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
    "register_method": "srl_bench.methods",
    "Method": "srl_bench.methods",
    "MethodConfig": "srl_bench.methods",
    "DataContext": "srl_bench.methods",
    "SRLModel": "srl_bench.methods",
    "build_objective": "srl_bench.methods",
    "resolve_state_dim": "srl_bench.methods",
    "register_term": "srl_bench.losses",
    "LossTerm": "srl_bench.losses",
    "TermConfig": "srl_bench.losses",
    "Batch": "srl_bench.losses",
    "load_encoder": "srl_bench.plugins",
    "check_encoder": "srl_bench.plugins",
    "EncoderFeaturesExtractor": "srl_bench.rl",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'srl_bench' has no attribute {name!r}")
