"""The benchmark runner: one config, the whole flow — datasets -> training runs -> held-out metrics ->
downstream RL -> leaderboard — as a graph of cells (``srl_bench.bench.cells``).

Cells whose record matches their fingerprint are reused; the others are computed, up to ``jobs`` at
once, by a backend (``srl_bench.bench.backends``: this process, local processes, or Ray). A failing
cell is recorded with its error and log and the others go on (what depends on it is skipped); the
run ends with a summary and, if any cell failed, an error. Killed at any moment, the same command
finishes the benchmark. The leaderboard is made from the cell records alone (``leaderboard``).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srl_bench.bench.backends import make_backend
from srl_bench.bench.cells import RECORDS, STAGES, Cell, current_records, plan, read_record, record_path
from srl_bench.bench.config import BenchmarkConfig, load_benchmark, resolve_benchmark_path, select_part
from srl_bench.bench.published import adoptable, is_benchmark_folder, outputs_to_remake, publish_record
from srl_bench.errors import SrlBenchError, TimeLimitReached
from srl_bench.publish import check_output_path, write_json_atomic
from srl_bench.resume import kept_training

# rough seconds per cell on 2 CPU cores, for --dry-run before anything has run
FIRST_GUESS = {"dataset": 20.0, "train": 60.0, "metrics": 10.0, "rl": 120.0}
UNTRAINED_AGENT = "random_policy"  # the RL reference that only plays its evaluation episodes
FRAMELESS_AGENT = "ground_truth"  # the RL reference that reads no frames and runs no encoder


@dataclass
class Status:
    """What a benchmark's cells stand at: done (reused or just computed), failed, skipped, to do."""

    cells: list[Cell]
    records: dict[str, dict[str, Any] | None]
    reused: set[str] = field(default_factory=set)
    computed: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    adopted: set[str] = field(default_factory=set)  # reused by a record from the leaderboard folder
    remake: set[str] = field(default_factory=set)  # done, but their output (not here) is read by a cell to do
    unstarted: list[str] = field(default_factory=list)  # left to do when the time limit stopped the run

    def done(self, key: str) -> bool:
        return key in self.reused or key in self.computed

    def current(self) -> dict[str, dict[str, Any] | None]:
        """The records of the done cells (a stale or failed record reads as no record)."""
        return {key: record if self.done(key) else None for key, record in self.records.items()}


def benchmark_paths(config: BenchmarkConfig, out: str | Path | None, work_dir: str | Path | None) -> tuple[Path, Path]:
    """The leaderboard folder and the work directory (the command line's, else the config's)."""
    work = Path(work_dir or config.work_dir)
    return Path(out or config.out or work / "leaderboard"), work


def survey(config: BenchmarkConfig, work: Path, fresh: bool, published: Path | None = None) -> Status:
    """The plan, and which of its cells are already done: in ``work``, or by a record the leaderboard
    folder ``published`` carries (``srl_bench.bench.published``; not with ``fresh``)."""
    cells = plan(config)
    records = {cell.key: None if fresh else read_record(work, cell) for cell in cells}
    adopted = {} if fresh or published is None else adoptable(published, cells, records)
    status = Status(cells, {**records, **adopted}, adopted=set(adopted))
    status.reused = current_records(cells, status.records, work)
    status.adopted &= status.reused
    # an adopted cell whose output is not here is made again when a cell still to compute reads it
    status.remake = outputs_to_remake(cells, {c.key for c in cells if c.key not in status.reused}, work)
    status.reused -= status.remake
    return status


def adopt(status: Status, work: Path) -> None:
    """Write the adopted records into ``work``, where the cells' records live."""
    by_key = {cell.key: cell for cell in status.cells}
    for key in sorted(status.adopted):
        write_json_atomic(record_path(work, by_key[key]), status.records[key])


