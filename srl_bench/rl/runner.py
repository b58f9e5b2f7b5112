"""Downstream RL: train an SB3 agent on the live pixel env through a frozen encoder, and score it.

``rl_evaluate`` resolves its options into one :class:`~srl_bench.rl.settings.RLRun`, then, for each
seed, trains an agent (``agent``) and evaluates it on the protocol's schedule (``protocol``), and
writes the results (``results``): ``rl.json`` (scores, budget, seeds, hyper-parameters, normalised
score), ``curve.csv`` (the learning curves), the agents when asked for and, when TensorBoard is
installed, ``tb/``, into a temporary directory that ``srl_bench.publish.Publisher`` moves into place
when complete (docs/metrics.md, "Downstream RL").

With an output, each seed is also kept, as soon as it finishes, in the resume area ``.NAME.partial``
beside it (``results.ResumeArea``), which survives an interrupted or killed run: the same call again
reuses the finished seeds whose settings match, trains the rest, and writes the same ``rl.json`` and
``curve.csv`` as an uninterrupted run; the area is removed once the output is published.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Mapping

import torch

from srl_bench.rl.agent import SeedResult, evaluate_random_policy, train_one_seed
from srl_bench.rl.config import load_rl_config
from srl_bench.rl.envs import EnvFactory, check_action_space, probe_env
from srl_bench.rl.protocol import Curve, EvaluationProtocol
from srl_bench.rl.representations import env_kwargs_for, resolve_representation
from srl_bench.device import resolve_device
from srl_bench.publish import Publisher
from srl_bench.rl.results import (
    ResumeArea,
    StoredSeed,
    attach_references,
    rl_payload,
    run_fingerprint,
    strict_json,
    tensorboard_runs,
    write_results,
)
from srl_bench.rl.settings import RLRun, RunOptions
from srl_bench.rl.wrappers import frozen


def prepare_run(encoder_or_run: Any, env_id: str, algo: str, options: RunOptions) -> RLRun:
    """Everything one call needs before training, checked in this order: the output path, the action
    space, the hyper-parameters, the representation, the resume area (nothing is written yet)."""
    if options.torch_threads is not None:
        torch.set_num_threads(options.torch_threads)
    device = resolve_device(options.device)
    publisher = Publisher(options.out, "rl", overwrite=options.overwrite) if options.out is not None else None
    action_space, true_state_dim = probe_env(env_id, options.env_kwargs)
    check_action_space(algo, env_id, action_space)
    config = load_rl_config(algo, env_id, options.config_overrides(), options.config_file)
    representation = resolve_representation(encoder_or_run, env_id, device)
    if representation.kind == "ground_truth":
        representation.info["state_dim"] = true_state_dim
    factory = EnvFactory(env_id, env_kwargs_for(representation, options.env_kwargs), representation,
                         runner=config.runner, gamma=config.gamma, vec_env=options.vec_env)
    run = RLRun(algo=algo, env_id=env_id, options=options, config=config,
                protocol=EvaluationProtocol.from_config(config.runner), representation=representation,
                factory=factory, action_space=action_space, device=device, publisher=publisher)
    if options.out is not None:
        fingerprint = run_fingerprint(run)
        if fingerprint is not None:  # None: a callable representation, which nothing identifies
            run.resume = ResumeArea(options.out, fingerprint)
    return run


def reusable_seeds(run: RLRun) -> dict[int, StoredSeed]:
    """The finished seeds of an interrupted earlier call with the same settings, said in one stderr line."""
    if run.resume is None:
        return {}
    need_agent = run.options.save_agents and run.representation.kind != "random_policy"
    reused, refused = run.resume.lookup(run.options.seeds, need_agent=need_agent)
    line = run.resume.announce(sorted(reused), refused)
    if line is not None:
        print(line, file=sys.stderr)
    return reused


def run_seeds(run: RLRun, curve: Curve, reuse: Mapping[int, StoredSeed] | None = None) -> dict[int, SeedResult]:
    """Train (or, for the random policy, only evaluate) each seed in turn, the encoder frozen throughout;
    a seed in ``reuse`` is taken from the resume area instead, and each one trained is kept there."""
    from stable_baselines3.common.utils import set_random_seed

    reuse = reuse or {}
    results: dict[int, SeedResult] = {}
    with frozen(run.representation.encoder):
        for seed in run.options.seeds:
            if seed in reuse:
                stored = reuse[seed]
                run.resume.restore(stored, run.work_dir, run.options.save_agents, run.tensorboard_dir)
                curve.rows.extend(dict(row) for row in stored.rows)
                curve.advance(run.protocol.budget)
                results[seed] = stored.result
                continue
            set_random_seed(seed, using_cuda=run.device.type == "cuda")
            curve.start_seed()
            first, start = len(curve.rows), time.perf_counter()
            if run.representation.kind == "random_policy":
                results[seed] = evaluate_random_policy(run, seed, curve)
            else:
                results[seed] = train_one_seed(run, seed, curve)
            if run.resume is not None:
                run.resume.store(seed, results[seed], curve.rows[first:], time.perf_counter() - start,
                                 agent=run.agent_path(seed),
                                 tensorboard_runs=tensorboard_runs(run.tensorboard_dir, run.representation.name, seed))
    return results


def rl_evaluate(encoder_or_run: Any, env_id: str, algo: str = "ppo", settings: RunOptions | None = None,
                **options: Any) -> dict[str, Any]:
    """Train and score an SB3 agent on ``env_id`` through a frozen representation, for each seed.

    Args:
        encoder_or_run: ``"ground_truth"``, ``"raw_pixels"`` (SB3's CNN, trained end to end),
            ``"random_policy"``, a run directory, an ``srl_bench.Encoder`` (any ``nn.Module`` taking
            uint8 N×H×W×C; moved to ``device``, frozen while the agent trains) or a callable NumPy
            images -> states. Encoders with ``initial_state``/``encode_step`` keep a hidden state
            through each episode (see ``srl_bench.rl.wrappers.RecurrentEncoder``).
        env_id: an ``srl/...`` environment id.
        algo: ppo, a2c, dqn (discrete actions), sac or td3 (continuous actions).
        settings: a :class:`~srl_bench.rl.settings.RunOptions`; keyword ``options`` replace its values.
        **options: the fields of ``RunOptions``, checked (an unknown name or a wrong type is one
            SrlBenchError):

            - timesteps: training budget in env steps per seed (default: the config's ``n_timesteps``).
            - seeds: e.g. ``"0,1,2"`` or ``[0, 1, 2]`` (default 0, 1, 2).
            - out: directory for ``rl.json`` and ``curve.csv`` (nothing written when None).
            - device: ``auto`` (CUDA when present, for agent and encoder), ``cpu`` or ``cuda``.
            - n_envs, eval_freq, n_eval, frame_stack: override the config's values.
            - normalize_state: standardise the state the agent sees: False, ``"running"`` (or True) or
              ``"fixed"`` (statistics of random-action warm-up steps, then frozen); default: the config's.
            - hyperparams: overrides merged into ``srl_bench/configs/rl/<algo>.yaml``'s entry for
              ``env_id``; config_file: another such YAML.
            - env_kwargs: keyword arguments of the environment.
            - references: a folder searched for ground_truth / random_policy ``rl.json`` of the same
              env, algorithm and budget, for the normalised score.
            - vec_env: ``dummy`` (one process) or ``subproc`` (one process per env).
            - overwrite: replace an earlier RL result in ``out``; progress: show a progress bar.
              An interrupted call with ``out`` keeps its finished seeds in ``.NAME.partial`` beside it;
              the same call again reuses them (see the module docstring).
            - save_agents: also save each seed's trained agent as ``agent_seed<S>.zip`` in ``out``.
            - torch_threads: ``torch.set_num_threads`` for this process (small agents often run fastest on 1).

    Returns:
        The ``rl.json`` payload, plus ``"curve"``: the evaluation rows of every seed.
    """
    run = prepare_run(encoder_or_run, env_id, algo, RunOptions.from_keywords(settings, **options))
    from tqdm.auto import tqdm

    try:
        if run.publisher is not None:
            run.publisher.begin()
        reuse = reusable_seeds(run)
        bar = tqdm(total=run.protocol.budget * len(run.options.seeds), unit="step",
                   desc=f"{algo} {run.representation.name}", disable=not run.options.progress, dynamic_ncols=True)
        curve = Curve(bar)
        start = time.perf_counter()
        try:
            results = run_seeds(run, curve, reuse)
        finally:
            bar.close()
        # the seconds of the reused seeds count too, so that env_steps_per_second stays a rate
        seconds = time.perf_counter() - start + sum(stored.seconds for stored in reuse.values())
        payload = rl_payload(run, curve.rows, results, seconds)
        attach_references(payload, run.options.references)
        payload = strict_json(payload)
        if run.publisher is not None:
            write_results(run.publisher.tmp_dir, payload, curve.rows)
            run.publisher.publish()
    except BaseException as exc:
        if run.publisher is not None:
            run.publisher.abort()
        if isinstance(exc, KeyboardInterrupt) and run.resume is not None:
            line = run.resume.interrupted_line()
            if line is not None:
                print(line, file=sys.stderr)
        raise
    if run.resume is not None:
        run.resume.remove()
    payload["curve"] = curve.rows
    return payload
