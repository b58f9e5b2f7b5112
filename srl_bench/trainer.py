"""One trainer for every method: Adam, seeded, split by episode, early stopping, best checkpoint kept.

The held-out test episodes (``test_fraction``, ``split_seed``; the same split ``srl-bench evaluate``
uses by default) never reach training. A share of the remaining episodes validates each epoch; the
weights with the lowest validation loss are the ones kept.

After each epoch the whole training state is kept beside the output (``.NAME.partial``,
``srl_bench.resume.TrainCheckpoint``): the same command run again after an interruption, a killed
process included, goes on from the last finished epoch and ends with the weights an uninterrupted
run would have (same software, device and thread count).

A batch holds single frames (with o_t+1 when a loss term reads it) or, for sequence methods (an
objective whose ``sequence_length`` L > 1, e.g. World Models), windows of L consecutive frames that
never cross an episode boundary. Either way it is gathered from the dataset by one vectorised index,
so a memory-mapped dataset larger than RAM trains.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from srl_bench import __version__
from srl_bench.config import merge as merge_config, validate
from srl_bench.data.frames import RowReader, stacked_rows
from srl_bench.data import SPLIT_SEED, TEST_FRACTION, Dataset, load_dataset, split_episodes
from srl_bench.errors import SrlBenchError
from srl_bench.losses import Batch
from srl_bench.methods import DataContext, SRLModel, build_model, get_method
from srl_bench.device import resolve_device
from srl_bench.resume import TrainCheckpoint
from srl_bench.runs import RUN_FORMAT, RunWriter

SUMMARY_FILE = "summary.json"
IN_MEMORY_LIMIT = 512 << 20  # datasets up to this size are read into RAM for training; larger ones a batch at a time


def window_starts(episode_ids: np.ndarray, rows: np.ndarray, span: int) -> np.ndarray:
    """The rows t such that rows t .. t+span−1 exist and belong to one episode."""
    rows = np.asarray(rows)
    last = rows + span - 1
    valid = last < len(episode_ids)
    valid[valid] = episode_ids[last[valid]] == episode_ids[rows[valid]]
    return rows[valid]


class BatchLoader:
    """Builds training batches from dataset rows by batched (vectorised) indexing.

    Each sample starts at a row t and covers rows t .. t+L−1 (``sequence_length`` L, 1 for single
    frames), plus o_t+1 for each when ``needs_next``; the trainer only draws starts whose whole span
    lies in one episode (``window_starts``).
    """

    def __init__(self, dataset: Dataset, device: torch.device, needs_next: bool, sequence_length: int = 1,
                 frame_stack: int = 1) -> None:
        small = dataset.observations.nbytes <= IN_MEMORY_LIMIT
        # a large dataset is read a batch at a time (RowReader): resident memory stays bounded by a batch
        self.observations = np.asarray(dataset.observations) if small else RowReader(Path(dataset.path) / "observations.npy")
        self.states = np.asarray(dataset.states)
        self.actions = np.asarray(dataset.actions)
        self.rewards = np.asarray(dataset.rewards)
        self.device = device
        self.needs_next = needs_next
        self.sequence_length = sequence_length
        self.frame_stack = frame_stack
        self.episode_first_row = np.flatnonzero(np.asarray(dataset.episode_starts))[np.asarray(dataset.episode_ids)]

    def frames(self, rows: np.ndarray) -> np.ndarray:
        """The encoder inputs of ``rows``: their frames, or stacks of the last ``frame_stack`` frames."""
        if self.frame_stack == 1:
            return self.observations[rows]
        return stacked_rows(self.observations, self.episode_first_row, rows, self.frame_stack)

    @property
    def span(self) -> int:
        """Rows one sample reads, from its start."""
        return self.sequence_length + int(self.needs_next)

    def arrays(self, starts: np.ndarray) -> dict[str, np.ndarray]:
        """The raw arrays of the samples starting at ``starts`` (sorted first, so memory-mapped reads
        are sequential); windows are flattened to rows in time order."""
        starts = np.sort(starts)
        rows = (starts[:, None] + np.arange(self.sequence_length)).reshape(-1)
        arrays: dict[str, np.ndarray] = {
            "obs": self.frames(rows),
            "true_states": self.states[rows],
            "actions": self.actions[rows],
            "rewards": self.rewards[rows],
        }
        if self.needs_next:
            arrays["next_obs"] = self.frames(rows + 1)
            arrays["next_true_states"] = self.states[rows + 1]
        return arrays

    def tensors(self, starts: np.ndarray) -> dict[str, torch.Tensor]:
        """``arrays(starts)`` as tensors on the loader's device."""
        return to_device(self.arrays(starts), self.device)

    def batches(self, chunks: list[np.ndarray], ahead: int | None = None) -> Iterator[dict[str, torch.Tensor]]:
        """``tensors(chunk)`` for each chunk of sample starts, in order. On CUDA the next ``ahead``
        batches (default ``PREFETCH_ON_CUDA``) are gathered by a background thread into pinned memory
        and copied without blocking, so the GPU does not wait for the disk or the gather; on the CPU
        (default 0) they are made in turn, keeping a training cell on its chosen threads."""
        if ahead is None:
            ahead = PREFETCH_ON_CUDA if self.device.type == "cuda" else 0
        if ahead <= 0:
            for chunk in chunks:
                yield self.tensors(chunk)
            return
        yield from prefetched(self.arrays, chunks, self.device, ahead)


