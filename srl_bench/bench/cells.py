"""The cells of a benchmark: the units of work, what each depends on, and how one is computed.

A benchmark is a graph of cells: a ``dataset`` per env; per env × method × seed a ``train`` run and its
``metrics``; per env × encoder of your own (× seed, for a seeded factory) its ``metrics`` only; per RL
env × representation × RL seed an ``rl`` agent (the references ``ground_truth``, ``random_policy`` and
``raw_pixels``, and the encoders of your own, need no training run). Each cell has a fingerprint: a
hash of everything that determines its result (its settings, srl-bench's version, the env's
``revision`` where its class declares one, and the fingerprints of the cells it reads; for a method
or an encoder from outside srl-bench, the module it comes from and a hash of that module's source
file), so a rerun redoes exactly the cells whose inputs changed. Two method variants of an env that
train alike (``Method.trains_alike``: World Models read as z and as [z, h]) share one training: the
later one's ``train`` cell reads the earlier's run (``srl_bench.trainer.readout_run``) with the same
seed, so both rows score the same weights.

A training or RL cell also carries its ``settings``: the hyper-parameters it is made with, resolved
from the shipped YAML (``srl_bench/configs/methods/<method>.yaml``, ``configs/rl/<algo>.yaml``) and the
benchmark's overrides. They are outside the fingerprint and checked against what the cell's output
records it was made with (the run's ``config.json``, the agent's ``rl.json``), so editing a shipped
YAML redoes exactly the cells whose settings it changes, and the cells of every other env keep theirs.
A cell counts as done only when the cells it reads do too.

A cell also carries the benchmark's ``imports`` and the config's folder (``paths``), outside its
fingerprint: the process that computes it imports them first, so methods and encoders defined there
are known in every worker.

A computed cell leaves its output (a dataset, a run directory, an RL result; each published
atomically) and then a record, ``WORK/cells/<key>.json``, written atomically last: a cell is done
when its record says ``done`` with the current fingerprint and its output records the current
settings. A process killed at any moment therefore leaves either a finished cell or one that is
computed again; the outputs' own publishers clean what a killed process left half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srl_bench import __version__
from srl_bench.bench.config import BenchmarkConfig, EncoderEntry, EnvEntry, MethodEntry
from srl_bench.config import merge
from srl_bench.errors import SrlBenchError

STAGES = ("dataset", "train", "metrics", "rl")
# 2: the random policy's evaluation episodes are counted per env (srl_bench.rl.protocol.play_random); 1 took
# the first to end, which favoured short episodes. In its cells' specs, so results of the old count are redone.
RANDOM_POLICY_PROTOCOL = 2
RECORDS = "cells"


@dataclass
class Cell:
    """One unit of work. ``spec`` (JSON) is all it needs besides the work directory; ``out`` is its
    output path relative to the work directory; ``deps`` are the keys of the cells it reads."""

    key: str
    stage: str
    spec: dict[str, Any]
    deps: list[str] = field(default_factory=list)
    out: str = ""
    fingerprint: str = ""
    settings: dict[str, Any] | None = None  # resolved hyper-parameters its output must record (not fingerprinted)
    imports: list[str] = field(default_factory=list)  # modules imported before computing (not fingerprinted)
    paths: list[str] = field(default_factory=list)  # folders searched for them (not fingerprinted)

    @property
    def row(self) -> str | None:
        """The leaderboard row (method, encoder or reference) the cell belongs to; None for a dataset."""
        parts = self.key.split("/")
        return parts[2] if len(parts) > 2 else None

    @property
    def record_name(self) -> str:
        """File name of the cell's record under ``WORK/cells/``."""
        return self.key.replace("/", "__") + ".json"


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _train_overrides(config: BenchmarkConfig, env: EnvEntry, method: MethodEntry) -> dict[str, Any]:
    return merge(config.train, env.train, method.set)


# what a train / RL cell's output records its settings in: file, key, and the one key left out of the
# comparison (state_dim: the run records its model's; eval_freq: rl.json records it as evaluated, the spec has it)
_RECORDED_SETTINGS = {"train": ("config.json", "config", "state_dim"), "rl": ("rl.json", "hyperparams", "eval_freq")}


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), so settings compare with records."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def train_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The settings a training run made with the method config ``values`` (``to_dict()``) records (its
    ``config.json``'s ``config``), less ``state_dim``, which the run records as its model has it."""
    settings = dict(values)
    settings.pop(_RECORDED_SETTINGS["train"][2], None)
    return _as_json(settings)


