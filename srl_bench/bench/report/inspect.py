"""The pictures behind one run's numbers, computed from its saved encoder on a bounded sample of its
held-out frames (no training, no re-evaluation): the learned state of each frame with its true state,
the loss heads' reconstructions for generative methods, and nearest neighbours in learned space.

The sample (:data:`SAMPLE_FRAMES` frames at most) is whole held-out episodes of the run (its own
test split), taken in a seeded order, the last one cut short; in time order within each episode, so a
recurrent encoder (World Models' [z, h]) sees its history as the metrics do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

SAMPLE_FRAMES = 300
RECONSTRUCTIONS = 8  # frames shown per reconstruction picture
NEIGHBOUR_QUERIES = 4


@dataclass
class RunSample:
    """A run's encoder applied to a sample of its held-out frames."""

    env: str
    method: str
    seed: int
    run_dir: Path
    images: np.ndarray  # uint8 N×H×W×C
    truth: np.ndarray  # float N×D
    state_names: list[str]
    states: np.ndarray  # float N×K
    episodes: np.ndarray  # episode id of each frame
    reconstructions: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # term -> (target, output)


def sample_rows(dataset: Any, test_episodes: list[int] | None, limit: int = SAMPLE_FRAMES, seed: int = 0) -> np.ndarray:
    """Rows of whole held-out episodes (seeded order), at most ``limit`` of them, the last episode cut."""
    from srl_bench.data import SPLIT_SEED, TEST_FRACTION, split_episodes

    if not test_episodes:
        _, test = split_episodes(dataset.n_episodes, TEST_FRACTION, SPLIT_SEED)
        test_episodes = [int(e) for e in test]
    order = np.random.default_rng(seed).permutation(np.asarray(test_episodes, dtype=np.int64))
    rows: list[np.ndarray] = []
    total = 0
    for episode in order:
        frames = dataset.frames_of_episodes(np.array([episode]))
        rows.append(frames[: limit - total])
        total += len(rows[-1])
        if total >= limit:
            break
    return np.concatenate(rows) if rows else np.zeros(0, np.int64)