PREFETCH_ON_CUDA = 2  # batches gathered ahead of the GPU


def to_device(arrays: dict[str, np.ndarray], device: torch.device) -> dict[str, torch.Tensor]:
    """NumPy arrays as tensors on ``device``: on CUDA through pinned memory with a non-blocking copy."""
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    if device.type != "cuda":
        return {k: t.to(device) for k, t in tensors.items()}
    return {k: t.pin_memory().to(device, non_blocking=True) for k, t in tensors.items()}


def prefetched(make: Callable[[Any], dict[str, np.ndarray]], items: list[Any], device: torch.device,
               ahead: int) -> Iterator[dict[str, torch.Tensor]]:
    """``to_device(make(item), device)`` for each item, in order, with ``make`` run by one background
    thread up to ``ahead`` items early (NumPy's gathers and ``pread`` release the GIL). Its errors are
    raised here; leaving the loop early stops the thread."""
    ready: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                ready.put(("batch", make(item)))
            ready.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            ready.put(("error", exc))

    thread = threading.Thread(target=produce, name="srl-bench-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield to_device(value, device)
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


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
    test_fraction: float = TEST_FRACTION,
    split_seed: int = SPLIT_SEED,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Train ``method`` on a dataset and write a run directory at ``out``; returns its path."""
    writer = RunWriter(out, overwrite=overwrite)  # checks the output path before any work
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SrlBenchError(f"--seed must be at least 0, got {seed}")
    dataset = data if isinstance(data, Dataset) else load_dataset(data)
    spec = get_method(method)
    config = spec.make_config(overrides, config_file)
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

    has_next = dataset.has_next()
    context = DataContext.from_meta(dataset.meta, train_states=np.asarray(dataset.states[fit_rows]),
                                    train_rewards=np.asarray(dataset.rewards[fit_rows[has_next[fit_rows]]]))
    model: SRLModel = build_model(spec, config, context).to(torch_device)
    checkpoint = None
    if spec.trainable and model.objective is not None and config.epochs > 0:
        checkpoint = TrainCheckpoint(out, {
            "method": method, "config": config.to_dict(), "seed": seed, "dataset": dataset.identity,
            "split": {"test_fraction": test_fraction, "split_seed": split_seed}, "device": str(torch_device),
            "threads": torch.get_num_threads(), "versions": {"srl_bench": __version__, "torch": str(torch.__version__),
                                                             "numpy": str(np.__version__)}})
    needs_next = model.objective is not None and model.objective.needs_next
    seq_len = model.objective.sequence_length if model.objective is not None else 1
    if model.objective is not None:
        span = seq_len + int(needs_next)
        fit_rows = window_starts(dataset.episode_ids, fit_rows, span)
        val_rows = window_starts(dataset.episode_ids, val_rows, span)
        if seq_len > 1:  # validate on non-overlapping windows
            first_rows = np.flatnonzero(dataset.episode_starts)
            val_rows = val_rows[(val_rows - first_rows[dataset.episode_ids[val_rows]]) % seq_len == 0]
        if spec.trainable and len(fit_rows) == 0:
            raise SrlBenchError(f"no training episode is long enough for windows of {span} frames; "
                                "generate longer episodes or lower sequence_length")
    max_val = max(1, config.max_val_frames // seq_len)
    if len(val_rows) > max_val:
        val_rows = np.sort(rng.choice(val_rows, max_val, replace=False))

    writer.begin()
    try:
        started = time.perf_counter()
        if spec.fit is not None:
            spec.fit(model, dataset, fit_rows, rng)
        fit = FitResult()
        if spec.trainable and model.objective is not None and config.epochs > 0:
            loader = BatchLoader(dataset, torch_device, needs_next, seq_len, config.frame_stack)
            fit = _fit(model, loader, fit_rows, val_rows, config, rng, writer, progress, checkpoint)
        else:
            writer.save_weights(model)
        elapsed = time.perf_counter() - started + fit.seconds_before

        state_dim = model.encoder.state_dim
        writer.write_json("config.json", {
            "format": RUN_FORMAT,
            "method": method,
            "method_source": spec.origin(),  # the module that registers the method: load_run imports it
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
        _write_log(writer.tmp_dir / "train_log.csv", fit.log_rows)
        writer.write_json(SUMMARY_FILE, {
            "method": method, "state_dim": state_dim, "epochs_run": len(fit.log_rows), "epochs_cap": config.epochs,
            "best_epoch": fit.best_epoch, "best_val_loss": fit.best_val, "stopped": fit.stopped,
            "diverged": fit.divergence, "train_frames": int(len(fit_rows)), "val_frames": int(len(val_rows) * seq_len),
            "seconds": round(elapsed, 2), "parameters": int(sum(p.numel() for p in model.encoder.parameters())),
            "resumed_after_epoch": fit.resumed_after,
        })
        if fit.divergence is not None:
            print(f"srl-bench: warning: {fit.divergence['message']}; kept the weights of epoch {fit.best_epoch} "
                  "(the run is marked as diverged in summary.json)", file=sys.stderr)
        published = writer.publish()
    except BaseException:
        writer.abort()
        line = checkpoint.interrupted_line() if checkpoint is not None else None
        if line:
            print(line, file=sys.stderr)
        raise
    if checkpoint is not None:
        checkpoint.remove()
    return published


def readout_run(source: str | Path, out: str | Path, overrides: dict[str, Any] | None = None,
                overwrite: bool = False) -> Path:
    """Write at ``out`` a run that reads the trained model of the run ``source`` another way, without
    training; returns its path.

    ``overrides`` change only how the model is read (World Models' ``representation: zh``); the config
    is the source's (``state_dim`` as the new read-out makes it) with them applied. The weights,
    training log, split and dataset identity are the source's; ``config.json`` records the new config
    and ``readout_of`` the source, ``summary.json`` the new ``state_dim``. Overrides that would change
    what is trained (the method's ``training_identity`` tells) are refused in one sentence.
    """
    from srl_bench.runs import CONFIG_FILE, load_model, read_run_config, run_method_config

    writer = RunWriter(out, overwrite=overwrite)  # checks the output path before any work
    source = Path(source)
    run_config = read_run_config(source)
    method = get_method(run_config["method"])
    trained = run_method_config(source, run_config).to_dict()
    values = {key: value for key, value in trained.items() if key != "state_dim"}
    config = validate(method.config_class, merge_config(values, overrides), f"the read-out of {source}")
    state_dim = build_model(method, config, DataContext.from_meta(run_config["data_meta"])).encoder.state_dim
    recorded = {**config.to_dict(), "state_dim": state_dim}
    if not method.trains_alike(recorded, trained):
        new, old = method.trained_part(recorded), method.trained_part(trained)
        changed = sorted(key for key in set(new) | set(old) if new.get(key) != old.get(key))
        raise SrlBenchError(f"{', '.join(changed)} as given would change what {source} trained, not only how it is "
                            "read; train a run with those settings instead (`srl-bench train`)")
    load_model(source, config=config)  # the source's weights must fit the read-out's model
    writer.begin()
    try:
        for item in source.iterdir():  # the weights, log and dataset identity (the marker is the writer's own)
            if item.name not in (CONFIG_FILE, SUMMARY_FILE) and not item.name.startswith("."):
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, writer.tmp_dir / item.name)
        writer.write_json(CONFIG_FILE, {**run_config, "config": recorded, "state_dim": state_dim,
                                        "readout_of": str(source)})
        summary_file = source / SUMMARY_FILE
        summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
        writer.write_json(SUMMARY_FILE, {**summary, "state_dim": state_dim, "readout_of": str(source)})
        return writer.publish()
    except BaseException:
        writer.abort()
        raise


@dataclass
class FitResult:
    """How training went: the kept epoch and its validation loss, the per-epoch log, and why it stopped
    (``not_trained``, ``patience``: validation stalled, ``epoch_cap``: the epochs ran out while it was
    still improving, ``diverged``: a loss became NaN or infinite, described in ``divergence``), and,
    for a resumed training, the epoch it went on after and the seconds its earlier epochs took."""

    best_epoch: int = 0
    best_val: float | None = None
    log_rows: list[dict[str, Any]] = field(default_factory=list)
    stopped: str = "not_trained"
    divergence: dict[str, Any] | None = None
    resumed_after: int | None = None
    seconds_before: float = 0.0


def _non_finite_term(logged: dict[str, float]) -> str:
    """The first loss term whose value is NaN or infinite (``total`` if only the sum is)."""
    return next((name for name, value in logged.items() if not math.isfinite(value)), "total")


def _fit(model: SRLModel, loader: BatchLoader, fit_rows: np.ndarray, val_rows: np.ndarray, config, rng: np.random.Generator,
         writer: RunWriter, progress: bool, checkpoint: TrainCheckpoint | None = None) -> FitResult:
    """The epoch loop, keeping the weights of the epoch with the lowest validation loss.

    ``fit_rows`` are sample starts. A batch holds ``batch_size`` frames: that many single frames, or
    ``batch_size // L`` windows of L frames; an epoch has as many batches as the training frames fill.
    A NaN or infinite loss (training or validation) stops training: the run keeps the last good
    epoch's weights and says where it diverged; with no good epoch yet, nothing is kept (an error).
    ``checkpoint``: where the state after each epoch is kept, and found again to resume from.
    """
    assert model.objective is not None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    tensorboard = _tensorboard(writer.tmp_dir)
    seq_len = loader.sequence_length
    per_batch = max(1, config.batch_size // seq_len)
    n_batches = max(1, int(np.ceil(len(fit_rows) / (per_batch * seq_len))))
    best_val, best_epoch, best_state, stale = float("inf"), 0, None, 0
    log_rows: list[dict[str, Any]] = []
    stopped, divergence, step = "epoch_cap", None, 0
    bar = tqdm(total=config.epochs * n_batches, desc="train", unit="batch", disable=not progress)
    kept = checkpoint.load() if checkpoint is not None else None
    if kept is not None:
        model.load_state_dict(kept["model"])
        optimizer.load_state_dict(kept["optimizer"])
        best_val, best_epoch, stale, step = kept["best_val"], kept["best_epoch"], kept["stale"], kept["step"]
        best_state, log_rows = kept["best_state"], list(kept["log_rows"])
        rng.bit_generator.state = kept["numpy_rng"]
        torch.set_rng_state(kept["torch_rng"])
        if kept.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(kept["cuda_rng"])
        _save_best(model, best_state, writer)
        if tensorboard is not None:
            for row in log_rows:
                _log_scalars(tensorboard, row)
        bar.update(kept["epoch"] * n_batches)
    first_epoch = 1 + (kept["epoch"] if kept is not None else 0)
    seconds_before = float(kept["seconds"]) if kept is not None else 0.0
    fit_start = time.perf_counter()
    for epoch in range(first_epoch, config.epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        order = rng.permutation(fit_rows)
        train_logs = []
        chunks = [chunk for i in range(n_batches) if len(chunk := order[i * per_batch : (i + 1) * per_batch])]
        for rows, tensors in zip(chunks, loader.batches(chunks)):
            loss, logged = model.objective(Batch(model.encoder, tensors, seq_len))
            step += 1
            if not torch.isfinite(loss):
                term = _non_finite_term(logged)
                divergence = {"epoch": epoch, "step": step, "term": term, "value": str(logged[term]),
                              "message": f"training diverged: the {term!r} loss became {logged[term]} at step "
                                         f"{step} (epoch {epoch})"}
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            train_logs.append((len(rows), logged))
            bar.update()
        if divergence is not None:
            break
        val_log = _validate(model, loader, val_rows, per_batch) if len(val_rows) else _mean_logs(train_logs)
        if not math.isfinite(val_log["total"]):
            term = _non_finite_term(val_log)
            divergence = {"epoch": epoch, "step": step, "term": term, "value": str(val_log[term]),
                          "message": f"training diverged: the validation {term!r} loss became {val_log[term]} "
                                     f"after step {step} (epoch {epoch})"}
            break
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in _mean_logs(train_logs).items()},
               **{f"val_{k}": v for k, v in val_log.items()}, "seconds": round(time.perf_counter() - epoch_start, 3)}
        log_rows.append(row)
        if tensorboard is not None:
            _log_scalars(tensorboard, row)
        bar.set_postfix(val=f"{val_log['total']:.4g}")
        if val_log["total"] < best_val:
            best_val, best_epoch, stale = val_log["total"], epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            writer.save_weights(model)
        else:
            stale += 1
            if stale >= config.patience:
                stopped = "patience"
                break
        if checkpoint is not None and epoch < config.epochs:
            checkpoint.save({
                "epoch": epoch, "step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "best_state": best_state, "best_val": best_val, "best_epoch": best_epoch, "stale": stale,
                "log_rows": log_rows, "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if loader.device.type == "cuda" else None,
                "seconds": seconds_before + time.perf_counter() - fit_start})
    bar.close()
    if tensorboard is not None:
        tensorboard.close()
    if divergence is not None:
        if best_state is None:
            raise SrlBenchError(f"{divergence['message']}, before any epoch validated; nothing was kept — lower "
                                "the learning rate (--set lr=...) or check the data")
        stopped = "diverged"
    model.load_state_dict(best_state)
    return FitResult(best_epoch, best_val, log_rows, stopped, divergence,
                     kept["epoch"] if kept is not None else None, seconds_before)


def _save_best(model: SRLModel, best_state: dict[str, Any] | None, writer: RunWriter) -> None:
    """Write the best epoch's weights into the run being written, leaving ``model`` as it is."""
    if best_state is None:
        return
    current = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    writer.save_weights(model)
    model.load_state_dict(current)


def _log_scalars(tensorboard: Any, row: dict[str, Any]) -> None:
    for key, value in row.items():
        if key != "epoch":
            tensorboard.add_scalar(key.replace("_", "/", 1), value, row["epoch"])


@torch.no_grad()
def _validate(model: SRLModel, loader: BatchLoader, rows: np.ndarray, batch_size: int) -> dict[str, float]:
    assert model.objective is not None
    model.eval()
    logs = []
    chunks = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    for chunk, tensors in zip(chunks, loader.batches(chunks)):
        _, logged = model.objective(Batch(model.encoder, tensors, loader.sequence_length))
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
