"""Training input: the trainer's batch loader against batches cut from an in-RAM tensor.

    python scripts/bench_loader.py [--frames 20000] [--method autoencoder] [--frame-stack 1 2] [--steps 60]

The same model trains the same batches (same rows, same order) three ways, interleaved, in this
process on ``--threads`` torch threads:

- ``in_ram_tensor`` (the baseline): every frame already in one uint8 torch tensor, each batch one
  ``index_select`` (stacks through a precomputed index of their rows);
- ``loader``: ``srl_bench.trainer.BatchLoader`` as training uses it on a dataset that fits in RAM;
- ``loader_pread``: the same loader reading the frames a batch at a time with ``pread``
  (``RowReader``), as it does for datasets above ``IN_MEMORY_LIMIT``.

Prints and writes (results/bench/loader.json) seconds per training step and the loaders' overhead
against the baseline, two ways: step time / baseline's − 1 (noisy: a few % between repeats), and
the extra time to make a batch (timed alone, without training) over the baseline's step time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=20_000, help="about this many cart-pole frames (64×64)")
    parser.add_argument("--method", default="autoencoder")
    parser.add_argument("--frame-stack", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=60, help="training steps per variant and repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="results/bench/loader.json")
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numpy as np
    import torch

    from srl_bench import trainer
    from srl_bench.collect import generate_dataset
    from srl_bench.data import load_dataset
    from srl_bench.data.frames import RowReader
    from srl_bench.losses import Batch
    from srl_bench.methods import DataContext, build_model, get_method

    torch.set_num_threads(args.threads)
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
                     "threads": args.threads, "method": args.method, "steps": args.steps, "repeats": args.repeats,
                     "note": "seconds per training step, median of the repeats; overhead = loader / in_ram_tensor - 1",
                     "frame_stack": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = generate_dataset("srl/CartPole-v0", max(2, args.frames // 22), Path(tmp) / "data", seed=0, progress=False)
        dataset = load_dataset(path)
        results["frames"] = len(dataset)
        for k in args.frame_stack:
            spec = get_method(args.method)
            config = spec.make_config({"frame_stack": k})
            context = DataContext.from_meta(dataset.meta, train_states=np.asarray(dataset.states),
                                            train_rewards=np.asarray(dataset.rewards))
            torch.manual_seed(0)
            model = build_model(spec, config, context)
            needs_next = model.objective.needs_next
            rows = trainer.window_starts(dataset.episode_ids, np.arange(len(dataset)), 1 + int(needs_next))
            rng = np.random.default_rng(0)
            order = rng.permutation(rows)
            chunks = [order[i * config.batch_size: (i + 1) * config.batch_size] for i in range(args.steps)]
            loader = trainer.BatchLoader(dataset, torch.device("cpu"), needs_next, 1, k)
            reader = trainer.BatchLoader(dataset, torch.device("cpu"), needs_next, 1, k)
            reader.observations = RowReader(Path(dataset.path) / "observations.npy")
            tensors = in_ram_batches(loader, torch)
            optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

            def step(batch: dict) -> None:
                loss, _ = model.objective(Batch(model.encoder, batch, 1))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            variants = {"in_ram_tensor": lambda c: tensors(np.sort(c)), "loader": loader.tensors,
                        "loader_pread": reader.tensors}
            for make in variants.values():  # warm up: allocator, page cache, oneDNN kernels
                step(make(chunks[0]))
            for name, make in variants.items():  # the same batch whichever way it is made
                other = make(chunks[1])
                base = variants["in_ram_tensor"](chunks[1])
                assert all(torch.equal(other[key], base[key]) for key in base), name
            times: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.repeats):
                for name, make in variants.items():
                    start = time.perf_counter()
                    for chunk in chunks:
                        step(make(chunk))
                    times[name].append((time.perf_counter() - start) / len(chunks))
            making: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.repeats):  # the batches alone, no training: the loaders' own cost
                for name, make in variants.items():
                    start = time.perf_counter()
                    for chunk in chunks:
                        make(chunk)
                    making[name].append((time.perf_counter() - start) / len(chunks))
            per_step = {name: float(np.median(t)) for name, t in times.items()}
            per_batch = {name: float(np.median(t)) for name, t in making.items()}
            step_time = per_step["in_ram_tensor"]
            results["frame_stack"][str(k)] = {
                "seconds_per_step": {name: round(v, 5) for name, v in per_step.items()},
                "seconds_per_batch_made": {name: round(v, 6) for name, v in per_batch.items()},
                "overhead": {name: round(per_step[name] / step_time - 1, 4) for name in ("loader", "loader_pread")},
                "overhead_from_batch_times": {name: round((per_batch[name] - per_batch["in_ram_tensor"]) / step_time, 4)
                                              for name in ("loader", "loader_pread")},
            }
            row = results["frame_stack"][str(k)]
            print(f"frame_stack {k}: " + ", ".join(f"{n} {v * 1000:.1f} ms/step" for n, v in per_step.items())
                  + "; making a batch: " + ", ".join(f"{n} {v * 1000:.2f} ms" for n, v in per_batch.items())
                  + "; overhead (steps) " + ", ".join(f"{n} {v:+.1%}" for n, v in row["overhead"].items())
                  + "; overhead (batch times / step) "
                  + ", ".join(f"{n} {v:+.1%}" for n, v in row["overhead_from_batch_times"].items()))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


def in_ram_batches(loader, torch):
    """Batches cut from tensors of the whole dataset: a uint8 tensor of every frame (stacks gathered
    through a precomputed index) and the other arrays, each batch one ``index_select``."""
    import numpy as np

    n = len(loader.states)
    obs = torch.from_numpy(np.array(loader.observations))  # a writable copy in RAM
    k = loader.frame_stack
    # row r's stack is rows r-k+1 .. r, clamped to its episode's first row and blacked out before it
    offsets = np.arange(-(k - 1), 1)
    sources = np.arange(n)[:, None] + offsets
    before = sources < loader.episode_first_row[:, None]
    sources = torch.from_numpy(np.where(before, 0, sources))
    mask = torch.from_numpy(~before)
    states, actions, rewards = (torch.from_numpy(np.array(a)) for a in
                                (loader.states, loader.actions, loader.rewards))

    def frames(rows):
        if k == 1:
            return obs.index_select(0, rows)
        stacked = obs[sources[rows]] * mask[rows][:, :, None, None, None]
        return stacked.permute(0, 2, 3, 1, 4).reshape(len(rows), *obs.shape[1:3], k * obs.shape[3])

    def batch(starts):
        rows = torch.from_numpy(starts)
        tensors = {"obs": frames(rows), "true_states": states.index_select(0, rows),
                   "actions": actions.index_select(0, rows), "rewards": rewards.index_select(0, rows)}
        if loader.needs_next:
            tensors["next_obs"] = frames(rows + 1)
            tensors["next_true_states"] = states.index_select(0, rows + 1)
        return tensors

    return batch


if __name__ == "__main__":
    main()