def _similar(stage: str, key: str, algo: str | None = None, alone: bool = False) -> list[tuple[str, ...]]:
    """Keys of ever coarser groups of cells expected to cost alike: same stage, env and method; same
    stage and env; for an RL cell whose algorithm is known, same algorithm and method, then same
    algorithm (a SAC step costs many PPO steps); same stage and method; same stage. A training looks
    to the same method's trainings on other envs before other methods' on its env: what it costs is
    mostly the method's (none for an untrained row, an hour for World Models here). The random
    policy, which trains no agent, is grouped with its own cells only, as is a cell ``alone`` (an
    untrained row's training, which takes seconds). The ground truth's agent, which reads no frames,
    stays out of its env's group: on MiniPacman it took 34 s per 100k steps, the raw pixels' ~45×
    that (cart-pole's rate)."""
    parts = key.split("/")
    env, name = (parts[1], parts[2]) if len(parts) > 2 else (parts[-1], "")
    if alone or (stage == "rl" and name == UNTRAINED_AGENT):  # it stands for no cell but its row's
        return [(stage, env, name), (stage, "", name)]
    if stage == "train":
        return [(stage, env, name), (stage, "", name), (stage, env, ""), (stage, "", "")]
    by_algo = [(stage, f"algo={algo}", name), (stage, f"algo={algo}", "")] if algo else []
    same_env = [(stage, env, "")] if not (stage == "rl" and name == FRAMELESS_AGENT) else []
    return [(stage, env, name), *same_env, *by_algo, (stage, "", name), (stage, "", "")]


Spent = dict[tuple[str, ...], list[tuple[float, float | None]]]  # group -> (seconds, RL timesteps) per cell


def note_spent(spent: Spent, record: Any, algo: str | None = None) -> None:
    """Add a finished cell's record to ``spent``, in every group :func:`_similar` puts it in (``algo``:
    an RL cell's algorithm, where known)."""
    if isinstance(record, dict) and record.get("status") == "done" and record.get("stage") in STAGES \
            and isinstance(record.get("key"), str):
        result = record.get("result") or {}
        steps = result.get("timesteps") if record["stage"] == "rl" else None
        untrained = record["stage"] == "train" and result.get("stopped") == "not_trained"
        for group in _similar(record["stage"], record["key"], algo, alone=untrained):
            spent[group].append((float(record.get("seconds", 0.0)), float(steps) if steps else None))


