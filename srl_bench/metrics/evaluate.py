"""Score any encoder on a dataset's held-out episodes (``docs/metrics.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from srl_bench.data.frames import RowFrames
from srl_bench.data import SPLIT_SEED, TEST_FRACTION, Dataset, load_dataset, split_episodes
from srl_bench.encoder import EncoderLike, encode_images
from srl_bench.errors import SrlBenchError
from srl_bench.metrics.core import (
    CATEGORICAL,
    CONTINUOUS,
    KNN_K,
    OPTIONAL,
    gtc,
    knn_sq_errors,
    linear_probe_classify,
    linear_probe_r2,
    linear_probe_r2_where_present,
    mlp_probe_r2,
    standardise,
    state_kinds,
)

# metric name -> True when higher is better (used by tables and leaderboards)
HIGHER_IS_BETTER = {"knn_mse": False, "knn_mse_raw": False, "knn_mse_ratio": False, "gtc_mean": True,
                    "probe_linear_r2": True, "probe_mlp_r2": True, "probe_linear_acc": True,
                    "probe_linear_f1": True}


def encode_rows(encoder: EncoderLike, dataset: Dataset, rows: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Learned states of the given dataset rows.

    An encoder with ``frame_stack = k`` sees each row with the k−1 frames before it in its episode
    (``srl_bench.data.frames``). An encoder that needs whole episodes (for example a recurrent one) may
    define ``encode_dataset(dataset, rows) -> states``; it is used instead of frame-by-frame encoding.
    """
    if hasattr(encoder, "encode_dataset"):
        states = np.asarray(encoder.encode_dataset(dataset, rows), dtype=np.float32)
    else:  # gathered a batch at a time: the frames of a large dataset never sit in memory at once
        frames = RowFrames(dataset, rows, getattr(encoder, "frame_stack", 1))
        states = encode_images(encoder, frames, batch_size) if len(rows) else None
    if states is None or len(states) != len(rows):
        raise SrlBenchError(f"the encoder returned {0 if states is None else len(states)} states for {len(rows)} frames")
    return states.reshape(len(rows), -1)


