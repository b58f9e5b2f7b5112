"""One trainer for every method: Adam, seeded, split by episode, early stopping, best checkpoint kept.

The held-out test episodes (``test_fraction``, ``split_seed``; the same split ``srl-bench evaluate``
uses by default) never reach training. A share of the remaining episodes validates each epoch; the
weights with the lowest validation loss are the ones kept.
"""

from __future__ import annotations

import copy
import csv
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from srl_bench import __version__
from srl_bench.data import Dataset, load_dataset, split_episodes
from srl_bench.errors import SrlBenchError
from srl_bench.losses import Batch
from srl_bench.methods import DataContext, SRLModel, get_method, load_method_config
from srl_bench.runs import RunWriter, resolve_device

IN_MEMORY_LIMIT = 2 << 30  # datasets smaller than this are read into RAM for training; larger stay mapped


class BatchLoader:
    """Builds training batches from dataset rows by batched (vectorised) indexing."""

    def __init__(self, dataset: Dataset, device: torch.device, needs_next: bool) -> None:
        small = dataset.observations.nbytes <= IN_MEMORY_LIMIT
        self.observations = np.asarray(dataset.observations) if small else dataset.observations
        self.states = np.asarray(dataset.states)
        self.actions = np.asarray(dataset.actions)
        self.rewards = np.asarray(dataset.rewards)
        self.device = device
        self.needs_next = needs_next

    def tensors(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        """The raw tensors of the given rows (sorted first, so memory-mapped reads are sequential)."""
        rows = np.sort(rows)
        arrays: dict[str, np.ndarray] = {
            "obs": self.observations[rows],
            "true_states": self.states[rows],
            "actions": self.actions[rows],
            "rewards": self.rewards[rows],
        }
        if self.needs_next:
            arrays["next_obs"] = self.observations[rows + 1]
            arrays["next_true_states"] = self.states[rows + 1]
        return {k: torch.from_numpy(np.ascontiguousarray(v)).to(self.device, non_blocking=True) for k, v in arrays.items()}


def _mean_logs(logs: list[tuple[int, dict[str, float]]]) -> dict[str, float]:
    total = sum(n for n, _ in logs)
    return {key: sum(n * log[key] for n, log in logs) / total for key in logs[0][1]}


def _seed_everything(seed: int) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def train(
    method: str,
    data: str | Path | Dataset,
    out: str | Path,
    overrides: dict[str, Any] | None = None,
    config_file: str | Path | None = None,
    seed: int = 0,
    device: str = "auto",
    test_fraction: float = 0.2,
    split_seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Train ``method`` on a dataset and write a run directory at ``out``; returns its path."""
    dataset = data if isinstance(data, Dataset) else load_dataset(data)
    spec = get_method(method)
    config = load_method_config(method, spec.config_class, overrides, config_file, spec.defaults)
    torch_device = resolve_device(device)
    rng = _seed_everything(seed)

    train_eps, test_eps = split_episodes(dataset.n_episodes, test_fraction, split_seed)
    val_eps = np.array([], dtype=int)
    if spec.trainable:
        if len(train_eps) < 2:
            raise SrlBenchError(
                f"training with validation needs at least 2 training episodes; the dataset has "
                f"{dataset.n_episodes} episodes in all — generate more"
            )
        fit_eps, val_eps = split_episodes(len(train_eps), config.val_fraction, split_seed + 1)
        fit_eps, val_eps = train_eps[fit_eps], train_eps[val_eps]
    else:
        fit_eps = train_eps
    fit_rows = dataset.frames_of_episodes(fit_eps)
    val_rows = dataset.frames_of_episodes(val_eps)

    context = DataContext.from_meta(dataset.meta, train_states=np.asarray(dataset.states[fit_rows]))
    model: SRLModel = spec.build(config, context).to(torch_device)
    needs_next = model.objective is not None and model.objective.needs_next
    if needs_next:
        has_next = dataset.has_next()
        fit_rows, val_rows = fit_rows[has_next[fit_rows]], val_rows[has_next[val_rows]]
    if len(val_rows) > config.max_val_frames:
        val_rows = np.sort(rng.choice(val_rows, config.max_val_frames, replace=False))

    writer = RunWriter(out, overwrite=overwrite)
    try:
        started = time.perf_counter()
        if spec.fit is not None:
            spec.fit(model, dataset.observations[fit_rows], dataset.states[fit_rows])
        log_rows: list[dict[str, Any]] = []
        best_epoch, best_val = 0, float("nan")
        if spec.trainable and model.objective is not None and config.epochs > 0:
            loader = BatchLoader(dataset, torch_device, needs_next)
            best_epoch, best_val, log_rows = _fit(model, loader, fit_rows, val_rows, config, rng, writer, progress)
        else:
            writer.save_weights(model)
        elapsed = time.perf_counter() - started

        state_dim = model.encoder.state_dim
        writer.write_json("config.json", {
            "method": method,
            "config": {**config.to_dict(), "state_dim": state_dim},
            "state_dim": state_dim,
            "seed": seed,
            "device": str(torch_device),
            "split": {"test_fraction": test_fraction, "split_seed": split_seed,
                      "test_episodes": test_eps.tolist(), "val_episodes": val_eps.tolist()},
            "data_meta": {k: dataset.meta[k] for k in ("image_shape", "state_names", "action_space", "env_id")},
            "srl_bench_version": __version__,
        })
        writer.write_json("dataset.json", dataset.identity)
        _write_log(writer.tmp_dir / "train_log.csv", log_rows)
        writer.write_json("summary.json", {
            "method": method, "state_dim": state_dim, "epochs_run": len(log_rows), "best_epoch": best_epoch,
            "best_val_loss": best_val, "train_frames": int(len(fit_rows)), "val_frames": int(len(val_rows)),
            "seconds": round(elapsed, 2), "parameters": int(sum(p.numel() for p in model.encoder.parameters())),
        })
        return writer.publish()
    except BaseException:
        writer.abort()
        raise


def _fit(model: SRLModel, loader: BatchLoader, fit_rows: np.ndarray, val_rows: np.ndarray, config, rng: np.random.Generator,
         writer: RunWriter, progress: bool) -> tuple[int, float, list[dict[str, Any]]]:
    """The epoch loop; returns (best epoch, best validation loss, per-epoch log rows)."""
    assert model.objective is not None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    tensorboard = _tensorboard(writer.tmp_dir)
    n_batches = max(1, int(np.ceil(len(fit_rows) / config.batch_size)))
    best_val, best_epoch, best_state, stale = float("inf"), 0, None, 0
    log_rows: list[dict[str, Any]] = []
    bar = tqdm(total=config.epochs * n_batches, desc="train", unit="batch", disable=not progress)
    for epoch in range(1, config.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        order = rng.permutation(fit_rows)
        train_logs = []
        for i in range(n_batches):
            rows = order[i * config.batch_size : (i + 1) * config.batch_size]
            if len(rows) == 0:
                continue
            loss, logged = model.objective(Batch(model.encoder, loader.tensors(rows)))
            if not torch.isfinite(loss):
                raise SrlBenchError(f"the loss became {float(loss)} at epoch {epoch}; lower the learning rate (lr)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            train_logs.append((len(rows), logged))
            bar.update()
        val_log = _validate(model, loader, val_rows, config.batch_size) if len(val_rows) else _mean_logs(train_logs)
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in _mean_logs(train_logs).items()},
               **{f"val_{k}": v for k, v in val_log.items()}, "seconds": round(time.perf_counter() - epoch_start, 3)}
        log_rows.append(row)
        if tensorboard is not None:
            for key, value in row.items():
                if key != "epoch":
                    tensorboard.add_scalar(key.replace("_", "/", 1), value, epoch)
        bar.set_postfix(val=f"{val_log['total']:.4g}")
        if val_log["total"] < best_val:
            best_val, best_epoch, stale = val_log["total"], epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            writer.save_weights(model)
        else:
            stale += 1
            if stale >= config.patience:
                break
    bar.close()
    if tensorboard is not None:
        tensorboard.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return best_epoch, best_val, log_rows


@torch.no_grad()
def _validate(model: SRLModel, loader: BatchLoader, rows: np.ndarray, batch_size: int) -> dict[str, float]:
    assert model.objective is not None
    model.eval()
    logs = []
    for i in range(0, len(rows), batch_size):
        chunk = rows[i : i + batch_size]
        _, logged = model.objective(Batch(model.encoder, loader.tensors(chunk)))
        logs.append((len(chunk), logged))
    model.train()
    return _mean_logs(logs)


def _tensorboard(log_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(log_dir / "tensorboard"))


def _write_log(path: Path, rows: list[dict[str, Any]]) -> None:
    fields = list(rows[0]) if rows else ["epoch"]
    buffer = io.StringIO()
    csv_writer = csv.DictWriter(buffer, fieldnames=fields)
    csv_writer.writeheader()
    csv_writer.writerows(rows)
    path.write_text(buffer.getvalue())