@torch.no_grad()
def reconstruct(model: Any, images: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """What each reconstructing loss head of ``model`` (an ``SRLModel``) makes of ``images`` (uint8
    N×H×W×C), keyed by term: ``(target, output)``, both float in [0, 1], N×H×W×C for pixel decoders
    (``reconstruction``: its decoded image, clipped to [0, 1]; ``vae_reconstruction``: sigmoid(decoder(μ)),
    the posterior mean), N×S×S for the spatial autoencoder's grayscale target (W s + b). Each term decodes
    the slice of the state it owns (``srl_splits``). Empty for a model without such a head."""
    from srl_bench.losses.batch import Batch
    from srl_bench.losses.spatial import grayscale_target

    objective = getattr(model, "objective", None)
    if objective is None or not len(images):
        return {}
    encoder = model.encoder
    batch = Batch(encoder, {"obs": torch.as_tensor(np.array(images), device=encoder.device)})
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, term in objective.terms.items():
        view = batch.view(objective.slices[name]) if name in objective.slices else batch
        kind = getattr(type(term), "name", name)
        if kind == "reconstruction":
            output = term.decode(view.state).clamp(0, 1)
        elif kind == "vae_reconstruction":
            output = torch.sigmoid(term.decoder(view.posterior[0]))
        elif kind == "spatial_reconstruction":
            size = term.size
            target = grayscale_target(view.images, size).reshape(-1, size, size)
            output = term.decoder(view.state).reshape(-1, size, size).clamp(0, 1)
            out[name] = (target.cpu().numpy(), output.cpu().numpy())
            continue
        else:
            continue
        out[name] = (view.images.permute(0, 2, 3, 1).cpu().numpy(), output.permute(0, 2, 3, 1).cpu().numpy())
    return out


def load_sample(run_dir: str | Path, dataset_dir: str | Path, env: str, method: str, seed: int,
                limit: int = SAMPLE_FRAMES) -> RunSample:
    """Encode a bounded sample of the run's held-out frames (see the module docstring)."""
    from srl_bench.data import load_dataset
    from srl_bench.data.frames import RowFrames
    from srl_bench.metrics.evaluate import encode_rows
    from srl_bench.runs import load_model, read_run_config

    run_dir = Path(run_dir)
    dataset = load_dataset(dataset_dir)
    config = read_run_config(run_dir)
    split = config.get("split") if isinstance(config.get("split"), dict) else {}
    rows = sample_rows(dataset, split.get("test_episodes"), limit)
    model = load_model(run_dir)
    states = encode_rows(model.encoder, dataset, rows)
    images = np.asarray(dataset.observations[rows])
    shown = rows[np.linspace(0, len(rows) - 1, min(RECONSTRUCTIONS, len(rows))).astype(int)] if len(rows) else rows
    # the decoders see (and remake) the encoder's input, a stack of k frames: the pictures show the newest
    inputs = RowFrames(dataset, shown, int(getattr(model.encoder, "frame_stack", 1) or 1))[:]
    channels = images.shape[-1]
    reconstructions = {name: (target[..., -channels:], output[..., -channels:]) if target.ndim == 4 else (target, output)
                       for name, (target, output) in reconstruct(model, inputs).items()}
    return RunSample(env, method, seed, run_dir, images, np.asarray(dataset.states[rows], dtype=np.float64),
                     dataset.state_names, np.asarray(states, dtype=np.float64), dataset.episode_ids[rows],
                     reconstructions)


def best_dimensions(states: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per true dimension d: the learned dimension with the largest |Pearson correlation| with it (as
    GTC takes it) and that |correlation| (NaN for a constant true dimension; a constant learned
    dimension correlates with nothing)."""
    s = states - states.mean(axis=0)
    g = truth - truth.mean(axis=0)
    s_norm = np.sqrt((s ** 2).sum(axis=0))
    g_norm = np.sqrt((g ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.abs(g.T @ s) / np.outer(g_norm, s_norm)
    corr[:, s_norm <= 1e-12] = 0.0
    corr[g_norm <= 1e-12, :] = np.nan
    corr = np.nan_to_num(corr, nan=-1.0)
    best = corr.argmax(axis=1)
    value = corr[np.arange(len(best)), best]
    return best, np.where(value < 0, np.nan, value)


@dataclass
class Neighbours:
    """One query frame and its k nearest frames in learned space."""

    query: int
    neighbours: np.ndarray  # row indices into the sample
    distances: np.ndarray  # their true-state distances to the query (standardised truth)
    ratio: float  # the query's share of KNN-MSE: mean squared true distance / (2·D')


def nearest_neighbours(states: np.ndarray, truth: np.ndarray, k: int = 5, queries: int = NEIGHBOUR_QUERIES,
                       seed: int = 0) -> list[Neighbours]:
    """``queries`` seeded query frames of the sample with their ``k`` nearest other frames by
    Euclidean distance between learned states (ties: the lower row), scored as KNN-MSE scores them:
    on the true state standardised over the sample (constant dimensions dropped)."""
    n = len(states)
    if n <= k:
        return []
    sigma = truth.std(axis=0)
    kept = sigma > 1e-8
    z = (truth[:, kept] - truth[:, kept].mean(axis=0)) / sigma[kept] if kept.any() else np.zeros((n, 1))
    dims = max(1, int(kept.sum()))
    chosen = np.sort(np.random.default_rng(seed).choice(n, size=min(queries, n), replace=False))
    out = []
    for query in chosen:
        distance = ((states - states[query]) ** 2).sum(axis=1)
        distance[query] = np.inf
        near = np.argsort(distance, kind="stable")[:k]
        true_sq = ((z[near] - z[query]) ** 2).sum(axis=1)
        out.append(Neighbours(int(query), near, np.sqrt(true_sq), float(true_sq.mean() / (2 * dims))))
    return out


def train_log(run_dir: str | Path) -> "Any":
    """The run's ``train_log.csv`` as a DataFrame (None when absent or empty: an untrained method)."""
    import pandas as pd

    path = Path(run_dir) / "train_log.csv"
    try:
        log = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return log if len(log) and "epoch" in log else None


def run_summary(run_dir: str | Path) -> dict[str, Any]:
    """The run's ``summary.json`` (empty when unreadable)."""
    try:
        payload = json.loads((Path(run_dir) / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}