def evaluate(
    encoder: EncoderLike,
    dataset: Dataset | str | Path,
    k: int = KNN_K,
    test_fraction: float = TEST_FRACTION,
    split_seed: int = SPLIT_SEED,
    test_episodes: list[int] | np.ndarray | None = None,
    whole_dataset: bool = False,
    mlp_probe: bool = False,
    batch_size: int = 256,
) -> dict[str, Any]:
    """KNN-MSE (standardised, raw and as a fraction of random), GTC and the linear probe's R² on the
    continuous ground-truth entries (and, with ``mlp_probe=True``, a small MLP probe's R²). Where the
    env declares other kinds of entries (``srl_bench.metrics.core.state_kinds``): the linear probe's
    R² also covers each optional entry on the frames where it is present, and a logistic probe's
    accuracy and macro-F1 cover the categorical ones (``probe_linear_acc``, ``probe_linear_f1``).

    ``encoder`` is an ``srl_bench.Encoder``, any ``torch.nn.Module`` mapping uint8 N×H×W×C images to
    states, or a plain callable doing the same on NumPy arrays (``srl_bench.evaluate`` also takes a run
    directory, and then keeps to the run's own held-out episodes). KNN-MSE and GTC are computed on the held-out
    test episodes (``test_episodes``, else a seeded split by ``test_fraction``; the whole dataset with
    ``whole_dataset=True``, the S-RL Toolbox's historical setting); the probe is always fitted on the
    other episodes and scored on the test episodes.
    """
    if isinstance(encoder, (str, Path)):
        raise SrlBenchError(f"srl_bench.metrics.evaluate takes an encoder; score the run directory {encoder} "
                            "with srl_bench.evaluate")
    if k < 1:
        raise SrlBenchError(f"k must be at least 1, got {k}")
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)

    if test_episodes is not None:
        test_eps = np.asarray(sorted(set(int(e) for e in test_episodes)))
        if len(test_eps) == 0 or test_eps.min() < 0 or test_eps.max() >= data.n_episodes:
            raise SrlBenchError(f"test episodes must be ids in 0..{data.n_episodes - 1}")
        train_eps = np.setdiff1d(np.arange(data.n_episodes), test_eps)
        split = {"mode": "held_out", "source": "given", "test_episodes": test_eps.tolist()}
    else:
        train_eps, test_eps = split_episodes(data.n_episodes, test_fraction, split_seed)
        split = {"mode": "held_out", "source": "seeded", "test_fraction": test_fraction,
                 "split_seed": split_seed, "test_episodes": test_eps.tolist()}
    if len(train_eps) == 0:
        raise SrlBenchError("no training episodes are left for the probe; hold out fewer episodes")
    train_rows = data.frames_of_episodes(train_eps)
    test_rows = data.frames_of_episodes(test_eps)

    s_train = encode_rows(encoder, data, train_rows, batch_size)
    s_test = encode_rows(encoder, data, test_rows, batch_size)
    g_train = np.asarray(data.states[train_rows], dtype=np.float64)
    g_test = np.asarray(data.states[test_rows], dtype=np.float64)

    if whole_dataset:
        split["mode"] = "whole_dataset"
        order = np.argsort(np.concatenate([train_rows, test_rows]))
        s_eval = np.concatenate([s_train, s_test])[order]
        g_eval = np.concatenate([g_train, g_test])[order]
    else:
        s_eval, g_eval = s_test, g_test

    names = data.state_names
    kinds = np.array(state_kinds(data.meta))
    continuous, optional, categorical = (kinds == kind for kind in (CONTINUOUS, OPTIONAL, CATEGORICAL))
    cont_names = [n for n, c in zip(names, continuous) if c]

    def columns(g: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(g[:, mask])  # row-major, as the whole array: the same sums, bit for bit

    # KNN-MSE, GTC and the MLP probe read the continuous entries (defined on every frame) only
    g_eval_c, g_train_c, g_test_c = (columns(g, continuous) for g in (g_eval, g_train, g_test))
    g_std, dropped = standardise(g_eval_c)
    kept_names = [n for n, d in zip(cont_names, dropped) if not d]
    if not kept_names:
        raise SrlBenchError("every continuous ground-truth dimension is constant on the evaluation episodes; "
                            "nothing to score")
    import torch

    # one neighbour search for both; the tree search on this process's chosen torch threads
    errors_std, errors_raw = knn_sq_errors(s_eval, [g_std, g_eval_c], k, workers=torch.get_num_threads())
    knn_std = float(errors_std.mean())
    gtc_per_dim = gtc(s_eval, g_eval_c)
    # the linear probe regresses the continuous entries, and each optional one where it is present
    r2 = np.full(len(names), np.nan)
    r2[continuous] = linear_probe_r2(s_train, g_train_c, s_test, g_test_c)
    if optional.any():
        r2[optional] = linear_probe_r2_where_present(s_train, columns(g_train, optional), s_test,
                                                     columns(g_test, optional))
    regressed = continuous | optional
    probe_kept = regressed & ~np.isnan(r2)
    extra: dict[str, Any] = {}
    if mlp_probe:
        r2_mlp = mlp_probe_r2(s_train, g_train_c, s_test, g_test_c, data.episode_ids[train_rows], seed=split_seed)
        extra = {"probe_mlp_r2": float(np.nanmean(r2_mlp)),
                 "probe_mlp_r2_per_dim": {n: float(v) for n, v in zip(cont_names, r2_mlp) if not np.isnan(v)}}
    accuracy, macro_f1 = np.full(len(names), np.nan), np.full(len(names), np.nan)
    if categorical.any():
        # the logistic probe classifies the categorical entries
        accuracy[categorical], macro_f1[categorical] = linear_probe_classify(
            s_train, columns(g_train, categorical), s_test, columns(g_test, categorical))
        scored = categorical & ~np.isnan(accuracy)
        extra.update({
            "probe_linear_acc": float(accuracy[scored].mean()) if scored.any() else None,
            "probe_linear_f1": float(macro_f1[scored].mean()) if scored.any() else None,
            "probe_linear_acc_per_dim": {n: float(v) for n, v, ok in zip(names, accuracy, scored) if ok},
            "probe_linear_f1_per_dim": {n: float(v) for n, v, ok in zip(names, macro_f1, scored) if ok},
        })
    if optional.any() or categorical.any():
        # present only where the env declares such entries, so an all-continuous env's output is as it was
        unscored = (optional & np.isnan(r2)) | (categorical & np.isnan(accuracy))
        extra.update({"unscored_dims": [n for n, u in zip(names, unscored) if u],
                      "state_kinds": dict(zip(names, kinds.tolist()))})
    return {
        "knn_mse": knn_std,
        "knn_mse_raw": float(errors_raw.mean()),
        "knn_mse_ratio": knn_std / (2 * len(kept_names)),
        "gtc_mean": float(np.nanmean(gtc_per_dim)),
        "probe_linear_r2": float(r2[probe_kept].mean()),
        "gtc": {n: float(v) for n, v in zip(cont_names, gtc_per_dim) if not np.isnan(v)},
        "probe_linear_r2_per_dim": {n: float(v) for n, v, ok in zip(names, r2, probe_kept) if ok},
        **extra,
        "dropped_constant_dims": [n for n, d in zip(cont_names, dropped) if d],
        "k": k,
        "state_dim": int(s_eval.shape[1]),
        # the metrics ignore the state's scale; its spread shows a state that shrank towards a constant
        "state_std": float(s_eval.std(axis=0).mean()),
        "n_eval_frames": int(len(s_eval)),
        "n_probe_train_frames": int(len(train_rows)),
        "split": split,
        "dataset": data.identity,
    }