def shared_training(method: str, values: dict[str, Any], trained: dict[str, tuple[str, dict[str, Any]]]
                    ) -> tuple[str, dict[str, Any]] | None:
    """The variant whose training a variant of ``method`` with the config ``values`` shares, with the
    read-out overrides that turn that variant's run into this one's (``srl_bench.trainer.readout_run``):
    the first of ``trained`` (variant name -> its method and config values, in order) of the same
    method whose config trains alike (``Method.trains_alike``); None when it trains its own. The
    overrides are the fields in which the configs differ, and ``state_dim`` where the variant sets it."""
    from srl_bench.methods import get_method

    for name, (other_method, other) in trained.items():
        if other_method == method and get_method(method).trains_alike(other, values):
            readout = {key: value for key, value in values.items() if key != "state_dim" and other.get(key) != value}
            if values.get("state_dim") is not None:
                readout["state_dim"] = values["state_dim"]
            return name, _as_json(readout)
    return None


def rl_settings(algo: str, env_id: str, hyperparams: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The hyper-parameters an agent is trained with (its ``rl.json``'s ``hyperparams``), resolved as
    ``rl_evaluate`` resolves them from ``hyperparams`` and its ``options`` (timesteps, n_eval,
    eval_freq), less ``eval_freq``, which ``rl.json`` records as evaluated (the cell's spec has it)."""
    from srl_bench.rl.config import load_rl_config
    from srl_bench.rl.settings import RunOptions

    run_options = RunOptions.from_keywords(hyperparams=hyperparams, **options)
    settings = load_rl_config(algo, env_id, run_options.config_overrides()).hyperparams()
    settings.pop(_RECORDED_SETTINGS["rl"][2], None)
    return _as_json(settings)


def recorded_settings(work: Path, cell: Cell) -> dict[str, Any] | None:
    """The settings ``cell``'s output records it was made with, as :func:`train_settings` and
    :func:`rl_settings` give them (None when the output is missing or unreadable)."""
    name, key, drop = _RECORDED_SETTINGS[cell.stage]
    try:
        settings = json.loads((work / cell.out / name).read_text())[key]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(settings, dict):
        return None
    if cell.stage == "rl":  # a key srl-bench added later is missing from older rl.json files: they ran on its default
        from srl_bench.rl.config import RunnerConfig

        settings = {**_as_json(RunnerConfig().model_dump()), **settings}
    settings.pop(drop, None)
    return settings


def method_identity(name: str) -> dict[str, Any] | None:
    """For a method from outside srl-bench: its module and a hash of that module's source file (so an
    edit of the method's code retrains it); None for srl-bench's own methods."""
    from srl_bench.methods import get_method
    from srl_bench.plugins import source_digest

    method = get_method(name)
    if method.builtin:
        return None
    return {"module": method.module, "sha256": source_digest(method.file), "distribution": method.distribution}


def encoder_identity(entry: EncoderEntry, config: BenchmarkConfig) -> dict[str, Any]:
    """What makes an encoder of your own: its factory, keyword arguments, and a hash of the factory
    module's source file."""
    from srl_bench.plugins import load_object, module_file, source_digest

    paths = [str(config.config_dir)] if config.config_dir is not None else []
    factory = load_object(entry.factory, "encoder factory", paths)
    module = getattr(factory, "__module__", None) or entry.factory.rpartition(":")[0]
    return {"factory": entry.factory, "kwargs": entry.kwargs, "sha256": source_digest(module_file(module))}


def env_revision(env_id: str) -> int | None:
    """The ``revision`` an env's class declares (how its frames are drawn; bumped when that changes),
    None when it declares none or is not registered."""
    import gymnasium
    from gymnasium.envs.registration import load_env_creator

    try:
        entry = gymnasium.spec(env_id).entry_point
        creator = load_env_creator(entry) if isinstance(entry, str) else entry
    except Exception:  # noqa: BLE001 - the config's own checks name an env that does not exist
        return None
    revision = getattr(creator, "revision", None)
    return int(revision) if isinstance(revision, int) else None


def encoder_seeds(entry: EncoderEntry, config: BenchmarkConfig) -> list[int | None]:
    """The seeds an encoder of your own is made with: the benchmark's for a seeded factory, else one."""
    return list(config.seeds) if entry.seeded else [None]


def plan(config: BenchmarkConfig) -> list[Cell]:
    """Every cell of the benchmark, dependencies first, each with its fingerprint."""
    from srl_bench.methods import get_method

    cells: list[Cell] = []
    by_key: dict[str, Cell] = {}
    imports = list(config.imports)
    paths = [str(config.config_dir)] if config.config_dir is not None else []

    def add(cell: Cell) -> Cell:
        cell.fingerprint = _hash({"stage": cell.stage, "spec": cell.spec, "version": __version__,
                                  "deps": [by_key[d].fingerprint for d in cell.deps]})
        cell.imports, cell.paths = imports, paths
        cells.append(cell)
        by_key[cell.key] = cell
        return cell

    sources = {entry.method: method_identity(entry.method) for entry in config.methods}
    encoders = {entry.name: encoder_identity(entry, config) for entry in config.encoders}

    evaluate = config.evaluate.model_dump()
    # an env that declares a revision has it in its dataset and RL cells (others keep their fingerprints)
    revised = {env.id: {"env_revision": r} if (r := env_revision(env.id)) is not None else {} for env in config.envs}
    for env in config.envs:
        dataset = add(Cell(f"dataset/{env.slug}", "dataset", {
            "env_id": env.id, "episodes": env.episodes, "seed": env.seed, "image_size": env.image_size,
            "policy": env.policy, "max_steps": env.max_steps, "env_kwargs": env.env_kwargs, "workers": env.workers,
            **revised[env.id],
        }, out=f"datasets/{env.slug}"))
        trained: dict[str, tuple[str, dict[str, Any]]] = {}  # variants that train their own runs in this env
        for method in config.methods:
            overrides = _train_overrides(config, env, method)
            values = get_method(method.method).make_config(overrides).to_dict()  # the same for every seed
            shared = shared_training(method.method, values, trained)
            if shared is None:
                trained[method.name] = (method.method, values)
            for seed in config.seeds:
                where = f"{env.slug}/{method.name}/seed{seed}"
                spec = {
                    "method": method.method, "overrides": overrides, "seed": seed,
                    "test_fraction": evaluate["test_fraction"], "split_seed": evaluate["split_seed"],
                    "dataset": dataset.out, "device": config.device,
                }
                if sources[method.method] is not None:  # only then: srl-bench's own cells keep their fingerprints
                    spec["method_source"] = sources[method.method]
                deps = [dataset.key]
                if shared is not None:  # a read-out of the variant that trains alike, not a training of its own
                    source_key = f"train/{env.slug}/{shared[0]}/seed{seed}"
                    spec.update(readout_of=by_key[source_key].out, readout=shared[1])
                    deps.append(source_key)
                run = add(Cell(f"train/{where}", "train", spec, deps=deps, out=f"runs/{where}",
                               settings=train_settings(values)))
                add(Cell(f"metrics/{where}", "metrics", {"run": run.out, "dataset": dataset.out, "evaluate": evaluate},
                         deps=[run.key, dataset.key]))
        for entry in config.encoders:  # not trained: a metrics cell per seed it is made with
            for seed in encoder_seeds(entry, config):
                where = f"{env.slug}/{entry.name}/seed{config.seeds[0] if seed is None else seed}"
                add(Cell(f"metrics/{where}", "metrics", {"encoder": {**encoders[entry.name], "seed": seed},
                                                         "dataset": dataset.out, "evaluate": evaluate},
                         deps=[dataset.key]))
    if config.rl is not None:
        rl = config.rl
        for env in config.rl_envs():
            algo = rl.algo_for(env.id)
            common = {"env_id": env.id, "algo": algo, "timesteps": rl.timesteps.get(env.id), "n_eval": rl.n_eval_for(env.id),
                      "eval_freq": rl.eval_freq, "hyperparams": rl.set, "device": config.device,
                      "env_kwargs": env.env_kwargs, "image_size": env.image_size, **revised.get(env.id, {})}
            options = {"timesteps": common["timesteps"], "n_eval": common["n_eval"], "eval_freq": rl.eval_freq}
            settings = rl_settings(algo, env.id, rl.set, options)
            if not settings["deterministic_eval"]:  # named only then, so greedy evaluations keep their fingerprints
                common["deterministic_eval"] = False
            for seed in config.rl_seeds:
                for reference in rl.references_for(env.id):
                    where = f"{env.slug}/{reference}/seed{seed}"
                    spec = {**common, "representation": reference, "seed": seed}
                    if reference == "random_policy":
                        spec["protocol"] = RANDOM_POLICY_PROTOCOL
                    # the random policy trains nothing: its rl.json records no hyper-parameters
                    add(Cell(f"rl/{where}", "rl", spec, out=f"rl/{where}",
                             settings=None if reference == "random_policy" else settings))
                for method in config.rl_methods():
                    # the agent's seed s uses the encoder trained with seed s (cycling when RL has more seeds)
                    train_seed = config.seeds[config.rl_seeds.index(seed) % len(config.seeds)]
                    run_key = f"train/{env.slug}/{method.name}/seed{train_seed}"
                    where = f"{env.slug}/{method.name}/seed{seed}"
                    add(Cell(f"rl/{where}", "rl", {**common, "representation": by_key[run_key].out, "seed": seed},
                             deps=[run_key], out=f"rl/{where}", settings=settings))
                for entry in config.rl_encoders():
                    # a seeded encoder: the one made with the seed of the agent (cycling, as for the methods)
                    encoder_seed = config.seeds[config.rl_seeds.index(seed) % len(config.seeds)] if entry.seeded else None
                    where = f"{env.slug}/{entry.name}/seed{seed}"
                    add(Cell(f"rl/{where}", "rl", {**common, "seed": seed,
                                                   "representation": {"encoder": {**encoders[entry.name],
                                                                                  "seed": encoder_seed}}},
                             out=f"rl/{where}", settings=settings))
    if config.train_only:  # a part's helper rows: only the runs a chosen row reads
        needed: set[str] = set()
        for cell in reversed(cells):
            if cell.key in needed or cell.row not in config.train_only:
                needed.update([cell.key, *cell.deps])
        cells = [cell for cell in cells if cell.key in needed]
    return cells


# --- records --------------------------------------------------------------------------------------

def record_path(work: Path, cell: Cell) -> Path:
    """Where the record of ``cell`` lives."""
    return work / RECORDS / cell.record_name


def read_record(work: Path, cell: Cell) -> dict[str, Any] | None:
    """The cell's record, or None when it has none (or an unreadable one: it is computed again)."""
    try:
        return json.loads(record_path(work, cell).read_text())
    except (OSError, ValueError):
        return None


def is_done(record: dict[str, Any] | None, cell: Cell, work: Path) -> bool:
    """Whether ``record`` is a finished result of exactly this cell: its fingerprint, and the settings
    its output records (for cells with settings). Whether the cells it reads are done is the caller's
    to check (:func:`current_records`). A record whose output is not in ``work`` (one adopted from a
    leaderboard folder, ``srl_bench.bench.published``) is checked against the settings it carries."""
    if record is None or record.get("status") != "done" or record.get("fingerprint") != cell.fingerprint:
        return False
    if cell.settings is None:
        return True
    made_with = recorded_settings(work, cell)
    if made_with is None and not (work / cell.out).exists():  # a published record: its output is elsewhere
        made_with = record.get("settings")
    return made_with == cell.settings


def current_records(cells: list[Cell], records: dict[str, dict[str, Any] | None], work: Path) -> set[str]:
    """The keys of the cells whose record is a finished result of exactly that cell and whose
    dependencies are current too (``cells`` in plan order, dependencies first)."""
    current: set[str] = set()
    for cell in cells:
        if is_done(records.get(cell.key), cell, work) and all(dep in current for dep in cell.deps):
            current.add(cell.key)
    return current


# --- computing one cell ---------------------------------------------------------------------------

def compute(cell: dict[str, Any], work_dir: str, threads: int) -> dict[str, Any]:
    """Compute one cell (given as ``asdict(Cell)``) in this process and write its record; returns it.

    Runs with ``threads`` torch threads (fixed per cell: results then do not depend on how many cells
    run side by side). An error becomes a ``failed`` record with its message; the traceback goes to
    the cell's log, ``WORK/logs/<key>.log``, with everything the cell printed.
    """
    import torch

    from srl_bench.report import write_json_atomic

    work = Path(work_dir)
    spec = Cell(**cell)
    log_path = work / "logs" / (spec.key.replace("/", "__") + ".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    started = time.perf_counter()
    record: dict[str, Any] = {"key": spec.key, "stage": spec.stage, "fingerprint": spec.fingerprint}
    try:
        with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            try:
                from srl_bench.plugins import import_module

                for module in spec.imports:  # the benchmark's modules: their methods and terms, here too
                    import_module(module, "benchmark", paths=spec.paths)
                result = COMPUTE[spec.stage](spec, work)
                record.update(status="done", result=result)
                if spec.settings is not None:  # so the record stands without its output (srl_bench.bench.published)
                    record["settings"] = recorded_settings(work, spec)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - a failing cell must not stop the others
                traceback.print_exc(file=log)
                message = str(exc) if isinstance(exc, SrlBenchError) else f"{type(exc).__name__}: {exc}"
                record.update(status="failed", error=message.splitlines()[0] if message else type(exc).__name__,
                              log=str(log_path.relative_to(work)))
    finally:
        torch.set_num_threads(previous_threads)
    record["seconds"] = round(time.perf_counter() - started, 2)
    if spec.stage == "train" and record["status"] == "done" and "readout_of" not in spec.spec:
        # a resumed training's earlier epochs count too (a read-out's summary is its source's: not its cost)
        record["seconds"] = max(record["seconds"], float(record["result"].get("seconds") or 0.0))
    write_json_atomic(record_path(work, spec), record)
    return record


def _dataset(cell: Cell, work: Path) -> dict[str, Any]:
    from srl_bench.collect import generate_dataset
    from srl_bench.data import load_dataset

    s = cell.spec
    path = generate_dataset(s["env_id"], s["episodes"], work / cell.out, seed=s["seed"], image_size=s["image_size"],
                            policy=s["policy"], workers=s["workers"], max_steps=s["max_steps"],
                            env_kwargs=s["env_kwargs"], overwrite=True, progress=False)
    dataset = load_dataset(path)
    return {"frames": len(dataset), "episodes": dataset.n_episodes}


def _train(cell: Cell, work: Path) -> dict[str, Any]:
    from srl_bench.trainer import readout_run, train

    s = cell.spec
    if "readout_of" in s:
        path = readout_run(work / s["readout_of"], work / cell.out, s["readout"], overwrite=True)
    else:
        path = train(s["method"], work / s["dataset"], work / cell.out, overrides=s["overrides"], seed=s["seed"],
                     device=s["device"], test_fraction=s["test_fraction"], split_seed=s["split_seed"], overwrite=True,
                     progress=False)
    summary = json.loads((path / "summary.json").read_text())
    return {key: summary.get(key) for key in ("state_dim", "epochs_run", "epochs_cap", "best_epoch", "stopped",
                                              "diverged", "seconds")}


def make_encoder(identity: dict[str, Any], paths: list[str]) -> Any:
    """The encoder of your own that an ``encoder`` spec describes (factory, kwargs, seed)."""
    from srl_bench.plugins import load_encoder

    seed = identity.get("seed")
    kwargs = {**identity["kwargs"], **({"seed": seed} if seed is not None else {})}
    return load_encoder(identity["factory"], kwargs, paths)


def _metrics(cell: Cell, work: Path) -> dict[str, Any]:
    from srl_bench.runs import evaluate, evaluate_run

    s = cell.spec
    if "encoder" in s:  # an encoder of your own, on the seeded split every run of the benchmark holds out
        metrics = evaluate(make_encoder(s["encoder"], cell.paths), work / s["dataset"], **s["evaluate"])
    else:
        metrics = evaluate_run(work / s["run"], work / s["dataset"], **s["evaluate"])
    metrics.pop("dataset", None)
    return metrics


def _rl(cell: Cell, work: Path) -> dict[str, Any]:
    from srl_bench.rl import rl_evaluate

    s = cell.spec
    representation = s["representation"]
    if isinstance(representation, dict):
        representation = make_encoder(representation["encoder"], cell.paths)
    elif "/" in representation:
        representation = str(work / representation)
    options = {k: s[k] for k in ("timesteps", "n_eval", "eval_freq") if s[k] is not None}
    payload = rl_evaluate(representation, s["env_id"], algo=s["algo"], seeds=[s["seed"]], out=work / cell.out,
                          overwrite=True, device=s["device"], hyperparams=s["hyperparams"],
                          env_kwargs={"image_size": s["image_size"], **s["env_kwargs"]}, progress=False, **options)
    return {"score": payload["score_mean"], "timesteps": payload["timesteps"], "curve": f"{cell.out}/curve.csv",
            "seconds": payload["seconds"]}


COMPUTE = {"dataset": _dataset, "train": _train, "metrics": _metrics, "rl": _rl}


def as_payload(cell: Cell) -> dict[str, Any]:
    """The cell as plain data, to hand to another process or machine."""
    return asdict(cell)


def worker_environment(threads: int) -> dict[str, str]:
    """Environment variables for a cell's process: OpenMP on ``threads`` threads that sleep, not spin,
    while they wait (on a busy machine spinning threads made training ~30× slower)."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE",
            "SDL_VIDEODRIVER": os.environ.get("SDL_VIDEODRIVER", "dummy")}