def past_seconds(work: Path, algo_of: dict[str, str] | None = None) -> Spent:
    """Seconds of every finished cell recorded in ``work`` (and an RL cell's timesteps), grouped as
    :func:`_similar` groups them: all of them, whatever part of the benchmark (or which earlier
    settings) they were run with, so the dry run of one env's part is estimated from the other envs'
    cells too. ``algo_of``: the RL algorithm of each cell key the plan knows (records name none)."""
    spent: Spent = defaultdict(list)
    for path in sorted((work / RECORDS).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            note_spent(spent, record, (algo_of or {}).get(record.get("key")) if isinstance(record, dict) else None)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
    return spent


def cell_seconds(cell: Cell, spent: Spent, kept: dict[str, float] | None = None) -> float:
    """A cell's expected seconds: the mean of the finished cells most like it in ``spent`` (the first of
    :func:`_similar`'s groups that has any), else a first guess. An RL cell costs their mean seconds per
    timestep times its own timesteps (another env's budget is often several times larger). A training
    that goes on from a ``kept`` epoch (:func:`srl_bench.resume.kept_training`) costs what is left of
    that mean, and at least one more epoch of the kind it ran."""
    if "readout_of" in cell.spec:  # a read-out copies a run: seconds at most
        return 0.0
    samples = next((spent[g] for g in _similar(cell.stage, cell.key, cell.spec.get("algo")) if spent.get(g)), None)
    if not samples:
        expected = FIRST_GUESS[cell.stage]
    else:
        steps = cell.spec.get("timesteps") if cell.stage == "rl" else None
        rates = [seconds / done_steps for seconds, done_steps in samples if done_steps]
        expected = (sum(rates) / len(rates) * steps if steps and rates
                    else sum(seconds for seconds, _ in samples) / len(samples))
    if kept and kept["epoch"] > 0:
        return max(expected - kept["seconds"], kept["seconds"] / kept["epoch"])
    return expected


def kept_trainings(cells: list[Cell], work: Path) -> dict[str, dict[str, float]]:
    """The training cells an interrupted run left a kept epoch for, by key (see
    :func:`srl_bench.resume.kept_training`)."""
    kept = {cell.key: kept_training(work / cell.out) for cell in cells if cell.stage == "train" and cell.out}
    return {key: progress for key, progress in kept.items() if progress is not None}


def estimate_seconds(status: Status, spent: Spent, kept: dict[str, dict[str, float]]) -> dict[str, float]:
    """Seconds of work left per stage: the sum of :func:`cell_seconds` over the cells to do (a training
    in ``kept``, :func:`kept_trainings`, counts what is left of it)."""
    left: dict[str, float] = Counter()
    for cell in status.cells:
        if not status.done(cell.key):
            left[cell.stage] += cell_seconds(cell, spent, kept.get(cell.key))
    return dict(left)


def spent_so_far(status: Status, work: Path) -> Spent:
    """Seconds of every cell finished in ``work`` and of the records adopted from the leaderboard folder
    (not in ``work`` before the benchmark runs), as :func:`past_seconds` groups them."""
    algo_of = {cell.key: cell.spec["algo"] for cell in status.cells if cell.stage == "rl" and "algo" in cell.spec}
    spent = past_seconds(work, algo_of)
    for key in status.adopted:
        note_spent(spent, status.records[key], algo_of.get(key))
    return spent


def describe_plan(status: Status, jobs: int, work: Path) -> str:
    """The --dry-run report: cells per stage, what is done, what is stale, and the time left (estimated
    from every cell finished in ``work``)."""
    lines = [f"{'stage':<8} {'cells':>6} {'done':>6} {'to do':>6}  (stale: done before with other settings; "
             "remade: done, but a cell to do reads its output, which is not here; to resume: a training "
             "interrupted after an epoch)"]
    if status.adopted:
        lines.insert(0, f"{len(status.adopted)} cell(s) done by the records the leaderboard folder carries")
    kept = kept_trainings([c for c in status.cells if not status.done(c.key)], work)
    left = estimate_seconds(status, spent_so_far(status, work), kept)
    for stage in STAGES:
        cells = [c for c in status.cells if c.stage == stage]
        if not cells:
            continue
        done = sum(status.done(c.key) for c in cells)
        remade = sum(c.key in status.remake for c in cells)
        stale = sum(1 for c in cells if not status.done(c.key) and c.key not in status.remake
                    and status.records[c.key] is not None and status.records[c.key].get("status") == "done")
        resumable = sum(c.key in kept for c in cells)
        notes = ([f"{stale} stale"] * bool(stale) + [f"{remade} remade"] * bool(remade)
                 + [f"{resumable} to resume from a kept epoch"] * bool(resumable))
        lines.append(f"{stage:<8} {len(cells):>6} {done:>6} {len(cells) - done:>6}" + (f"  ({', '.join(notes)})" if notes else ""))
    todo = [c for c in status.cells if not status.done(c.key)]
    for cell in todo[:40]:
        lines.append(f"  to do: {cell.key}")
    if len(todo) > 40:
        lines.append(f"  ... and {len(todo) - 40} more")
    total = sum(left.values())
    if not todo:
        lines.append("nothing left to do: every cell is done")
    else:
        lines.append("estimated time left: " + ", ".join(f"{stage} {left[stage] / 60:.1f}" for stage in STAGES if stage in left)
                     + f" min; {total / 60:.1f} min of work in all, about {total / 60 / max(1, jobs):.1f} min with {jobs} job(s)")
    return "\n".join(lines)


def row_order(cells: list[Cell]) -> list[Cell]:
    """The cells in the order they are started: environment by environment, each env's dataset, then
    its references' RL, then one leaderboard row after another (train, metrics and RL of every seed),
    so an interrupted benchmark holds whole rows rather than a little of every row."""
    def env_and_row(cell: Cell) -> tuple[str, str]:
        parts = cell.key.split("/")  # dataset/ENV or STAGE/ENV/ROW/seedN
        return parts[1], parts[2] if len(parts) > 3 else ""

    scored = {env_and_row(cell) for cell in cells if cell.stage == "metrics"}  # rows of methods and encoders
    env_rank: dict[str, int] = {}
    row_rank: dict[tuple[str, str], int] = {}
    for index, cell in enumerate(cells):
        env, row = env_and_row(cell)
        env_rank.setdefault(env, len(env_rank))
        row_rank.setdefault((env, row), -2 if row == "" else index if (env, row) in scored else -1)
    position = {cell.key: index for index, cell in enumerate(cells)}
    return sorted(cells, key=lambda cell: (env_rank[env_and_row(cell)[0]], row_rank[env_and_row(cell)],
                                           position[cell.key]))


def execute(status: Status, work: Path, backend_name: str, jobs: int | None, address: str | None, threads: int,
            progress: bool, records_to: Path | None = None, deadline: float | None = None) -> None:
    """Compute every cell not done, dependencies first, ``jobs`` at a time; each finished cell's record
    is also published into the leaderboard folder ``records_to`` as it comes (when given). With a
    ``deadline`` (a ``time.monotonic()`` value), a cell starts only if it is expected to end before it
    (:func:`cell_seconds`); when nothing runs and no ready cell fits, the cells left go to
    ``status.unstarted`` and the run returns. Trainings an earlier run left kept after an epoch start
    first, so a run resumed under a time limit finishes what was begun before it begins more."""
    from tqdm.auto import tqdm

    todo = [cell for cell in row_order(status.cells) if not status.done(cell.key)]
    if not todo:
        return
    kept = kept_trainings(todo, work)
    todo.sort(key=lambda cell: cell.key not in kept)
    backend = make_backend(backend_name, str(work), threads, jobs, address)
    by_key = {cell.key: cell for cell in todo}
    spent = spent_so_far(status, work) if deadline is not None else None
    waiting = list(todo)
    running: set[str] = set()
    bar = tqdm(total=len(todo), desc="cells", unit="cell", disable=not progress, dynamic_ncols=True)
    try:
        while waiting or running:
            too_long: set[str] = set()  # ready, with a free slot, but expected to end after the deadline
            for cell in list(waiting):
                if any(dep in status.failed or dep in status.skipped for dep in cell.deps):
                    waiting.remove(cell)
                    status.skipped.add(cell.key)
                    bar.update()
                elif len(running) < backend.slots and all(status.done(dep) for dep in cell.deps):
                    if spent is not None and time.monotonic() + cell_seconds(cell, spent, kept.get(cell.key)) > deadline:
                        too_long.add(cell.key)
                        continue
                    waiting.remove(cell)
                    running.add(cell.key)
                    backend.submit(cell)
            arrived = backend.wait(timeout=0.5)
            for record in arrived:
                running.discard(record["key"])
                status.records[record["key"]] = record
                if record["status"] == "done":
                    status.computed.add(record["key"])
                    if spent is not None:
                        note_spent(spent, record, by_key[record["key"]].spec.get("algo"))
                    if records_to is not None:
                        try:
                            publish_record(records_to, work, by_key[record["key"]], record)
                        except (OSError, SrlBenchError) as exc:  # the work goes on; the tables come at the end
                            tqdm.write(f"srl-bench: could not write records into {records_to} ({exc}); the "
                                       "leaderboard at the end will carry them", file=sys.stderr)
                            records_to = None
                else:
                    status.failed.add(record["key"])
                    tqdm.write(f"failed: {record['key']}: {record.get('error')} (log: {work / record['log']})",
                               file=sys.stderr)
                bar.set_postfix_str(record["key"], refresh=False)
                bar.update()
            if too_long and not running and not arrived:
                ready = {cell.key for cell in waiting if all(status.done(dep) for dep in cell.deps)}
                if ready <= too_long:
                    status.unstarted = [cell.key for cell in waiting]
                    break
            if not running and waiting and not any(all(status.done(d) or d in status.failed or d in status.skipped
                                                        for d in c.deps) for c in waiting):
                raise SrlBenchError("the benchmark's cells wait on each other; this is a bug in the plan")
    except KeyboardInterrupt:
        bar.close()
        backend.shutdown(cancel=True)
        finished = len(status.reused) + len(status.computed)
        print(f"srl-bench: benchmark interrupted with {finished} of {len(status.cells)} cells done; run the same "
              "command again to resume", file=sys.stderr)
        raise
    bar.close()
    backend.shutdown()


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def summary_lines(status: Status, seconds: float) -> list[str]:
    """done / reused / failed / skipped counts and the compute time per stage."""
    from srl_bench.bench.report.source import stage_seconds

    per_stage = stage_seconds([cell for cell in status.cells if cell.key in status.computed], status.records)
    stages = ", ".join(f"{stage} {per_stage[stage] / 60:.1f} min" for stage in STAGES if stage in per_stage)
    adopted = len(status.adopted & status.reused)
    unstarted = f", {len(status.unstarted)} left for the time limit" if status.unstarted else ""
    return [f"cells: {len(status.computed)} computed, {len(status.reused)} reused"
            + (f" ({adopted} from the leaderboard folder's records)" if adopted else "") + f", {len(status.failed)} failed, "
            f"{len(status.skipped)} skipped{unstarted}; {seconds / 60:.1f} min wall"
            + (f" (compute: {stages})" if stages else "")]


def run_benchmark(config_path: str | Path, out_dir: str | Path | None = None, work_dir: str | Path | None = None,
                  jobs: int | None = None, backend: str = "local", address: str | None = None, fresh: bool = False,
                  dry_run: bool = False, progress: bool = True, envs: list[str] | None = None,
                  rows: list[str] | None = None, time_limit: float | None = None) -> Path | None:
    """Run a benchmark YAML end to end and write its leaderboard; returns the leaderboard folder
    (None for ``dry_run``, which prints the plan and the time left instead). ``envs``: only these of
    its environments, ``rows``: only these of its methods, encoders and references (the leaderboard then
    covers them alone; see :func:`select_part`). ``time_limit``: seconds from now by which every cell
    started is expected to end (a cluster job's wall time, less a margin); the run then stops with the
    leaderboard of the cells done and raises :class:`TimeLimitReached`."""
    from srl_bench.bench.leaderboard import write_leaderboard
    from srl_bench.bench.report.source import compute_time, remember_benchmark

    if time_limit is not None and time_limit <= 0:
        raise SrlBenchError(f"--time-limit must be more than 0 seconds, got {time_limit:g}")
    deadline = None if time_limit is None else time.monotonic() + time_limit

    path = resolve_benchmark_path(config_path)
    whole = load_benchmark(path)
    config = select_part(whole, list(envs or []), list(rows or []))
    out, work = benchmark_paths(config, out_dir, work_dir)
    if jobs is not None and jobs < 1:
        raise SrlBenchError(f"--jobs must be at least 1, got {jobs}")
    check_output_path(work, want_dir=True)
    check_output_path(out, want_dir=True)
    status = survey(config, work, fresh, published=out)
    if dry_run:
        print(describe_plan(status, jobs or 1, work))
        return None
    command = shlex.join(["srl-bench", "benchmark", str(config_path), *(["--jobs", str(jobs)] if jobs and jobs > 1 else []),
                          *[arg for env in envs or [] for arg in ("--env", env)],
                          *[arg for row in rows or [] for arg in ("--method", row)],
                          *(["--out", str(out_dir)] if out_dir else [])])

    def leaderboard() -> None:
        records = status.current()
        write_leaderboard(config, status.cells, records, work, out, command=command,
                          timing=compute_time(status.cells, records))

    remember_benchmark(work, path, whole, str(config_path))
    adopt(status, work)
    started = time.perf_counter()
    try:
        # an earlier leaderboard folder gets each record as its cell finishes, so the records outlive
        # this machine even if the run never ends (the tables follow at the end, or on Ctrl-C)
        execute(status, work, backend, jobs, address, config.threads, progress,
                records_to=out if is_benchmark_folder(out) else None, deadline=deadline)
    except KeyboardInterrupt:
        if status.reused or status.computed:  # what is done so far, marked incomplete
            leaderboard()
            print(f"srl-bench: the leaderboard of the finished cells is in {out}/", file=sys.stderr)
        raise
    seconds = time.perf_counter() - started
    leaderboard()
    for line in summary_lines(status, seconds):
        print(line, file=sys.stderr)
    if status.failed or status.skipped:
        failed = sorted(status.failed)
        raise SrlBenchError(f"{len(failed)} cell(s) failed ({', '.join(failed[:3])}{', ...' if len(failed) > 3 else ''}); "
                            f"their errors are in {work / 'cells'} and logs in {work / 'logs'}; fix and run the same "
                            "command again (finished cells are kept)")
    if status.unstarted:
        first = next(cell for cell in status.cells if cell.key == status.unstarted[0])
        raise TimeLimitReached(
            f"stopped at the time limit ({_duration(time_limit)}) with {len(status.reused) + len(status.computed)} of "
            f"{len(status.cells)} cells done, as the next, {first.key}, is expected to take about "
            f"{_duration(cell_seconds(first, spent_so_far(status, work), kept_trainings([first], work).get(first.key)))}; the leaderboard of the cells done is in "
            f"{out}/; run the same command again to go on")
    return out
