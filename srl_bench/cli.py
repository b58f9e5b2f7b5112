"""The ``srl-bench`` command: parses arguments, calls the library, prints a short summary.

Every problem with the user's input ends in one sentence on stderr and exit status 2, never a traceback.
A benchmark stopped by its ``--time-limit`` with cells left exits with status 75 (``EX_TEMPFAIL``: run it
again), so a job script can tell it from a finished benchmark (0) and from an error (2).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any, Sequence

from srl_bench import __version__
from srl_bench.config import parse_assignments, shipped_names
from srl_bench.errors import SrlBenchError, TimeLimitReached

EXIT_TIME_LIMIT = 75  # EX_TEMPFAIL in sysexits.h: not done yet, try again
DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def cmd_generate(args: argparse.Namespace) -> None:
    from srl_bench.collect import generate_dataset
    from srl_bench.data import load_dataset

    path = generate_dataset(
        args.env_id, args.episodes, args.out, seed=args.seed, image_size=args.image_size, policy=args.policy,
        workers=args.workers, max_steps=args.max_steps, env_kwargs=parse_assignments(args.env_kwarg, "--env-kwarg"),
        overwrite=args.overwrite, progress=not args.quiet,
    )
    print(f"wrote {path}")
    print(describe_dataset(load_dataset(path)))


def describe_dataset(dataset) -> str:
    """A short human-readable summary of a dataset."""
    meta = dataset.meta
    lengths = meta.get("episode_lengths") or []
    size = sum(f.stat().st_size for f in Path(dataset.path).iterdir() if f.is_file())
    space = meta["action_space"]
    action = f"Discrete({space['n']})" if space["type"] == "discrete" else f"Box{tuple(space['shape'])}"
    rows = [
        ("environment", f"{meta['env_id']} {meta.get('env_kwargs', {})}"),
        ("frames", f"{len(dataset)}"),
        ("episodes", f"{dataset.n_episodes}" + (f" (length {min(lengths)}-{max(lengths)}, mean {sum(lengths) / len(lengths):.1f} steps)" if lengths else "")),
        ("image shape", "×".join(str(v) for v in dataset.image_shape) + " uint8"),
        ("state", ", ".join(dataset.state_names)),
        ("action space", action),
        ("policy", f"{meta.get('policy', '?')} (seed {meta.get('seed', '?')})"),
        ("size on disk", f"{size / 2**20:.1f} MiB"),
    ]
    return "\n".join(f"  {name:<13} {value}" for name, value in rows)


def cmd_dataset(args: argparse.Namespace) -> None:
    from srl_bench.data import load_dataset

    dataset = load_dataset(args.path)
    print(f"dataset {dataset.path}")
    print(describe_dataset(dataset))
    if args.verify:
        dataset.verify()
        print("  checksums     all match")


def cmd_envs(args: argparse.Namespace) -> None:
    from srl_bench import envs
    from srl_bench.collect import make_env
    from srl_bench.collect.policies import POLICIES

    for env_id in envs.ENV_IDS:
        env = make_env(env_id)
        names = env.unwrapped.state_names
        print(f"{env_id}: {env.observation_space.shape} uint8 images, actions {env.action_space}")
        print(f"    state ({len(names)}): {', '.join(names)}")
        policies = [name for name, (_, _, ids) in sorted(POLICIES.items()) if ids is None or env_id in ids]
        print(f"    collection policies: {', '.join(policies)}")
        env.close()


def cmd_methods(args: argparse.Namespace) -> None:
    from srl_bench.methods import METHODS
    from srl_bench.plugins import PLUGIN_ERRORS

    width = max(len(name) for name in METHODS)
    for name, method in sorted(METHODS.items()):
        where = "" if method.builtin else f"  [{method.source}]"  # plug-ins and user code say where they come from
        print(f"{name:<{width}}  {method.description}{where}")
        if args.verbose:
            print(f"{'':<{width}}  paper: {method.paper}")
            print(f"{'':<{width}}  from: {method.source} (module {method.module})")
    for error in PLUGIN_ERRORS:
        print(f"srl-bench: warning: {error}", file=sys.stderr)


def set_threads(threads: int | None) -> None:
    """``--threads``: torch's CPU threads for this command (default: torch's own choice, all cores;
    on a busy machine fewer threads are often faster, as idle OpenMP threads spin)."""
    if threads is None:
        return
    if threads < 1:
        raise SrlBenchError(f"--threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def cmd_train(args: argparse.Namespace) -> None:
    from srl_bench.trainer import train

    set_threads(args.threads)
    overrides = parse_assignments(args.set, "--set")
    if args.state_dim is not None:
        if args.state_dim < 1:
            raise SrlBenchError(f"--state-dim must be at least 1, got {args.state_dim}")
        overrides["state_dim"] = args.state_dim
    if args.epochs is not None:
        if args.epochs < 0:
            raise SrlBenchError(f"--epochs must be at least 0, got {args.epochs}")
        overrides["epochs"] = args.epochs
    path = train(args.method, args.data, args.out, overrides=overrides, config_file=args.config, seed=args.seed,
                 device=args.device, overwrite=args.overwrite, progress=not args.quiet)
    summary = json.loads((path / "summary.json").read_text())
    if summary["best_val_loss"] is None:  # a baseline: fitted in closed form (PCA) or left untrained
        how = "no gradient training"
    else:
        how = (f"{summary['epochs_run']} epochs (best {summary['best_epoch']}, val loss "
               f"{summary['best_val_loss']:.4g})")
    print(f"trained {args.method} -> {path}: state_dim {summary['state_dim']}, {how}, {summary['seconds']:.1f} s")


def cmd_readout(args: argparse.Namespace) -> None:
    from srl_bench.trainer import readout_run

    overrides = parse_assignments(args.set, "--set")
    if not overrides:
        raise SrlBenchError("say how to read the run with --set KEY=VALUE (e.g. --set representation=zh for World "
                            "Models' [z, h])")
    path = readout_run(args.run, args.out, overrides, overwrite=args.overwrite)
    state_dim = json.loads((path / "config.json").read_text())["state_dim"]
    print(f"read {args.run} with {', '.join(args.set)} -> {path}: state_dim {state_dim}, the same weights (no training)")


def encoder_from_args(args: argparse.Namespace) -> Any:
    """The encoder of ``--encoder MODULE:FACTORY`` called with the ``--encoder-kwargs`` (None without it)."""
    if args.encoder is None:
        if args.encoder_kwargs:
            raise SrlBenchError("--encoder-kwargs goes with --encoder MODULE:FACTORY; add --encoder or drop them")
        return None
    from srl_bench.plugins import load_encoder

    return load_encoder(args.encoder, parse_assignments(args.encoder_kwargs, "--encoder-kwargs"))


def cmd_evaluate(args: argparse.Namespace) -> None:
    from srl_bench.publish import check_output_path
    from srl_bench.report import format_metrics, write_json_atomic
    from srl_bench.runs import evaluate, evaluate_run

    set_threads(args.threads)

    if args.run is not None and args.encoder is not None:
        raise SrlBenchError("give a run directory or --encoder MODULE:FACTORY, not both")
    if args.run is None and args.encoder is None:
        raise SrlBenchError("say what to score: a run directory (srl-bench evaluate RUN --data DIR) or an encoder of "
                            "your own (srl-bench evaluate --encoder MODULE:FACTORY --data DIR)")
    options = {"k": args.k} if args.k is not None else {}
    common = dict(whole_dataset=args.whole_dataset, mlp_probe=args.mlp_probe, **options)
    if args.run is not None:
        out = check_output_path(args.out, want_dir=False) if args.out else Path(args.run) / "metrics.json"
        metrics = evaluate_run(args.run, args.data, test_fraction=args.test_fraction, split_seed=args.split_seed,
                               **common)
    else:  # an encoder by import path: scored on a seeded split; written only where --out says
        out = check_output_path(args.out, want_dir=False) if args.out else None
        split = {k: v for k, v in (("test_fraction", args.test_fraction), ("split_seed", args.split_seed))
                 if v is not None}
        metrics = evaluate(encoder_from_args(args), args.data, **split, **common)
        metrics["encoder"] = {"factory": args.encoder,
                              "kwargs": parse_assignments(args.encoder_kwargs, "--encoder-kwargs")}
    print(format_metrics(metrics))
    if out is not None:
        write_json_atomic(out, metrics)
        print(f"wrote {out}")


def parse_duration(text: str) -> float:
    """Seconds in a duration written with units, as ``2h30m``, ``90m``, ``1.5h`` or ``45s``."""
    match = DURATION.fullmatch(text.strip())
    if not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write it with units, e.g. 2h30m, 90m or 45s")
    hours, minutes, seconds = (float(number or 0) for number in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def cmd_benchmark(args: argparse.Namespace) -> None:
    from srl_bench.bench import run_benchmark

    out = run_benchmark(args.config, out_dir=args.out, work_dir=args.work_dir, jobs=args.jobs, backend=args.backend,
                        address=args.address, fresh=args.fresh, dry_run=args.dry_run, progress=not args.quiet,
                        envs=args.env, rows=args.method, time_limit=args.time_limit)
    if out is not None:
        print((out / "leaderboard.md").read_text())
        print(f"wrote {out}/: index.html (the page to share), leaderboard.{{md,csv,json,tex}}, runs.csv, rl_runs.csv, plots/, cells/")


def cmd_leaderboard(args: argparse.Namespace) -> None:
    from srl_bench.bench.report import from_directory, render, write_folder
    from srl_bench.publish import check_output_path, write_text_atomic

    folder = args.out is not None and args.format is None  # --out alone: the whole leaderboard folder
    if args.out is not None:
        check_output_path(args.out, want_dir=folder)
    source = from_directory(args.dir, whole=args.whole)
    if folder:
        if source.resume and "--out" not in source.resume:  # so finishing it adopts this folder's records
            source.resume += f" --out {shlex.quote(str(args.out))}"
        out = write_folder(source, args.out)
        print(f"wrote {out}/: leaderboard.md, .csv, .json, .tex, index.html, aggregates.csv, runs.csv, rl_runs.csv, "
              f"curves.csv, plots/ and cells/ (from the cell records of {source.work})")
        return
    text = render(source, args.format or "md")
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}")


def cmd_rl(args: argparse.Namespace) -> None:
    from srl_bench.rl.format import format_rl
    from srl_bench.rl.runner import rl_evaluate

    if args.representation is not None and args.encoder is not None:
        raise SrlBenchError("give --representation or --encoder MODULE:FACTORY, not both")
    if args.representation is None and args.encoder is None:
        raise SrlBenchError("say what the agent sees: --representation (RUN_DIR, ground_truth, raw_pixels or "
                            "random_policy) or --encoder MODULE:FACTORY (an encoder of your own)")
    representation = args.representation if args.encoder is None else encoder_from_args(args)
    out = Path(args.out)
    references = args.references if args.references is not None else (out.parent if out.parent.is_dir() else None)
    payload = rl_evaluate(
        representation, args.env_id, algo=args.algo, timesteps=args.timesteps, seeds=args.seeds, out=out,
        device=args.device, n_envs=args.n_envs, eval_freq=args.eval_freq, n_eval=args.n_eval,
        hyperparams=parse_assignments(args.set, "--set"), config_file=args.config,
        normalize_state=args.normalize_state, frame_stack=args.frame_stack,
        env_kwargs=parse_assignments(args.env_kwarg, "--env-kwarg"), references=references, vec_env=args.vec_env,
        overwrite=args.overwrite, progress=not args.quiet, save_agents=args.save_agents, torch_threads=args.threads,
    )
    print(format_rl(payload))
    print(f"wrote {out / 'rl.json'} and {out / 'curve.csv'}")


def add_encoder_arguments(parser: argparse.ArgumentParser) -> None:
    """``--encoder MODULE:FACTORY`` and its repeatable ``--encoder-kwargs KEY=VALUE``."""
    parser.add_argument("--encoder", default=None, metavar="MODULE:FACTORY",
                        help="an encoder of your own: the factory at this import path (e.g. my_pkg.encoders:make, "
                             "or path/to/file.py:make) is called and returns it")
    parser.add_argument("--encoder-kwargs", action="append", default=[], metavar="KEY=VALUE",
                        help="a keyword argument of the factory (repeatable; values are read as YAML: 3, 0.5, true, [1, 2])")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="srl-bench", description="Benchmark toolbox for state representation learning.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("generate", help="record a dataset of pixel observations and true states")
    p.add_argument("env_id", help="environment id, e.g. srl/CartPole-v0")
    p.add_argument("--episodes", type=int, required=True)
    p.add_argument("--out", required=True, help="dataset directory to create")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--policy", default="random", help="collection policy (default: random)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes")
    p.add_argument("--max-steps", type=int, default=None, help="cap on steps per episode")
    p.add_argument("--env-kwarg", action="append", default=[], metavar="KEY=VALUE", help="extra env kwarg (repeatable)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("dataset", help="summarise a dataset")
    p.add_argument("path")
    p.add_argument("--verify", action="store_true", help="also recompute the checksums")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("envs", help="list the environments, their true state and collection policies")
    p.set_defaults(func=cmd_envs)

    p = sub.add_parser("methods", help="list the SRL methods")
    p.add_argument("-v", "--verbose", action="store_true", help="also show each method's paper")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("train", help="train an SRL method on a dataset")
    p.add_argument("method")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="run directory to create")
    p.add_argument("--state-dim", type=int, default=None, help="default: the ground truth's dimension")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    p.add_argument("--config", default=None, help="YAML of hyper-parameters, merged over the method's own (srl_bench/configs/methods/METHOD.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one hyper-parameter")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("readout", help="read a trained run another way, without training (World Models' [z, h])")
    p.add_argument("run", help="run directory to read")
    p.add_argument("--out", required=True, help="run directory to create")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting that changes how the model is read, not what was trained (e.g. representation=zh)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_readout)

    p = sub.add_parser("evaluate", help="score a trained run, or any encoder by import path, on held-out episodes")
    p.add_argument("run", nargs="?", default=None, help="run directory (or give --encoder instead)")
    add_encoder_arguments(p)
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    p.add_argument("--k", type=int, default=None, help="neighbours of KNN-MSE (default: 5)")
    p.add_argument("--test-fraction", type=float, default=None,
                   help="held-out share of the episodes, when the run's own split does not apply (default: 0.2)")
    p.add_argument("--split-seed", type=int, default=None, help="seed of that split (default: 0)")
    p.add_argument("--whole-dataset", action="store_true", help="S-RL Toolbox setting: KNN-MSE and GTC on all frames")
    p.add_argument("--mlp-probe", action="store_true", help="also fit the small MLP probe (probe_mlp_r2)")
    p.add_argument("--out", default=None, help="metrics file (default: RUN/metrics.json; with --encoder, printed only)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("rl", help="train an RL agent on the live pixel env through a frozen representation")
    p.add_argument("--env", dest="env_id", required=True, help="environment id, e.g. srl/CartPole-v0")
    p.add_argument("--representation", default=None, help="RUN_DIR, ground_truth, raw_pixels or random_policy "
                   "(or give --encoder instead)")
    add_encoder_arguments(p)
    p.add_argument("--algo", default="ppo", choices=["ppo", "a2c", "dqn", "sac", "td3"])
    p.add_argument("--timesteps", type=int, default=None, help="budget per seed (default: the config's n_timesteps)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated (default: 0,1,2)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--n-envs", type=int, default=None, help="parallel training envs (default: the config's)")
    p.add_argument("--eval-freq", type=int, default=None, help="env steps between evaluations (default: budget/10)")
    p.add_argument("--n-eval", type=int, default=None, help="episodes per evaluation (default: the config's)")
    p.add_argument("--normalize-state", default=None, choices=["off", "running", "fixed"],
                   help="standardise the state the agent sees: off, running statistics, or fixed after a "
                        "random-action warm-up (default: the config's)")
    p.add_argument("--frame-stack", type=int, default=None, help="stack the last K states (default: the config's)")
    p.add_argument("--config", default=None,
                   help="hyper-parameter YAML keyed by env id (default: srl_bench/configs/rl/ALGO.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one hyper-parameter (an SB3 argument or one of srl-bench's keys; repeatable)")
    p.add_argument("--env-kwarg", action="append", default=[], metavar="KEY=VALUE", help="extra env kwarg (repeatable)")
    p.add_argument("--references", default=None,
                   help="folder searched for ground_truth/random_policy rl.json (default: the parent of --out)")
    p.add_argument("--vec-env", default="dummy", choices=["dummy", "subproc"])
    p.add_argument("--save-agents", action="store_true", help="also save each seed's agent (agent_seedS.zip)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    p.add_argument("--out", required=True, help="directory for rl.json and curve.csv")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_rl)

    p = sub.add_parser("benchmark", help="generate, train, evaluate and rank, from a benchmark YAML")
    p.add_argument("config", help="a benchmark YAML (e.g. configs/benchmarks/quick.yaml; it may `extends:` another) "
                                  "or a shipped benchmark's name: " + ", ".join(shipped_names("benchmarks")))
    p.add_argument("--out", default=None, help="leaderboard folder (default: the config's `out`, else WORK_DIR/leaderboard)")
    p.add_argument("--work-dir", default=None, help="where datasets, runs and cell results go (default: the config's)")
    p.add_argument("--jobs", type=int, default=None, help="cells computed at once (default 1; local processes, or "
                   "Ray tasks); each cell runs on the config's `threads` torch threads")
    p.add_argument("--backend", default="local", choices=["local", "ray"], help="local processes, or a Ray cluster")
    p.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    p.add_argument("--dry-run", action="store_true", help="print the cells, what is done, and the time left")
    p.add_argument("--fresh", action="store_true", help="recompute every cell even when its result exists")
    p.add_argument("--env", action="append", default=None, metavar="ENV",
                   help="only this environment of the benchmark (id or e.g. CartPole-v0; repeat for more); its cells "
                        "are the same as in the whole benchmark, so a later full run reuses them")
    p.add_argument("--method", action="append", default=None, metavar="NAME",
                   help="only this row of the benchmark (a method, encoder or RL reference; repeat for more); "
                        "ground_truth and random_policy always run, as every normalised score needs them")
    p.add_argument("--time-limit", type=parse_duration, default=None, metavar="DURATION",
                   help="start only cells expected to end within DURATION (e.g. 2h30m; each cell's time is estimated "
                        "as --dry-run does), then write the leaderboard of the cells done and exit with status 75; "
                        "the same command goes on: for a cluster job's wall time, less a margin")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_benchmark)

    p = sub.add_parser("leaderboard", help="a benchmark's leaderboard again, from its saved cell results: tables, "
                       "aggregates across environments, plots, HTML, LaTeX",
                       description="Make a benchmark's leaderboard from its saved cell results alone (nothing is "
                                   "trained or evaluated again). Without --out, print one format (default md); "
                                   "--out PATH alone writes the whole leaderboard folder (tables, aggregates, plots, "
                                   "index.html, leaderboard.tex, leaderboard.json) at PATH; --format F --out FILE "
                                   "writes that one format to FILE.")
    p.add_argument("dir", help="a leaderboard folder (with timing.json, e.g. results/quick) or a benchmark work "
                   "directory (with cells/, e.g. .srl-bench/quick)")
    p.add_argument("--format", default=None, choices=["md", "csv", "html", "latex", "json"],
                   help="what to print or write: md (default), csv, html (one self-contained page), latex, json")
    p.add_argument("--out", default=None, help="a folder for the whole leaderboard, or with --format a file")
    p.add_argument("--whole", action="store_true",
                   help="for a folder that a --env/--method run wrote: the whole benchmark that run is a part of, "
                        "from the records the folder carries (e.g. your row beside a published leaderboard's)")
    p.set_defaults(func=cmd_leaderboard)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``srl-bench`` console script."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except TimeLimitReached as exc:
        print(f"srl-bench: {exc}", file=sys.stderr)
        return EXIT_TIME_LIMIT
    except SrlBenchError as exc:
        print(f"srl-bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("srl-bench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
